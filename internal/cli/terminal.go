package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

// Echo on the terminal is turned off and back on with the system's stty
// (POSIX: /bin/stty on every Mac and Linux), run with the terminal as its
// standard input: stty -g saves the terminal's whole state, stty -echo
// turns echo off, and stty SAVED puts back exactly what was there. The
// alternative, termios ioctls, needs the request numbers of each system
// (TCGETS on Linux, TIOCGETA on macOS) behind build tags, and on macOS
// either the stdlib's syscall(2) path, which Apple deprecates, or
// golang.org/x/sys/unix as a new direct dependency; a password is asked
// at most once per command, so the two short stty runs cost nothing that
// matters.

// stty runs the system's stty with tty as its standard input and returns
// what it printed.
func stty(tty *os.File, args ...string) (string, error) {
	cmd := exec.Command("stty", args...)
	cmd.Stdin = tty
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("stty %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errOut.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// isTerminal reports whether f is a terminal: a character device whose
// settings stty can read (/dev/null is a character device, not a terminal).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	_, err = stty(f, "-g")
	return err == nil
}

// echoOff turns off echo on tty and returns what puts its settings back
// as they were.
func echoOff(tty *os.File) (restore func() error, err error) {
	saved, err := stty(tty, "-g")
	if err != nil {
		return nil, err
	}
	if _, err := stty(tty, "-echo"); err != nil {
		return nil, err
	}
	return func() error {
		_, err := stty(tty, saved)
		return err
	}, nil
}

// askPassword writes prompt to tty and reads one line from it with echo
// off (see readPasswordLine). Echo comes back on every way out: the line
// read, a line refused, a read error, or ctx ending (main cancels it on
// Ctrl-C, SIGINT, and SIGTERM), in which case the read goes on in the
// background until the process exits. Echo is off before the prompt
// shows, so nothing typed after it is echoed.
func askPassword(ctx context.Context, tty *os.File, prompt string) ([]byte, error) {
	restore, err := echoOff(tty)
	if err != nil {
		return nil, err
	}
	pw, err := func() ([]byte, error) {
		if _, err := io.WriteString(tty, prompt); err != nil {
			return nil, err
		}
		return readPasswordLineCtx(ctx, tty)
	}()
	// The Enter typed was not echoed either: end the prompt's line.
	io.WriteString(tty, "\n")
	if rerr := restore(); rerr != nil {
		clear(pw)
		return nil, fmt.Errorf("turn echo back on: %w", rerr)
	}
	return pw, err
}
