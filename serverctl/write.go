package serverctl

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrChangedOnDisk means the file is no longer what the edit was computed
// from (another editor or Server.app wrote it); writing would lose that change.
var ErrChangedOnDisk = errors.New("the file changed on disk since Socketbar read it")

// ReplaceFile atomically replaces path with data, keeping the mode (and,
// where permitted, the owner) of like.
func ReplaceFile(path string, data []byte, like os.FileInfo) error {
	return replaceFile(path, data, like, nil)
}

// replaceFile is ReplaceFile with a hook that runs once the new text is
// safely on disk beside the old file, right before the rename.
func replaceFile(path string, data []byte, like os.FileInfo, beforeRename func()) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".socketbar-*")
	if err != nil {
		return fmt.Errorf("serverctl: write %s: %w", path, err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName) // a no-op once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("serverctl: write %s: %w", tmpName, err)
	}
	if err := tmp.Chmod(like.Mode().Perm()); err != nil {
		tmp.Close()
		return fmt.Errorf("serverctl: chmod %s: %w", tmpName, err)
	}
	chownLike(tmp, like)
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("serverctl: sync %s: %w", tmpName, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("serverctl: close %s: %w", tmpName, err)
	}
	if beforeRename != nil {
		beforeRename()
	}
	if err := os.Rename(tmpName, path); err != nil {
		return fmt.Errorf("serverctl: replace %s: %w", path, err)
	}
	syncDir(filepath.Dir(path))
	return nil
}

func writeFileSynced(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDir makes a rename durable. Failure is not fatal: the rename happened.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
