package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/socketbar/socketbar/proxy"
	"github.com/socketbar/socketbar/serverctl"
)

// routeList is a repeatable --route PATH=BACKEND flag.
type routeList []proxy.Route

func (l *routeList) String() string { return fmt.Sprint(len(*l)) }

func (l *routeList) Set(s string) error {
	r, err := proxy.ParseRoute(s)
	if err != nil {
		return err
	}
	*l = append(*l, r)
	return nil
}

func (c *cli) serve(args []string) int {
	fs := c.flags("serve", "[--addr 127.0.0.1:8443] [--route PATH=BACKEND]… [--root DIR]",
		`Run Socketbar's own reverse proxy for trying WebSocket routes without touching the
Server: HTTPS on --addr, serving the Service Proxy's routes (from --root) and/or the
--route flags, longest path first, with the client's headers passed on (Host, Origin,
Cookie, Referer kept; X-Forwarded-For, -Proto, -Host added). Stop it with Ctrl-C:
WebSockets are closed with code 1001.`)
	sf := c.addServerFlags(fs)
	addr := fs.String("addr", "127.0.0.1:8443", "address to listen on")
	var routes routeList
	fs.Var(&routes, "route", "PATH=BACKEND to serve (repeatable), e.g. /ws/=http://127.0.0.1:8000/ws/")
	certFile := fs.String("cert", "", "TLS certificate (PEM); default: a self-signed one kept in the user's config folder")
	keyFile := fs.String("key", "", "TLS private key (PEM) for --cert")
	idle := fs.Duration("idle-timeout", 0, "close a WebSocket after this long without a message (default: never)")
	if _, code, done := c.parse(fs, args, 0, 0); done {
		return code
	}
	rootGiven := c.getenv("SOCKETBAR_ROOT") != ""
	fs.Visit(func(f *flag.Flag) { rootGiven = rootGiven || f.Name == "root" })
	if len(routes) == 0 || rootGiven {
		fromConfig, code := c.configRoutes(sf, len(routes) == 0)
		if code != exitOK {
			return code
		}
		routes = append(routes, fromConfig...)
	}
	if len(routes) == 0 {
		fmt.Fprintln(c.stderr, "socketbar serve: no routes to serve; add one with --route /ws/=http://127.0.0.1:8000/ws/")
		return exitUsage
	}

	cert, err := c.serveCert(*certFile, *keyFile)
	if err != nil {
		fmt.Fprintf(c.stderr, "socketbar serve: %v\n", err)
		return exitUsage
	}
	s := &proxy.Server{Addr: *addr, Routes: routes, IdleTimeout: *idle,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}},
		Log:       log.New(c.stderr, "", log.LstdFlags)}
	if err := s.Listen(); err != nil {
		var inUse *proxy.AddrInUseError
		if errors.As(err, &inUse) {
			fmt.Fprintf(c.stderr, "socketbar serve: %s is already in use. On a macOS Server the Service Proxy itself listens on 8443 for Calendar and Contacts; pick another port with --addr 127.0.0.1:18443.\n", inUse.Addr)
		} else {
			fmt.Fprintf(c.stderr, "socketbar serve: %v\n", err)
		}
		return exitFailure
	}
	fmt.Fprintf(c.stdout, "Listening on %s\n", s.URL())
	for _, r := range routes {
		fmt.Fprintf(c.stdout, "  %s\n", r)
	}
	fmt.Fprintln(c.stdout, "Press Ctrl-C to stop.")
	if err := s.Serve(c.ctx); err != nil {
		fmt.Fprintf(c.stderr, "socketbar serve: %v\n", err)
		return exitFailure
	}
	fmt.Fprintln(c.stdout, "Stopped.")
	return exitOK
}

// serveCert loads --cert/--key, or the self-signed certificate.
func (c *cli) serveCert(certFile, keyFile string) (tls.Certificate, error) {
	if certFile != "" || keyFile != "" {
		if certFile == "" || keyFile == "" {
			return tls.Certificate{}, errors.New("--cert and --key go together")
		}
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return cert, fmt.Errorf("--cert/--key: %w", err)
		}
		return cert, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("no user config folder for the certificate (%v); pass --cert and --key", err)
	}
	cert, file, created, err := proxy.SelfSignedCert(filepath.Join(dir, "socketbar"), time.Now())
	if err != nil {
		return cert, err
	}
	if created {
		fmt.Fprintf(c.stdout, "Created a self-signed certificate: %s\nBrowsers will warn until you trust it; socketbar test needs --insecure or that file.\n", file)
	}
	return cert, nil
}

// configRoutes reads the Service Proxy's routes for the test proxy.
func (c *cli) configRoutes(sf *serverFlags, required bool) ([]proxy.Route, int) {
	srv, err := serverctl.Discover(c.ctx, serverctl.Options{Root: sf.root, ApacheVersion: sf.apacheVersion, HTTPD: sf.httpd})
	var nf *serverctl.NotFoundError
	switch {
	case errors.As(err, &nf) && required:
		fmt.Fprintf(c.stderr, "socketbar serve: no routes to serve: no macOS Server found under %s to take them from.\n"+
			"Give routes with --route, for example --route /ws/=http://127.0.0.1:8000/ws/, or point --root at a Server (or at socketbar demo's folder).\n", nf.Root)
		return nil, exitUsage
	case err != nil && required:
		fmt.Fprintf(c.stderr, "socketbar serve: %v\n", err)
		return nil, exitFailure
	case err != nil:
		return nil, exitOK
	}
	cfg, err := serverctl.ReadConfig(srv.HostPath(srv.ConfigPath))
	if err != nil {
		fmt.Fprintf(c.stderr, "socketbar serve: %v\n", err)
		return nil, exitFailure
	}
	return proxyRoutes(cfg.ServeRoutes()), exitOK
}

// proxyRoutes turns the config's serveable routes into the proxy's.
func proxyRoutes(routes []serverctl.ServeRoute) []proxy.Route {
	var out []proxy.Route
	for _, r := range routes {
		if pr, err := proxy.NewRoute(r.Path, r.Backend); err == nil {
			out = append(out, pr)
		}
	}
	return out
}
