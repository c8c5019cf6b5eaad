package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/socketbar/socketbar/serverctl/action"
)

var serveCommand = command{
	name: "serve", summary: "Run a test proxy for WebSocket routes, without touching the Server.",
	help: `Socketbar's own reverse proxy: HTTPS on --addr, serving the Service Proxy's routes
(from --root) and/or the --route flags, longest path first, with the client's headers
passed on (Host, Origin, Cookie, Referer kept; X-Forwarded-For, -Proto, -Host added).
Stop it with Ctrl-C: WebSockets are closed with code 1001.`,
	flags: func(c *cli, fs *flag.FlagSet) func([]string) error {
		t := c.targetFlags(fs, withRoot)
		addr := new(string)
		addrVar(fs, addr, "addr", action.DefaultProxyAddr, true, "`HOST:PORT` to listen on")
		var routes listFlag
		fs.Var(&routes, "route", "`PATH=BACKEND` to serve (repeatable), e.g. /ws/=http://127.0.0.1:8000/ws/")
		certFile := fs.String("cert", "", "TLS certificate `FILE` (PEM); default: a self-signed one kept in the user's config folder")
		keyFile := fs.String("key", "", "TLS private key `FILE` (PEM) for --cert")
		var idle time.Duration
		durationVar(fs, &idle, "idle-timeout", 0, true, "close a WebSocket after this long without a message (`DURATION`; default: never)")
		return func([]string) error {
			rootGiven := c.getenv("SOCKETBAR_ROOT") != ""
			fs.Visit(func(f *flag.Flag) { rootGiven = rootGiven || f.Name == "root" })
			tp, err := c.actions.StartTestProxy(c.ctx, action.ServeOptions{Target: *t, UseServer: len(routes) == 0 || rootGiven,
				Routes: routes, Addr: *addr, CertFile: *certFile, KeyFile: *keyFile, IdleTimeout: idle, Log: c.stderr})
			if err != nil {
				return err
			}
			if tp.CertCreated != "" {
				fmt.Fprintf(c.stdout, "Created a self-signed certificate: %s\nBrowsers will warn until you trust it; socketbar test needs --insecure or that file.\n", tp.CertCreated)
			}
			fmt.Fprintf(c.stdout, "Listening on %s\n", tp.URL())
			for _, r := range tp.Routes() {
				fmt.Fprintf(c.stdout, "  %s\n", r)
			}
			fmt.Fprintln(c.stdout, "Press Ctrl-C to stop.")
			select {
			case <-c.ctx.Done():
			case <-tp.Done():
			}
			if err := tp.Stop(); err != nil {
				return err
			}
			fmt.Fprintln(c.stdout, "Stopped.")
			return nil
		}
	},
}
