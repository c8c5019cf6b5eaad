package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/socketbar/socketbar/proxy/wstest"
	"github.com/socketbar/socketbar/serverctl"
)

// headerList is a repeatable -H 'Name: value' flag.
type headerList struct{ h http.Header }

func (l *headerList) String() string { return "" }

func (l *headerList) Set(s string) error {
	name, value, ok := strings.Cut(s, ":")
	name = strings.TrimSpace(name)
	if !ok || name == "" || strings.ContainsAny(name, " \t\r\n") || strings.ContainsAny(value, "\r\n") {
		return fmt.Errorf("write a header as 'Name: value'")
	}
	if l.h == nil {
		l.h = http.Header{}
	}
	l.h.Add(name, strings.TrimSpace(value))
	return nil
}

func (c *cli) wstest(args []string) int {
	fs := c.flags("test", "URL [flags] | --route PATH [--root DIR] [flags]",
		`Connect to a WebSocket as a browser would and report each step with its timing —
DNS, TCP, TLS, the upgrade, an echo, ping/pong, the close — then say in plain words
what is wrong and how to fix it. Exits 0 only when the connection works.

With --route PATH, test the route three ways: straight to its backend, through the
Service Proxy, and through socketbar serve if it runs; and say at which tier it breaks.`)
	sf := c.addServerFlags(fs)
	var hdr headerList
	fs.Var(&hdr, "H", "extra request header 'Name: value' (repeatable)")
	origin := fs.String("origin", "", "Origin header (default: the URL's own origin)")
	insecure := fs.Bool("insecure", false, "accept a certificate that is not trusted or not for this name (still reported)")
	timeout := fs.Duration("timeout", 10*time.Second, "time for the whole test")
	message := fs.String("message", "", "message for the echo step (default: a random token)")
	expectEcho := fs.Bool("expect-echo", false, "fail unless the message comes back")
	asJSON := fs.Bool("json", false, "print JSON")
	route := fs.String("route", "", "test this route of the Service Proxy config at every tier")
	proxyAddr := fs.String("proxy-addr", "127.0.0.1:8443", "where socketbar serve listens, for --route")
	pos, code, done := c.parse(fs, args, 0, 1)
	if done {
		return code
	}
	opts := wstest.Options{Origin: *origin, Header: hdr.h, Insecure: *insecure, Timeout: *timeout, Message: *message, ExpectEcho: *expectEcho}
	switch {
	case *route != "" && len(pos) == 0:
		return c.tierCheck(sf, *route, *proxyAddr, opts, *asJSON)
	case *route != "" || len(pos) != 1:
		fmt.Fprintln(c.stderr, "socketbar test: give either a URL or --route PATH.")
		fs.Usage()
		return exitUsage
	}
	if _, err := wstest.ParseURL(pos[0]); err != nil {
		fmt.Fprintf(c.stderr, "socketbar test: URL %v.\n", err)
		return exitUsage
	}
	r := wstest.Run(c.ctx, pos[0], opts)
	if *asJSON {
		c.writeJSON(r)
	} else {
		printReport(c.stdout, r, "")
	}
	if !r.OK {
		return exitFailure
	}
	return exitOK
}

// printReport writes a report as a checklist with the diagnosis.
func printReport(w io.Writer, r *wstest.Report, indent string) {
	fmt.Fprintf(w, "%sTesting %s\n", indent, r.URL)
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

// tierResult is one tier of a --route check.
type tierResult struct {
	Tier    string          `json:"tier"`
	URL     string          `json:"url"`
	Skipped string          `json:"skipped,omitempty"`
	Report  *wstest.Report  `json:"report,omitempty"`
	Note    string          `json:"note,omitempty"`
	route   serverctl.Route // the route tested
}

// tierCheck tests a route straight at its backend, through the Service
// Proxy and through the embedded proxy, and says where it breaks.
func (c *cli) tierCheck(sf *serverFlags, path, proxyAddr string, opts wstest.Options, asJSON bool) int {
	srv, cfg, code := c.loadConfig(sf)
	if cfg == nil {
		return code
	}
	rt, ok := pickRoute(cfg.Routes(), path)
	if !ok {
		fmt.Fprintf(c.stderr, "socketbar test: the Service Proxy config has no route for %s; see socketbar routes.\n", path)
		return exitFailure
	}
	backend := rt.Backend
	if i := strings.IndexByte(backend, '$'); i >= 0 {
		backend = backend[:i]
	}
	direct := backend
	if u, err := url.Parse(backend); err == nil {
		switch u.Scheme {
		case "http":
			u.Scheme = "ws"
		case "https":
			u.Scheme = "wss"
		}
		direct = u.String()
	}
	front := frontURL(cfg.Endpoints(srv.Job.Defines), rt, path)
	tiers := []tierResult{
		{Tier: "backend", URL: direct},
		{Tier: "service-proxy", URL: front, Note: "connected by IP: certificate names are not checked"},
		{Tier: "socketbar-serve", URL: "wss://" + proxyAddr + path, Note: "connected by IP: certificate names are not checked"},
	}
	breaksAt := ""
	for i := range tiers {
		t := &tiers[i]
		o := opts
		if t.Tier != "backend" {
			o.Insecure = true // reached by loopback address, so no name can match
		}
		if t.Tier == "socketbar-serve" {
			if conn, err := net.DialTimeout("tcp", proxyAddr, time.Second); err != nil {
				t.Skipped = "socketbar serve is not running on " + proxyAddr
				continue
			} else {
				conn.Close()
			}
		}
		if t.URL == "" {
			t.Skipped = "the config has no Listen for the route's VirtualHost"
			continue
		}
		t.Report = wstest.Run(c.ctx, t.URL, o)
		if !t.Report.OK && breaksAt == "" {
			breaksAt = t.Tier
		}
	}
	summary := map[string]string{
		"":                "The route works at every tier that was tested.",
		"backend":         "It breaks at the app itself: fix the backend before the proxies (they can only pass on what it answers).",
		"service-proxy":   "The app works, but not through the Service Proxy: the problem is in apache_serviceproxy.conf.",
		"socketbar-serve": "The app and the Service Proxy work; only the test proxy fails.",
	}[breaksAt]
	// Apache keeps the reason for a bare 500 in its error log: quote it.
	var logLines []string
	if breaksAt == "service-proxy" {
		for _, line := range strings.Split(srv.ErrorLogTail(50), "\n") {
			if strings.Contains(line, "AH01144") || strings.Contains(line, "AH00898") || strings.Contains(line, "AH01114") {
				logLines = append(logLines, strings.TrimSpace(line))
			}
		}
		if len(logLines) > 3 {
			logLines = logLines[len(logLines)-3:]
		}
	}
	var findings []serverctl.Finding
	if breaksAt == "service-proxy" {
		for _, f := range cfg.Lint(serverctl.LintOptions{Apache: srv.Apache}) {
			if f.File == cfg.Path && (f.Line == rt.Line || strings.Contains(f.Message, " "+path+" ")) {
				findings = append(findings, f)
			}
		}
	}
	if asJSON {
		c.writeJSON(struct {
			Route    string              `json:"route"`
			OK       bool                `json:"ok"`
			BreaksAt string              `json:"breaks_at"`
			Summary  string              `json:"summary"`
			Tiers    []tierResult        `json:"tiers"`
			Lint     []serverctl.Finding `json:"lint,omitempty"`
			ErrorLog []string            `json:"error_log,omitempty"`
		}{path, breaksAt == "", breaksAt, summary, tiers, findings, logLines})
	} else {
		fmt.Fprintf(c.stdout, "Route %s → %s (%s, line %d)\n\n", path, rt.Backend, rt.VHost, rt.Line)
		for _, t := range tiers {
			fmt.Fprintf(c.stdout, "[%s]\n", t.Tier)
			if t.Skipped != "" {
				fmt.Fprintf(c.stdout, "  skipped: %s\n\n", t.Skipped)
				continue
			}
			printReport(c.stdout, t.Report, "  ")
			fmt.Fprintln(c.stdout)
		}
		fmt.Fprintln(c.stdout, summary)
		for _, f := range findings {
			fmt.Fprintf(c.stdout, "Line %d: %s\n  fix: %s\n", f.Line, f.Message, f.Fix)
		}
		if len(logLines) > 0 {
			fmt.Fprintf(c.stdout, "The Service Proxy's error log says:\n  %s\n", strings.Join(logLines, "\n  "))
		}
	}
	if breaksAt != "" {
		return exitFailure
	}
	return exitOK
}

// pickRoute prefers Socketbar's WebSocket route for path, then any
// WebSocket route, then any route.
func pickRoute(routes []serverctl.Route, path string) (serverctl.Route, bool) {
	var best *serverctl.Route
	score := func(r serverctl.Route) int {
		s := 1
		if r.WebSocket {
			s += 2
		}
		if r.Managed {
			s++
		}
		return s
	}
	for i := range routes {
		r := routes[i]
		if r.Path != path || r.Shadowed {
			continue
		}
		if best == nil || score(r) > score(*best) {
			best = &routes[i]
		}
	}
	if best == nil {
		return serverctl.Route{}, false
	}
	return *best, true
}

// frontURL is where the Service Proxy answers the route: the TLS endpoint
// on the route's VirtualHost port when there is one.
func frontURL(eps []serverctl.Endpoint, rt serverctl.Route, path string) string {
	port := ""
	if i := strings.LastIndexByte(rt.VHost, ':'); i >= 0 {
		port = rt.VHost[i+1:]
	}
	var fallback string
	for _, e := range eps {
		_, p, _ := net.SplitHostPort(e.Addr)
		scheme := "ws://"
		if e.TLS {
			scheme = "wss://"
		}
		if p == port {
			return scheme + e.Addr + path
		}
		if fallback == "" && e.TLS {
			fallback = scheme + e.Addr + path
		}
	}
	return fallback
}
