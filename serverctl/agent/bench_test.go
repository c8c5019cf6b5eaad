package agent

import (
	"context"
	"os"
	"testing"

	"github.com/socketbar/socketbar/internal/sshtest"
	"github.com/socketbar/socketbar/serverctl/remote"
)

// benchConn logs in as a throwaway account whose login shell is /bin/sh
// with no startup files when the machine allows one (root), so that the
// figures measure SSH, sudo and perl, not an account's ~/.bashrc; that
// account's sudo takes its password, as an admin's on a Mac does.
func benchConn(b *testing.B) (*remote.Conn, remote.Sudo) {
	s := sshtest.Start(b)
	if os.Geteuid() == 0 {
		u := s.NewSudoUser(b)
		b.Logf("logging in as %s (login shell /bin/sh), sudo with a password", u.Name)
		return open(b, []string{"ssh", "-F", u.ConfigFile}), remote.Sudo{Password: []byte(u.Password)}
	}
	b.Logf("logging in as %s: its shell's startup files count in every figure", s.User)
	return open(b, s.SSH()), remote.Sudo{}
}

// BenchmarkStart is an agent's start over an open connection (sudo with
// a password, perl, the program) and its Close.
func BenchmarkStart(b *testing.B) {
	c, sudo := benchConn(b)
	for b.Loop() {
		a, err := Start(context.Background(), c, sudo)
		if err != nil {
			b.Fatal(err)
		}
		a.Close()
	}
}

// BenchmarkStat is one request to a running agent: a round trip.
func BenchmarkStat(b *testing.B) {
	c, sudo := benchConn(b)
	a := startAgent(b, c, sudo)
	for b.Loop() {
		if _, err := a.Stat("/"); err != nil {
			b.Fatal(err)
		}
	}
}
