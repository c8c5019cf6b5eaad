//go:build unix

package loopport

import (
	"errors"
	"os"
	"syscall"
)

// tryLock takes f's exclusive lock without waiting. flock locks belong to
// the open file, so a second open in the same process is refused as well,
// and the kernel drops the lock when the process ends.
func tryLock(f *os.File) error {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return errTaken
	}
	if err != nil {
		return errorf("lock %s: %w", f.Name(), err)
	}
	return nil
}
