// Package interop finds the real programs pkikit's interop tests run against — OpenSSL 3.5 (ML-DSA), the
// system's OpenSSL 3.0, Node.js, SoftHSM2 — and decides what a test does when one is missing: it skips with a
// message saying what to install, unless PKIKIT_INTEROP=require is set (as .ci/run sets it), in which case the
// test fails. Test-only: nothing outside _test.go files imports it.
package interop

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Required reports whether PKIKIT_INTEROP=require is set: a missing tool then fails the test.
func Required() bool { return os.Getenv("PKIKIT_INTEROP") == "require" }

// Missing skips t (or fails it under PKIKIT_INTEROP=require) because a tool is absent.
func Missing(t testing.TB, tool, howToInstall string) {
	t.Helper()
	msg := "interop: " + tool + " not found; " + howToInstall
	if Required() {
		t.Fatal(msg + " (PKIKIT_INTEROP=require)")
	}
	t.Skip(msg)
}

// RepoRoot returns the module's root directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

var (
	ossl35Once sync.Once
	ossl35Cmd  []string
	ossl35Err  string
)

// OpenSSL35 returns the command (argv prefix) that runs OpenSSL 3.5 or later: $PKIKIT_OPENSSL35 if set, an
// `openssl` on PATH of version ≥ 3.5, or the project's scripts/openssl35 once it has been installed (by
// `scripts/openssl35 --install-only`, which .ci/run calls). Tests never install it themselves.
func OpenSSL35(t testing.TB) []string {
	t.Helper()
	ossl35Once.Do(func() {
		if p := os.Getenv("PKIKIT_OPENSSL35"); p != "" {
			ossl35Cmd = []string{p}
			return
		}
		if p, err := exec.LookPath("openssl"); err == nil && opensslAtLeast(p, 3, 5) {
			ossl35Cmd = []string{p}
			return
		}
		home := os.Getenv("OPENSSL35_HOME")
		if home == "" {
			if h, err := os.UserHomeDir(); err == nil {
				home = filepath.Join(h, ".cache", "openssl35")
			}
		}
		script := filepath.Join(RepoRoot(), "scripts", "openssl35")
		if _, err := os.Stat(filepath.Join(home, "root", "usr", "bin", "openssl")); err == nil {
			if opensslAtLeast(script, 3, 5) {
				ossl35Cmd = []string{script}
				return
			}
		}
		ossl35Err = "install it with scripts/openssl35 --install-only (Debian 13 packages) or set PKIKIT_OPENSSL35"
	})
	if ossl35Cmd == nil {
		Missing(t, "OpenSSL 3.5", ossl35Err)
	}
	return ossl35Cmd
}

// OpenSSL30 returns the system OpenSSL 3.x command (Debian 12 ships 3.0), for the classical interop tests.
func OpenSSL30(t testing.TB) []string {
	t.Helper()
	p, err := exec.LookPath("openssl")
	if err != nil || !opensslAtLeast(p, 3, 0) {
		Missing(t, "OpenSSL 3.0", "install Debian's openssl package")
	}
	return []string{p}
}

var versionRE = regexp.MustCompile(`OpenSSL (\d+)\.(\d+)`)

func opensslAtLeast(cmd string, major, minor int) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, cmd, "version").Output()
	if err != nil {
		return false
	}
	m := versionRE.FindSubmatch(out)
	if m == nil {
		return false
	}
	ma, _ := strconv.Atoi(string(m[1]))
	mi, _ := strconv.Atoi(string(m[2]))
	return ma > major || (ma == major && mi >= minor)
}

// Tool returns the path of a program on PATH, or skips/fails the test with how to install it.
func Tool(t testing.TB, name, howToInstall string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, name, howToInstall)
	}
	return p
}

// Run runs argv (a command from OpenSSL35/OpenSSL30/Tool plus arguments) in dir with a 2-minute limit and
// returns its combined output. It does not fail the test: callers decide what a non-zero exit means.
func Run(t testing.TB, dir string, argv ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// MustRun is Run that fails the test on a non-zero exit, showing the command and its output.
func MustRun(t testing.TB, dir string, argv ...string) string {
	t.Helper()
	out, err := Run(t, dir, argv...)
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	return out
}
