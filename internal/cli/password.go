package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

// The sudo password of a Server reached over SSH (issue 17, item 5). The
// Service Proxy's config belongs to root, and an admin logs in as
// themselves: sudo on the Server may need the account's password. The
// actions ask for it through action.Local's Password hook, which main
// answers with Env.SudoPassword: from standard input with
// --password-stdin (read before the action starts, so that bad input
// stops the command before anything runs), else on the terminal without
// echo, else not at all (sudo then fails with *action.SudoError, whose
// words say how to give it). The password is never put in argv, the
// environment, a file or any output, and the buffers that held it are
// zeroed once the command is done.

// maxPassword is the longest password read, in bytes: far above any
// account's password, and a bound on what a pipe that never sends a
// newline can make Socketbar keep.
const maxPassword = 1024

// maxDrain is how much more of a too-long line is read and thrown away,
// so that the rest of a line typed on a terminal is not left for the
// shell to read (and run) once Socketbar exits.
const maxDrain = 64 << 10

// The ways a password line is refused; each caller words them with where
// the line came from.
var (
	errPasswordEmpty      = errors.New("is empty")
	errPasswordTooLong    = fmt.Errorf("is longer than %d bytes", maxPassword)
	errPasswordUnreadable = errors.New("holds a NUL byte or a carriage return, which sudo cannot read on its standard input")
)

// readPasswordLine reads one line from r, one byte at a time so that
// nothing after the line is consumed, and returns it without its "\n" or
// "\r\n". End of input ends the line too (printf %s "$PASS" | …). A line
// that is empty, longer than maxPassword or holds a NUL or CR is refused
// (see the errPassword… values); whatever was read is zeroed then.
func readPasswordLine(r io.Reader) ([]byte, error) {
	buf := make([]byte, 0, maxPassword+1) // and a trailing "\r"
	var b [1]byte
	over := 0 // bytes past the limit, read and thrown away
	for {
		n, err := r.Read(b[:])
		if n == 1 {
			if b[0] == '\n' {
				break
			}
			if len(buf) < cap(buf) {
				buf = append(buf, b[0])
			} else if over++; over >= maxDrain {
				break
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			clear(buf)
			return nil, err
		}
	}
	b[0] = 0
	line := bytes.TrimSuffix(buf, []byte("\r"))
	var bad error
	switch {
	case over > 0 || len(line) > maxPassword:
		bad = errPasswordTooLong
	case len(line) == 0:
		bad = errPasswordEmpty
	case bytes.ContainsAny(line, "\x00\r"):
		bad = errPasswordUnreadable
	}
	if bad != nil {
		clear(buf[:cap(buf)])
		return nil, bad
	}
	return line, nil
}

// readPasswordLineCtx is readPasswordLine that returns when ctx ends (an
// interrupt) although r has sent nothing: the read goes on in the
// background until r sends a line or the process exits, and what it reads
// then is zeroed, not kept.
func readPasswordLineCtx(ctx context.Context, r io.Reader) ([]byte, error) {
	type result struct {
		pw  []byte
		err error
	}
	got := make(chan result) // unbuffered: a result is either taken or zeroed
	go func() {
		pw, err := readPasswordLine(r)
		select {
		case got <- result{pw, err}:
		case <-ctx.Done():
			clear(pw)
		}
	}()
	select {
	case res := <-got:
		return res.pw, res.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// passwordStdin reads the sudo password for --password-stdin from
// e.Stdin and keeps it for SudoPassword until the returned forget zeroes
// it. It is a usage error without --host (only sudo on a Server reached
// over SSH takes a password), with a terminal as standard input (the
// password would show as it is typed), or with a line readPasswordLine
// refuses. Without --password-stdin it does nothing.
func (e *Env) passwordStdin(ctx context.Context, on bool, host string) (forget func(), err error) {
	if !on {
		return func() {}, nil
	}
	if host == "" {
		return nil, usageErrorf("--password-stdin gives the sudo password of a Server reached over SSH, and there is no --host (or SOCKETBAR_HOST); a change on this machine asks for an administrator itself. Nothing was changed.")
	}
	if f, ok := e.Stdin.(*os.File); ok && isTerminal(f) {
		return nil, usageErrorf("--password-stdin reads the sudo password from a pipe or a file, but standard input is a terminal, where it would show as you type it; leave --password-stdin out to be asked for it without echo. Nothing was changed.")
	}
	if e.Stdin == nil {
		return nil, usageErrorf("--password-stdin: there is no standard input to read the sudo password from. Nothing was changed.")
	}
	pw, err := readPasswordLineCtx(ctx, e.Stdin)
	switch {
	case errors.Is(err, errPasswordEmpty), errors.Is(err, errPasswordTooLong), errors.Is(err, errPasswordUnreadable):
		return nil, usageErrorf("--password-stdin: the line read from standard input %v; give the password of the account on %s as the only line (printf '%%s\\n' \"$PASSWORD\" | socketbar … --password-stdin). Nothing was changed.", err, host)
	case err != nil:
		return nil, fmt.Errorf("--password-stdin: read standard input: %w", err)
	}
	e.sudoPassword = pw
	return func() {
		clear(pw)
		e.sudoPassword = nil
	}, nil
}

// SudoPassword answers action.Local's Password hook: the password of the
// account that logs in to host, for sudo there. With --password-stdin it
// is a copy of the line read (the caller may zero it); else, when
// standard input is a terminal, it is asked there without echo; else
// there is no one to ask, and it returns no password and no error, so that
// sudo runs with -n and the action fails with *action.SudoError
// (SudoNeedsPassword), whose words say how to give one.
func (e *Env) SudoPassword(ctx context.Context, host string) ([]byte, error) {
	if e.sudoPassword != nil {
		return bytes.Clone(e.sudoPassword), nil
	}
	tty, err := e.openTerminal()
	if err != nil || tty == nil {
		return nil, nil
	}
	defer tty.Close()
	pw, err := askPassword(ctx, tty, "Password for sudo on "+host+": ")
	switch {
	case errors.Is(err, errPasswordEmpty), errors.Is(err, errPasswordTooLong), errors.Is(err, errPasswordUnreadable):
		return nil, usageErrorf("the password typed for sudo on %s %v. Nothing was changed.", host, err)
	case err != nil:
		return nil, fmt.Errorf("ask for the sudo password on %s: %w", host, err)
	}
	return pw, nil
}

// openTerminal opens the terminal to ask the password on: e.TTY when set
// (tests), else /dev/tty when standard input is a terminal. It returns
// nil when there is none.
func (e *Env) openTerminal() (*os.File, error) {
	if e.TTY != nil {
		return e.TTY()
	}
	if f, ok := e.Stdin.(*os.File); !ok || !isTerminal(f) {
		return nil, nil
	}
	return os.OpenFile("/dev/tty", os.O_RDWR, 0)
}
