package proxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/socketbar/socketbar/internal/pkgerr"
	"github.com/socketbar/socketbar/internal/validate"
)

// Server is the embedded test proxy. Set the fields, then Listen and Serve
// (or Start). The zero IdleTimeout keeps idle WebSockets open.
type Server struct {
	// Addr is where to listen, "127.0.0.1:8443" by default.
	Addr   string
	Routes []Route
	// TLSConfig serves HTTPS when set (it needs a certificate); nil serves
	// plain HTTP.
	TLSConfig *tls.Config
	// IdleTimeout closes a WebSocket after this long without a frame either way.
	IdleTimeout time.Duration
	// Log receives one line per request and per WebSocket session
	// (default: discarded).
	Log *log.Logger
	// BackendTLS configures TLS to https and wss backends (default: verify).
	BackendTLS *tls.Config

	// timeouts overrides the default timeouts where set (tests shorten
	// them).
	timeouts httpTimeouts

	table    routeTable
	ln       net.Listener
	http     *http.Server
	rp       *httputil.ReverseProxy
	mu       sync.Mutex
	sessions map[*session]struct{}
	closing  bool
	// ended counts the sessions' goroutines until each has logged its
	// end, so that a shutdown returns with every session's line written.
	ended sync.WaitGroup
}

// httpTimeouts bound the HTTP side of the proxy: the wait for a request's
// headers, for its whole request (headers and body), and for the next
// request on a keep-alive connection. A WebSocket is not bound by them
// once it is hijacked; IdleTimeout is its bound.
type httpTimeouts struct {
	readHeader, read, idle time.Duration
}

// The default timeouts follow Apache's where it has one: Timeout 60 s for a
// request; its KeepAliveTimeout is 5 s, but a test proxy can keep a
// browser's connections a little longer.
const (
	defaultReadHeaderTimeout = 10 * time.Second
	defaultReadTimeout       = 60 * time.Second
	defaultKeepAliveTimeout  = 60 * time.Second
)

// withDefaults fills the unset timeouts.
func (t httpTimeouts) withDefaults() httpTimeouts {
	if t.readHeader <= 0 {
		t.readHeader = defaultReadHeaderTimeout
	}
	if t.read <= 0 {
		t.read = defaultReadTimeout
	}
	if t.idle <= 0 {
		t.idle = defaultKeepAliveTimeout
	}
	return t
}

// ServerHeader is the Server header of the answers the test proxy gives
// itself (no route for the path, a refused request, a backend it cannot
// reach), so that a client, socketbar test among them, tells them from
// the backend's answers it passes on unchanged. Their bodies start with
// "socketbar serve" too.
const ServerHeader = "socketbar-serve"

// ownError is http.Error for the proxy's own answers: marked as its own
// with ServerHeader.
func ownError(w http.ResponseWriter, msg string, code int) {
	w.Header().Set("Server", ServerHeader)
	http.Error(w, msg, code)
}

// AddrInUseError says the address is taken, which on a live Server 5 is
// usually the Service Proxy itself (it listens on 8443 for Calendar).
type AddrInUseError struct {
	Addr string
	Err  error
	// Free, when set, is an address on the same host that was free when
	// the listen failed: one to suggest instead.
	Free string
}

func (e *AddrInUseError) Error() string {
	return fmt.Sprintf("proxy: %s is already in use; on a macOS Server the Service Proxy itself listens on 8443 for Calendar and Contacts; pick another port", e.Addr)
}

func (e *AddrInUseError) Unwrap() error { return e.Err }

// Listen binds the address. It fails with *AddrInUseError when it is
// taken, and with a *validate.InputError for FieldAddr when it is not a
// HOST:PORT to listen on.
func (s *Server) Listen() error {
	addr := s.Addr
	if addr == "" {
		addr = "127.0.0.1:8443"
	}
	addr, err := validate.Listen(validate.FieldAddr, addr)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return &AddrInUseError{Addr: addr, Err: err}
		}
		return errorf("listen on %s: %w", addr, err)
	}
	s.ln = ln
	return nil
}

// ListenAddr returns the address the server listens on (useful with port 0).
func (s *Server) ListenAddr() net.Addr {
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// URL returns the base URL of the proxy: https://… or http://….
func (s *Server) URL() string {
	scheme := "http"
	if s.TLSConfig != nil {
		scheme = "https"
	}
	return scheme + "://" + s.ListenAddr().String()
}

// Sessions returns the number of live WebSocket sessions.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// Serve answers requests until ctx ends, then shuts down: it stops
// accepting, closes every WebSocket with 1001 and waits for requests in
// flight (up to 5 s). It returns nil after a shutdown through ctx.
func (s *Server) Serve(ctx context.Context) error {
	if s.ln == nil {
		if err := s.Listen(); err != nil {
			return err
		}
	}
	s.table = newRouteTable(s.Routes)
	s.sessions = map[*session]struct{}{}
	s.rp = &httputil.ReverseProxy{
		Rewrite: s.rewrite,
		Transport: &http.Transport{TLSClientConfig: s.BackendTLS, Proxy: nil, DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext, MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second, ForceAttemptHTTP2: false,
			// A backend that never ends its headers, or never answers,
			// must not hold memory or the request for ever. 60 s is
			// Apache's default Timeout, which ProxyTimeout falls back on.
			MaxResponseHeaderBytes: maxResponseHead,
			ResponseHeaderTimeout:  60 * time.Second,
		},
		ErrorHandler: s.backendError,
		ErrorLog:     log.New(io.Discard, "", 0),
	}
	to := s.timeouts.withDefaults()
	s.http = &http.Server{
		Handler: s,
		// Without these a keep-alive connection or a request body that
		// stops coming holds a connection and its goroutine for ever.
		// net/http clears the read deadline once a body is read, so a
		// long response is not cut.
		ReadHeaderTimeout: to.readHeader,
		ReadTimeout:       to.read,
		IdleTimeout:       to.idle,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(io.Discard, "", 0),
		// HTTP/2 off: WebSockets need HTTP/1.1's Upgrade (browsers fall back).
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
	}
	ln := s.ln
	if s.TLSConfig != nil {
		cfg := s.TLSConfig.Clone()
		cfg.NextProtos = []string{"http/1.1"}
		ln = tls.NewListener(ln, cfg)
	}
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.shutdown(sctx)
}

func (s *Server) shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	live := make([]*session, 0, len(s.sessions))
	for ss := range s.sessions {
		live = append(live, ss)
	}
	s.mu.Unlock()
	err := s.http.Shutdown(ctx)
	var wg sync.WaitGroup
	for _, ss := range live {
		wg.Add(1)
		go func() { defer wg.Done(); ss.goAway() }()
	}
	wg.Wait()
	s.ended.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

func (s *Server) logf(format string, args ...any) {
	if s.Log != nil {
		s.Log.Printf(format, args...)
	}
}

type routeKey struct{}

type routed struct {
	route Route
	rest  string
}

// ServeHTTP routes a request: 404 for paths without a route, the WebSocket
// relay for upgrades, the reverse proxy for the rest. It is not an open
// proxy: CONNECT and absolute-form request targets are refused.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	rawPath, _, _ := strings.Cut(r.RequestURI, "?")
	route, rest, ok, pathErr := s.table.route(rawPath)
	label := "-"
	switch {
	case r.Method == http.MethodConnect:
		ownError(rec, "socketbar serve is not an open proxy: CONNECT is not supported.", http.StatusMethodNotAllowed)
	case !strings.HasPrefix(r.RequestURI, "/"):
		ownError(rec, "socketbar serve is not an open proxy: send requests for its own routes, with a path such as /ws/.", http.StatusBadRequest)
	case pathErr != nil:
		ownError(rec, fmt.Sprintf("socketbar serve refuses the path %s: %v.", rawPath, pathErr), http.StatusBadRequest)
	case !ok:
		ownError(rec, fmt.Sprintf("socketbar serve has no route for %s. Its routes: %s.", r.URL.Path, s.routeList()), http.StatusNotFound)
	case isUpgrade(r):
		s.serveUpgrade(rec, r, route, rest, start)
		return
	default:
		label = route.Path
		s.rp.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), routeKey{}, routed{route, rest})))
	}
	s.logf("http %s %s %s route=%s status=%d bytes_out=%d %s", r.RemoteAddr, r.Method, r.URL.Path, label, rec.status, rec.bytes, time.Since(start).Round(time.Microsecond))
}

func (s *Server) routeList() string {
	if len(s.Routes) == 0 {
		return "none"
	}
	var l []string
	for _, r := range s.Routes {
		l = append(l, r.String())
	}
	return strings.Join(l, ", ")
}

// rewrite points the outgoing request at the route's backend, keeps the
// client's Host (like ProxyPreserveHost On) and adds X-Forwarded-*.
func (s *Server) rewrite(pr *httputil.ProxyRequest) {
	rt := pr.In.Context().Value(routeKey{}).(routed)
	u := rt.route.target(rt.rest, pr.In.URL.RawQuery)
	u.Scheme = httpScheme(u.Scheme)
	pr.Out.URL = u
	pr.Out.Host = pr.In.Host
	pr.SetXForwarded()
}

func (s *Server) backendError(w http.ResponseWriter, r *http.Request, err error) {
	rt, _ := r.Context().Value(routeKey{}).(routed)
	ownError(w, fmt.Sprintf("socketbar serve: the backend %s for %s failed: %v", rt.route.Backend, rt.route.Path, err), http.StatusBadGateway)
}

// isUpgrade reports a WebSocket upgrade request: Upgrade: websocket and an
// "upgrade" token in Connection (RFC 6455 section 4.2.1).
func isUpgrade(r *http.Request) bool {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		return false
	}
	for _, v := range r.Header.Values("Connection") {
		for _, tok := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), "upgrade") {
				return true
			}
		}
	}
	return false
}

// recorder remembers the status and size of a response.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// hijack takes over the client connection.
func (r *recorder) hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(r.ResponseWriter).Hijack()
}

// errorf is fmt.Errorf for this package's own errors: their Error() names
// the package for logs, and pkgerr.Text gives people the message without it.
func errorf(format string, args ...any) error { return pkgerr.Errorf("proxy", format, args...) }
