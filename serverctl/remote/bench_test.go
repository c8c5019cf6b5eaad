package remote

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/socketbar/socketbar/internal/sshtest"
)

// benchSSH is the ssh command line the benchmarks log in with: as a
// throwaway account whose login shell is /bin/sh with no startup files when
// the machine allows one (root), so that the figures measure SSH and not
// the account's ~/.bashrc; else as the account running the benchmark.
func benchSSH(b *testing.B, s *sshtest.Server) []string {
	if os.Geteuid() == 0 {
		u := s.NewSudoUser(b)
		b.Logf("logging in as %s (login shell /bin/sh, no startup files)", u.Name)
		return []string{"ssh", "-F", u.ConfigFile}
	}
	b.Logf("logging in as %s: its shell's startup files count in every figure", s.User)
	return s.SSH()
}

// BenchmarkOpen is a first connection: ssh's handshake and login, the
// master's session, and Close.
func BenchmarkOpen(b *testing.B) {
	s := sshtest.Start(b)
	ssh := benchSSH(b, s)
	ctx := context.Background()
	for b.Loop() {
		c, err := Open(ctx, Host{Name: sshtest.Alias}, Config{SSH: ssh})
		if err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}

// BenchmarkRunWarm is one command over an open connection: a round trip.
func BenchmarkRunWarm(b *testing.B) {
	s := sshtest.Start(b)
	c, err := Open(context.Background(), Host{Name: sshtest.Alias}, Config{SSH: benchSSH(b, s)})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	for b.Loop() {
		if _, err := c.Run(ctx, []string{"true"}, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSSHPerCommand is the baseline Run replaces: a new ssh
// connection for each command.
func BenchmarkSSHPerCommand(b *testing.B) {
	s := sshtest.Start(b)
	ssh := benchSSH(b, s)
	for b.Loop() {
		args := append(append([]string(nil), ssh[1:]...), "-o", "BatchMode=yes", sshtest.Alias, "true")
		if out, err := exec.Command(ssh[0], args...).CombinedOutput(); err != nil {
			b.Fatalf("%v: %s", err, out)
		}
	}
}
