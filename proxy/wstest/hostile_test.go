package wstest

import (
	"context"
	"testing"
	"time"

	"github.com/socketbar/socketbar/proxy/internal/hostile"
)

// readBound is the most a hostile server may get written before the tester
// hangs up: the 64 KiB head cap, one read buffer, and what the kernel
// buffers on loopback on both sides.
const readBound = 1 << 20

// TestHostilePeers: against a server that never ends its answer or breaks
// RFC 6455, the tester reads a bounded amount, gives up within its
// timeout, and says protocol-error every time.
func TestHostilePeers(t *testing.T) {
	const timeout = 2 * time.Second
	for _, b := range hostile.All() {
		t.Run(b.String(), func(t *testing.T) {
			srv := hostile.Start(t, b)
			for i := 0; i < 3; i++ {
				start := time.Now()
				r := Run(context.Background(), "ws://"+srv.Addr+"/ws", Options{Timeout: timeout})
				took := time.Since(start)
				if r.Diagnosis.Cause != CauseProtocolError {
					t.Errorf("run %d: cause %q (%s), steps %s; want %q", i, r.Diagnosis.Cause, r.Diagnosis.Message, stepNames(r), CauseProtocolError)
				}
				if took > timeout+time.Second {
					t.Errorf("run %d: took %v, over the %v timeout + 1 s", i, took, timeout)
				}
				c, ok := srv.Next(timeout + time.Second)
				switch {
				case !ok:
					t.Fatalf("run %d: the server's connection did not end", i)
				case !c.HungUp || c.Ended.Sub(start) > timeout+time.Second:
					t.Errorf("run %d: the tester hung up %v after it started (hung up: %v)", i, c.Ended.Sub(start), c.HungUp)
				case c.Written > readBound:
					t.Errorf("run %d: the server wrote %d bytes before the tester hung up, over %d", i, c.Written, readBound)
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
