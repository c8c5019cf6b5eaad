package proxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/socketbar/socketbar/proxy/internal/headcap"
	"github.com/socketbar/socketbar/proxy/wsframe"
)

// hopHeaders are dropped between client and backend (RFC 9110 section
// 7.6.1); Connection and Upgrade are set again for the upgrade itself.
var hopHeaders = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// serveUpgrade relays a WebSocket: it sends the upgrade request to the
// backend with the client's headers, hands back a non-101 answer as it is,
// and on 101 takes over both connections and relays frames until either
// side closes.
func (s *Server) serveUpgrade(w *recorder, r *http.Request, route Route, rest string, start time.Time) {
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	up := s.upgradeBackend(ctx, w, r, route, rest, start)
	if up != nil && !s.relay(w, r, route, up, start) {
		up.conn.Close()
	}
}

// switched is a backend that answered the upgrade with 101 Switching
// Protocols: its connection, the reader that holds what it sent after the
// 101's head (frames may follow at once), and the 101 itself.
type switched struct {
	conn net.Conn
	br   *bufio.Reader
	resp *http.Response
}

// upgradeBackend sends the client's upgrade request to the route's
// backend within ctx and reads the answer. On anything but a 101 for the
// protocol asked for it answers the client itself (the backend's refusal
// passed on, or 502) and returns nil, the backend closed.
func (s *Server) upgradeBackend(ctx context.Context, w *recorder, r *http.Request, route Route, rest string, start time.Time) (up *switched) {
	target := route.target(rest, r.URL.RawQuery)
	target.Scheme = httpScheme(target.Scheme)
	backend, err := s.dialBackend(ctx, target.Scheme, target.Host)
	if err != nil {
		ownError(w, fmt.Sprintf("socketbar serve: the backend %s for %s failed: %v", route.Backend, route.Path, err), http.StatusBadGateway)
		s.logf("ws %s %s route=%s status=502 error=%q", r.RemoteAddr, r.URL.Path, route.Path, err)
		return nil
	}
	defer func() {
		if up == nil {
			backend.Close()
		}
	}()

	out := upgradeRequest(ctx, r, target)

	// Until the 101, the handshake's deadline bounds every read and write,
	// and the client going away wakes them.
	backend.SetDeadline(time.Now().Add(10 * time.Second))
	stopWatch := context.AfterFunc(ctx, func() { backend.SetDeadline(time.Now()) })
	defer stopWatch()
	if err := out.Write(backend); err != nil {
		ownError(w, fmt.Sprintf("socketbar serve: sending the upgrade to %s failed: %v", route.Backend, err), http.StatusBadGateway)
		return nil
	}
	head := headcap.New(backend, maxResponseHead)
	br := bufio.NewReader(head)
	resp, err := http.ReadResponse(br, out)
	if err != nil {
		if errors.Is(err, headcap.ErrTooLong) {
			err = fmt.Errorf("its status line and headers are over %d KiB", maxResponseHead>>10)
		}
		ownError(w, fmt.Sprintf("socketbar serve: the backend %s did not answer the upgrade: %v", route.Backend, err), http.StatusBadGateway)
		s.logf("ws %s %s route=%s status=502 error=%q", r.RemoteAddr, r.URL.Path, route.Path, err)
		return nil
	}
	head.Lift()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		// The backend refused the upgrade: pass its answer on unchanged.
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
		s.logf("ws %s %s route=%s status=%d refused by backend %s", r.RemoteAddr, r.URL.Path, route.Path, resp.StatusCode, time.Since(start).Round(time.Microsecond))
		return nil
	}
	if !strings.EqualFold(resp.Header.Get("Upgrade"), r.Header.Get("Upgrade")) {
		ownError(w, fmt.Sprintf("socketbar serve: the backend %s switched to %q, not %q", route.Backend, resp.Header.Get("Upgrade"), r.Header.Get("Upgrade")), http.StatusBadGateway)
		return nil
	}
	if !stopWatch() {
		return nil // the client went away during the handshake
	}
	backend.SetDeadline(time.Time{})
	return &switched{conn: backend, br: br, resp: resp}
}

// relay takes over the client's connection, sends it the backend's 101
// and relays frames between the two in a session of their own until
// either side closes. It returns false, having taken nothing over, when it
// cannot: the caller then closes the backend.
func (s *Server) relay(w *recorder, r *http.Request, route Route, up *switched, start time.Time) bool {
	client, crw, err := w.hijack()
	if err != nil {
		ownError(w, "socketbar serve: cannot take over the connection: "+err.Error(), http.StatusInternalServerError)
		return false
	}
	// The server's read deadlines must not cut the WebSocket; the session
	// sets its own for IdleTimeout.
	client.SetDeadline(time.Time{})
	if err := writeSwitching(crw.Writer, up.resp); err != nil {
		client.Close()
		return false
	}
	ss := &session{route: route, client: client, backend: up.conn, started: start, idle: s.IdleTimeout, finished: make(chan struct{})}
	if !s.register(ss) {
		client.Write(wsframe.CloseFrame(wsframe.CloseGoingAway, "proxy shutting down", false))
		client.Close()
		return false
	}
	// The session runs on its own goroutines so that this handler's deep
	// stack and the request are freed while the WebSocket stays open.
	remote, path := r.RemoteAddr, r.URL.Path
	go func() {
		defer s.ended.Done()
		ss.run(crw.Reader, up.br)
		s.unregister(ss)
		s.logf("ws %s %s route=%s status=101 up_bytes=%d up_frames=%d down_bytes=%d down_frames=%d close=%d %s",
			remote, path, route.Path, ss.up.bytes.Load(), ss.up.frames.Load(), ss.down.bytes.Load(), ss.down.frames.Load(), ss.closeCodeOrAbnormal(), time.Since(start).Round(time.Millisecond))
	}()
	return true
}

// upgradeRequest is the client's upgrade request as the backend gets it:
// the client's own Host and headers, the hop-by-hop ones dropped except
// the upgrade itself, and X-Forwarded-For, -Proto and -Host added.
func upgradeRequest(ctx context.Context, r *http.Request, target *url.URL) *http.Request {
	out := r.Clone(ctx)
	out.URL = target
	out.RequestURI = ""
	out.Host = r.Host
	for _, h := range hopHeaders {
		out.Header.Del(h)
	}
	out.Header.Set("Connection", "Upgrade")
	out.Header.Set("Upgrade", r.Header.Get("Upgrade"))
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		if prior := out.Header.Get("X-Forwarded-For"); prior != "" {
			host = prior + ", " + host
		}
		out.Header.Set("X-Forwarded-For", host)
	}
	proto := "http"
	if r.TLS != nil {
		proto = "https"
	}
	out.Header.Set("X-Forwarded-Proto", proto)
	out.Header.Set("X-Forwarded-Host", r.Host)
	if out.Header.Get("User-Agent") == "" {
		out.Header.Set("User-Agent", "") // Request.Write would add Go's own
	}
	return out
}

// maxResponseHead bounds the status line and headers a backend may answer
// with, on the upgrade path as in the Transport (MaxResponseHeaderBytes):
// a backend that never ends them must not fill the proxy's memory.
const maxResponseHead = 64 << 10

func (ss *session) closeCodeOrAbnormal() int {
	if c := ss.closeCode.Load(); c != 0 {
		return int(c)
	}
	return wsframe.CloseAbnormal
}

// writeSwitching sends the backend's 101 to the client with its headers
// (Sec-WebSocket-Accept, -Protocol, -Extensions).
func writeSwitching(w *bufio.Writer, resp *http.Response) error {
	fmt.Fprintf(w, "HTTP/1.1 101 Switching Protocols\r\n")
	if err := resp.Header.Write(w); err != nil {
		return err
	}
	w.WriteString("\r\n")
	return w.Flush()
}

func (s *Server) dialBackend(ctx context.Context, scheme, hostport string) (net.Conn, error) {
	if _, _, err := net.SplitHostPort(hostport); err != nil {
		port := "80"
		if scheme == "https" {
			port = "443"
		}
		hostport = net.JoinHostPort(strings.Trim(hostport, "[]"), port)
	}
	conn, err := (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, "tcp", hostport)
	if err != nil || scheme != "https" {
		return conn, err
	}
	cfg := &tls.Config{}
	if s.BackendTLS != nil {
		cfg = s.BackendTLS.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName, _, _ = net.SplitHostPort(hostport)
	}
	cfg.NextProtos = []string{"http/1.1"}
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	return tc, nil
}

func (s *Server) register(ss *session) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.sessions[ss] = struct{}{}
	// Under the lock that sets closing: the shutdown's Wait comes after.
	s.ended.Add(1)
	return true
}

func (s *Server) unregister(ss *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, ss)
}
