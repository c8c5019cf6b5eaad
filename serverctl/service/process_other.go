//go:build !unix

package service

import (
	"io"
	"os"
)

// processAlive cannot tell on this system; it says yes so that waits end
// on their timeout rather than too early.
func processAlive(int) bool { return true }

// processArgs cannot tell here.
func processArgs(int) ([]string, bool) { return nil, false }

func readPidFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, 64))
}
