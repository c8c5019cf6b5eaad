package serverctl

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestWriteAccessTellsReadOnlyFromPermission mounts a read-only tmpfs
// (root on Linux only).
func TestWriteAccessTellsReadOnlyFromPermission(t *testing.T) {
	dir := t.TempDir()
	if err := WriteAccess(dir); err != nil {
		t.Fatalf("own temp dir: %v", err)
	}
	if os.Geteuid() != 0 {
		ro := filepath.Join(dir, "ro")
		os.Mkdir(ro, 0o500)
		if err := WriteAccess(ro); !errors.Is(err, os.ErrPermission) || errors.Is(err, ErrReadOnlyFS) {
			t.Errorf("read-only folder: %v", err)
		}
		return
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_RDONLY, "size=64k"); err != nil {
		t.Skipf("cannot mount a read-only tmpfs here: %v", err)
	}
	defer syscall.Unmount(dir, 0)
	err := WriteAccess(dir)
	if !errors.Is(err, ErrReadOnlyFS) || errors.Is(err, os.ErrPermission) {
		t.Errorf("read-only file system: %v, want ErrReadOnlyFS", err)
	}
}
