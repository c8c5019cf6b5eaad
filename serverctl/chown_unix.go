//go:build unix

package serverctl

import "os"

// chownLike gives f the owner and group of like. Only root may do that for
// another user; for anyone else the file is already theirs, so a failure
// changes nothing and is ignored.
func chownLike(f *os.File, like os.FileInfo) {
	if uid, gid, ok := ownerOf(like); ok {
		_ = f.Chown(uid, gid)
	}
}
