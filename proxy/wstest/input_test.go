package wstest

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// countingListener is a server that counts the connections made to it.
func countingListener(t *testing.T) (string, *atomic.Int64) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String(), &n
}

func TestRunRefusesBadInputWithoutConnecting(t *testing.T) {
	addr, accepted := countingListener(t)
	tests := []struct {
		name  string
		url   string
		opts  Options
		cause string
	}{
		{"port 0", "ws://127.0.0.1:0/ws", Options{}, CauseBadURL},
		{"port 65536", "ws://127.0.0.1:65536/ws", Options{}, CauseBadURL},
		{"CRLF in Origin", "ws://" + addr + "/ws", Options{Origin: "http://x\r\nX-Injected: 1"}, CauseBadOption},
		{"LF in a header", "ws://" + addr + "/ws", Options{Header: http.Header{"X-A": {"1\nX-Injected: 1"}}}, CauseBadOption},
		{"the handshake's own key", "ws://" + addr + "/ws", Options{Header: http.Header{"Sec-Websocket-Key": {"x"}}}, CauseBadOption},
		{"a bad host", "ws://a..b/ws", Options{Connect: addr}, CauseBadURL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Timeout = 2 * time.Second
			r := Run(context.Background(), tt.url, tt.opts)
			if r.Diagnosis.Cause != tt.cause || len(r.Steps) != 0 {
				t.Errorf("cause %q (%s), steps %s; want %q and no steps", r.Diagnosis.Cause, r.Diagnosis.Message, stepNames(r), tt.cause)
			}
		})
	}
	if n := accepted.Load(); n != 0 {
		t.Errorf("%d connection(s) made for bad input", n)
	}
}

// TestDefaultTimeoutIsReported: with Timeout unset, the message names the
// default that applied, not "0s".
func TestDefaultTimeoutIsReported(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	r := Run(ctx, "ws://"+silentServer(t)+"/ws", Options{})
	if r.Diagnosis.Cause != CauseTimeout || !strings.Contains(r.Diagnosis.Message, "within "+DefaultTimeout.String()) {
		t.Errorf("cause %q, message %q; want %q naming %s", r.Diagnosis.Cause, r.Diagnosis.Message, CauseTimeout, DefaultTimeout)
	}
}
