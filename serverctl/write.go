package serverctl

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// BackupDirName is the folder beside the config where Socketbar keeps copies
// of the file as it was before each change. Its name matches none of the
// patterns Apple's config includes (apache_serviceproxy_customsites*.conf).
const BackupDirName = "socketbar-backups"

// ErrChangedOnDisk means the file is no longer what the edit was computed
// from (another editor or Server.app wrote it); writing would lose that change.
var ErrChangedOnDisk = errors.New("the file changed on disk since Socketbar read it")

// WriteConfig replaces the file at path with edit.New after copying the
// current file into the backup folder, and returns the backup's path. It
// refuses when the file on disk is no longer edit.Old. The new file is
// written beside the old one with the same mode, synced, and renamed over
// it, so the config is always either the old or the new text.
func WriteConfig(path string, edit *Edit, now time.Time) (backup string, err error) {
	cur, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("serverctl: read %s: %w", path, err)
	}
	if !bytes.Equal(cur, edit.Old) {
		return "", fmt.Errorf("serverctl: %s: %w; run the command again", path, ErrChangedOnDisk)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("serverctl: stat %s: %w", path, err)
	}
	dir := filepath.Join(filepath.Dir(path), BackupDirName)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("serverctl: create backup folder: %w", err)
	}
	backup = filepath.Join(dir, filepath.Base(path)+"."+now.UTC().Format("20060102T150405.000000000Z")+".bak")
	if err := writeFileSynced(backup, cur, fi.Mode().Perm()); err != nil {
		return "", fmt.Errorf("serverctl: back up %s: %w", path, err)
	}
	if err := ReplaceFile(path, edit.New, fi); err != nil {
		return backup, err
	}
	return backup, nil
}

// ReplaceFile atomically replaces path with data, keeping the mode (and,
// where permitted, the owner) of like.
func ReplaceFile(path string, data []byte, like os.FileInfo) error {
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
