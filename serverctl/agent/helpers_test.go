package agent

import (
	"context"
	"testing"
	"time"

	"github.com/socketbar/socketbar/internal/sshtest"
	"github.com/socketbar/socketbar/serverctl/remote"
)

// testTimeout bounds each test's SSH work; a regression fails, never hangs.
const testTimeout = 90 * time.Second

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// open logs in to the test's sshd with the ssh command line ssh.
func open(t testing.TB, ssh []string) *remote.Conn {
	t.Helper()
	c, err := remote.Open(testContext(t), remote.Host{Name: sshtest.Alias}, remote.Config{SSH: ssh})
	if err != nil {
		t.Fatalf("remote.Open: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// startAgent starts an agent over c, and closes it when the test ends.
func startAgent(t testing.TB, c Conn, sudo remote.Sudo) *Agent {
	t.Helper()
	a, err := Start(testContext(t), c, sudo)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// rootAgent is an agent over a root login (the account running the
// tests, which CI runs as root), with no sudo and no password.
func rootAgent(t testing.TB) (*Agent, *sshtest.Server) {
	t.Helper()
	s := sshtest.Start(t)
	return startAgent(t, open(t, s.SSH()), remote.Sudo{}), s
}
