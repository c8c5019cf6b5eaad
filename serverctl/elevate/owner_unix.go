//go:build unix

package elevate

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// openNoFollow opens path for reading and fails if its last element is a
// symbolic link.
func openNoFollow(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
}

// ownedByRoot refuses to run path as root unless it and every folder above
// it belong to root and no one else may change them (a sticky folder such as
// /tmp may be writable by all). Otherwise the user who asked for the change
// could swap the program that root then runs.
func ownedByRoot(path string) error {
	p, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fmt.Errorf("elevate: resolve %s: %w", path, err)
	}
	for dir := p; ; dir = filepath.Dir(dir) {
		fi, err := os.Stat(dir)
		if err != nil {
			return fmt.Errorf("elevate: stat %s: %w", dir, err)
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		writable := fi.Mode().Perm()&0o022 != 0 && !(fi.IsDir() && fi.Mode()&os.ModeSticky != 0)
		if !ok || st.Uid != 0 || writable {
			return fmt.Errorf("elevate: %s will not run as root: %s must belong to root and be writable by root alone", path, dir)
		}
		if dir == filepath.Dir(dir) {
			return nil
		}
	}
}
