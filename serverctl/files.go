package serverctl

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// MaxFileSize bounds every file Socketbar reads whole: a Service Proxy
// config, a plist, a backup. Apple's largest is a few tens of KiB; the bound
// only keeps a wrong path (/dev/zero, a disk image) from eating the memory.
const MaxFileSize = 16 << 20

// ErrNotRegular and ErrTooLarge are why readFile refused a file; the
// error it returns names the file and wraps one of them.
var (
	ErrNotRegular = errors.New("not a regular file")
	ErrTooLarge   = fmt.Errorf("larger than %d MiB", MaxFileSize>>20)
)

// ErrNotDir means something other than a folder is where Socketbar keeps
// one (its backups and journal beside the config).
var ErrNotDir = errors.New("not a folder")

// ErrSymlink means Socketbar refused to write through a symbolic link in
// a folder another user may write to.
var ErrSymlink = errors.New("is a symbolic link; Socketbar does not write through links there")

// ReadFile reads a config file the way Socketbar reads every config: a
// regular file of at most MaxFileSize bytes, opened without blocking (a
// FIFO or device put in its place fails with ErrNotRegular instead of
// hanging). A link is followed, as Apache follows it.
func ReadFile(path string) ([]byte, error) { return readFile(path, false) }

// readFile reads the regular file at path, at most MaxFileSize bytes. It
// opens without blocking, so a FIFO cannot hang it, and checks the opened
// file (not the name, which could change in between) before reading.
// With noFollow a symbolic link is refused rather than followed.
func readFile(path string, noFollow bool) ([]byte, error) {
	data, _, err := readFileInfo(path, noFollow)
	return data, err
}

// readFileInfo is readFile that also returns the opened file's info, so a
// check of its owner is about the very file read, not one swapped in after
// a look at the name.
func readFileInfo(path string, noFollow bool) ([]byte, os.FileInfo, error) {
	f, fi, err := openRegular(path, noFollow)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	if fi.Size() > MaxFileSize {
		return nil, nil, fmt.Errorf("%s: %w (%d bytes)", path, ErrTooLarge, fi.Size())
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, nil, err
	}
	if len(data) > MaxFileSize { // grew while being read
		return nil, nil, fmt.Errorf("%s: %w", path, ErrTooLarge)
	}
	return data, fi, nil
}

// openRegular opens the regular file at path for reading, without
// blocking, so a FIFO cannot hang it, and checks the opened file (not the
// name, which could change in between). With noFollow a symbolic link is
// refused rather than followed.
func openRegular(path string, noFollow bool) (*os.File, os.FileInfo, error) {
	flags := os.O_RDONLY | oNonBlock
	if noFollow {
		flags |= oNoFollow
	}
	f, err := os.OpenFile(path, flags, 0)
	if err != nil {
		if noFollow && isSymlinkErr(path, err) {
			return nil, nil, fmt.Errorf("%s %w", path, ErrSymlink)
		}
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%s: %w (%s)", path, ErrNotRegular, DescribeType(fi.Mode()))
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// DescribeType names a file type for people (the agent on a Server
// reached over SSH words its refusals with it too).
func DescribeType(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m.IsRegular():
		return "a file"
	}
	return "a special file"
}

// isSymlinkErr reports whether an O_NOFOLLOW open of path failed because
// path is a symbolic link (ELOOP on Linux, EMLINK on some BSDs).
func isSymlinkErr(path string, err error) bool {
	fi, lerr := os.Lstat(path)
	return err != nil && lerr == nil && fi.Mode()&fs.ModeSymlink != 0
}

// createExclusive creates a new file at path for writing; it never opens an
// existing file or follows a symbolic link planted at path.
func createExclusive(path string, perm os.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|oNoFollow, perm)
	if err != nil && isSymlinkErr(path, err) {
		return nil, fmt.Errorf("%s %w", path, ErrSymlink)
	}
	return f, err
}

// ensureDir creates dir on d if needed and checks that it is a real folder
// (not a link to one) owned by this user, by root, or by the owner of the
// folder it lives in (who could replace it anyway); when Socketbar runs as
// root, by root alone (see checkOwner). Socketbar, often run as root,
// writes backups and its journal there, so a folder another user planted
// or controls must not be used.
func ensureDir(d Disk, dir string, perm os.FileMode) error {
	if err := mkdirAll(d, dir, perm); err != nil {
		return err
	}
	fi, err := d.Lstat(dir)
	if err != nil {
		return err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("%s %w", dir, ErrSymlink)
	}
	if !fi.IsDir() {
		return notDirError(dir, fi)
	}
	return checkOwner(d, dir, fi)
}

// notDirError says that fi, where Socketbar keeps the folder dir, is
// something else.
func notDirError(dir string, fi fs.FileInfo) error {
	return fmt.Errorf("%s is %s, %w; move it away (or delete it) so that Socketbar can make the folder", dir, DescribeType(fi.Mode()), ErrNotDir)
}

// mkdirAll makes dir, and the folders above it that are missing (0755),
// as os.MkdirAll does. Something other than a folder at dir is left for
// the caller to find.
func mkdirAll(d Disk, dir string, perm os.FileMode) error {
	err := d.Mkdir(dir, perm)
	if errors.Is(err, fs.ErrNotExist) && filepath.Dir(dir) != dir {
		if err = mkdirAll(d, filepath.Dir(dir), 0o755); err == nil {
			err = d.Mkdir(dir, perm)
		}
	}
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	return err
}

// ErrReadOnlyFS means the file system is mounted read-only: no user,
// root included, can write there, so asking for administrator rights
// does not help.
var ErrReadOnlyFS = errors.New("the file system is mounted read-only")

// WriteAccessError is WriteAccess's answer when path may not be written.
// Err is ErrReadOnlyFS, fs.ErrPermission or the system's error; test it
// with errors.Is.
type WriteAccessError struct {
	Path string
	Err  error
}

func (e *WriteAccessError) Error() string {
	return fmt.Sprintf("serverctl: cannot write %s: %v", e.Path, e.Err)
}

func (e *WriteAccessError) Unwrap() error { return e.Err }
