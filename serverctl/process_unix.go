//go:build unix

package serverctl

import (
	"errors"
	"os"
	"syscall"
)

// processAlive reports whether a process with pid exists (signal 0 probes
// without sending anything; EPERM means it exists but belongs to another user).
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// lockFile takes an exclusive lock on path, or fails at once when another
// process holds it. Closing the file releases the lock, also when the
// process dies.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errLocked
		}
		return nil, err
	}
	return f, nil
}

// Writable reports whether this process may write path (and so replace a
// file in it, for a folder), as the kernel would decide for the real user.
func Writable(path string) bool { return syscall.Access(path, 2) == nil }
