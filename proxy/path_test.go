package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestCleanPath(t *testing.T) {
	tests := []struct {
		raw, clean string // clean "" means refused
	}{
		{"/", "/"},
		{"/app/x", "/app/x"},
		{"/app/./x", "/app/x"},
		{"/app/a/../x", "/app/x"},
		{"/app/a/..", "/app/"},
		{"/app/.", "/app/"},
		{"/app//../x", "/app/x"},
		{"/app/%2e%2e/x", "/x"},
		{"/app/%2E./x", "/x"},
		{"/app/%41", "/app/A"},
		{"/app/%252e%252e/x", "/app/%2e%2e/x"},
		{"/..", ""},
		{"/app/../../x", ""},
		{"/app/%2e%2e/%2e%2e/x", ""},
		{"/app/..%2fx", ""},
		{"/app%2F..%2Fx", ""},
		{"/app/%00", ""},
		{"/app/%zz", ""},
	}
	for _, tt := range tests {
		clean, _, err := cleanPath(tt.raw)
		if (tt.clean == "") != (err != nil) || clean != tt.clean {
			t.Errorf("cleanPath(%q) = %q, %v; want %q", tt.raw, clean, err, tt.clean)
		}
	}
}

// pathRecorder is a backend that records the request targets it gets.
type pathRecorder struct {
	mu   sync.Mutex
	seen []string
}

func (p *pathRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.seen = append(p.seen, r.RequestURI)
	p.mu.Unlock()
	if r.URL.Path == "/secret.txt" {
		io.WriteString(w, "the secret")
		return
	}
	io.WriteString(w, "public")
}

func (p *pathRecorder) all() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.seen...)
}

// rawGet sends a request with exactly the target given, which net/http's
// client would clean or escape.
func rawGet(t *testing.T, addr, target string, extra string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s\r\n", target, extra)
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestRequestsStayUnderTheirRoute: dot segments, encoded dots and encoded
// slashes never take a request to a backend path outside its route.
func TestRequestsStayUnderTheirRoute(t *testing.T) {
	rec := &pathRecorder{}
	backend := httptest.NewServer(rec)
	t.Cleanup(backend.Close)
	s, _, _ := startProxy(t, &Server{Routes: []Route{mustRoute(t, "/app/", backend.URL+"/app/")}})
	addr := s.ListenAddr().String()
	const upgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	tests := []struct {
		target, extra string
		status        int
		backendSaw    string // "" means the backend must not be asked
	}{
		{"/app/../secret.txt", "", 400, ""},
		{"/app/%2e%2e/secret.txt", "", 400, ""},
		{"/app/%2E%2e/secret.txt", "", 400, ""},
		{"/app/.%2e/secret.txt", upgrade, 400, ""},
		{"/app/..%2fsecret.txt", "", 400, ""},
		{"/app%2f..%2fsecret.txt", "", 400, ""},
		{"/app/%2F..%2F..%2Fsecret.txt", "", 400, ""},
		{"/app/../../secret.txt", "", 400, ""},
		{"/app/a/../b", "", 200, "/app/b"},
		{"/app/./b?q=1", "", 200, "/app/b?q=1"},
		{"/app/%41b", "", 200, "/app/Ab"},
		{"/app/x%252e%252e/y", "", 200, "/app/x%252e%252e/y"},
	}
	for _, tt := range tests {
		before := len(rec.all())
		code, body := rawGet(t, addr, tt.target, tt.extra)
		if code != tt.status || strings.Contains(body, "the secret") {
			t.Errorf("GET %s: %d %q, want %d", tt.target, code, body, tt.status)
		}
		seen := rec.all()[before:]
		switch {
		case tt.backendSaw == "" && len(seen) != 0:
			t.Errorf("GET %s reached the backend as %q", tt.target, seen)
		case tt.backendSaw != "" && (len(seen) != 1 || seen[0] != tt.backendSaw):
			t.Errorf("GET %s: the backend saw %q, want %q", tt.target, seen, tt.backendSaw)
		}
	}
	for _, p := range rec.all() {
		lower := strings.ToLower(p)
		if !strings.HasPrefix(p, "/app/") || strings.Contains(p, "/../") || strings.Contains(lower, "%2e") || strings.Contains(lower, "%2f") {
			t.Errorf("the backend saw %q, outside /app/ or with dot segments", p)
		}
	}
}

// TestKeepAliveAndBodyTimeouts: an idle keep-alive connection and a
// request body that stops coming are closed, not held for ever.
func TestKeepAliveAndBodyTimeouts(t *testing.T) {
	backend := echoBackend(t)
	s, _, _ := startProxy(t, &Server{
		Routes:   []Route{mustRoute(t, "/ok/", backend.URL+"/")},
		timeouts: httpTimeouts{readHeader: 300 * time.Millisecond, read: 300 * time.Millisecond, idle: 300 * time.Millisecond},
	})
	tests := []struct {
		name, req string
	}{
		{"idle keep-alive", "GET /ok/ HTTP/1.1\r\nHost: x\r\n\r\n"},
		{"stalled body", "POST /ok/ HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\na"},
		{"stalled headers", "GET /ok/ HTTP/1.1\r\nHost: x\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", s.ListenAddr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(5 * time.Second))
			io.WriteString(conn, tt.req)
			start := time.Now()
			// Read whatever the proxy answers until it hangs up.
			_, err = io.Copy(io.Discard, conn)
			if err != nil {
				t.Fatalf("the proxy kept the connection open: %v", err)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("closed after %v", d)
			}
		})
	}
}

// TestWebSocketOutlivesHTTPTimeouts: the HTTP timeouts end at the
// hijack; a quiet WebSocket stays open past all of them.
func TestWebSocketOutlivesHTTPTimeouts(t *testing.T) {
	backend := echoBackend(t)
	const short = 100 * time.Millisecond
	s, _, _ := startProxy(t, &Server{
		Routes:   []Route{mustRoute(t, "/ws", backend.URL+"/ws")},
		timeouts: httpTimeouts{readHeader: short, read: short, idle: short},
	})
	c, _, err := websocket.DefaultDialer.Dial("ws://"+s.ListenAddr().String()+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := c.ReadMessage(); err != nil {
		t.Fatal(err)
	}
	<-time.After(5 * short) // the property under test: quiet for longer than every timeout
	if err := c.WriteMessage(websocket.TextMessage, []byte("still here")); err != nil {
		t.Fatal(err)
	}
	if _, got, err := c.ReadMessage(); err != nil || string(got) != "still here" {
		t.Errorf("after a quiet spell: %q, %v", got, err)
	}
}
