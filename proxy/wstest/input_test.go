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

func TestParseURL(t *testing.T) {
	tests := []struct {
		url  string
		want string // "" means an error
	}{
		{"ws://127.0.0.1:8080/ws", "ws://127.0.0.1:8080/ws"},
		{"https://example.com", "wss://example.com/"},
		{"ws://[::1]:1/", "ws://[::1]:1/"},
		{"ws://[fe80::1%25lo]:80/", "ws://[fe80::1%25lo]:80/"},
		{"ws://my_host.local:65535/", "ws://my_host.local:65535/"},
		{"ws://host:0/", ""},
		{"ws://host:65536/", ""},
		{"ws://host:99999/", ""},
		{"ws://host:123456789012345678901234567890/", ""},
		{"ws://host:abc/", ""},
		{"ws://ho*st/", ""},
		{"ws://a..b/", ""},
		{"ws://" + strings.Repeat("a", 64) + ".example/", ""},
		{"ws://[::1/", ""},
		{"ws:///path", ""},
		{"ftp://host/", ""},
	}
	for _, tt := range tests {
		u, err := ParseURL(tt.url)
		switch {
		case tt.want == "" && err == nil:
			t.Errorf("ParseURL(%q) = %s, want an error", tt.url, u)
		case tt.want != "" && (err != nil || u.String() != tt.want):
			t.Errorf("ParseURL(%q) = %v, %v; want %s", tt.url, u, err, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		ok   bool
	}{
		{"zero", Options{}, true},
		{"origin and headers", Options{Origin: "https://a.example", Header: http.Header{"Cookie": {"a=1; b=2\tc"}}}, true},
		{"CRLF in Origin", Options{Origin: "https://a.example\r\nX-Injected: 1"}, false},
		{"LF in Origin", Options{Origin: "https://a.example\nX: 1"}, false},
		{"CR in a header value", Options{Header: http.Header{"Cookie": {"a=1\rX: 1"}}}, false},
		{"NUL in a header value", Options{Header: http.Header{"Cookie": {"a\x00"}}}, false},
		{"CRLF in a header name", Options{Header: http.Header{"X-A\r\nX-B": {"1"}}}, false},
		{"colon in a header name", Options{Header: http.Header{"X-A: b": {"1"}}}, false},
		{"empty header name", Options{Header: http.Header{"": {"1"}}}, false},
		{"a Host for a name-based VirtualHost", Options{Header: http.Header{"Host": {"chat.example.com"}}}, true},
		{"two Hosts", Options{Header: http.Header{"Host": {"a", "b"}}}, false},
		{"the handshake's own Upgrade", Options{Header: http.Header{"Upgrade": {"h2c"}}}, false},
		{"the handshake's own key", Options{Header: http.Header{"Sec-Websocket-Key": {"x"}}}, false},
		{"Origin as a header", Options{Header: http.Header{"Origin": {"https://a"}}}, false},
	}
	for _, tt := range tests {
		if err := tt.opts.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: Validate() = %v", tt.name, err)
		}
	}
}

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
