package agent

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/socketbar/socketbar/serverctl"
)

var _ serverctl.Disk = (*Agent)(nil)

// Stat is the Sys() of every fs.FileInfo an Agent returns: the file's
// numbers on the Server. It is a serverctl.FileOwner.
type Stat struct {
	// Mode is the raw st_mode (type and permission bits, as on every Unix).
	Mode         uint32
	UID, GID     int
	Nlink        uint64
	Dev, Ino     uint64
	ModTimeNanos int64
}

// Owner implements serverctl.FileOwner.
func (s *Stat) Owner() (uid, gid int) { return s.UID, s.GID }

type fileInfo struct {
	name  string
	size  int64
	mode  fs.FileMode
	mtime time.Time
	sys   *Stat
}

func (fi *fileInfo) Name() string       { return fi.name }
func (fi *fileInfo) Size() int64        { return fi.size }
func (fi *fileInfo) Mode() fs.FileMode  { return fi.mode }
func (fi *fileInfo) ModTime() time.Time { return fi.mtime }
func (fi *fileInfo) IsDir() bool        { return fi.mode.IsDir() }
func (fi *fileInfo) Sys() any           { return fi.sys }

// statFields is how many fields an answer gives a file: mode, size,
// mtime, uid, gid, nlink, dev, ino.
const statFields = 8

// fileMode turns a Unix st_mode into an fs.FileMode, as package os does.
func fileMode(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	switch m & 0o170000 {
	case 0o060000:
		mode |= fs.ModeDevice
	case 0o020000:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case 0o040000:
		mode |= fs.ModeDir
	case 0o010000:
		mode |= fs.ModeNamedPipe
	case 0o120000:
		mode |= fs.ModeSymlink
	case 0o100000:
	case 0o140000:
		mode |= fs.ModeSocket
	default:
		mode |= fs.ModeIrregular
	}
	if m&0o4000 != 0 {
		mode |= fs.ModeSetuid
	}
	if m&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	if m&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}

// parseStat reads a file's fields; name is the base of the path asked.
func parseStat(name string, f [][]byte) (*fileInfo, error) {
	if len(f) < statFields {
		return nil, &ProtocolError{Problem: fmt.Sprintf("a file's info has %d fields, not %d", len(f), statFields)}
	}
	var n [statFields]uint64
	for i, b := range f[:statFields] {
		if i == 2 {
			continue
		}
		v, err := strconv.ParseUint(string(b), 10, 64)
		if err != nil {
			return nil, &ProtocolError{Problem: fmt.Sprintf("a file's info holds %q, not a number", b)}
		}
		n[i] = v
	}
	mtime, err := parseTime(string(f[2]))
	if err != nil {
		return nil, err
	}
	st := &Stat{Mode: uint32(n[0]), UID: int(n[3]), GID: int(n[4]), Nlink: n[5], Dev: n[6], Ino: n[7], ModTimeNanos: mtime.UnixNano()}
	return &fileInfo{name: name, size: int64(n[1]), mode: fileMode(st.Mode), mtime: mtime, sys: st}, nil
}

// parseTime reads perl's seconds: "1700000000" or "1700000000.123456",
// or in e-notation when perl chose it.
func parseTime(s string) (time.Time, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != f {
		return time.Time{}, &ProtocolError{Problem: fmt.Sprintf("a modification time %q", s)}
	}
	sec, frac := int64(f), f-float64(int64(f))
	if i := indexByte(s, '.'); i >= 0 && indexByte(s, 'e') < 0 {
		// Exact digits rather than the float's rounding.
		sec, _ = strconv.ParseInt(s[:i], 10, 64)
		digits := (s[i+1:] + "000000000")[:9]
		ns, _ := strconv.ParseInt(digits, 10, 64)
		if s[0] == '-' {
			ns = -ns
		}
		return time.Unix(sec, ns), nil
	}
	return time.Unix(sec, int64(frac*1e9)), nil
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// errnos are the errors the agent names that mean something here: their
// numbers differ between macOS and Linux, their names do not.
var errnos = map[string]syscall.Errno{
	"ENOENT": syscall.ENOENT, "EEXIST": syscall.EEXIST, "EACCES": syscall.EACCES,
	"EPERM": syscall.EPERM, "ENOTDIR": syscall.ENOTDIR, "EISDIR": syscall.EISDIR,
	"ENOTEMPTY": syscall.ENOTEMPTY, "ELOOP": syscall.ELOOP, "EXDEV": syscall.EXDEV,
	"EBUSY": syscall.EBUSY, "EROFS": syscall.EROFS, "ENOSPC": syscall.ENOSPC,
	"EINVAL": syscall.EINVAL, "ENAMETOOLONG": syscall.ENAMETOOLONG, "EMLINK": syscall.EMLINK,
	"EIO": syscall.EIO, "EAGAIN": syscall.EAGAIN, "EWOULDBLOCK": syscall.EWOULDBLOCK,
	"EDQUOT": syscall.EDQUOT, "ETXTBSY": syscall.ETXTBSY, "ESRCH": syscall.ESRCH,
	"EBADF": syscall.EBADF, "EMFILE": syscall.EMFILE, "ENFILE": syscall.ENFILE,
	"EFBIG": syscall.EFBIG, "ENXIO": syscall.ENXIO, "EINTR": syscall.EINTR,
	"ENOEXEC": syscall.ENOEXEC, "E2BIG": syscall.E2BIG, "ENOMEM": syscall.ENOMEM,
}

// RemoteErrno is an errno of the Server's with no counterpart here.
type RemoteErrno struct {
	Name, Text string
}

func (e *RemoteErrno) Error() string { return e.Text + " (" + e.Name + " on the Server)" }

// answer turns an answer into its results or its error, as the same
// operation on this machine's files would fail.
func answer(f [][]byte) ([][]byte, error) {
	if len(f) == 0 {
		return nil, &ProtocolError{Problem: "an empty answer"}
	}
	switch string(f[0]) {
	case "ok":
		return f[1:], nil
	case "err":
	default:
		return nil, &ProtocolError{Problem: fmt.Sprintf("an answer of kind %q", f[0])}
	}
	if len(f) != 7 {
		return nil, &ProtocolError{Problem: fmt.Sprintf("an error with %d fields, not 7", len(f))}
	}
	kind, name, op, path, path2, text := string(f[1]), string(f[2]), string(f[3]), string(f[4]), string(f[5]), string(f[6])
	var err error
	switch kind {
	case "errno":
		if e, ok := errnos[name]; ok {
			err = e
		} else {
			err = &RemoteErrno{Name: name, Text: text}
		}
	case "symlink":
		err = serverctl.ErrSymlink
	case "notregular":
		m, _ := strconv.ParseUint(text, 10, 32)
		err = fmt.Errorf("%w (%s)", serverctl.ErrNotRegular, serverctl.DescribeType(fileMode(uint32(m))))
	case "toolarge":
		err = fmt.Errorf("%w (%s bytes)", serverctl.ErrTooLarge, text)
	case "locked":
		err = serverctl.ErrLocked
	case "other":
		err = fmt.Errorf("%s", text)
	default:
		return nil, &ProtocolError{Problem: fmt.Sprintf("an error of kind %q", kind)}
	}
	if op == "rename" {
		return nil, &os.LinkError{Op: op, Old: path, New: path2, Err: err}
	}
	return nil, &fs.PathError{Op: op, Path: path, Err: err}
}

// call sends a request and returns the answer's results.
func (a *Agent) call(op string, args ...[]byte) ([][]byte, error) {
	f, err := a.request(op, args...)
	if err != nil {
		return nil, err
	}
	return answer(f)
}

func b(s string) []byte { return []byte(s) }

func flag(v bool) []byte {
	if v {
		return b("1")
	}
	return b("0")
}

func num(n int64) []byte { return b(strconv.FormatInt(n, 10)) }

// ReadFile implements serverctl.Disk.
func (a *Agent) ReadFile(path string, noFollow bool) ([]byte, fs.FileInfo, error) {
	f, err := a.call("read", b(path), flag(noFollow))
	if err != nil {
		return nil, nil, err
	}
	fi, err := parseStat(filepath.Base(path), f)
	if err != nil {
		return nil, nil, a.fail(err)
	}
	if len(f) != statFields+1 || len(f[statFields]) > serverctl.MaxFileSize {
		return nil, nil, a.fail(&ProtocolError{Problem: "a file's answer without its content, or over serverctl.MaxFileSize"})
	}
	return f[statFields], fi, nil
}

// ReadTail implements serverctl.Disk. n is at most serverctl.MaxFileSize.
func (a *Agent) ReadTail(path string, n int64) ([]byte, error) {
	if n < 0 || n > serverctl.MaxFileSize {
		return nil, &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("agent: a tail of %d bytes: at most serverctl.MaxFileSize", n)}
	}
	f, err := a.call("tail", b(path), num(n))
	if err != nil {
		return nil, err
	}
	if len(f) != 1 || int64(len(f[0])) > n {
		return nil, a.fail(&ProtocolError{Problem: fmt.Sprintf("a tail of more than %d bytes", n)})
	}
	return f[0], nil
}

func (a *Agent) stat(op, path string) (fs.FileInfo, error) {
	f, err := a.call(op, b(path))
	if err != nil {
		return nil, err
	}
	fi, err := parseStat(filepath.Base(path), f)
	if err != nil {
		return nil, a.fail(err)
	}
	return fi, nil
}

// Stat implements serverctl.Disk.
func (a *Agent) Stat(path string) (fs.FileInfo, error) { return a.stat("stat", path) }

// Lstat implements serverctl.Disk.
func (a *Agent) Lstat(path string) (fs.FileInfo, error) { return a.stat("lstat", path) }

// Resolve implements serverctl.Disk: filepath.EvalSymlinks on the Server.
func (a *Agent) Resolve(path string) (string, error) {
	f, err := a.call("resolve", b(path))
	if err != nil {
		return "", err
	}
	if len(f) != 1 {
		return "", a.fail(&ProtocolError{Problem: "a resolved path in more than one field"})
	}
	return filepath.Clean(string(f[0])), nil
}

// List implements serverctl.Disk.
func (a *Agent) List(dir string) ([]string, error) {
	f, err := a.call("list", b(dir))
	if err != nil {
		return nil, err
	}
	names := make([]string, len(f))
	for i, n := range f {
		names[i] = string(n)
		if i > 0 && names[i] <= names[i-1] {
			return nil, a.fail(&ProtocolError{Problem: "a folder's names out of order"})
		}
	}
	return names, nil
}

// WriteNew implements serverctl.Disk. owner's Sys() is a
// serverctl.FileOwner (what an Agent returns) or a *syscall.Stat_t.
func (a *Agent) WriteNew(path string, data []byte, perm fs.FileMode, owner fs.FileInfo) error {
	if len(data) > serverctl.MaxFileSize {
		return &fs.PathError{Op: "write", Path: path, Err: serverctl.ErrTooLarge}
	}
	uid, gid := int64(-1), int64(-1)
	if owner != nil {
		switch st := owner.Sys().(type) {
		case serverctl.FileOwner:
			u, g := st.Owner()
			uid, gid = int64(u), int64(g)
		case *syscall.Stat_t:
			uid, gid = int64(st.Uid), int64(st.Gid)
		}
	}
	_, err := a.call("write", b(path), data, num(int64(perm.Perm())), num(uid), num(gid))
	return err
}

// Rename implements serverctl.Disk.
func (a *Agent) Rename(from, to string) error {
	_, err := a.call("rename", b(from), b(to))
	return err
}

// Remove implements serverctl.Disk.
func (a *Agent) Remove(path string) error {
	_, err := a.call("remove", b(path))
	return err
}

// Mkdir implements serverctl.Disk.
func (a *Agent) Mkdir(path string, perm fs.FileMode) error {
	_, err := a.call("mkdir", b(path), num(int64(perm.Perm())))
	return err
}

// Lock implements serverctl.Disk: the agent's process holds the lock
// (flock) until the Closer is closed, or the agent ends.
func (a *Agent) Lock(path string) (io.Closer, fs.FileInfo, error) {
	f, err := a.call("lock", b(path))
	if err != nil {
		return nil, nil, err
	}
	if len(f) != 1+statFields {
		return nil, nil, a.fail(&ProtocolError{Problem: "a lock's answer without its id and info"})
	}
	fi, err := parseStat(filepath.Base(path), f[1:])
	if err != nil {
		return nil, nil, a.fail(err)
	}
	return &lockHandle{a: a, id: f[0]}, fi, nil
}

type lockHandle struct {
	a    *Agent
	id   []byte
	once sync.Once
	err  error
}

// Close releases the lock. When the agent has ended, the lock ended
// with it, and Close has nothing to do.
func (l *lockHandle) Close() error {
	l.once.Do(func() {
		if l.a.Err() != nil {
			return
		}
		_, err := l.a.call("unlock", l.id)
		if l.a.Err() == nil {
			l.err = err
		}
	})
	return l.err
}

// UID implements serverctl.Disk: the user the agent runs as (0, root).
func (a *Agent) UID() int { return a.uid }
