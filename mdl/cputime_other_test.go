//go:build !unix

package mdl

import "testing"

// measureCPU reports nothing where getrusage is missing.
func measureCPU(*testing.B) func() { return func() {} }
