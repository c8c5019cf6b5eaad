package serverctl

import (
	"bytes"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
)

// ErrChangedOnDisk means the file is no longer what the edit was computed
// from (another editor or Server.app wrote it); writing would lose that
// change, so nothing was written.
var ErrChangedOnDisk = errors.New("the file changed on disk since Socketbar read it (changed on disk, nothing written)")

// replaceFile atomically replaces path on d with data, keeping the mode
// (and, where permitted, the owner) of like. When path is a symbolic link,
// the file it points to is replaced and the link stays. beforeRename runs
// once the new text is safely on disk beside the old file, right before
// the rename; when it fails, nothing is renamed and its error is returned.
func replaceFile(d Disk, path string, data []byte, like fs.FileInfo, beforeRename func() error) error {
	// A rename onto the link itself would turn it into a regular file and
	// leave the real config (where the link points) untouched.
	target, err := d.Resolve(path)
	if err != nil {
		return errorf("resolve %s: %w", path, err)
	}
	tmp, err := writeTemp(d, filepath.Dir(target), "."+filepath.Base(target)+".socketbar-", data, like.Mode().Perm(), like)
	if err != nil {
		return errorf("write %s: %w", path, err)
	}
	if beforeRename != nil {
		if err := beforeRename(); err != nil {
			d.Remove(tmp)
			return err
		}
	}
	if err := d.Rename(tmp, target); err != nil {
		d.Remove(tmp)
		return errorf("replace %s: %w", path, err)
	}
	return nil
}

// unchangedOnDisk returns ErrChangedOnDisk (wrapped, naming path) when the
// file at path on d no longer holds want.
func unchangedOnDisk(d Disk, path string, want []byte) error {
	cur, _, err := d.ReadFile(path, false)
	if err != nil {
		return errorf("read %s again: %w", path, err)
	}
	if !bytes.Equal(cur, want) {
		return errorf("%s: %w", path, ErrChangedOnDisk)
	}
	return nil
}

// writeFileAtomic puts data at path on d through a new temporary file
// beside it and a rename, so a reader sees the old or the new content, and
// no link planted at path is written through (rename replaces the link).
func writeFileAtomic(d Disk, path string, data []byte, perm fs.FileMode) error {
	tmp, err := writeTemp(d, filepath.Dir(path), "."+filepath.Base(path)+".tmp-", data, perm, nil)
	if err != nil {
		return err
	}
	if err := d.Rename(tmp, path); err != nil {
		d.Remove(tmp)
		return err
	}
	return nil
}

// writeTemp writes data to a new file in dir on d whose name is prefix
// and a random number (see Disk.WriteNew), and returns its name.
func writeTemp(d Disk, dir, prefix string, data []byte, perm fs.FileMode, owner fs.FileInfo) (string, error) {
	return createUnique(dir, prefix, func(name string) error { return d.WriteNew(name, data, perm, owner) })
}

// createUnique calls create with dir/prefix and a random number until it
// succeeds or fails other than for a name in use, and returns the name.
func createUnique(dir, prefix string, create func(name string) error) (string, error) {
	for try := 0; ; try++ {
		name := filepath.Join(dir, prefix+strconv.FormatUint(uint64(rand.Uint32()), 10))
		err := create(name)
		if err == nil {
			return name, nil
		}
		if !errors.Is(err, fs.ErrExist) || try == 100 {
			return "", err
		}
	}
}

// removeTree removes the folder dir on d with the files in it.
func removeTree(d Disk, dir string) error {
	names, err := d.List(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := d.Remove(filepath.Join(dir, n)); err != nil {
			return err
		}
	}
	return d.Remove(dir)
}

// removeIfThere removes path on d; that it is already gone is fine.
func removeIfThere(d Disk, path string) error {
	if err := d.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
