//go:build unix

package mirror

import "syscall"

// oNoFollow makes creating a file fail on a symlink in its place.
const oNoFollow = syscall.O_NOFOLLOW
