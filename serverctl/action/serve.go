package action

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/socketbar/socketbar/internal/validate"
	"github.com/socketbar/socketbar/proxy"
	"github.com/socketbar/socketbar/serverctl"
)

// DefaultProxyAddr is where the test proxy listens unless told otherwise.
const DefaultProxyAddr = "127.0.0.1:8443"

// ServeOptions ask for the test proxy.
type ServeOptions struct {
	// Target is the Server whose routes are served when UseServer is set.
	Target    Target
	UseServer bool
	// Routes are extra routes, each "PATH=BACKEND".
	Routes []string
	// Addr is where to listen (default DefaultProxyAddr).
	Addr string
	// CertFile and KeyFile serve TLS with this certificate; default: a
	// self-signed one kept in ConfigDir.
	CertFile, KeyFile string
	// ConfigDir keeps the self-signed certificate (default: socketbar in
	// the user's config folder).
	ConfigDir string
	// IdleTimeout closes a WebSocket after this long without a message.
	IdleTimeout time.Duration
	// Log receives the proxy's log lines (default: discarded).
	Log io.Writer
}

// TestProxy is a running test proxy.
type TestProxy struct {
	srv      *proxy.Server
	stop     context.CancelFunc
	stopOnce sync.Once
	done     chan struct{}
	err      error
	// CertCreated is the self-signed certificate file made for this start
	// ("" when one was reused or given).
	CertCreated string
}

// ErrNoRoutes means the test proxy was given nothing to serve.
var ErrNoRoutes = errors.New("no routes to serve")

// ParseRoute checks "PATH=BACKEND" with the same rules as a route added to
// the Service Proxy, so the test proxy never serves what add would refuse.
func ParseRoute(s string) (proxy.Route, error) {
	path, backend, err := validate.Route(s)
	if err != nil {
		return proxy.Route{}, err
	}
	return proxy.NewRoute(path, backend)
}

// proxyRoute is a route of the config as the test proxy serves it.
func proxyRoute(r ProxyRoute) (proxy.Route, error) { return proxy.NewRoute(r.Path, r.Backend) }

// StartTestProxy starts Socketbar's embedded reverse proxy on the Server's
// routes and/or the given ones. Stop it with Stop.
func (l *Local) StartTestProxy(ctx context.Context, opts ServeOptions) (*TestProxy, error) {
	if opts.Addr == "" {
		opts.Addr = DefaultProxyAddr
	}
	addr, err := validate.Listen(validate.FieldAddr, opts.Addr)
	if err != nil {
		return nil, err // before a certificate is made for it
	}
	var routes []proxy.Route
	for _, s := range opts.Routes {
		r, err := ParseRoute(s)
		if err != nil {
			return nil, err
		}
		routes = append(routes, r)
	}
	if opts.UseServer {
		_, cfg, err := l.load(ctx, opts.Target)
		switch {
		case err != nil && (len(routes) == 0 || !IsNoServer(err)):
			return nil, err
		case err == nil:
			for _, r := range servedRoutes(cfg) {
				pr, _ := proxyRoute(r)
				routes = append(routes, pr)
			}
		}
	}
	if len(routes) == 0 {
		return nil, ErrNoRoutes
	}
	tp := &TestProxy{done: make(chan struct{})}
	cert, err := tp.certificate(opts)
	if err != nil {
		return nil, err
	}
	logw := opts.Log
	if logw == nil {
		logw = io.Discard
	}
	tp.srv = &proxy.Server{Addr: addr, Routes: routes, IdleTimeout: opts.IdleTimeout,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}, Log: log.New(logw, "", log.LstdFlags)}
	if err := tp.srv.Listen(); err != nil {
		var inUse *proxy.AddrInUseError
		if errors.As(err, &inUse) {
			inUse.Free = freeAddrNear(addr)
		}
		return nil, err
	}
	var serveCtx context.Context
	serveCtx, tp.stop = context.WithCancel(context.WithoutCancel(ctx))
	go func() {
		defer close(tp.done)
		tp.err = tp.srv.Serve(serveCtx)
	}()
	return tp, nil
}

func (tp *TestProxy) certificate(opts ServeOptions) (tls.Certificate, error) {
	if opts.CertFile != "" || opts.KeyFile != "" {
		if opts.CertFile == "" || opts.KeyFile == "" {
			return tls.Certificate{}, &serverctl.InputError{Field: serverctl.FieldCert, Msg: "a certificate and its key go together; give both"}
		}
		cert, err := tls.LoadX509KeyPair(opts.CertFile, opts.KeyFile)
		if err != nil {
			return cert, &serverctl.InputError{Field: serverctl.FieldCert, Msg: err.Error()}
		}
		return cert, nil
	}
	dir := opts.ConfigDir
	if dir == "" {
		base, err := os.UserConfigDir()
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("no user config folder for the certificate: %w", err)
		}
		dir = filepath.Join(base, "socketbar")
	}
	cert, file, created, err := proxy.SelfSignedCert(dir, time.Now())
	if created {
		tp.CertCreated = file
	}
	return cert, err
}

// URL is where the test proxy answers.
func (tp *TestProxy) URL() string { return tp.srv.URL() }

// Routes are the routes it serves.
func (tp *TestProxy) Routes() []proxy.Route { return tp.srv.Routes }

// Sessions counts the live WebSocket sessions.
func (tp *TestProxy) Sessions() int { return tp.srv.Sessions() }

// Done is closed when the proxy has stopped.
func (tp *TestProxy) Done() <-chan struct{} { return tp.done }

// Stop closes every session with 1001 "going away", stops the proxy and
// waits for it; it returns why serving ended, if not by Stop.
func (tp *TestProxy) Stop() error {
	tp.stopOnce.Do(tp.stop)
	<-tp.done
	return tp.err
}

// freeAddrNear is an address on addr's host whose port is free now, to
// suggest instead of the taken addr: 18443 (what the CLI's help shows, as
// a Server's own Service Proxy has 8443) unless that is the one taken, else
// one of the next ports after addr's; "" when none of them is free.
func freeAddrNear(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	taken, _ := strconv.Atoi(port)
	candidates := []string{"18443"}
	for p := taken + 1; p <= taken+20 && p <= 65535; p++ {
		candidates = append(candidates, strconv.Itoa(p))
	}
	for _, p := range candidates {
		if p == port {
			continue
		}
		a := net.JoinHostPort(host, p)
		if ln, err := net.Listen("tcp", a); err == nil {
			ln.Close()
			return a
		}
	}
	return ""
}
