//go:build unix

package serverctl

import (
	"os"
	"syscall"
)

// chownLike gives f the owner and group of like. Only root may do that for
// another user; for anyone else the file is already theirs, so a failure
// changes nothing and is ignored.
func chownLike(f *os.File, like os.FileInfo) {
	if st, ok := like.Sys().(*syscall.Stat_t); ok {
		_ = f.Chown(int(st.Uid), int(st.Gid))
	}
}
