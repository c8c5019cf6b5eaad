package mirror

import (
	"context"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/socketbar/socketbar/internal/sshtest"
	"github.com/socketbar/socketbar/serverctl/remote"
	"github.com/socketbar/socketbar/serverctl/servertest"
)

// testTimeout bounds each test's SSH work; a regression fails, never hangs.
const testTimeout = 90 * time.Second

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// serve is the stored Server tree of version served as servertest.ServeTree
// serves it, or for "" an empty tree with only FakeHTTPD: the remote root
// the tests' sshd serves.
func serve(t testing.TB, version string) string {
	t.Helper()
	if version != "" {
		return servertest.ServeTree(t, version)
	}
	root, err := os.MkdirTemp("", "mirror-served-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	put(t, root, "/usr/sbin/httpd", servertest.FakeHTTPD, 0o755)
	servertest.Readable(t, root)
	return root
}

// put writes a file at Mac path mac below root, making its folders.
func put(t testing.TB, root, mac, data string, perm fs.FileMode) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(mac))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, perm); err != nil {
		t.Fatal(err)
	}
}

// link makes a symlink at Mac path mac below root.
func link(t testing.TB, root, mac, target string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(mac))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
}

// connect starts a real sshd on loopback and logs in to it: as a new
// account that is not root, as an admin logs in to a Mac, when the test
// may add one (it runs as root), else as the account running the test.
// The new account's login shell is /bin/sh with no startup files, so that
// a slow ~/.bashrc of the test's account does not slow every command.
func connect(t testing.TB) *remote.Conn {
	t.Helper()
	return login(t, sshCommand(t))
}

// sshCommand starts a real sshd on loopback and returns the ssh command
// line that logs in to it (see connect).
func sshCommand(t testing.TB) []string {
	t.Helper()
	s := sshtest.Start(t)
	if os.Geteuid() == 0 {
		u := s.NewSudoUser(t)
		return []string{"ssh", "-F", u.ConfigFile}
	}
	return s.SSH()
}

// shared is a new folder every account may read, for files the Server's
// side of a test reads.
func shared(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "mirror-shared-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func login(t testing.TB, ssh []string) *remote.Conn {
	t.Helper()
	c, err := remote.Open(testContext(t), remote.Host{Name: sshtest.Alias}, remote.Config{SSH: ssh})
	if err != nil {
		t.Fatalf("remote.Open: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// newDir is a path for a mirror folder that does not exist yet.
func newDir(t testing.TB) string {
	return filepath.Join(t.TempDir(), "mirror")
}

// fetch fetches the tree served at root through c into a new folder.
func fetch(t testing.TB, c Conn, root string) *Mirror {
	t.Helper()
	m, err := Fetch(testContext(t), c, root, newDir(t), Limits{})
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	return m
}

// noSymlinks fails the test if anything below dir is a symlink.
func noSymlinks(t testing.TB, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type()&fs.ModeSymlink != 0 {
			t.Errorf("the mirror holds a symlink: %s", p)
		}
		return nil
	})
}

// localPerl runs the fetch program with this machine's perl, for the fuzz
// test's seeds: the stream a real fetch.pl writes.
type localPerl struct{}

func (localPerl) Run(context.Context, []string, io.Reader) (remote.Output, error) {
	panic("not used")
}

func (localPerl) Stream(ctx context.Context, argv []string, stdin io.Reader, consume func(io.Reader) error) (remote.Output, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdin = stdin
	out, err := cmd.StdoutPipe()
	if err != nil {
		return remote.Output{}, err
	}
	if err := cmd.Start(); err != nil {
		return remote.Output{}, err
	}
	cerr := consume(out)
	io.Copy(io.Discard, out)
	werr := cmd.Wait()
	if cerr != nil {
		return remote.Output{}, cerr
	}
	return remote.Output{}, werr
}

// panicConn is a Conn that must not be used.
type panicConn struct{}

func (panicConn) Run(context.Context, []string, io.Reader) (remote.Output, error) {
	panic("the Conn was used")
}

func (panicConn) Stream(context.Context, []string, io.Reader, func(io.Reader) error) (remote.Output, error) {
	panic("the Conn was used")
}
