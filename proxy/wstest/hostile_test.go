package wstest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/socketbar/socketbar/proxy/internal/hostile"
)

// readBound is the most a hostile server may get written before the tester
// hangs up: the 64 KiB head cap, one read buffer, and what the kernel
// buffers on loopback on both sides.
const readBound = 1 << 20

// hostileWant is what the tester must say about each hostile peer: the
// cause, and words its diagnosis must (and must not) hold. A server that
// never ends its answer or breaks RFC 6455 is a protocol error; one that
// drips its answer slower than the timeout is a timeout that says what
// came, not a parse error of the line cut short. bound, when set, replaces
// readBound: fragments are read up to the tester's message limit.
var hostileWant = map[hostile.Behaviour]struct {
	cause  string
	has    []string
	hasNot string
	bound  int64
}{
	// Read as fast as it comes, the flood lets the tester's receive
	// buffer grow (loopback autotuning): up to a second readBound of it
	// sits in the kernel when the tester hangs up (CI saw 169 bytes past
	// one). The tester's own memory is bounded apart (BenchmarkPeakRSS…).
	hostile.FragmentFlood:  {CauseProtocolError, []string{"a message that reached 1114095 bytes in 17 fragments", "1048576-byte limit"}, "a frame of", maxMessage + 2*readBound},
	hostile.DripStatusLine: {CauseTimeout, []string{"did not finish it within 2s", "came (“H"}, "malformed", 0},
}

// TestHostilePeers: against a server that never ends its answer, breaks
// RFC 6455 or drips it, the tester reads a bounded amount, gives up within
// its timeout, and says what went wrong.
func TestHostilePeers(t *testing.T) {
	const timeout = 2 * time.Second
	for _, b := range hostile.All() {
		t.Run(b.String(), func(t *testing.T) {
			srv := hostile.Start(t, b)
			want, ok := hostileWant[b]
			if !ok {
				want.cause = CauseProtocolError
			}
			bound := int64(readBound)
			if want.bound != 0 {
				bound = want.bound
			}
			for i := 0; i < 3; i++ {
				start := time.Now()
				r := Run(context.Background(), "ws://"+srv.Addr+"/ws", Options{Timeout: timeout})
				took := time.Since(start)
				words := r.Diagnosis.Message + "\n" + stepDetails(r)
				if r.Diagnosis.Cause != want.cause {
					t.Errorf("run %d: cause %q (%s), steps %s; want %q", i, r.Diagnosis.Cause, r.Diagnosis.Message, stepNames(r), want.cause)
				}
				for _, w := range want.has {
					if !strings.Contains(words, w) {
						t.Errorf("run %d: the report does not say %q:\n%s", i, w, words)
					}
				}
				if want.hasNot != "" && strings.Contains(words, want.hasNot) {
					t.Errorf("run %d: the report says %q:\n%s", i, want.hasNot, words)
				}
				if took > timeout+time.Second {
					t.Errorf("run %d: took %v, over the %v timeout + 1 s", i, took, timeout)
				}
				c, ok := srv.Next(timeout + time.Second)
				switch {
				case !ok:
					t.Fatalf("run %d: the server's connection did not end", i)
				case !c.HungUp || c.Ended.Sub(start) > took+time.Second:
					t.Errorf("run %d: the tester hung up %v after it started (hung up: %v)", i, c.Ended.Sub(start), c.HungUp)
				case c.Written > bound:
					t.Errorf("run %d: the server wrote %d bytes before the tester hung up, over %d", i, c.Written, bound)
				}
				t.Logf("run %d: %v, server wrote %d bytes; %s", i, took.Round(time.Millisecond), c.Written, r.Diagnosis.Message)
			}
		})
	}
}

// BenchmarkPeakRSSUnderHostilePeers runs the tester against each hostile
// peer. Per peer it reports how far the peak RSS rose and fails over
// hostile.RSSBound (see hostile.BenchPeakRSS). Linux only:
//
//	go test -run '^$' -bench PeakRSS -benchtime 20x ./proxy/wstest
func BenchmarkPeakRSSUnderHostilePeers(b *testing.B) {
	for _, peer := range hostile.All() {
		b.Run(peer.String(), func(b *testing.B) {
			srv := hostile.Start(b, peer)
			hostile.BenchPeakRSS(b, func() int64 {
				Run(context.Background(), "ws://"+srv.Addr+"/ws", Options{Timeout: 2 * time.Second})
				c, _ := srv.Next(3 * time.Second)
				return c.Written
			})
		})
	}
}

// stepDetails is every step's detail, one a line.
func stepDetails(r *Report) string {
	var lines []string
	for _, s := range r.Steps {
		lines = append(lines, s.Name+": "+s.Detail)
	}
	return strings.Join(lines, "\n")
}
