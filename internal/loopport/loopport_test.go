package loopport

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

func TestPool(t *testing.T) {
	tests := []struct {
		name             string
		low, high        int
		wantFrom, wantTo int
	}{
		{"Linux default", 32768, 60999, 10000, 32768},
		{"IANA, macOS", 49152, 65535, 10000, 49152},
		{"little room below, more above", 10500, 60999, 61000, 65536},
		{"ephemeral range is everything", 1024, 65535, 10000, 65536},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from, to := pool(tt.low, tt.high)
			if from != tt.wantFrom || to != tt.wantTo {
				t.Errorf("pool(%d, %d) = [%d, %d), want [%d, %d)", tt.low, tt.high, from, to, tt.wantFrom, tt.wantTo)
			}
		})
	}
}

func TestReserveHandsOutDistinctFreePortsOutsideTheEphemeralRange(t *testing.T) {
	low, high := ephemeralRange()
	seen := map[int]bool{}
	for range 20 {
		p, err := Reserve()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Release() })
		if seen[p.Number] {
			t.Fatalf("port %d handed out twice", p.Number)
		}
		seen[p.Number] = true
		if p.Number >= low && p.Number <= high {
			t.Errorf("port %d is in the ephemeral range %d-%d", p.Number, low, high)
		}
		ln, err := net.Listen("tcp", p.Addr())
		if err != nil {
			t.Fatalf("the reserved port cannot be bound: %v", err)
		}
		ln.Close()
	}
}

func TestReserveSkipsAPortSomeoneListensOn(t *testing.T) {
	p, err := Reserve()
	if err != nil {
		t.Fatal(err)
	}
	p.Release()
	ln, err := net.Listen("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dir, err := lockDir()
	if err != nil {
		t.Fatal(err)
	}
	if q, err := reserve(dir, p.Number); err == nil {
		q.Release()
		t.Fatalf("reserved port %d although it is listened on", p.Number)
	}
}

// TestAReservationKeepsOtherProcessesOut is the property parallel test
// packages rely on: while one process holds a port, another cannot reserve
// it, and once released it can.
func TestAReservationKeepsOtherProcessesOut(t *testing.T) {
	p, err := Reserve()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Release()
	other := func() string {
		t.Helper()
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
		cmd.Env = append(os.Environ(), "LOOPPORT_HELPER_PORT="+strconv.Itoa(p.Number))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("helper process: %v\n%s", err, out)
		}
		return string(out)
	}
	if out := other(); !strings.Contains(out, "result: taken") {
		t.Errorf("another process reserved a held port:\n%s", out)
	}
	if held, err := Held(p.Number); !held || err != nil {
		t.Errorf("Held(%d) = %v, %v while reserved", p.Number, held, err)
	}
	if q, err := reserve(mustLockDir(t), p.Number); !errors.Is(err, errTaken) {
		q.Release()
		t.Errorf("this process reserved a held port again: %v", err)
	}
	p.Release()
	if held, err := Held(p.Number); held || err != nil {
		t.Errorf("Held(%d) = %v, %v after Release", p.Number, held, err)
	}
	if out := other(); !strings.Contains(out, "result: reserved") {
		t.Errorf("another process could not reserve a released port:\n%s", out)
	}
}

// TestHelperProcess is the other process of TestAReservationKeepsOtherProcessesOut.
func TestHelperProcess(t *testing.T) {
	port := os.Getenv("LOOPPORT_HELPER_PORT")
	if port == "" {
		t.Skip("only as a helper process")
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	p, err := reserve(mustLockDir(t), n)
	switch {
	case errors.Is(err, errTaken):
		fmt.Println("result: taken")
	case err != nil:
		t.Fatal(err)
	default:
		p.Release()
		fmt.Println("result: reserved")
	}
}

func mustLockDir(t *testing.T) string {
	t.Helper()
	dir, err := lockDir()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}
