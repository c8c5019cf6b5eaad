package agent

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/socketbar/socketbar/internal/sshtest"
	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/remote"
)

// releaseTimeout bounds how long a released lock may take to be free
// again (an ssh that notices its channel closed).
const releaseTimeout = 20 * time.Second

// takeWithin polls a second agent for the lock until it gets it or the
// deadline passes.
func takeWithin(t *testing.T, b *Agent, path string) {
	t.Helper()
	deadline := time.Now().Add(releaseTimeout)
	for {
		l, _, err := b.Lock(path)
		if err == nil {
			l.Close()
			return
		}
		if !errors.Is(err, serverctl.ErrLocked) {
			t.Fatalf("Lock: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the lock was not released within %s", releaseTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestLockRefusesASecondAgentUntilReleased(t *testing.T) {
	s := sshtest.Start(t)
	c := open(t, s.SSH())
	second := startAgent(t, c, remote.Sudo{})
	path := filepath.Join(t.TempDir(), ".lock")

	for _, how := range []string{"Close of the lock", "Close of the agent", "SIGKILL of the local ssh", "SIGKILL of the remote perl"} {
		t.Run(how, func(t *testing.T) {
			before := agentSSHs()
			first, err := Start(testContext(t), c, remote.Sudo{})
			must(t, err)
			defer first.Close()
			l, fi, err := first.Lock(path)
			must(t, err)
			if !fi.Mode().IsRegular() {
				t.Errorf("the lock is %v", fi.Mode())
			}
			if _, _, err := second.Lock(path); !errors.Is(err, serverctl.ErrLocked) {
				t.Fatalf("a second agent's Lock: %v, want ErrLocked", err)
			}
			switch how {
			case "Close of the lock":
				must(t, l.Close())
			case "Close of the agent":
				must(t, first.Close())
				if !errors.Is(first.Err(), ErrClosed) {
					t.Errorf("Err after Close: %v", first.Err())
				}
				if _, err := first.Stat("/"); !errors.Is(err, ErrClosed) {
					t.Errorf("Stat after Close: %v", err)
				}
			case "SIGKILL of the local ssh":
				pid := newSSH(t, before)
				must(t, syscall.Kill(pid, syscall.SIGKILL))
			case "SIGKILL of the remote perl":
				must(t, syscall.Kill(first.PID(), syscall.SIGKILL))
			}
			takeWithin(t, second, path)
			if how[0] == 'S' {
				select {
				case <-first.Done():
				case <-time.After(releaseTimeout):
					t.Fatal("the agent did not notice its death")
				}
				var died *DiedError
				if !errors.As(first.Err(), &died) {
					t.Errorf("Err after %s: %v, want a *DiedError", how, first.Err())
				}
				if _, err := first.Stat("/"); err == nil {
					t.Error("a dead agent answered")
				}
			}
		})
	}
}

// agentSSHs are the ssh processes this process runs for agents:
// children whose command line holds the agent's boot.
func agentSSHs() map[int]bool {
	found := map[int]bool{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, _ := os.ReadFile("/proc/" + e.Name() + "/stat")
		i := strings.LastIndexByte(string(stat), ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(stat[i+1:]))
		if len(fields) < 2 || fields[1] != strconv.Itoa(os.Getpid()) {
			continue
		}
		cmdline, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if strings.Contains(string(cmdline), "socketbar-agent") {
			found[pid] = true
		}
	}
	return found
}

// newSSH is the one agent ssh that was not running before.
func newSSH(t *testing.T, before map[int]bool) int {
	t.Helper()
	var found []int
	for pid := range agentSSHs() {
		if !before[pid] {
			found = append(found, pid)
		}
	}
	if len(found) != 1 {
		t.Fatalf("found %d new local ssh processes of agents, want 1 (this test reads Linux's /proc)", len(found))
	}
	return found[0]
}
