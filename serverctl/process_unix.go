//go:build unix

package serverctl

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Open flags that only exist on Unix.
const (
	oNoFollow = syscall.O_NOFOLLOW
	oNonBlock = syscall.O_NONBLOCK
)

// ErrForeignOwner means a file or folder Socketbar writes in belongs to a
// user who could use it to make Socketbar (run as root) write elsewhere.
var ErrForeignOwner = errors.New("belongs to another user")

// checkOwner accepts fi when this process, root or the owner of its parent
// folder owns it: anyone else could have planted it. Root accepts only
// root's: a folder of a user who owns the one above (a Server tree handed
// to that user) is still that user's to fill with a journal that names
// any file for root to write.
func checkOwner(d Disk, path string, fi os.FileInfo) error {
	uid, _, ok := ownerOf(fi)
	if !ok {
		return nil
	}
	if uid == d.UID() || uid == 0 {
		return nil
	}
	if d.UID() == 0 {
		return errorf("%s %w (uid %d), and Socketbar runs as root, which trusts only root's; remove it or give it to root", path, ErrForeignOwner, uid)
	}
	if pfi, err := d.Stat(filepath.Dir(path)); err == nil {
		if puid, _, ok := ownerOf(pfi); ok && puid == uid {
			return nil
		}
	}
	return errorf("%s %w (uid %d); remove it or give it to root", path, ErrForeignOwner, uid)
}

// WriteAccess says whether this process may write path (a file, or a
// folder to create files in), and if not, why: the error wraps
// ErrReadOnlyFS when the file system is mounted read-only (sudo does not
// help), fs.ErrPermission when the user lacks the right (sudo or the
// administrator prompt does), or the system's error otherwise.
func WriteAccess(path string) error {
	err := syscall.Access(path, 2)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, syscall.EROFS):
		return &WriteAccessError{Path: path, Err: ErrReadOnlyFS}
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return &WriteAccessError{Path: path, Err: fs.ErrPermission}
	}
	return &WriteAccessError{Path: path, Err: err}
}

// ownerOf is the owner and group of the file fi describes, on whichever
// machine it is.
func ownerOf(fi fs.FileInfo) (uid, gid int, ok bool) {
	switch st := fi.Sys().(type) {
	case *syscall.Stat_t:
		return int(st.Uid), int(st.Gid), true
	case FileOwner:
		uid, gid = st.Owner()
		return uid, gid, true
	}
	return 0, 0, false
}
