//go:build unix

package loader

import "syscall"

// oNonBlock makes opening a FIFO return at once instead of waiting for a writer.
const oNonBlock = syscall.O_NONBLOCK
