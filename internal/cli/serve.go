package cli

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/socketbar/socketbar/serverctl/action"
)

const serveHelp = `Socketbar's own reverse proxy: HTTPS on --addr, serving the Service Proxy's routes
(from --root) and/or the --route flags, longest path first, with the client's headers
passed on (Host, Origin, Cookie, Referer kept; X-Forwarded-For, -Proto, -Host added).
Stop it with Ctrl-C: WebSockets are closed with code 1001.`

// ServeOptions are the options of socketbar serve.
type ServeOptions struct {
	Target action.Target
	// RootGiven says the Server was named (--root or SOCKETBAR_ROOT): its
	// routes are served besides Routes. Without Routes they are served anyway.
	RootGiven bool
	// Addr is the HOST:PORT to listen on.
	Addr string
	// Routes are PATH=BACKEND routes to serve (--route).
	Routes   []string
	CertFile string
	KeyFile  string
	// IdleTimeout closes a WebSocket after this long without a message;
	// 0 means never.
	IdleTimeout time.Duration
}

func bindServe(e *Env, fs *flag.FlagSet) runFunc {
	opts := &ServeOptions{}
	targetFlags(e, fs, &opts.Target, withRoot)
	fs.StringVar(&opts.Addr, "addr", action.DefaultProxyAddr, "`HOST:PORT` to listen on (port 0: any free port)")
	fs.Var((*listFlag)(&opts.Routes), "route", "`PATH=BACKEND` to serve (repeatable), e.g. /ws/=http://127.0.0.1:8000/ws/")
	fs.StringVar(&opts.CertFile, "cert", "", "TLS certificate `FILE` (PEM); default: a self-signed one kept in the user's config folder")
	fs.StringVar(&opts.KeyFile, "key", "", "TLS private key `FILE` (PEM) for --cert")
	durationVar(fs, &opts.IdleTimeout, "idle-timeout", 0, true, "close a WebSocket after this long without a message (`DURATION`; default: never)")
	return func(ctx context.Context, _ []string) error {
		opts.RootGiven = e.getenv("SOCKETBAR_ROOT") != ""
		fs.Visit(func(f *flag.Flag) { opts.RootGiven = opts.RootGiven || f.Name == "root" })
		return serveRun(ctx, e, opts)
	}
}

// serveRun runs the test proxy until ctx ends or the proxy stops.
func serveRun(ctx context.Context, e *Env, opts *ServeOptions) error {
	tp, err := e.Actions.StartTestProxy(ctx, action.ServeOptions{Target: opts.Target, UseServer: len(opts.Routes) == 0 || opts.RootGiven,
		Routes: opts.Routes, Addr: opts.Addr, CertFile: opts.CertFile, KeyFile: opts.KeyFile, IdleTimeout: opts.IdleTimeout, Log: e.Stderr})
	if err != nil {
		return err
	}
	if tp.CertCreated != "" {
		fmt.Fprintf(e.Stdout, "Created a self-signed certificate: %s\nBrowsers will warn until you trust it; socketbar test needs --insecure or that file.\n", tp.CertCreated)
	}
	fmt.Fprintf(e.Stdout, "Listening on %s\n", tp.URL())
	for _, r := range tp.Routes() {
		fmt.Fprintf(e.Stdout, "  %s\n", r)
	}
	fmt.Fprintln(e.Stdout, "Press Ctrl-C to stop.")
	select {
	case <-ctx.Done():
	case <-tp.Done():
	}
	if err := tp.Stop(); err != nil {
		return err
	}
	fmt.Fprintln(e.Stdout, "Stopped.")
	return nil
}
