//go:build !unix

package elevate

import "os"

func openNoFollow(path string) (*os.File, error) { return os.Open(path) }

func ownedByRoot(string) error {
	return errorf("running as root is only supported on macOS")
}
