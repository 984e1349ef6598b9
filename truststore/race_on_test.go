//go:build race

package truststore

const raceEnabled = true
