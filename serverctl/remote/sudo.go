package remote

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Sudo runs commands as root on the Server. The Service Proxy's config
// belongs to root, and admins log in as themselves (issue 17, item 5).
//
// The password, when one is needed, goes to sudo on standard input
// (sudo -S), never in an argument, the environment or a file, and an
// empty -p keeps sudo from printing a prompt into the output.
type Sudo struct {
	// Password is the account's password, or nil when sudo needs none (a
	// root login, or a NOPASSWD rule).
	Password []byte
}

// sudoWrapper runs as root between sudo and the command when a password
// is sent. It reads standard input up to the marker line ($0) and then
// execs the command, so the command's input starts right after the
// marker whether sudo read the password line or not: with a NOPASSWD rule
// (or a cached login) sudo reads nothing, and without the wrapper the
// password would reach the command (a script fed to sh -s would run it as
// a command line, and print it in an error). At most two lines are read.
const sudoWrapper = `n=0; while IFS= read -r l; do if [ "$l" = "$0" ]; then exec "$@"; fi; n=$((n+1)); if [ "$n" -ge 2 ]; then break; fi; done; exit 125`

// Command returns the argv and standard input that run argv as root with
// stdin (nil for none) as its standard input.
//
// Without a password: sudo -n -- argv, which fails at once instead of
// asking. With one: sudo -S -k -p "" -- /bin/sh -c WRAPPER MARKER argv,
// fed the password line, a random marker line, then stdin; -k makes sudo
// check the password every time, so a wrong one never passes on a cached
// login. A wrong password makes sudo try the following lines too (the
// marker, the first line of stdin) before it gives up, each after PAM's
// failure delay, and runs nothing.
func (s Sudo) Command(argv []string, stdin io.Reader) ([]string, io.Reader, error) {
	if len(argv) == 0 {
		return nil, nil, errors.New("remote: sudo: empty command")
	}
	if s.Password == nil {
		return append([]string{"sudo", "-n", "--"}, argv...), stdin, nil
	}
	if bytes.ContainsAny(s.Password, "\n\r\x00") {
		return nil, nil, errors.New("remote: sudo: the password contains a line break or NUL, which sudo -S cannot read")
	}
	mark := make([]byte, 16)
	if _, err := rand.Read(mark); err != nil {
		return nil, nil, fmt.Errorf("remote: sudo: %w", err)
	}
	marker := "socketbar-sudo-" + hex.EncodeToString(mark)
	head := make([]byte, 0, len(s.Password)+len(marker)+2)
	head = append(append(append(append(head, s.Password...), '\n'), marker...), '\n')
	in := io.Reader(bytes.NewReader(head))
	if stdin != nil {
		in = io.MultiReader(in, stdin)
	}
	cmd := append([]string{"sudo", "-S", "-k", "-p", "", "--", "/bin/sh", "-c", sudoWrapper, marker}, argv...)
	return cmd, in, nil
}

// SudoError is sudo refusing to run a command.
type SudoError struct {
	Host Host
	// Reason is one of SudoNeedsPassword, SudoWrongPassword, SudoNotAllowed.
	Reason string
	Stderr string
}

// SudoError reasons.
const (
	// SudoNeedsPassword: sudo -n, and the account's sudo asks for one.
	SudoNeedsPassword = "needs a password"
	// SudoWrongPassword: the password given was refused.
	SudoWrongPassword = "wrong password"
	// SudoNotAllowed: the account may not use sudo (not an admin).
	SudoNotAllowed = "not allowed"
)

func (e *SudoError) Error() string {
	return fmt.Sprintf("remote: sudo on %s: %s: %s", e.Host, e.Reason, e.Stderr)
}

// RunAsRoot runs argv as root through sudo (see Sudo.Command) and returns
// a *SudoError when sudo refused, so that nothing ran.
func (c *Conn) RunAsRoot(ctx context.Context, s Sudo, argv []string, stdin io.Reader) (Output, error) {
	cmd, in, err := s.Command(argv, stdin)
	if err != nil {
		return Output{}, err
	}
	out, err := c.Run(ctx, cmd, in)
	if serr := SudoRefusal(c.host, out.Stderr, err); serr != nil {
		return out, serr
	}
	return out, err
}

// SudoRefusal is the *SudoError for a command that ran through
// Sudo.Command on h and ended with err, having printed stderr, when sudo
// refused to run it (so nothing ran); nil otherwise. RunAsRoot uses it,
// and so does a caller that streams (Stream) a command run as root.
func SudoRefusal(h Host, stderr []byte, err error) *SudoError {
	var exit *ExitError
	if !errors.As(err, &exit) {
		return nil
	}
	if reason := sudoRefusal(stderr); reason != "" {
		return &SudoError{Host: h, Reason: reason, Stderr: tail(stderr, 500)}
	}
	return nil
}

// sudoRefusal reads sudo's words (sudo 1.7 on OS X 10.10 to 1.9) for why
// it ran nothing, or "".
func sudoRefusal(stderr []byte) string {
	s := string(stderr)
	switch {
	case strings.Contains(s, "incorrect password attempt"), strings.Contains(s, "Sorry, try again."),
		strings.Contains(s, "no password was provided"):
		return SudoWrongPassword
	case strings.Contains(s, "a password is required"):
		return SudoNeedsPassword
	case strings.Contains(s, "is not in the sudoers file"), strings.Contains(s, "is not allowed to run sudo"),
		strings.Contains(s, "may not run sudo"):
		return SudoNotAllowed
	}
	return ""
}
