package action

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/socketbar/socketbar/internal/validate"
	"github.com/socketbar/socketbar/proxy/wstest"
	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/lint"
	"github.com/socketbar/socketbar/serverctl/service"
)

// CheckRouteOptions ask to test one route of the Service Proxy config at
// every tier.
type CheckRouteOptions struct {
	Target Target
	Path   string
	// ProxyAddr is where socketbar serve listens (default 127.0.0.1:8443).
	ProxyAddr string
	// Test carries the test's own options; its URL is ignored.
	Test TestOptions

	// fromServer, for a Server reached over SSH, connects from its side:
	// the backend and the Service Proxy listen on its loopback. from names
	// it in the reports.
	fromServer wstest.DialFunc
	from       string
}

// Tiers of a route check, front to back.
const (
	TierBackend      = "backend"
	TierServiceProxy = "service-proxy"
	TierServe        = "socketbar-serve"
)

// TierResult is one tier of a route check. The Service Proxy tier has one
// result per VirtualHost that has the route (HTTPS and HTTP on a Server),
// VHost naming it, and Site the website it belongs to ("" the default
// hosts); a site without the route has one skipped result saying so.
type TierResult struct {
	Tier    string `json:"tier"`
	VHost   string `json:"vhost,omitempty"`
	Site    string `json:"site,omitempty"`
	URL     string `json:"url"`
	Skipped string `json:"skipped,omitempty"`
	// NoRoute marks the skipped result of a site without the route.
	NoRoute bool           `json:"no_route,omitempty"`
	Report  *wstest.Report `json:"report,omitempty"`
	Note    string         `json:"note,omitempty"`
}

// TierReport says where a route breaks.
type TierReport struct {
	Route Route  `json:"-"`
	Path  string `json:"route"`
	OK    bool   `json:"ok"`
	// BreaksAt is the first tier that failed ("" when none did), and
	// BreaksAtVHost its VirtualHost when that tier is the Service Proxy.
	BreaksAt      string `json:"breaks_at"`
	BreaksAtVHost string `json:"breaks_at_vhost,omitempty"`
	// BreaksAtSite is the website of that VirtualHost ("" the default hosts).
	BreaksAtSite string       `json:"breaks_at_site,omitempty"`
	Tiers        []TierResult `json:"tiers"`
	// Lint holds the findings about the route when the Service Proxy is at fault.
	Lint []lint.Finding `json:"lint,omitempty"`
	// ErrorLog quotes the Service Proxy's error log lines that explain a bare 500.
	ErrorLog []string `json:"error_log,omitempty"`
}

// NoRouteError means the config has no route for the path.
type NoRouteError struct{ Path string }

func (e *NoRouteError) Error() string { return "the Service Proxy config has no route for " + e.Path }

// CheckRoute tests a route straight at its backend, through the Service
// Proxy and through the test proxy (when it runs), and says where it
// breaks. On a Server with websites of its own, the Service Proxy is
// tested for each site that has the route, with the site's name in TLS
// SNI and the Host header (dialled at the Service Proxy's own address),
// and each site without it is listed as such.
func (l *Local) CheckRoute(ctx context.Context, opts CheckRouteOptions) (*TierReport, error) {
	if opts.ProxyAddr == "" {
		opts.ProxyAddr = DefaultProxyAddr
	}
	proxyAddr, err := validate.Dial(validate.FieldProxyAddr, opts.ProxyAddr)
	if err != nil {
		return nil, err
	}
	opts.ProxyAddr = proxyAddr
	if err := opts.Test.validateOptions(); err != nil {
		return nil, err
	}
	if opts.Target.Host != "" {
		return l.checkRouteOnServer(ctx, opts)
	}
	srv, cfg, err := l.load(ctx, opts.Target)
	if err != nil {
		return nil, err
	}
	routes := cfg.Routes()
	view := readSiteView(ctx, srv, cfg)
	if view != nil {
		routes = view.routes
	}
	rt, ok := pickRoute(routes, opts.Path)
	if !ok {
		return nil, &NoRouteError{Path: opts.Path}
	}
	eps := cfg.Endpoints(srv.Job.Defines)
	rep := &TierReport{Route: routeViews([]serverctl.Route{rt}, eps)[0], Path: opts.Path, Tiers: []TierResult{{Tier: TierBackend, URL: wsURL(rt.BaseBackend())}}}
	perVHost := routesPerVHost(routes, opts.Path)
	dial, err := addProxyTiers(rep, eps, perVHost, strings.TrimSpace(opts.Test.Connect))
	if err != nil {
		return nil, err
	}
	if view != nil && view.custom() {
		rep.Tiers = append(rep.Tiers, sitesWithoutRoute(view, perVHost, opts.Path)...)
	}
	rep.Tiers = append(rep.Tiers, TierResult{Tier: TierServe, URL: "wss://" + opts.ProxyAddr + opts.Path, Note: byIP})
	runTiers(ctx, rep, dial, opts, view)
	rep.OK = rep.BreaksAt == ""
	if rep.BreaksAt == TierServiceProxy {
		rep.ErrorLog = explainingLogLines(srv.ErrorLogTail(50))
		rep.Lint = routeFindings(srv, cfg, rt, perVHost, opts.Path)
	}
	return rep, nil
}

const byIP = "connected by IP: certificate names are not checked"

// addProxyTiers adds a Service Proxy tier for each VirtualHost (and custom
// site) with the route, tested by loopback address, a custom site under
// its name, and returns, by tier index, the address to dial instead of the
// URL's (connect, when given, for the tiers on its port).
func addProxyTiers(rep *TierReport, eps []service.Endpoint, perVHost []serverctl.Route, connect string) (map[int]string, error) {
	dial := map[int]string{}
	connectUsed := false
	for _, vr := range perVHost {
		t := TierResult{Tier: TierServiceProxy, VHost: vr.VHost, Site: vr.Site, URL: vhostURL(eps, vr), Note: byIP}
		if t.URL != "" {
			u, _ := url.Parse(t.URL)
			addr := u.Host
			if connect != "" && u.Port() == portOf(connect) {
				addr, connectUsed = connect, true
			}
			if vr.Site != "" {
				// The name as a browser sends it: without the scheme's own port.
				u.Host = net.JoinHostPort(vr.Site, u.Port())
				if p := u.Port(); p == "443" && u.Scheme == "wss" || p == "80" && u.Scheme == "ws" {
					u.Host = vr.Site
				}
				t.URL = u.String()
				t.Note = fmt.Sprintf("connected to %s with %s in TLS SNI and the Host header; certificate problems are reported, not fatal", addr, vr.Site)
			}
			if addr != u.Host {
				dial[len(rep.Tiers)] = addr
			}
		}
		rep.Tiers = append(rep.Tiers, t)
	}
	if connect != "" && !connectUsed {
		var ports []string
		for _, e := range eps {
			ports = append(ports, portOf(e.Addr))
		}
		return nil, &serverctl.InputError{Field: serverctl.FieldConnect, Msg: fmt.Sprintf("%s: no VirtualHost with the route %s is on port %s; the Service Proxy listens on port %s", connect, rep.Path, portOf(connect), strings.Join(ports, ", "))}
	}
	return dial, nil
}

// sitesWithoutRoute are skipped tiers, one per site the route does not
// reach, so the report says which sites were not tested and why.
func sitesWithoutRoute(view *siteView, perVHost []serverctl.Route, path string) []TierResult {
	var with []string
	have := map[string]bool{}
	for _, vr := range perVHost {
		have[vr.Site] = true
		if !slices.Contains(with, vr.Site) {
			with = append(with, vr.Site)
		}
	}
	var tiers []TierResult
	for _, s := range view.list.Sites {
		if !have[s.Name] {
			tiers = append(tiers, TierResult{Tier: TierServiceProxy, Site: s.Name, NoRoute: true,
				Skipped: fmt.Sprintf("%s %s no route for %s: the route reaches only %s", siteName(s.Name), hasOrHave(s.Name), path, siteNamesOf(with))})
		}
	}
	return tiers
}

// runTiers tests each tier that is not skipped, explains a Service Proxy
// answer by the site whose VirtualHost gave it, and records the first
// tier that breaks.
func runTiers(ctx context.Context, rep *TierReport, dial map[int]string, opts CheckRouteOptions, view *siteView) {
	for i := range rep.Tiers {
		t := &rep.Tiers[i]
		if t.Skipped != "" {
			continue
		}
		o := opts.Test.wstest()
		o.Connect = dial[i]
		if opts.fromServer != nil && t.Tier != TierServe {
			o.Dial, o.From = opts.fromServer, opts.from
		}
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
		if t.Tier == TierServiceProxy && view != nil {
			if u, err := validate.WebSocketURL(t.URL); err == nil {
				if here, ok := view.answer(t.Report, u.Hostname(), opts.Path); ok {
					view.explain(t.Report, here, opts.Path)
				}
			}
		}
		if !t.Report.OK && rep.BreaksAt == "" {
			rep.BreaksAt, rep.BreaksAtVHost, rep.BreaksAtSite = t.Tier, t.VHost, t.Site
		}
	}
}

// routeFindings are lint's findings on the route's lines in the main
// config, or that name its path.
func routeFindings(srv *serverctl.Server, cfg *serverctl.Config, rt serverctl.Route, perVHost []serverctl.Route, path string) []lint.Finding {
	lines := map[int]bool{}
	if rt.File == "" {
		lines[rt.Line] = true
	}
	for _, vr := range perVHost {
		if vr.File == "" {
			lines[vr.Line] = true
		}
	}
	var found []lint.Finding
	for _, f := range lint.Check(cfg, lint.Options{Apache: srv.Apache}) {
		if f.File == cfg.Path && (lines[f.Line] || strings.Contains(f.Message, " "+path+" ")) {
			found = append(found, f)
		}
	}
	return found
}

// portOf is the port of a HOST:PORT address, "" when it has none.
func portOf(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
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
// (pickRoute's choice there), in the config's order. VirtualHosts of
// different sites on one address are apart.
func routesPerVHost(routes []serverctl.Route, path string) []serverctl.Route {
	var order []string
	byVHost := map[string][]serverctl.Route{}
	for _, r := range routes {
		if r.Path != path {
			continue
		}
		key := r.Site + "\x00" + r.VHost
		if _, seen := byVHost[key]; !seen {
			order = append(order, key)
		}
		byVHost[key] = append(byVHost[key], r)
	}
	var out []serverctl.Route
	for _, vh := range order {
		if r, ok := pickRoute(byVHost[vh], path); ok {
			out = append(out, r)
		}
	}
	return out
}

// checkRouteOnServer checks a route of a Server reached over SSH: its
// config read from a mirror, its backend and Service Proxy tested from
// its own side through the connection (they listen on its loopback), and
// socketbar serve, which runs here, from here.
func (l *Local) checkRouteOnServer(ctx context.Context, opts CheckRouteOptions) (*TierReport, error) {
	s, err := l.openServer(ctx, opts.Target)
	if err != nil {
		return nil, err
	}
	defer s.close()
	fw, ok := s.conn.(forwarder)
	if !ok {
		return nil, errorf("the connection to %s cannot make connections from the Server's side; nothing was tested", s.host)
	}
	o := opts
	o.Target = s.target
	o.fromServer = func(ctx context.Context, addr string) (net.Conn, error) {
		c, err := fw.Dial(ctx, addr)
		if err != nil {
			return nil, err
		}
		return &forwarded{Conn: c, addr: addr}, nil
	}
	o.from = "the Server " + s.host.String()
	rep, err := s.there.CheckRoute(ctx, o)
	return mapBack(s, rep, err)
}
