package serverctl

import (
	"errors"
	"io"
	"path/filepath"
)

// ErrLocked means another Socketbar holds the config's lock.
var ErrLocked = errors.New("another Socketbar is applying a change to this config; try again when it is done")

// lockName is the lock file in the backup folder. Whoever holds it is the
// only Socketbar that changes the config, writes the history or settles a
// journal.
const lockName = ".lock"

// lock takes the lock of the backup folder dir on d. The lock must belong
// to a user who could replace it anyway (see checkOwner).
func lock(d Disk, dir string) (io.Closer, error) {
	path := filepath.Join(dir, lockName)
	l, fi, err := d.Lock(path)
	if err != nil {
		return nil, err
	}
	if err := checkOwner(d, path, fi); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}
