package agent

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/socketbar/socketbar/serverctl"
)

// hostileNames are names a path may hold that a shell would interpret.
var hostileNames = []string{"plain", "with space", "quote'd", `dq"x`, "$HOME", "`id`", "new\nline", "-dash", "*"}

// tree makes a folder of every kind of file the transaction meets, and
// returns it (the loopback Server's files are this machine's).
func tree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "file"), []byte("hello\nworld\n"), 0o640))
	must(t, os.Mkdir(filepath.Join(dir, "folder"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "folder", "inner"), []byte("in"), 0o600))
	must(t, os.Symlink("file", filepath.Join(dir, "link")))
	must(t, os.Symlink("folder/../folder/inner", filepath.Join(dir, "rellink")))
	must(t, os.Symlink(filepath.Join(dir, "folder"), filepath.Join(dir, "abslink")))
	must(t, os.Symlink("nowhere", filepath.Join(dir, "dangling")))
	must(t, os.Symlink("loop2", filepath.Join(dir, "loop1")))
	must(t, os.Symlink("loop1", filepath.Join(dir, "loop2")))
	must(t, syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644))
	big, err := os.Create(filepath.Join(dir, "big"))
	must(t, err)
	must(t, big.Truncate(serverctl.MaxFileSize+1))
	big.Close()
	for _, n := range hostileNames {
		must(t, os.WriteFile(filepath.Join(dir, n), []byte("name "+n), 0o644))
	}
	// A time with nanoseconds, as a file written by Socketbar has.
	must(t, os.Chtimes(filepath.Join(dir, "file"), time.Now(), time.Unix(1700000000, 123456789)))
	return dir
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// errClass names what errors.Is finds in err, the way the transaction
// tests errors.
func errClass(err error) string {
	for _, c := range []struct {
		name string
		err  error
	}{
		{"ErrNotExist", fs.ErrNotExist}, {"ErrExist", fs.ErrExist}, {"ErrPermission", fs.ErrPermission},
		{"ErrSymlink", serverctl.ErrSymlink}, {"ErrNotRegular", serverctl.ErrNotRegular},
		{"ErrTooLarge", serverctl.ErrTooLarge}, {"ErrLocked", serverctl.ErrLocked},
		{"ENOTDIR", syscall.ENOTDIR}, {"ENOTEMPTY", syscall.ENOTEMPTY}, {"ELOOP", syscall.ELOOP},
	} {
		if errors.Is(err, c.err) {
			return c.name
		}
	}
	if err != nil {
		return "other: " + err.Error()
	}
	return "nil"
}

// sameInfo compares what the agent says of a file with os's.
func sameInfo(t *testing.T, what string, got, want fs.FileInfo) {
	t.Helper()
	if got.Name() != want.Name() || got.Size() != want.Size() || got.Mode() != want.Mode() || got.IsDir() != want.IsDir() {
		t.Errorf("%s: agent says %s %d %v, os says %s %d %v", what, got.Name(), got.Size(), got.Mode(), want.Name(), want.Size(), want.Mode())
	}
	// perl's float seconds keep ten microseconds.
	if d := got.ModTime().Sub(want.ModTime()); d < -20*time.Microsecond || d > 20*time.Microsecond {
		t.Errorf("%s: agent says mtime %v, os says %v", what, got.ModTime(), want.ModTime())
	}
	owner, ok := got.Sys().(serverctl.FileOwner)
	if !ok {
		t.Fatalf("%s: Sys() is %T, not a serverctl.FileOwner", what, got.Sys())
	}
	uid, gid := owner.Owner()
	st := want.Sys().(*syscall.Stat_t)
	if uid != int(st.Uid) || gid != int(st.Gid) {
		t.Errorf("%s: agent says owner %d:%d, os says %d:%d", what, uid, gid, st.Uid, st.Gid)
	}
}

func TestStatAndLstatAreOs(t *testing.T) {
	a, _ := rootAgent(t)
	dir := tree(t)
	names := append([]string{"file", "folder", "link", "rellink", "abslink", "dangling", "loop1", "fifo", "big", "missing", "file/below", "folder/inner", "."}, hostileNames...)
	for _, n := range names {
		p := filepath.Join(dir, n)
		for _, c := range []struct {
			op     string
			agent  func(string) (fs.FileInfo, error)
			native func(string) (fs.FileInfo, error)
		}{{"Stat", a.Stat, os.Stat}, {"Lstat", a.Lstat, os.Lstat}} {
			got, gerr := c.agent(p)
			want, werr := c.native(p)
			if errClass(gerr) != errClass(werr) {
				t.Errorf("%s(%q): agent %v, os %v", c.op, n, gerr, werr)
				continue
			}
			if werr != nil {
				var pe *fs.PathError
				if !errors.As(gerr, &pe) || pe.Path != p {
					t.Errorf("%s(%q): %v is not a *fs.PathError naming the path", c.op, n, gerr)
				}
				continue
			}
			sameInfo(t, c.op+"("+n+")", got, want)
		}
	}
}

func TestReadFileIsLocalDisks(t *testing.T) {
	a, _ := rootAgent(t)
	dir := tree(t)
	for _, c := range []struct {
		name     string
		noFollow bool
		want     string // errClass, or "nil" with the content os reads
	}{
		{"file", false, "nil"},
		{"file", true, "nil"},
		{"link", false, "nil"},
		{"link", true, "ErrSymlink"},
		{"dangling", false, "ErrNotExist"},
		{"dangling", true, "ErrSymlink"},
		{"folder", false, "ErrNotRegular"},
		{"fifo", false, "ErrNotRegular"}, // and it does not hang
		{"big", false, "ErrTooLarge"},
		{"missing", false, "ErrNotExist"},
		{"file/below", false, "ENOTDIR"},
		{"new\nline", true, "nil"},
		{"`id`", true, "nil"},
	} {
		p := filepath.Join(dir, c.name)
		data, fi, err := a.ReadFile(p, c.noFollow)
		if got := errClass(err); got != c.want {
			t.Errorf("ReadFile(%q, %v): %s (%v), want %s", c.name, c.noFollow, got, err, c.want)
			continue
		}
		if !c.noFollow {
			// serverctl.ReadFile is localDisk's ReadFile without noFollow.
			_, lerr := serverctl.ReadFile(p)
			if errClass(lerr) != c.want {
				t.Errorf("ReadFile(%q): agent %v, this machine %v", c.name, err, lerr)
			}
		}
		if err != nil {
			continue
		}
		want, _ := os.ReadFile(p)
		if !bytes.Equal(data, want) {
			t.Errorf("ReadFile(%q) = %q, want %q", c.name, data, want)
		}
		ofi, _ := os.Stat(p)
		sameInfo(t, "ReadFile("+c.name+")", fi, ofi)
	}
}

func TestReadTailIsTheEnd(t *testing.T) {
	a, _ := rootAgent(t)
	dir := tree(t)
	p := filepath.Join(dir, "file")
	for _, n := range []int64{0, 1, 6, 12, 100} {
		got, err := a.ReadTail(p, n)
		must(t, err)
		data, _ := os.ReadFile(p)
		want := data[max(0, int64(len(data))-n):]
		if !bytes.Equal(got, want) {
			t.Errorf("ReadTail(%d) = %q, want %q", n, got, want)
		}
	}
	if _, err := a.ReadTail(filepath.Join(dir, "fifo"), 10); !errors.Is(err, serverctl.ErrNotRegular) {
		t.Errorf("ReadTail of a FIFO: %v", err)
	}
}

func TestResolveIsEvalSymlinks(t *testing.T) {
	a, _ := rootAgent(t)
	dir := tree(t)
	for _, n := range []string{"file", "link", "rellink", "abslink", "abslink/inner", "abslink/../file", "folder/../link", "dangling", "loop1", "missing", "file/x", "./folder//inner/", "with space"} {
		p := dir + "/" + n
		got, gerr := a.Resolve(p)
		want, werr := filepath.EvalSymlinks(p)
		if got != want || errClass(gerr) != errClass(werr) && !(gerr != nil && werr != nil) {
			t.Errorf("Resolve(%q) = %q, %v; EvalSymlinks: %q, %v", n, got, gerr, want, werr)
		}
		if (gerr == nil) != (werr == nil) {
			t.Errorf("Resolve(%q): agent %v, EvalSymlinks %v", n, gerr, werr)
		}
	}
}

func TestListIsReadDir(t *testing.T) {
	a, _ := rootAgent(t)
	dir := tree(t)
	got, err := a.List(dir)
	must(t, err)
	entries, _ := os.ReadDir(dir)
	var want []string
	for _, e := range entries {
		want = append(want, e.Name())
	}
	if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
		t.Errorf("List = %q, want %q", got, want)
	}
	if _, err := a.List(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("List of a missing folder: %v", err)
	}
}

func TestWriteNew(t *testing.T) {
	a, _ := rootAgent(t)
	dir := tree(t)
	// The owner given as what the agent says of a file, and as this
	// machine's *syscall.Stat_t.
	other := filepath.Join(dir, "owned")
	must(t, os.WriteFile(other, nil, 0o644))
	must(t, os.Chown(other, 4321, 8765))
	remoteOwner, err := a.Lstat(other)
	must(t, err)
	localOwner, err := os.Lstat(other)
	must(t, err)
	for i, owner := range []fs.FileInfo{nil, remoteOwner, localOwner} {
		for _, n := range hostileNames {
			p := filepath.Join(dir, "new-"+string(rune('a'+i))+n)
			data := []byte("data of " + n + "\x00\xff")
			must(t, a.WriteNew(p, data, 0o600, owner))
			got, err := os.ReadFile(p)
			must(t, err)
			fi, _ := os.Lstat(p)
			if !bytes.Equal(got, data) || fi.Mode() != 0o600 {
				t.Errorf("WriteNew(%q): %q %v", p, got, fi.Mode())
			}
			st := fi.Sys().(*syscall.Stat_t)
			if owner != nil && (st.Uid != 4321 || st.Gid != 8765) || owner == nil && st.Uid != 0 {
				t.Errorf("WriteNew(%q) with owner %v: owner %d:%d", p, owner != nil, st.Uid, st.Gid)
			}
		}
	}
	// Past the umask: 0666 stays 0666.
	p := filepath.Join(dir, "wide")
	must(t, a.WriteNew(p, nil, 0o666, nil))
	if fi, _ := os.Lstat(p); fi.Mode() != 0o666 {
		t.Errorf("WriteNew 0666: %v", fi.Mode())
	}
	for _, c := range []struct{ name, want string }{
		{"file", "ErrExist"},
		{"dangling", "ErrSymlink"}, // never through a link, not even to nowhere
		{"link", "ErrSymlink"},
		{"missing/x", "ErrNotExist"},
	} {
		p := filepath.Join(dir, c.name)
		before, _ := os.ReadFile(filepath.Join(dir, "file"))
		err := a.WriteNew(p, []byte("x"), 0o644, nil)
		if errClass(err) != c.want {
			t.Errorf("WriteNew(%q): %v, want %s", c.name, err, c.want)
		}
		after, _ := os.ReadFile(filepath.Join(dir, "file"))
		if !bytes.Equal(before, after) {
			t.Errorf("WriteNew(%q) changed the file a link points to", c.name)
		}
		if _, err := os.Lstat(filepath.Join(dir, "nowhere")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("WriteNew(%q) made the dangling link's target", c.name)
		}
	}
}

func TestRenameRemoveMkdirAreOs(t *testing.T) {
	a, _ := rootAgent(t)
	dir := tree(t)
	// Rename replaces a link itself, not what it points to.
	must(t, a.Rename(filepath.Join(dir, "new\nline"), filepath.Join(dir, "link")))
	if fi, _ := os.Lstat(filepath.Join(dir, "link")); !fi.Mode().IsRegular() {
		t.Errorf("Rename over a link: %v", fi.Mode())
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "file")); string(data) != "hello\nworld\n" {
		t.Errorf("Rename over a link wrote through it: %q", data)
	}
	err := a.Rename(filepath.Join(dir, "missing"), filepath.Join(dir, "x"))
	var le *os.LinkError
	if !errors.As(err, &le) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Rename of a missing file: %v, want an *os.LinkError wrapping ErrNotExist", err)
	}
	for _, c := range []string{"missing", "folder", "with space", "dangling"} {
		p := filepath.Join(dir, c)
		gerr := a.Remove(p)
		// The same on a copy, with os.
		cp := filepath.Join(t.TempDir(), "c")
		if c == "folder" {
			must(t, os.Mkdir(cp, 0o755))
			must(t, os.WriteFile(filepath.Join(cp, "x"), nil, 0o644))
		} else if c != "missing" {
			must(t, os.WriteFile(cp, nil, 0o644))
		}
		werr := os.Remove(cp)
		if errClass(gerr) != errClass(werr) {
			t.Errorf("Remove(%q): agent %v, os %v", c, gerr, werr)
		}
	}
	must(t, os.Remove(filepath.Join(dir, "folder", "inner")))
	must(t, a.Remove(filepath.Join(dir, "folder")))
	must(t, a.Mkdir(filepath.Join(dir, "made"), 0o700))
	if fi, err := os.Lstat(filepath.Join(dir, "made")); err != nil || fi.Mode() != fs.ModeDir|0o700 {
		t.Errorf("Mkdir: %v %v", fi, err)
	}
	if err := a.Mkdir(filepath.Join(dir, "file"), 0o700); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Mkdir over a file: %v", err)
	}
	if err := a.Mkdir(filepath.Join(dir, "missing", "x"), 0o700); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Mkdir below a missing folder: %v", err)
	}
}
