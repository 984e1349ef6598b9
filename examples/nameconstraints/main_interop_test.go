package main

import (
	"context"
	"regexp"
	"testing"

	"github.com/pkikit/pkikit/internal/interop"
)

// TestPrintedOpenSSLCommands runs the two commands the example prints, with OpenSSL 3.0 and 3.5: the allowed
// leaf verifies, the other fails with a name-constraints error at depth 0.
func TestPrintedOpenSSLCommands(t *testing.T) {
	violation := regexp.MustCompile(`error (47|48) at 0 depth lookup: (permitted|excluded) subtree violation`)
	for name, argv := range map[string][]string{"openssl30": interop.OpenSSL30(t), "openssl35": interop.OpenSSL35(t)} {
		for _, tc := range exampleCases {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				o := tc.o
				o.OutDir = t.TempDir()
				res, err := build(context.Background(), o)
				if err != nil {
					t.Fatal(err)
				}
				allow := append(append([]string{}, argv...), res.AllowCommand[1:]...)
				deny := append(append([]string{}, argv...), res.DenyCommand[1:]...)
				if out, err := interop.Run(t, o.OutDir, allow...); err != nil {
					t.Fatalf("allowed leaf: %v\n%s", err, out)
				}
				out, err := interop.Run(t, o.OutDir, deny...)
				if err == nil || !violation.MatchString(out) {
					t.Fatalf("denied leaf: err %v, output:\n%s", err, out)
				}
			})
		}
	}
}
