package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/socketbar/socketbar/proxy"
	"github.com/socketbar/socketbar/serverctl/demo"
)

// demoDir is where the demo tree lives by default.
func demoDir() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no user config folder (%v); pass --dir", err)
	}
	return filepath.Join(dir, "socketbar", "demo"), nil
}

func (c *cli) demo(args []string) int {
	fs := c.flags("demo", "[--dir DIR] [--reset]",
		`Run a stand-in for macOS Server 5 on this machine, so Socketbar can be tried for real:
a Server-shaped folder whose Service Proxy (the local Apache httpd, on free loopback
ports) forwards to a Websites tier, plus a WebSocket echo app to route to. Point the
other commands at it with --root DIR or SOCKETBAR_ROOT=DIR. Ctrl-C stops it.`)
	dir := fs.String("dir", "", "folder for the demo Server (default: socketbar/demo in the user's config folder)")
	reset := fs.Bool("reset", false, "start again from a fresh demo tree (your demo routes are lost)")
	if _, code, done := c.parse(fs, args, 0, 0); done {
		return code
	}
	if *dir == "" {
		d, err := demoDir()
		if err != nil {
			fmt.Fprintf(c.stderr, "socketbar demo: %v\n", err)
			return exitFailure
		}
		*dir = d
	}
	if *reset {
		if st, err := demo.Load(*dir); err == nil {
			st.Stop(c.ctx)
		}
		os.RemoveAll(*dir)
	}
	st, err := demo.Prepare(c.ctx, *dir)
	if err != nil {
		fmt.Fprintf(c.stderr, "socketbar demo: %v\n", err)
		return exitFailure
	}
	if st.HTTPD == nil {
		fmt.Fprintf(c.stdout, "The demo Server is at %s, but no Apache httpd is installed here, so it cannot run.\n"+
			"status, routes, lint and add --dry-run work on it (SOCKETBAR_ROOT=%s); to run it, install apache2 (Debian) and start socketbar demo again.\n", st.Root, st.Root)
		return exitFailure
	}
	echo, err := proxy.ServeEcho(fmt.Sprintf("127.0.0.1:%d", st.EchoPort))
	if err != nil {
		fmt.Fprintf(c.stderr, "socketbar demo: start the echo app on port %d: %v (try socketbar demo --reset)\n", st.EchoPort, err)
		return exitFailure
	}
	defer echo.Close()
	if err := st.Start(c.ctx); err != nil {
		fmt.Fprintf(c.stderr, "socketbar demo: %v\nIf a port is taken, socketbar demo --reset picks new ones.\n", err)
		return exitFailure
	}
	fmt.Fprintf(c.stdout, `The demo Server runs in %[1]s
  Service Proxy:     %[2]s (TLS, self-signed) and %[3]s
  Websites tier:     127.0.0.1:%[4]d and 127.0.0.1:%[5]d (behind the Service Proxy)
  WebSocket echo app: %[6]s

Try, in another terminal:
  export SOCKETBAR_ROOT=%[1]q
  socketbar test --insecure wss://127.0.0.1:%[7]d/echo/     # fails: no route yet
  socketbar add /echo/ %[6]s
  socketbar test --insecure wss://127.0.0.1:%[7]d/echo/     # works
Press Ctrl-C to stop the demo.
`, st.Root, st.HTTPSURL(), st.HTTPURL(), st.WebsitesHTTP, st.WebsitesHTTPS, st.EchoURL(), st.HTTPS)
	<-c.ctx.Done()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := st.Stop(ctx); err != nil {
		fmt.Fprintf(c.stderr, "socketbar demo: stop: %v\n", err)
		return exitFailure
	}
	fmt.Fprintln(c.stdout, "Stopped the demo.")
	return exitOK
}
