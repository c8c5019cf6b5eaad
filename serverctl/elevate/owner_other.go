//go:build !unix

package elevate

import (
	"errors"
	"os"
)

func openNoFollow(path string) (*os.File, error) { return os.Open(path) }

func ownedByRoot(string) error {
	return errors.New("elevate: running as root is only supported on macOS")
}
