package servertest

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Dir returns the absolute path of the Server tree stored for version
// ("5.3.1"). It finds the module root from the working directory, which go
// test sets to the package's folder, so the same call works from any package.
// The tree is shared: a test that changes files uses Copy.
func Dir(t testing.TB, version string) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatalf("servertest: %v", err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			dir := filepath.Join(d, "serverctl", "testdata", "servers", version)
			if _, err := os.Stat(dir); err != nil {
				t.Fatalf("servertest: no stored Server tree for %s: %v", version, err)
			}
			return dir
		}
		if filepath.Dir(d) == d {
			t.Fatalf("servertest: no go.mod above %s", wd)
		}
	}
}

// Copy copies the Server tree stored for version to a new temporary folder
// that the test may change, and returns that folder (the tree's "/").
func Copy(t testing.TB, version string) string {
	t.Helper()
	root := t.TempDir()
	if err := os.CopyFS(root, os.DirFS(Dir(t, version))); err != nil {
		t.Fatalf("servertest: copy the %s tree: %v", version, err)
	}
	return root
}

// Within is how long Eventually waits before it fails the test.
const Within = 10 * time.Second

// Eventually polls cond every 10 ms until it holds, and fails the test,
// naming what it waited for, if it does not within Within. It is for state
// that another goroutine or process changes without telling the test (a UI
// updated from goroutines, a session count), not a way to wait out time.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	eventually(t, what, Within, cond)
}

// EventuallyWithin is Eventually with its own bound, for what waits on
// another program (sshd ending its sessions) on a loaded machine.
func EventuallyWithin(t testing.TB, what string, within time.Duration, cond func() bool) {
	t.Helper()
	eventually(t, what, within, cond)
}

func eventually(t testing.TB, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %v waiting for %s", within, what)
		}
		<-tick.C
	}
}

// FakeHTTPD stands in for Apple's httpd wrapper where a test checks
// Socketbar's own behaviour: -v names Apache 2.4.23; -t passes, unless the
// config contains fail-config-test. The real httpd runs in the apply tests.
const FakeHTTPD = `#!/bin/sh
case " $* " in
*" -v "*) echo "Server version: Apache/2.4.23 (Unix)"; exit 0;;
*" -t "*)
  while [ $# -gt 0 ]; do [ "$1" = -f ] && conf=$2; shift; done
  if grep -q fail-config-test "$conf"; then echo "AH00526: Syntax error on line 7 of $conf:"; echo "Invalid command 'FAIL-CONFIG-TEST'"; exit 1; fi
  echo "Syntax OK"; exit 0;;
esac
echo "fake httpd: unexpected arguments: $*" >&2; exit 2
`

// ConfigPath is where a tree keeps the Service Proxy config.
const ConfigPath = "Library/Server/Web/Config/Proxy/apache_serviceproxy.conf"

// CopyWithHTTPD is Copy with FakeHTTPD at the launchd job's program and at
// /usr/sbin/httpd; it returns the root and the config's path.
func CopyWithHTTPD(t testing.TB, version string) (root, config string) {
	t.Helper()
	root = Copy(t, version)
	for _, p := range []string{"Applications/Server.app/Contents/ServerRoot/usr/sbin/httpd-server-wrapper", "usr/sbin/httpd"} {
		p = filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatalf("servertest: %v", err)
		}
		if err := os.WriteFile(p, []byte(FakeHTTPD), 0o755); err != nil {
			t.Fatalf("servertest: %v", err)
		}
	}
	return root, filepath.Join(root, ConfigPath)
}

// ServeTree copies the Server tree stored for version into a new folder
// that every account may read (its folders are 0755, outside the test's
// 0700 temporary folder), with FakeHTTPD at /usr/sbin/httpd: the root a
// test's sshd serves to a login that is not the test's account, and the
// same tree the test reads locally. The folder is removed when the test ends.
func ServeTree(t testing.TB, version string) string {
	t.Helper()
	root, err := os.MkdirTemp("", "servertest-served-")
	if err != nil {
		t.Fatalf("servertest: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	if err := os.CopyFS(root, os.DirFS(Dir(t, version))); err != nil {
		t.Fatalf("servertest: copy the %s tree: %v", version, err)
	}
	httpd := filepath.Join(root, "usr", "sbin", "httpd")
	if err := os.MkdirAll(filepath.Dir(httpd), 0o755); err != nil {
		t.Fatalf("servertest: %v", err)
	}
	if err := os.WriteFile(httpd, []byte(FakeHTTPD), 0o755); err != nil {
		t.Fatalf("servertest: %v", err)
	}
	Readable(t, root)
	return root
}

// Readable makes the folders of the tree at root, and the folders above
// it, 0755: a test's sshd logs in as an account that is not the test's
// (as an admin is not root), and that account reads the tree the test
// made in its 0700 temporary folder.
func Readable(t testing.TB, root string) {
	t.Helper()
	for p := filepath.Dir(root); p != "/" && p != "."; p = filepath.Dir(p) {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatalf("servertest: %v", err)
		}
	}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.Chmod(p, 0o755)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("servertest: %v", err)
	}
}
