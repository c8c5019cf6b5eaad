package serverctl

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Disk is every file operation of a transaction (Applier and BackupStore):
// the same transaction can then run on the files of this machine
// (localDisk) or of another. Each method is one step that a POSIX shell
// with perl could do whole, and none holds a policy: what to trust (see
// checkOwner), when to check a file again and what to write where is the
// transaction's, in write.go, files.go and above.
type Disk interface {
	// ReadFile reads the regular file at path whole, at most MaxFileSize
	// bytes, opened without blocking (a FIFO or device fails with
	// ErrNotRegular, a larger file with ErrTooLarge) and, with noFollow,
	// refusing a symbolic link (ErrSymlink). It returns the opened file's
	// info, so a check of its owner is about the very file read.
	ReadFile(path string, noFollow bool) ([]byte, fs.FileInfo, error)
	// ReadTail reads at most the last n bytes of the regular file at path.
	ReadTail(path string, n int64) ([]byte, error)
	Stat(path string) (fs.FileInfo, error)
	Lstat(path string) (fs.FileInfo, error)
	// Resolve is path with every symbolic link in it followed.
	Resolve(path string) (string, error)
	// List names the entries of the folder dir, sorted.
	List(dir string) ([]string, error)
	// WriteNew creates path, which must not exist and is never reached
	// through a link (fs.ErrExist, ErrSymlink), holding data, with mode
	// perm and, where permitted, the owner and group of owner (nil: this
	// user's). It is on disk (fsync) when WriteNew returns; on failure
	// it leaves nothing of its own at path.
	WriteNew(path string, data []byte, perm fs.FileMode, owner fs.FileInfo) error
	// Rename moves from to to, replacing what is at to (a link there
	// itself, not the file it points to), and makes that last (fsync of
	// the folder).
	Rename(from, to string) error
	// Remove removes a file, or an empty folder, and makes that last
	// (fsync of the folder).
	Remove(path string) error
	// Mkdir makes the folder path; fs.ErrExist when something is there.
	Mkdir(path string, perm fs.FileMode) error
	// Lock takes an exclusive lock named path (here a regular file, never
	// reached through a link), or fails at once with ErrLocked when
	// another process holds it. Closing releases the lock, as does the
	// death of the process. It returns the info of what holds the lock,
	// whose owner the transaction checks.
	Lock(path string) (io.Closer, fs.FileInfo, error)
	// UID is the user the operations run as: checkOwner trusts only what
	// that user or root owns (and root trusts only root's).
	UID() int
}

// FileOwner is what the fs.FileInfo of a Disk that is not this machine's
// returns from Sys(): the owner of the file there. (A file of this machine
// has its *syscall.Stat_t.)
type FileOwner interface {
	Owner() (uid, gid int)
}

// localDisk is this machine's files.
type localDisk struct{}

func (localDisk) ReadFile(path string, noFollow bool) ([]byte, fs.FileInfo, error) {
	return readFileInfo(path, noFollow)
}

func (localDisk) ReadTail(path string, n int64) ([]byte, error) {
	f, fi, err := openRegular(path, false)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi.Size() > n {
		if _, err := f.Seek(fi.Size()-n, io.SeekStart); err != nil {
			return nil, err
		}
	}
	return io.ReadAll(io.LimitReader(f, n))
}

func (localDisk) Stat(path string) (fs.FileInfo, error)     { return os.Stat(path) }
func (localDisk) Lstat(path string) (fs.FileInfo, error)    { return os.Lstat(path) }
func (localDisk) Resolve(path string) (string, error)       { return filepath.EvalSymlinks(path) }
func (localDisk) Mkdir(path string, perm fs.FileMode) error { return os.Mkdir(path, perm) }

func (localDisk) List(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return names, err
}

func (localDisk) WriteNew(path string, data []byte, perm fs.FileMode, owner fs.FileInfo) error {
	f, err := createExclusive(path, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		// Through the descriptor, past the umask: the name could be
		// swapped meanwhile.
		err = f.Chmod(perm)
	}
	if err == nil && owner != nil {
		chownLike(f, owner)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return err
	}
	return nil
}

func (localDisk) Remove(path string) error {
	if err := os.Remove(path); err != nil {
		return err
	}
	syncDir(filepath.Dir(path))
	return nil
}

func (localDisk) Rename(from, to string) error {
	if err := os.Rename(from, to); err != nil {
		return err
	}
	syncDir(filepath.Dir(to))
	return nil
}

func (localDisk) UID() int { return os.Geteuid() }

func (localDisk) Lock(path string) (io.Closer, fs.FileInfo, error) {
	f, err := lockFile(path)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// syncDir makes a rename durable. Failure is not fatal: the rename
// happened, and some file systems cannot sync a folder at all.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// ThisMachine is the Disk of this machine's files: what a transaction on
// a Server here uses, and a stand-in for a Server elsewhere in tests.
func ThisMachine() Disk { return localDisk{} }
