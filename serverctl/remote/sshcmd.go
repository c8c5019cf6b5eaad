package remote

import (
	"fmt"
	"os"
	"strings"
)

// EnvSSH names the environment variable that chooses the ssh command, as
// GIT_SSH_COMMAND does for git: "ssh -F ~/work/ssh_config", or the path of
// another OpenSSH client. Unlike git, Socketbar runs no shell for it.
const EnvSSH = "SOCKETBAR_SSH"

// SSHCommandError says why a SOCKETBAR_SSH value was refused.
type SSHCommandError struct {
	Value, Problem string
}

func (e *SSHCommandError) Error() string {
	return fmt.Sprintf("remote: %s=%q %s: write the ssh program and its options separated by spaces, without quotes, e.g. %s='ssh -F /path/to/ssh_config'",
		EnvSSH, e.Value, e.Problem, EnvSSH)
}

// ParseSSHCommand splits a SOCKETBAR_SSH value into the program and the
// arguments Socketbar puts before its own. It splits on spaces and tabs
// only: no shell runs it, so quotes, "$", backquotes and the like would be
// passed on literally, and are refused instead of surprising the user. An
// empty value means "ssh" from PATH.
func ParseSSHCommand(s string) ([]string, error) {
	if i := strings.IndexAny(s, "'\"`$\\;|&<>(){}*?[]#!\n\r"); i >= 0 {
		return nil, &SSHCommandError{Value: s, Problem: fmt.Sprintf("contains %q, and no shell reads this value", s[i])}
	}
	for _, r := range s {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return nil, &SSHCommandError{Value: s, Problem: "contains a control character"}
		}
	}
	f := strings.Fields(s)
	if len(f) == 0 {
		return []string{"ssh"}, nil
	}
	if strings.HasPrefix(f[0], "-") {
		return nil, &SSHCommandError{Value: s, Problem: "starts with an option instead of the ssh program"}
	}
	return f, nil
}

// SSHFromEnv is the ssh command SOCKETBAR_SSH names, or "ssh".
func SSHFromEnv() ([]string, error) { return ParseSSHCommand(os.Getenv(EnvSSH)) }
