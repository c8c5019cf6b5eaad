package proxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/socketbar/socketbar/internal/validate"
	"github.com/socketbar/socketbar/proxy/wsframe"
	"github.com/socketbar/socketbar/serverctl/apachetest"
	"github.com/socketbar/socketbar/serverctl/servertest"
)

// echoBackend is the echo app the demo uses: it reports the request it
// saw as its first message, then echoes.
func echoBackend(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(EchoHandler())
	t.Cleanup(srv.Close)
	return srv
}

type logBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, strings.TrimSpace(string(p)))
	return len(p), nil
}

func (l *logBuffer) all() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// startProxy runs a Server on a free loopback port until the test ends.
func startProxy(t testing.TB, s *Server) (*Server, *logBuffer, context.CancelFunc) {
	t.Helper()
	logs := &logBuffer{}
	s.Addr = "127.0.0.1:0"
	s.Log = log.New(logs, "", 0)
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return after shutdown")
		}
	})
	return s, logs, cancel
}

func mustRoute(t testing.TB, path, backend string) Route {
	r, err := NewRoute(path, backend)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRouteTable(t *testing.T) {
	table := newRouteTable([]Route{
		mustRoute(t, "/ws", "http://a/ws"),
		mustRoute(t, "/ws/admin/", "http://b/admin/"),
		mustRoute(t, "/api/", "http://c/"),
	})
	tests := []struct{ path, route, rest string }{
		{"/ws", "/ws", ""},
		{"/ws/chat", "/ws", "/chat"},
		{"/ws/admin/x", "/ws/admin/", "x"},
		{"/api/v1", "/api/", "v1"},
		{"/wsx", "", ""},
		{"/api", "", ""},
	}
	for _, tt := range tests {
		r, rest, ok := table.match(tt.path)
		if (tt.route == "") == ok || (ok && (r.Path != tt.route || rest != tt.rest)) {
			t.Errorf("match(%q) = %q %q %v, want %q %q", tt.path, r.Path, rest, ok, tt.route, tt.rest)
		}
	}
	if got := mustRoute(t, "/api/", "http://c/base/").target("v1/x", "a=1").String(); got != "http://c/base/v1/x?a=1" {
		t.Errorf("target = %s", got)
	}
}

func TestWebSocketAndHTTPThroughTLSProxy(t *testing.T) {
	backend := echoBackend(t)
	cert, _, _, err := SelfSignedCert(t.TempDir(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	s, logs, _ := startProxy(t, &Server{
		Routes:    []Route{mustRoute(t, "/ws/", "ws://"+strings.TrimPrefix(backend.URL, "http://")+"/app/")},
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}},
	})
	pool := x509.NewCertPool()
	leaf, _ := x509.ParseCertificate(cert.Certificate[0])
	pool.AddCert(leaf)
	host := s.ListenAddr().String()

	d := websocket.Dialer{TLSClientConfig: &tls.Config{RootCAs: pool}, HandshakeTimeout: 5 * time.Second}
	hdr := http.Header{"Origin": {"https://example.com"}, "Referer": {"https://example.com/page"}, "Cookie": {"s=1"}}
	c, resp, err := d.Dial("wss://"+host+"/ws/chat?room=1", hdr)
	if err != nil {
		t.Fatalf("dial: %v %v", err, resp)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var seen struct {
		Host    string
		Path    string
		Query   string
		Headers http.Header
	}
	if err := c.ReadJSON(&seen); err != nil {
		t.Fatal(err)
	}
	if seen.Host != host || seen.Path != "/app/chat" || seen.Query != "room=1" {
		t.Errorf("backend saw host %q path %q query %q", seen.Host, seen.Path, seen.Query)
	}
	for k, want := range map[string]string{"Origin": "https://example.com", "Referer": "https://example.com/page", "Cookie": "s=1",
		"X-Forwarded-For": "127.0.0.1", "X-Forwarded-Proto": "https", "X-Forwarded-Host": host} {
		if got := seen.Headers.Get(k); got != want {
			t.Errorf("backend saw %s %q, want %q", k, got, want)
		}
	}
	if s.Sessions() != 1 {
		t.Errorf("Sessions = %d, want 1", s.Sessions())
	}
	for i := 0; i < 3; i++ {
		msg := fmt.Sprintf("message %d", i)
		if err := c.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		if _, got, err := c.ReadMessage(); err != nil || string(got) != msg {
			t.Fatalf("echo = %q, %v", got, err)
		}
	}
	c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye"))
	if _, _, err := c.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		t.Errorf("close: %v", err)
	}
	c.Close()

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 5 * time.Second}
	res, err := client.Get("https://" + host + "/ws/page")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), `"upgrade":false`) || !strings.Contains(string(body), `"path":"/app/page"`) || !strings.Contains(string(body), `"host":"`+host+`"`) {
		t.Errorf("plain GET: %d %s", res.StatusCode, body)
	}
	servertest.Eventually(t, "the session to end and be logged with status=101", func() bool {
		return s.Sessions() == 0 && strings.Contains(logs.all(), "status=101")
	})
	if l := logs.all(); !strings.Contains(l, "route=/ws/ status=101 up_bytes=") || !strings.Contains(l, "up_frames=4") || !strings.Contains(l, "close=1000") || !strings.Contains(l, "http 127.0.0.1") {
		t.Errorf("log lines:\n%s", l)
	}
}

func TestRefusals(t *testing.T) {
	backend := echoBackend(t)
	// Nothing listens on deadURL; the port is reserved for the test, so no
	// test package running at the same time can start listening there.
	deadURL := fmt.Sprintf("http://127.0.0.1:%d", apachetest.FreePort(t))
	s, _, _ := startProxy(t, &Server{Routes: []Route{
		mustRoute(t, "/ok/", backend.URL+"/"),
		mustRoute(t, "/down/", deadURL+"/"),
	}})
	base := "http://" + s.ListenAddr().String()
	get := func(path string) (int, string) {
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, body := get("/nope"); code != 404 || !strings.Contains(body, "no route for /nope") || !strings.Contains(body, "/ok/ →") {
		t.Errorf("unknown path: %d %q", code, body)
	}
	if code, body := get("/down/x"); code != 502 || !strings.Contains(body, deadURL) || !strings.Contains(body, "refused") {
		t.Errorf("backend down: %d %q", code, body)
	}
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	if _, resp, err := d.Dial("ws://"+s.ListenAddr().String()+"/down/ws", nil); err == nil || resp == nil || resp.StatusCode != 502 {
		t.Errorf("WebSocket to a dead backend: %v %v", err, resp)
	}
	if code, _ := get("/ok/still-up"); code != 200 {
		t.Errorf("proxy not serving after backend errors: %d", code)
	}
	// Not an open proxy: CONNECT and absolute-form targets.
	for _, req := range []string{
		"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
		"GET http://example.com/ok/ HTTP/1.1\r\nHost: example.com\r\n\r\n",
	} {
		conn, err := net.Dial("tcp", s.ListenAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(conn, req)
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		conn.Close()
		if err != nil || (res.StatusCode != 405 && res.StatusCode != 400) {
			t.Errorf("%q: %v %v", strings.SplitN(req, "\r\n", 2)[0], err, res)
		}
	}
	// Oversized headers are cut off.
	conn, err := net.Dial("tcp", s.ListenAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "GET /ok/ HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n", strings.Repeat("a", 200<<10))
	if res, err := http.ReadResponse(bufio.NewReader(conn), nil); err != nil || res.StatusCode != 431 {
		t.Errorf("oversized headers: %v %v", err, res)
	}
}

func TestShutdownSaysGoingAway(t *testing.T) {
	backend := echoBackend(t)
	s, _, cancel := startProxy(t, &Server{Routes: []Route{mustRoute(t, "/ws", backend.URL+"/ws")}})
	var conns []*websocket.Conn
	for i := 0; i < 3; i++ {
		c, _, err := websocket.DefaultDialer.Dial("ws://"+s.ListenAddr().String()+"/ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, _, err := c.ReadMessage(); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	servertest.Eventually(t, "three sessions", func() bool { return s.Sessions() == 3 })
	cancel()
	for i, c := range conns {
		_, _, err := c.ReadMessage()
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != wsframe.CloseGoingAway {
			t.Errorf("client %d: %v, want close 1001", i, err)
		}
		c.Close()
	}
}

func TestIdleTimeoutClosesQuietSessions(t *testing.T) {
	backend := echoBackend(t)
	s, logs, _ := startProxy(t, &Server{Routes: []Route{mustRoute(t, "/ws", backend.URL+"/ws")}, IdleTimeout: 300 * time.Millisecond})
	c, _, err := websocket.DefaultDialer.Dial("ws://"+s.ListenAddr().String()+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	c.ReadMessage()
	start := time.Now()
	if _, _, err := c.ReadMessage(); err == nil {
		t.Fatal("the idle session stayed open")
	}
	if since := time.Since(start); since > 4*time.Second {
		t.Errorf("closed after %v", since)
	}
	servertest.Eventually(t, "the session to end and be logged with close=1006", func() bool {
		return s.Sessions() == 0 && strings.Contains(logs.all(), "close=1006")
	})
}

func TestAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = (&Server{Addr: ln.Addr().String()}).Listen()
	var inUse *AddrInUseError
	// The library says why; the front end names its own control (the CLI: --addr).
	if !errors.As(err, &inUse) || !strings.Contains(err.Error(), "Calendar") || strings.Contains(err.Error(), "--") {
		t.Errorf("err = %v", err)
	}
}

// An address that is not HOST:PORT is refused by the rules the front ends
// apply, not handed to net.Listen.
func TestListenRefusesABadAddress(t *testing.T) {
	for _, addr := range []string{"bogus", "127.0.0.1:99999", "bad host:0", "::1:0"} {
		err := (&Server{Addr: addr}).Listen()
		var in *validate.InputError
		if !errors.As(err, &in) || in.Field != validate.FieldAddr {
			t.Errorf("Listen on %q: %v, want a refusal of the address", addr, err)
		}
	}
}

func TestSelfSignedCertIsReused(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	a, file, created, err := SelfSignedCert(dir, now)
	if err != nil || !created {
		t.Fatalf("first: %v %v", created, err)
	}
	leaf, _ := x509.ParseCertificate(a.Certificate[0])
	for _, name := range []string{"localhost", "127.0.0.1", "::1"} {
		if err := leaf.VerifyHostname(name); err != nil {
			t.Errorf("certificate does not name %s: %v", name, err)
		}
	}
	b, file2, created2, err := SelfSignedCert(dir, now.Add(time.Hour))
	if err != nil || created2 || file2 != file || string(b.Certificate[0]) != string(a.Certificate[0]) {
		t.Errorf("second call made a new certificate (%v, %v)", created2, err)
	}
	if _, _, renewed, _ := SelfSignedCert(dir, now.AddDate(1, 0, 1)); !renewed {
		t.Error("an expired certificate was reused")
	}
}
