//go:build unix

package service

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
)

// processAlive reports whether a process with pid exists (signal 0 probes
// without sending anything; EPERM means it exists but belongs to another user).
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// processArgs returns the command line of process pid where /proc shows
// it (Linux); ok is false where the system cannot tell.
func processArgs(pid int) (args []string, ok bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || len(data) == 0 {
		return nil, false
	}
	return strings.Split(strings.TrimRight(string(data), "\x00"), "\x00"), true
}

// readPidFile reads a pid file: a regular file of a few bytes. Opening
// does not block on a FIFO planted in its place, and the read is bounded.
func readPidFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	return io.ReadAll(io.LimitReader(f, 64))
}
