//go:build !unix

package csr

import "testing"

// cpuTimer is a no-op where getrusage is not available.
func cpuTimer(*testing.B) func() { return func() {} }
