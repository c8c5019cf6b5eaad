package serverctl

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
)

// ErrChangedOnDisk means the file is no longer what the edit was computed
// from (another editor or Server.app wrote it); writing would lose that
// change, so nothing was written.
var ErrChangedOnDisk = errors.New("the file changed on disk since Socketbar read it (changed on disk, nothing written)")

// replaceFile atomically replaces path with data, keeping the mode (and,
// where permitted, the owner) of like. When path is a symbolic link, the
// file it points to is replaced and the link stays. beforeRename runs once
// the new text is safely on disk beside the old file, right before the
// rename; when it fails, nothing is renamed and its error is returned.
func replaceFile(path string, data []byte, like os.FileInfo, beforeRename func() error) error {
	// A rename onto the link itself would turn it into a regular file and
	// leave the real config (where the link points) untouched.
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return errorf("resolve %s: %w", path, err)
	}
	// os.CreateTemp opens with O_EXCL: it never follows a link planted
	// under the temporary name.
	tmp, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".socketbar-*")
	if err != nil {
		return errorf("write %s: %w", path, err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName) // a no-op once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return errorf("write %s: %w", tmpName, err)
	}
	if err := tmp.Chmod(like.Mode().Perm()); err != nil {
		tmp.Close()
		return errorf("chmod %s: %w", tmpName, err)
	}
	chownLike(tmp, like)
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return errorf("sync %s: %w", tmpName, err)
	}
	if err := tmp.Close(); err != nil {
		return errorf("close %s: %w", tmpName, err)
	}
	if beforeRename != nil {
		if err := beforeRename(); err != nil {
			return err
		}
	}
	if err := os.Rename(tmpName, target); err != nil {
		return errorf("replace %s: %w", path, err)
	}
	syncDir(filepath.Dir(target))
	return nil
}

// unchangedOnDisk returns ErrChangedOnDisk (wrapped, naming path) when the
// file at path no longer holds want.
func unchangedOnDisk(path string, want []byte) error {
	cur, err := readFile(path, false)
	if err != nil {
		return errorf("read %s again: %w", path, err)
	}
	if !bytes.Equal(cur, want) {
		return errorf("%s: %w", path, ErrChangedOnDisk)
	}
	return nil
}

// writeFileSynced creates path (which must not exist, and is never reached
// through a link) with data, durably.
func writeFileSynced(path string, data []byte, perm os.FileMode) error {
	f, err := createExclusive(path, perm)
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

// writeFileAtomic puts data at path through a new temporary file beside
// it and a rename, so a reader sees the old or the new content, and no
// link planted at path is written through (rename replaces the link).
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(perm)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	syncDir(filepath.Dir(path))
	return nil
}

// syncDir makes a rename durable. Failure is not fatal: the rename happened.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
