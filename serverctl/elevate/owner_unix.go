//go:build unix

package elevate

import (
	"os"
	"path/filepath"
	"runtime"
	"syscall"
)

// openNoFollow opens path for reading and fails if its last element is a
// symbolic link.
func openNoFollow(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
}

// adminGroups may write what root runs: their members can become root
// anyway. macOS makes /Applications root:admin 0775, so Server.app's own
// wrapper lies under a folder the admin group (80) may write.
func adminGroups() map[uint32]bool {
	if runtime.GOOS == "darwin" {
		return map[uint32]bool{0: true, 80: true}
	}
	return map[uint32]bool{0: true}
}

// ownedByRoot refuses to run path as root unless it and every folder above
// it belong to root and no one else may change them (a sticky folder such as
// /tmp may be writable by all, and an administrators' group may write).
// Otherwise the user who asked for the change could swap the program that
// root then runs.
func ownedByRoot(path string) error { return ownedByRootTrusting(path, adminGroups()) }

func ownedByRootTrusting(path string, groups map[uint32]bool) error {
	p, err := filepath.EvalSymlinks(path)
	if err != nil {
		return errorf("resolve %s: %w", path, err)
	}
	for dir := p; ; dir = filepath.Dir(dir) {
		fi, err := os.Stat(dir)
		if err != nil {
			return errorf("stat %s: %w", dir, err)
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok || st.Uid != 0 || !safeMode(fi, groups[st.Gid]) {
			return errorf("%s will not run as root: %s must belong to root and be writable by root (or administrators) alone", path, dir)
		}
		if dir == filepath.Dir(dir) {
			return nil
		}
	}
}

// safeMode: no write for others unless the folder is sticky; no write for
// the group unless the group is trusted.
func safeMode(fi os.FileInfo, trustedGroup bool) bool {
	perm := fi.Mode().Perm()
	sticky := fi.IsDir() && fi.Mode()&os.ModeSticky != 0
	if perm&0o002 != 0 && !sticky {
		return false
	}
	return perm&0o020 == 0 || trustedGroup || sticky
}
