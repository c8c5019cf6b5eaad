package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/socketbar/socketbar/serverctl/action"
)

const demoHelp = `A Server-shaped folder whose Service Proxy (the local Apache httpd, on free loopback
ports) forwards to a Websites tier, plus a WebSocket echo app to route to. Point the
other commands at it with --root DIR or SOCKETBAR_ROOT=DIR. Ctrl-C stops it.`

// DemoOptions are the options of socketbar demo.
type DemoOptions struct {
	// Dir holds the demo Server; "" is socketbar/demo in the user's
	// config folder.
	Dir string
	// Reset starts again from a fresh demo tree.
	Reset bool
}

func bindDemo(e *Env, fs *flag.FlagSet) runFunc {
	opts := &DemoOptions{}
	fs.StringVar(&opts.Dir, "dir", "", "`DIR` for the demo Server (default: socketbar/demo in the user's config folder)")
	fs.BoolVar(&opts.Reset, "reset", false, "start again from a fresh demo tree (your demo routes are lost)")
	return func(ctx context.Context, _ []string) error { return demoRun(ctx, e, opts) }
}

// demoRun starts the demo Server and runs it until ctx ends.
func demoRun(ctx context.Context, e *Env, opts *DemoOptions) error {
	d, err := e.Actions.StartDemo(ctx, action.DemoOptions{Dir: opts.Dir, Reset: opts.Reset, SSHD: action.DefaultSSHD})
	if errors.Is(err, action.ErrNoHTTPD) {
		fmt.Fprintf(e.Stdout, "The demo Server is at %s, but no Apache httpd is installed here, so it cannot run.\n"+
			"status, routes, lint and add --dry-run work on it (SOCKETBAR_ROOT=%s); to run it, install apache2 (Debian) and start socketbar demo again.\n", d.Root, d.Root)
		return errReported
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.Stdout, `The demo Server runs in %[1]s
  Service Proxy:      %[2]s (TLS, self-signed) and %[3]s
  Custom website:     %[8]s (its own VirtualHost, as a site with its own domain has)
  Websites tier:      127.0.0.1:%[4]d and 127.0.0.1:%[5]d (behind the Service Proxy)
  WebSocket echo app: %[6]s

Try, in another terminal:
  export SOCKETBAR_ROOT=%[1]q
  socketbar test --insecure wss://127.0.0.1:%[7]d/echo/     # fails: no route yet
  socketbar add /echo/ %[6]s     # every site
  socketbar test --insecure wss://127.0.0.1:%[7]d/echo/     # works
  socketbar test --insecure wss://%[8]s:%[7]d/echo/ --connect 127.0.0.1:%[7]d   # the custom site
`, d.Root, d.HTTPSURL, d.HTTPURL, d.WebsitesHTTP, d.WebsitesHTTPS, d.EchoURL, d.HTTPS, d.CustomSite)
	printDemoSSH(e, d)
	fmt.Fprintln(e.Stdout, "Press Ctrl-C to stop the demo.")
	<-ctx.Done()
	stopCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := d.Stop(stopCtx); err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	fmt.Fprintln(e.Stdout, "Stopped the demo.")
	return nil
}

// printDemoSSH says how to reach the demo over SSH, as a Server is reached
// from an admin's Mac, or in one line why it cannot be.
func printDemoSSH(e *Env, d *action.Demo) {
	switch {
	case d.SSH == nil && errors.Is(d.SSHErr, action.ErrNoSSHD):
		fmt.Fprintf(e.Stdout, "\nTo try the demo over SSH too (--host): %s; install it and start the demo again.\n", action.Text(d.SSHErr))
		return
	case d.SSH == nil && d.SSHErr != nil:
		fmt.Fprintf(e.Stdout, "\nThe demo runs without SSH: %s\n", action.Text(d.SSHErr))
		return
	case d.SSH == nil:
		return
	}
	s := d.SSH
	fmt.Fprintf(e.Stdout, `
Over SSH, as you would manage a Server from your Mac: an sshd on 127.0.0.1:%d lets you in
with the demo's own key (its host key is in the demo's known_hosts, not yours).
Paste into ~/.ssh/config (the Port changes each time the demo starts):
%s
then try:
  %s
`, s.Port, indent(s.HostBlock, "  "), s.Try)
	if s.TryWithoutConfig == "" {
		fmt.Fprintf(e.Stdout, "(SOCKETBAR_SSH cannot name %s, whose path has a space or a quote: paste the lines above, or start the demo with --dir elsewhere.)\n", s.ConfigFile)
		return
	}
	fmt.Fprintf(e.Stdout, "or, without editing ~/.ssh/config:\n  %s\n", s.TryWithoutConfig)
}

// indent puts prefix before each line of text and drops its last newline.
func indent(text, prefix string) string {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	return prefix + strings.Join(lines, "\n"+prefix)
}
