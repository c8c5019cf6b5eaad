package cli

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/socketbar/socketbar/serverctl/action"
	"github.com/socketbar/socketbar/serverctl/remote"
)

// What went wrong on a Server reached over SSH is said with what
// happened and the way out, never with sudo's, ssh's or the package's own
// words alone, and exits 1 (the command ran and failed) but for the
// refusals of what cannot run at all.
func TestErrorsOverSSHSayWhatHappenedAndTheFix(t *testing.T) {
	admin := remote.Host{User: "admin", Name: "server.example.com"}
	for _, tt := range []struct {
		name string
		err  error
		code int
		want []string
	}{
		{"sudo needs a password", fmt.Errorf("apply: %w", &action.SudoError{Host: admin, Reason: action.SudoNeedsPassword, Stderr: "sudo: a password is required"}), exitFailure,
			[]string{"sudo on admin@server.example.com needs the password of the account Socketbar logs in as (admin)", "in a terminal", "--password-stdin", "NOPASSWD", "root with an SSH key", "Nothing was changed."}},
		{"wrong password", &action.SudoError{Host: admin, Reason: action.SudoWrongPassword, Stderr: "sudo: 3 incorrect password attempts"}, exitFailure,
			[]string{"refused the password", "nothing was changed", "login password"}},
		{"not an admin", &action.SudoError{Host: remote.Host{User: "guest", Name: "server", Port: 2222}, Reason: action.SudoNotAllowed}, exitFailure,
			[]string{"The account Socketbar logs in as (guest) may not use sudo on guest@server:2222", "administrator", "--host ADMIN@server:2222", "root with an SSH key", "Nothing was changed."}},
		{"ssh failed", &action.SSHError{Host: remote.Host{Name: "server"}, Stderr: "Session open refused by peer"}, exitFailure,
			[]string{"ssh to server failed: Session open refused by peer", "ssh server true", "SOCKETBAR_SSH", "socketbar history"}},
		{"remote command failed", &action.ExitError{Command: "/usr/bin/perl", Code: 2, Stderr: "Can't locate strict.pm"}, exitFailure,
			[]string{"on the Server, /usr/bin/perl exited with status 2:\nCan't locate strict.pm", "run the command again"}},
		{"remote command failed silently", &action.ExitError{Command: "/bin/sh -s", Code: 1}, exitFailure,
			[]string{"exited with status 1; it printed nothing on its standard error"}},
		{"output limit", &action.OutputLimitError{Command: "launchctl print", Stream: "stdout", Limit: 16 << 20}, exitFailure,
			[]string{"launchctl print printed more than 16 MiB on its stdout", "stopped it", "--host", "--root"}},
		{"connection closed", fmt.Errorf("remote: /bin/sh -s: %w", action.ErrClosed), exitFailure,
			[]string{"the connection to the Server ended before the command was done:", "Run the command again", "socketbar history"}},
		{"connection closed, with ssh's words", &action.ClosedError{Said: "Connection to server closed by remote host."}, exitFailure,
			[]string{"(ssh said: Connection to server closed by remote host)"}},
		{"a closed connection that ssh explained", fmt.Errorf("%w: %w", action.ErrClosed, &action.DialError{Host: remote.Host{Name: "server"}, Reason: "Connection refused"}), exitFailure,
			[]string{"cannot reach server: Connection refused", "Remote Login"}},
		{"peer that never speaks SSH", &action.LoginTimeoutError{Host: remote.Host{Name: "server", Port: 2222}, After: 15 * time.Second}, exitFailure,
			[]string{"server:2222 accepted the connection but its SSH never answered (waited 15s)", "Remote Login", "Nothing was run on the Server."}},
		{"shell startup waits", &action.LoginTimeoutError{Host: admin, LoggedIn: true, After: 30 * time.Second}, exitFailure,
			[]string{"logged in to admin@server.example.com, but the account's shell startup did not finish within 30s", "~/.bashrc", "Nothing was run on the Server."}},
		{"shell startup floods", fmt.Errorf("mirror: %w", &action.StartupOutputError{Host: admin, Limit: 64 << 10}), exitFailure,
			[]string{"the account's shell startup on admin@server.example.com printed more than 64 KiB", "~/.bashrc", "socketbar history"}},
		{"forwarding refused", &action.ForwardError{Addr: "127.0.0.1:443", Reason: "administratively prohibited: open failed"}, exitFailure,
			[]string{"the Server could not connect to 127.0.0.1:443 on its own side: administratively prohibited", "AllowTcpForwarding yes"}},
		{"another writer holds the lock", fmt.Errorf("serverctl: lock /x/.socketbar: %w", action.ErrLocked), exitFailure,
			[]string{"another Socketbar, on this machine or another one, is applying a change", "nothing was changed", "Run the command again"}},
		{"not over SSH yet", &action.RemoteUnavailableError{Host: "server"}, exitUsage,
			[]string{"not available yet on a Server reached over SSH (--host server, or SOCKETBAR_HOST)", "Nothing was run on the Server or changed."}},
	} {
		msg, code, ok := Words(tt.err)
		if !ok || code != tt.code {
			t.Errorf("%s: kind %v, exit %d, want exit %d: %s", tt.name, ok, code, tt.code, msg)
		}
		for _, w := range tt.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: %q lacks %q", tt.name, msg, w)
			}
		}
		if strings.Contains(msg, "remote:") || strings.Contains(msg, "sudo: ") {
			t.Errorf("%s: shows a library's or sudo's raw words: %q", tt.name, msg)
		}
	}
	// No reason sudo gives is left without its own words.
	seen := map[string]bool{}
	for _, r := range []string{action.SudoNeedsPassword, action.SudoWrongPassword, action.SudoNotAllowed} {
		msg, _, _ := Words(&action.SudoError{Host: admin, Reason: r})
		if seen[msg] {
			t.Errorf("sudo reason %q has the words of another", r)
		}
		seen[msg] = true
	}
	if !errors.Is(fmt.Errorf("x: %w", action.ErrClosed), remote.ErrClosed) {
		t.Error("action.ErrClosed is not remote's")
	}
}
