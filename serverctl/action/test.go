package action

import (
	"context"
	"github.com/socketbar/socketbar/serverctl/service"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/socketbar/socketbar/proxy/wstest"
	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/lint"
)

// TestOptions ask for a connection test of one WebSocket URL.
type TestOptions struct {
	URL string
	// Origin is sent as the Origin header (default: the URL's own origin).
	Origin string
	// Header holds extra request headers.
	Header http.Header
	// Insecure accepts a certificate that is not trusted or not for the
	// name (the test still reports it).
	Insecure bool
	// Timeout bounds the whole test (default 10 s).
	Timeout time.Duration
	// Message is sent for the echo step (default: a random token).
	Message string
	// ExpectEcho fails the test unless the message comes back.
	ExpectEcho bool
}

func (o TestOptions) wstest() wstest.Options {
	return wstest.Options{Origin: o.Origin, Header: o.Header, Insecure: o.Insecure, Timeout: o.Timeout, Message: o.Message, ExpectEcho: o.ExpectEcho}
}

// validate refuses what must never reach the wire, with wstest's own
// checks, and says which input was at fault.
func (o TestOptions) validate() error {
	if _, err := wstest.ParseURL(o.URL); err != nil {
		return &serverctl.InputError{Field: serverctl.FieldURL, Msg: err.Error()}
	}
	if err := (wstest.Options{Origin: o.Origin}).Validate(); err != nil {
		return &serverctl.InputError{Field: serverctl.FieldOrigin, Msg: err.Error()}
	}
	if err := (wstest.Options{Header: o.Header}).Validate(); err != nil {
		return &serverctl.InputError{Field: serverctl.FieldHeader, Msg: err.Error()}
	}
	return nil
}

// Test connects to a WebSocket as a browser would and reports each step.
// The error is only for input that was refused before anything was sent.
func (l *Local) Test(ctx context.Context, opts TestOptions) (*wstest.Report, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	return wstest.Run(ctx, opts.URL, opts.wstest()), nil
}

// CheckRouteOptions ask to test one route of the Service Proxy config at
// every tier.
type CheckRouteOptions struct {
	Target Target
	Path   string
	// ProxyAddr is where socketbar serve listens (default 127.0.0.1:8443).
	ProxyAddr string
	// Test carries the test's own options; its URL is ignored.
	Test TestOptions
}

// Tiers of a route check, front to back.
const (
	TierBackend      = "backend"
	TierServiceProxy = "service-proxy"
	TierServe        = "socketbar-serve"
)

// TierResult is one tier of a route check. The Service Proxy tier has one
// result per VirtualHost that has the route (HTTPS and HTTP on a Server),
// VHost naming it.
type TierResult struct {
	Tier    string         `json:"tier"`
	VHost   string         `json:"vhost,omitempty"`
	URL     string         `json:"url"`
	Skipped string         `json:"skipped,omitempty"`
	Report  *wstest.Report `json:"report,omitempty"`
	Note    string         `json:"note,omitempty"`
}

// TierReport says where a route breaks.
type TierReport struct {
	Route serverctl.Route `json:"-"`
	Path  string          `json:"route"`
	OK    bool            `json:"ok"`
	// BreaksAt is the first tier that failed ("" when none did), and
	// BreaksAtVHost its VirtualHost when that tier is the Service Proxy.
	BreaksAt      string       `json:"breaks_at"`
	BreaksAtVHost string       `json:"breaks_at_vhost,omitempty"`
	Tiers         []TierResult `json:"tiers"`
	// Lint holds the findings about the route when the Service Proxy is at fault.
	Lint []lint.Finding `json:"lint,omitempty"`
	// ErrorLog quotes the Service Proxy's error log lines that explain a bare 500.
	ErrorLog []string `json:"error_log,omitempty"`
}

// NoRouteError means the config has no route for the path.
type NoRouteError struct{ Path string }

func (e *NoRouteError) Error() string { return "the Service Proxy config has no route for " + e.Path }

// CheckRoute tests a route straight at its backend, through the Service
// Proxy and through the test proxy (when it runs), and says where it breaks.
func (l *Local) CheckRoute(ctx context.Context, opts CheckRouteOptions) (*TierReport, error) {
	if opts.ProxyAddr == "" {
		opts.ProxyAddr = "127.0.0.1:8443"
	}
	srv, cfg, err := l.load(ctx, opts.Target)
	if err != nil {
		return nil, err
	}
	routes := cfg.Routes()
	rt, ok := pickRoute(routes, opts.Path)
	if !ok {
		return nil, &NoRouteError{Path: opts.Path}
	}
	const byIP = "connected by IP: certificate names are not checked"
	rep := &TierReport{Route: rt, Path: opts.Path, Tiers: []TierResult{{Tier: TierBackend, URL: wsURL(rt.BaseBackend())}}}
	eps := cfg.Endpoints(srv.Job.Defines)
	for _, vr := range routesPerVHost(routes, opts.Path) {
		rep.Tiers = append(rep.Tiers, TierResult{Tier: TierServiceProxy, VHost: vr.VHost, URL: vhostURL(eps, vr), Note: byIP})
	}
	rep.Tiers = append(rep.Tiers, TierResult{Tier: TierServe, URL: "wss://" + opts.ProxyAddr + opts.Path, Note: byIP})
	for i := range rep.Tiers {
		t := &rep.Tiers[i]
		o := opts.Test.wstest()
		o.Insecure = o.Insecure || t.Tier != TierBackend // by loopback address no name can match
		o.Direct = t.Tier == TierBackend
		switch {
		case t.URL == "":
			t.Skipped = "the config has no Listen for the VirtualHost " + t.VHost
			continue
		case t.Tier == TierServe && !listening(ctx, opts.ProxyAddr):
			t.Skipped = "socketbar serve is not running on " + opts.ProxyAddr
			continue
		}
		t.Report = wstest.Run(ctx, t.URL, o)
		if !t.Report.OK && rep.BreaksAt == "" {
			rep.BreaksAt, rep.BreaksAtVHost = t.Tier, t.VHost
		}
	}
	rep.OK = rep.BreaksAt == ""
	if rep.BreaksAt == TierServiceProxy {
		rep.ErrorLog = explainingLogLines(srv.ErrorLogTail(50))
		lines := map[int]bool{rt.Line: true}
		for _, vr := range routesPerVHost(routes, opts.Path) {
			lines[vr.Line] = true
		}
		for _, f := range lint.Check(cfg, lint.Options{Apache: srv.Apache}) {
			if f.File == cfg.Path && (lines[f.Line] || strings.Contains(f.Message, " "+opts.Path+" ")) {
				rep.Lint = append(rep.Lint, f)
			}
		}
	}
	return rep, nil
}

// listening reports whether something accepts connections on addr.
func listening(ctx context.Context, addr string) bool {
	d := net.Dialer{Timeout: time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

// explainingLogLines picks the error log lines that say why Apache sent a
// bare 500 (no handler for the scheme, a failed backend connection).
func explainingLogLines(tail string) []string {
	var lines []string
	for _, line := range strings.Split(tail, "\n") {
		if strings.Contains(line, "AH01144") || strings.Contains(line, "AH00898") || strings.Contains(line, "AH01114") {
			lines = append(lines, strings.TrimSpace(line))
		}
	}
	if len(lines) > 3 {
		lines = lines[len(lines)-3:]
	}
	return lines
}

// wsURL turns an http(s) backend into the ws(s) URL a test dials.
func wsURL(backend string) string {
	u, err := url.Parse(backend)
	if err != nil {
		return backend
	}
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	}
	return u.String()
}

// pickRoute prefers Socketbar's WebSocket route for path, then any
// WebSocket route, then any route.
func pickRoute(routes []serverctl.Route, path string) (serverctl.Route, bool) {
	best, bestScore := serverctl.Route{}, 0
	for _, r := range routes {
		if r.Path != path || r.Shadowed {
			continue
		}
		score := 1
		if r.WebSocket {
			score += 2
		}
		if r.Managed {
			score++
		}
		if score > bestScore {
			best, bestScore = r, score
		}
	}
	return best, bestScore > 0
}

// routesPerVHost is the route for path in each VirtualHost that has one
// (pickRoute's choice there), in the config's order.
func routesPerVHost(routes []serverctl.Route, path string) []serverctl.Route {
	var order []string
	byVHost := map[string][]serverctl.Route{}
	for _, r := range routes {
		if r.Path != path {
			continue
		}
		if _, seen := byVHost[r.VHost]; !seen {
			order = append(order, r.VHost)
		}
		byVHost[r.VHost] = append(byVHost[r.VHost], r)
	}
	var out []serverctl.Route
	for _, vh := range order {
		if r, ok := pickRoute(byVHost[vh], path); ok {
			out = append(out, r)
		}
	}
	return out
}

// vhostURL is where the Service Proxy answers a route in its own
// VirtualHost: the endpoint on that VirtualHost's port, "" when nothing
// listens there. A route outside every VirtualHost (Apache merges those
// into each one) is tested where RouteURL says.
func vhostURL(eps []service.Endpoint, rt serverctl.Route) string {
	if !strings.Contains(rt.VHost, ":") {
		return RouteURL(eps, rt)
	}
	port := rt.VHost[strings.LastIndexByte(rt.VHost, ':')+1:]
	for _, e := range eps {
		if _, p, _ := net.SplitHostPort(e.Addr); p == port {
			if e.TLS {
				return "wss://" + e.Addr + rt.Path
			}
			return "ws://" + e.Addr + rt.Path
		}
	}
	return ""
}

// RouteURL is where the Service Proxy answers a route, by loopback
// address: the endpoint on the route's VirtualHost port, else the first
// TLS endpoint; "" when the config listens nowhere.
func RouteURL(eps []service.Endpoint, rt serverctl.Route) string {
	port := rt.VHost[strings.LastIndexByte(rt.VHost, ':')+1:]
	var fallback string
	for _, e := range eps {
		_, p, _ := net.SplitHostPort(e.Addr)
		scheme := "ws://"
		if e.TLS {
			scheme = "wss://"
		}
		if p == port {
			return scheme + e.Addr + rt.Path
		}
		if fallback == "" && e.TLS {
			fallback = scheme + e.Addr + rt.Path
		}
	}
	return fallback
}
