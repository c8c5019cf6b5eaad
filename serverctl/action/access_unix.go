//go:build unix

package action

import "syscall"

// writeAccess asks the kernel whether this process may write path: nil,
// or EACCES/EPERM, or EROFS for a read-only file system.
func writeAccess(path string) error { return syscall.Access(path, 2) }
