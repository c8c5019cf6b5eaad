//go:build !unix

package serverctl

import (
	"errors"
	"os"
)

// Open flags that do not exist on this system.
const (
	oNoFollow = 0
	oNonBlock = 0
)

// ErrForeignOwner means a file or folder Socketbar writes in belongs to a
// user who could use it to make Socketbar write elsewhere.
var ErrForeignOwner = errors.New("belongs to another user")

// checkOwner accepts everything where files have no Unix owner.
func checkOwner(Disk, string, os.FileInfo) error { return nil }

// WriteAccess cannot ask the kernel here and says yes; the write itself
// will then say otherwise.
func WriteAccess(string) error { return nil }
