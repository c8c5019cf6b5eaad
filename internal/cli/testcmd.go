package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/socketbar/socketbar/proxy/wstest"
	"github.com/socketbar/socketbar/serverctl/action"
)

const testHelp = `Connects to a WebSocket as a browser would and reports each step with its timing —
DNS, TCP, TLS, the upgrade, an echo, ping/pong, the close — then says in plain words
what is wrong and how to fix it. Exits 0 only when the connection works.

With --connect HOST:PORT the test dials that address while the URL's name still goes
in TLS SNI and the Host header (like curl's --connect-to): a site's VirtualHost can be
tested on the Server before DNS points the name at it, e.g.
  socketbar test wss://chat.example.com/chat/stream/ --connect 127.0.0.1:443
When the test reaches this Server, an Apache 404 is explained by the site whose
VirtualHost answered and whether that site has the route.

With --route PATH instead of a URL, tests the route at every tier: straight to its
backend, through each Service Proxy VirtualHost that has it (HTTPS and HTTP; on a
Server with websites of its own, each site by its name), and through socketbar serve
if it runs; and says at which tier it breaks. --connect then replaces the address of
the Service Proxy's VirtualHosts on its port.

With --via [USER@]HOST[:PORT] (or an alias from ~/.ssh/config; SOCKETBAR_SSH is the
ssh to use) the same test is also made from that Server's side: its sshd looks up the
name and makes each connection (as ssh -W does), and TLS, the upgrade and the frames
run through SSH as from here. Both results are shown; when the URL works from the
Server but not from here, the diagnosis names what is between (DNS, a firewall or NAT,
another proxy). Exits 0 only when the connection works from both ends.`

// TestOptions are the options of socketbar test: a URL to test, or a
// route of the Service Proxy config to test at every tier.
type TestOptions struct {
	Target action.Target
	URL    string
	// Route is the path of a route to test at every tier (--route).
	Route string
	// ProxyAddr is where socketbar serve listens, for Route.
	ProxyAddr string
	// Header holds the extra headers as given, one "Name: value" each (-H).
	Header     []string
	Origin     string
	Insecure   bool
	Timeout    time.Duration
	Message    string
	ExpectEcho bool
	// Connect is the HOST:PORT to dial instead of the URL's host.
	Connect string
	// Via is the Server to make the test from as well (--via).
	Via  string
	JSON bool
}

func bindTest(e *Env, fs *flag.FlagSet) runFunc {
	opts := &TestOptions{}
	targetFlags(e, fs, &opts.Target, withRoot|withHost)
	fs.Var((*listFlag)(&opts.Header), "H", "extra request header `'Name: value'` (repeatable)")
	fs.StringVar(&opts.Origin, "origin", "", "`ORIGIN` header to send (default: the URL's own origin)")
	fs.BoolVar(&opts.Insecure, "insecure", false, "accept a certificate that is not trusted or not for this name (still reported)")
	durationVar(fs, &opts.Timeout, "timeout", 10*time.Second, false, "time for the whole test (`DURATION`)")
	fs.StringVar(&opts.Message, "message", "", "`TEXT` for the echo step (default: a random token)")
	fs.BoolVar(&opts.ExpectEcho, "expect-echo", false, "fail unless the message comes back")
	fs.StringVar(&opts.Connect, "connect", "", "dial `HOST:PORT` instead of the URL's host (IPv6 in brackets); the URL's name still goes in TLS SNI and Host")
	fs.StringVar(&opts.Via, "via", "", "also test from the Server `[USER@]HOST[:PORT]` (or an ~/.ssh/config alias) through SSH, and compare")
	jsonFlag(fs, &opts.JSON)
	fs.StringVar(&opts.Route, "route", "", "test this route `PATH` of the Service Proxy config at every tier")
	fs.StringVar(&opts.ProxyAddr, "proxy-addr", action.DefaultProxyAddr, "`HOST:PORT` where socketbar serve listens, for --route")
	return func(ctx context.Context, pos []string) error {
		if len(pos) > 0 {
			opts.URL = pos[0]
		}
		if opts.URL != "" && opts.Via == "" && flagGiven(fs, "host") {
			// A URL is tested from here; only --via tests it from a Server.
			return usageErrorf("--host names the Server of --route; to test the URL from the Server's side too, use --via %s", opts.Target.Host)
		}
		return testRun(ctx, e, opts)
	}
}

// testRun tests the URL or the route; it returns errReported, for exit 1,
// when the test fails.
func testRun(ctx context.Context, e *Env, opts *TestOptions) error {
	if (opts.Route == "") == (opts.URL == "") {
		return usageErrorf("give either a URL or --route PATH")
	}
	header, err := action.ParseHeaders(opts.Header)
	if err != nil {
		return err
	}
	to := action.TestOptions{Origin: opts.Origin, Header: header, Insecure: opts.Insecure, Timeout: opts.Timeout, Message: opts.Message, ExpectEcho: opts.ExpectEcho, Connect: opts.Connect}
	if opts.Route != "" && opts.Via != "" {
		return usageErrorf("--via tests a URL from both ends; give the URL of the route instead of --route")
	}
	if opts.Via != "" {
		to.URL, to.Target, to.Via = opts.URL, opts.Target, opts.Via
		return testBothEnds(ctx, e, to, opts.JSON)
	}
	if opts.Route != "" {
		return checkRoute(ctx, e, action.CheckRouteOptions{Target: opts.Target, Path: opts.Route, ProxyAddr: opts.ProxyAddr, Test: to}, opts.JSON)
	}
	to.URL, to.Target = opts.URL, opts.Target
	r, err := e.Actions.Test(ctx, to)
	if err != nil {
		return err
	}
	if opts.JSON {
		if err := e.writeJSON(r); err != nil {
			return err
		}
	} else {
		printReport(e.Stdout, r, "")
	}
	if !r.OK {
		return errReported
	}
	return nil
}

// testBothEnds tests the URL from here and from the Server opts.Via names,
// prints both results and what they mean together, and returns
// errReported unless it works from both ends.
func testBothEnds(ctx context.Context, e *Env, opts action.TestOptions, asJSON bool) error {
	b, err := e.Actions.TestBothEnds(ctx, opts)
	var he *action.HostError
	if errors.As(err, &he) {
		return usageErrorf("--via %q: the %s %q %s; %s. Nothing was run.", he.Input, he.Field, he.Value, he.Problem, he.Fix)
	}
	if err != nil {
		return err
	}
	if asJSON {
		if err := e.writeJSON(b); err != nil {
			return err
		}
	} else {
		printBothEnds(e.Stdout, b)
	}
	if !b.OK {
		return errReported
	}
	return nil
}

// printBothEnds writes the test from here and the one from the Server,
// each as a checklist, then what the two say together.
func printBothEnds(w io.Writer, b *action.BothEnds) {
	fmt.Fprintln(w, "[from here]")
	printReport(w, b.Here, "  ")
	fmt.Fprintf(w, "\n[from %s, through SSH]\n", orWords(b.Server.From, "the Server "+b.Via))
	printReport(w, b.Server, "  ")
	fmt.Fprintln(w)
	if b.OK {
		fmt.Fprintln(w, b.Diagnosis.Message)
		return
	}
	fmt.Fprintf(w, "Problem (%s): %s\n", b.Diagnosis.Cause, b.Diagnosis.Message)
	if b.Diagnosis.Fix != "" {
		fmt.Fprintf(w, "Fix: %s\n", b.Diagnosis.Fix)
	}
}

func orWords(s, instead string) string {
	if s != "" {
		return s
	}
	return instead
}

// printReport writes a report as a checklist with the diagnosis.
func printReport(w io.Writer, r *wstest.Report, indent string) {
	if r.Connect != "" {
		fmt.Fprintf(w, "%sTesting %s, connecting to %s\n", indent, r.URL, r.Connect)
	} else {
		fmt.Fprintf(w, "%sTesting %s\n", indent, r.URL)
	}
	for _, s := range r.Steps {
		mark := "✓"
		if !s.OK {
			mark = "✗"
		}
		fmt.Fprintf(w, "%s  %s %-8s %8.1f ms  %s\n", indent, mark, s.Name, s.MS, s.Detail)
	}
	if r.OK {
		fmt.Fprintf(w, "%s%s\n", indent, r.Diagnosis.Message)
		return
	}
	fmt.Fprintf(w, "%sProblem (%s): %s\n", indent, r.Diagnosis.Cause, r.Diagnosis.Message)
	if r.Diagnosis.Fix != "" {
		fmt.Fprintf(w, "%sFix: %s\n", indent, r.Diagnosis.Fix)
	}
}

// tierSummary says in one sentence where a route breaks.
var tierSummary = map[string]string{
	"":                      "The route works at every tier that was tested.",
	action.TierBackend:      "It breaks at the app itself: fix the backend before the proxies (they can only pass on what it answers).",
	action.TierServiceProxy: "The app works, but not through the Service Proxy: the problem is in apache_serviceproxy.conf.",
	action.TierServe:        "The app and the Service Proxy work; only the test proxy fails.",
}

func checkRoute(ctx context.Context, e *Env, opts action.CheckRouteOptions, asJSON bool) error {
	rep, err := e.Actions.CheckRoute(ctx, opts)
	if err != nil {
		return err
	}
	summary := tierSummary[rep.BreaksAt]
	switch {
	case rep.BreaksAt == action.TierServiceProxy && rep.BreaksAtSite != "":
		summary = fmt.Sprintf("The app works, but not through %s's VirtualHost %s in the Service Proxy.", rep.BreaksAtSite, rep.BreaksAtVHost)
	case rep.BreaksAt == action.TierServiceProxy && rep.BreaksAtVHost != "":
		summary = fmt.Sprintf("The app works, but not through the Service Proxy's VirtualHost %s: the problem is in apache_serviceproxy.conf.", rep.BreaksAtVHost)
	}
	var bySite bool
	var without []string
	for _, t := range rep.Tiers {
		bySite = bySite || t.Site != ""
		if t.NoRoute {
			name := t.Site
			if name == "" {
				name = "the default hosts"
			}
			without = append(without, name)
		}
	}
	if len(without) > 0 {
		summary += fmt.Sprintf(" Sites without the route: %s (their requests for %s go to the Websites tier).", strings.Join(without, ", "), rep.Path)
	}
	if asJSON {
		if err := e.writeJSON(struct {
			*action.TierReport
			Summary string `json:"summary"`
		}{rep, summary}); err != nil {
			return err
		}
	} else {
		rt := rep.Route
		fmt.Fprintf(e.Stdout, "Route %s → %s (%s, line %d)\n\n", rep.Path, rt.Backend, rt.VHost, rt.Line)
		for _, t := range rep.Tiers {
			head := t.Tier
			if t.VHost != "" {
				head += ", VirtualHost " + t.VHost
			}
			switch {
			case t.Site != "":
				head += ", site " + t.Site
			case t.Tier == action.TierServiceProxy && bySite:
				head += ", the default hosts"
			}
			fmt.Fprintf(e.Stdout, "[%s]\n", head)
			if t.Skipped != "" {
				fmt.Fprintf(e.Stdout, "  skipped: %s\n\n", t.Skipped)
				continue
			}
			printReport(e.Stdout, t.Report, "  ")
			fmt.Fprintln(e.Stdout)
		}
		fmt.Fprintln(e.Stdout, summary)
		for _, f := range rep.Lint {
			fmt.Fprintf(e.Stdout, "Line %d: %s\n  fix: %s\n", f.Line, f.Message, f.Fix)
		}
		if len(rep.ErrorLog) > 0 {
			fmt.Fprintf(e.Stdout, "The Service Proxy's error log says:\n  %s\n", strings.Join(rep.ErrorLog, "\n  "))
		}
	}
	if !rep.OK {
		return errReported
	}
	return nil
}
