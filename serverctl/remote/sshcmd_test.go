package remote

import (
	"errors"
	"slices"
	"testing"
)

func TestParseSSHCommand(t *testing.T) {
	for in, want := range map[string][]string{
		"":                           {"ssh"},
		"   ":                        {"ssh"},
		"ssh":                        {"ssh"},
		"ssh -F /etc/x/config":       {"ssh", "-F", "/etc/x/config"},
		"/usr/local/bin/ssh\t-4  -v": {"/usr/local/bin/ssh", "-4", "-v"},
	} {
		got, err := ParseSSHCommand(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("ParseSSHCommand(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{
		"ssh -F '/path with space/config'", `ssh -F "x"`, "ssh $HOME", "ssh `id`", "ssh; id",
		"ssh | tee", "ssh & x", "ssh\n-v", "ssh \\x", "-F config", "ssh > f", "ssh ~/x*", "ssh\x01",
	} {
		_, err := ParseSSHCommand(in)
		var se *SSHCommandError
		if !errors.As(err, &se) {
			t.Errorf("ParseSSHCommand(%q) = %v, want an *SSHCommandError", in, err)
		}
	}
}
