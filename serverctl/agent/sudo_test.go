package agent

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/socketbar/socketbar/internal/sshtest"
	"github.com/socketbar/socketbar/serverctl/remote"
)

// recordingSSH is an ssh command line whose program records its
// arguments and environment in log before running ssh, as a
// SOCKETBAR_SSH wrapper could.
func recordingSSH(t *testing.T, config string) (ssh []string, log string) {
	t.Helper()
	dir := t.TempDir()
	log = filepath.Join(dir, "log")
	wrapper := filepath.Join(dir, "ssh")
	script := "#!/bin/sh\n{ printf '%s\\n' \"$@\"; env; } >> " + remote.Quote(log) + "\nexec ssh \"$@\"\n"
	must(t, os.WriteFile(wrapper, []byte(script), 0o755))
	return []string{wrapper, "-F", config}, log
}

func TestSudoWithThePasswordRunsAsRootAndNeverShowsIt(t *testing.T) {
	s := sshtest.Start(t)
	u := s.NewSudoUser(t)
	ssh, log := recordingSSH(t, u.ConfigFile)
	c := open(t, ssh)
	a := startAgent(t, c, remote.Sudo{Password: []byte(u.Password)})
	if a.UID() != 0 {
		t.Errorf("UID = %d, want 0", a.UID())
	}
	// It can do what only root can: write a root-only file.
	p := filepath.Join(t.TempDir(), "root-only")
	must(t, a.WriteNew(p, []byte("x"), 0o600, nil))
	out, err := a.Run(testContext(t), runCommand("/bin/sh", "-c", "id -u"))
	if err != nil || string(out) != "0\n" {
		t.Errorf("id -u as the agent: %q %v", out, err)
	}
	a.Close()
	c.Close()
	recorded, err := os.ReadFile(log)
	must(t, err)
	if !bytes.Contains(recorded, []byte("socketbar-agent")) {
		t.Fatalf("the wrapper did not record the agent's command line: %s", recorded)
	}
	if bytes.Contains(recorded, []byte(u.Password)) {
		t.Errorf("the password is in ssh's argv or environment:\n%s", recorded)
	}
}

func TestSudoRefusals(t *testing.T) {
	s := sshtest.Start(t)
	u := s.NewSudoUser(t)
	c := open(t, []string{"ssh", "-F", u.ConfigFile})
	for _, tc := range []struct {
		name     string
		password []byte
		want     string
	}{
		{"no password", nil, remote.SudoNeedsPassword},
		{"wrong password", []byte("wrong-" + u.Password), remote.SudoWrongPassword},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Start(testContext(t), c, remote.Sudo{Password: tc.password})
			var serr *remote.SudoError
			if !errors.As(err, &serr) || serr.Reason != tc.want {
				t.Fatalf("Start: %v (%T), want a *remote.SudoError %q", err, err, tc.want)
			}
			if a != nil {
				t.Error("Start returned an agent with its error")
			}
			if tc.password != nil && strings.Contains(err.Error(), string(tc.password)) {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}

func TestRootLoginNeedsNoSudo(t *testing.T) {
	// The tests' own login is root (CI runs as root); its sudo is never
	// asked: a password given is read off and unused.
	if os.Geteuid() != 0 {
		t.Skip("the test's login is not root")
	}
	s := sshtest.Start(t)
	c := open(t, s.SSH())
	for _, pw := range [][]byte{nil, []byte("unused")} {
		a := startAgent(t, c, remote.Sudo{Password: pw})
		if a.UID() != 0 {
			t.Errorf("UID = %d", a.UID())
		}
		if _, err := a.Stat("/"); err != nil {
			t.Errorf("Stat: %v", err)
		}
	}
}

func TestCommandPassesTheRemoteCommandCheck(t *testing.T) {
	for _, s := range []remote.Sudo{{}, {Password: []byte("p w'$`\"")}} {
		argv, _, err := Command(s)
		must(t, err)
		if err := remote.CheckCommand(argv); err != nil {
			t.Errorf("Command(%v): %v", s.Password != nil, err)
		}
		line, _ := remote.CommandLine(argv)
		if s.Password != nil && strings.Contains(line, string(s.Password)) {
			t.Errorf("the password is on the command line: %s", line)
		}
		if len(line) > 4096 {
			t.Errorf("a command line of %d bytes", len(line))
		}
	}
}
