//go:build !unix

package serverctl

import "os"

// lockFile opens path without a lock where flock does not exist.
func lockFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
}
