package action

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/socketbar/socketbar/internal/validate"
	"github.com/socketbar/socketbar/proxy"
	"github.com/socketbar/socketbar/proxy/wstest"
	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/apacheconf/loader"
	"github.com/socketbar/socketbar/serverctl/lint"
	"github.com/socketbar/socketbar/serverctl/service"
	"github.com/socketbar/socketbar/serverctl/sites"
)

// TestOptions ask for a connection test of one WebSocket URL.
type TestOptions struct {
	// Target is the Server whose config explains the answer: which of its
	// VirtualHosts answered and whether that one has the route. It is
	// used when the test reached this Server; CheckRoute uses its own.
	Target Target
	URL    string
	// Connect, when set, is the HOST:PORT to dial instead of the URL's,
	// the URL's host still going in TLS SNI and the Host header: a site
	// tested before DNS points its name at the Server.
	Connect string
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
	return wstest.Options{Origin: o.Origin, Header: o.Header, Insecure: o.Insecure, Timeout: o.Timeout, Message: o.Message, ExpectEcho: o.ExpectEcho, Connect: o.Connect}
}

// validate refuses what must never reach the wire, by the rules the
// tester applies itself (package validate), and says which input was at
// fault.
func (o TestOptions) validate() error {
	if _, err := validate.WebSocketURL(o.URL); err != nil {
		return err
	}
	return o.validateOptions()
}

// validateOptions refuses an Origin, a header or an address to connect to
// that the test could not send as given.
func (o TestOptions) validateOptions() error {
	if err := validate.Origin(o.Origin); err != nil {
		return err
	}
	if err := validate.Header(o.Header); err != nil {
		return err
	}
	if strings.TrimSpace(o.Connect) == "" {
		return nil
	}
	_, err := validate.Dial(validate.FieldConnect, o.Connect)
	return err
}

// Test connects to a WebSocket as a browser would and reports each step.
// The error is only for input that was refused before anything was sent.
func (l *Local) Test(ctx context.Context, opts TestOptions) (*wstest.Report, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	opts.Connect = strings.TrimSpace(opts.Connect)
	r := wstest.Run(ctx, opts.URL, opts.wstest())
	l.explainSite(ctx, opts, r)
	return r, nil
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
	Route serverctl.Route `json:"-"`
	Path  string          `json:"route"`
	OK    bool            `json:"ok"`
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
	rep := &TierReport{Route: rt, Path: opts.Path, Tiers: []TierResult{{Tier: TierBackend, URL: wsURL(rt.BaseBackend())}}}
	perVHost := routesPerVHost(routes, opts.Path)
	dial, err := addProxyTiers(rep, cfg.Endpoints(srv.Job.Defines), perVHost, strings.TrimSpace(opts.Test.Connect))
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
				if sv, here, ok := view.answer(t.Report, u.Hostname(), opts.Path); ok {
					view.explain(t.Report, sv, here, opts.Path)
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

// RouteTarget is where a person would test a route: RouteURL, except that
// a custom site's route is tested under the site's name (a request for
// 127.0.0.1 reaches the default hosts, never the site), dialled at the
// Service Proxy's loopback endpoint, which connect returns.
func RouteTarget(eps []service.Endpoint, rt serverctl.Route) (url, connect string) {
	u := RouteURL(eps, rt)
	scheme, rest, ok := strings.Cut(u, "://")
	slash := strings.IndexByte(rest, '/')
	if rt.Site == "" || !ok || slash < 0 {
		return u, ""
	}
	addr := rest[:slash]
	host := rt.Site
	if _, port, err := net.SplitHostPort(addr); err == nil && !(scheme == "wss" && port == "443") && !(scheme == "ws" && port == "80") {
		host = net.JoinHostPort(rt.Site, port)
	}
	return scheme + "://" + host + rt.Path, addr
}

// siteView is what a test needs of the Server's config to say which
// VirtualHost answered it: every VirtualHost in the order Apache reads
// them, each with its site, and every route with its site.
type siteView struct {
	list   *sites.List
	vhosts []siteVHost
	routes []serverctl.Route
	// macros says that custom sites are made by the main config's macros
	// (Server 5.2 and later), which Socketbar edits; without them the
	// custom sites' VirtualHosts are in the customsites file.
	macros bool
}

type siteVHost struct {
	site  *sites.Site
	vhost *sites.VHost
}

// readSiteView reads the whole config the Service Proxy reads (its
// includes, the customsites file and its macros); nil when it cannot.
func readSiteView(ctx context.Context, srv *serverctl.Server, cfg *serverctl.Config) *siteView {
	lc, err := loadAll(ctx, srv, cfg)
	if err != nil {
		return nil
	}
	list := sites.Read(lc, srv.Root)
	v := &siteView{list: list, routes: serverctl.SiteRoutes(lc, list), macros: len(cfg.MacroHosts()) > 0}
	of := map[*loader.Node]siteVHost{}
	for _, s := range list.Sites {
		for _, vh := range s.VHosts {
			of[vh.Node] = siteVHost{s, vh}
		}
	}
	lc.Walk(func(n *loader.Node) bool {
		if sv, ok := of[n]; ok {
			v.vhosts = append(v.vhosts, sv)
		}
		return true
	})
	return v
}

// custom reports whether the Server has websites of its own beyond the default hosts.
func (v *siteView) custom() bool {
	return slices.ContainsFunc(v.list.Sites, func(s *sites.Site) bool { return !s.Default })
}

// answering is the VirtualHost Apache picks for a request to host
// reaching ip:port, as its name-based virtual hosting does: among the
// VirtualHosts for that address (those naming the IP itself when there
// are any, else the "*" and _default_ ones), in config order, the first
// whose ServerName or a ServerAlias matches host, else the first of them.
// ip is "" when the address dialled is not known as an IP.
func (v *siteView) answering(host, ip string, port int) (siteVHost, bool) {
	var exact, wild []siteVHost
	for _, sv := range v.vhosts {
		for _, a := range sv.vhost.Addrs {
			h, p, err := net.SplitHostPort(a)
			if err != nil || (p != strconv.Itoa(port) && p != "*") {
				continue
			}
			switch {
			case h == "*" || strings.EqualFold(h, "_default_"):
				wild = append(wild, sv)
			case ip != "" && net.ParseIP(h) != nil && net.ParseIP(h).Equal(net.ParseIP(ip)):
				exact = append(exact, sv)
			default:
				continue
			}
			break
		}
	}
	group := wild
	if len(exact) > 0 {
		group = exact
	}
	if len(group) == 0 {
		return siteVHost{}, false
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	for _, sv := range group {
		if nameMatches(sv.vhost.ServerName, host) {
			return sv, true
		}
		for _, a := range sv.vhost.Aliases {
			if nameMatches(a, host) {
				return sv, true
			}
		}
	}
	return group[0], true
}

// nameMatches compares a ServerName or ServerAlias with a request's host
// as Apache does: without case, a ServerAlias's * and ? as wildcards.
func nameMatches(pattern, host string) bool {
	if pattern == "" {
		return false
	}
	ok, err := path.Match(strings.ToLower(strings.TrimSuffix(pattern, ".")), host)
	return err == nil && ok
}

// routeFor reports whether r answers requests for urlPath: a prefix or
// pattern that covers it, other than the catch-all to the Websites tier.
func routeFor(r serverctl.Route, urlPath string) bool {
	if r.Path == "/" && !r.WebSocket {
		return false
	}
	if r.Pattern != "" && r.Path == r.Pattern {
		re, err := regexp.Compile(r.Pattern)
		return err == nil && re.MatchString(urlPath)
	}
	if !strings.HasPrefix(urlPath, r.Path) {
		return false
	}
	return strings.HasSuffix(r.Path, "/") || len(urlPath) == len(r.Path) || urlPath[len(r.Path)] == '/'
}

// answer fills r.VHost: which VirtualHost answered the request for host
// at the address r reached, and whether it and the other sites have a
// route for urlPath. False when the address is not one of the config's.
func (v *siteView) answer(r *wstest.Report, host, urlPath string) (siteVHost, []serverctl.Route, bool) {
	h, p, err := net.SplitHostPort(r.Remote)
	port, perr := strconv.Atoi(p)
	if err != nil || perr != nil {
		return siteVHost{}, nil, false
	}
	sv, ok := v.answering(host, h, port)
	if !ok {
		return siteVHost{}, nil, false
	}
	label := strings.Join(sv.vhost.Addrs, " ")
	a := &wstest.VHostAnswer{Site: sv.site.Name, Port: port, RouteSites: []string{}}
	var here []serverctl.Route
	for _, rt := range v.routes {
		if !routeFor(rt, urlPath) {
			continue
		}
		if rt.VHost == serverctl.MainServer {
			if rt.Directive == "RewriteRule" {
				continue // not inherited by VirtualHosts without RewriteOptions Inherit
			}
			here = append(here, rt) // Apache merges the main server's ProxyPass into every host
			continue
		}
		if !slices.Contains(a.RouteSites, rt.Site) {
			a.RouteSites = append(a.RouteSites, rt.Site)
		}
		if rt.Site == sv.site.Name && rt.VHost == label {
			here = append(here, rt)
		}
	}
	a.HasRoute = len(here) > 0
	r.VHost = a
	return sv, here, true
}

// siteName is a site as the words name it.
func siteName(name string) string {
	if name == "" {
		return "the default hosts"
	}
	return name
}

// hasOrHave agrees with siteName: "the default hosts have", "chat.example.com has".
func hasOrHave(name string) string {
	if name == "" {
		return "have"
	}
	return "has"
}

// siteNamesOf lists sites in words: "the default hosts and chat.example.com".
func siteNamesOf(names []string) string {
	var words []string
	for _, n := range names {
		words = append(words, siteName(n))
	}
	switch len(words) {
	case 0:
		return "no site"
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

// explain rewords a route-missing diagnosis with the VirtualHost that
// answered: the Apache 404 alone cannot tell "no route at all" from "a
// route the answering site does not have" (a route added for the default
// hosts only, tested with a custom site's name).
func (v *siteView) explain(r *wstest.Report, sv siteVHost, here []serverctl.Route, urlPath string) {
	if r.Diagnosis.Cause != wstest.CauseRouteMissing || r.VHost == nil {
		return
	}
	a := r.VHost
	who := "The default hosts' VirtualHost"
	if a.Site != "" {
		who = a.Site + "'s VirtualHost"
	}
	from := fmt.Sprintf("HTTP %d", r.Status)
	if r.Server != "" {
		from += " from " + r.Server
	}
	head := fmt.Sprintf("%s instead of 101: %s answered (port %d)", from, who, a.Port)
	switch {
	case a.HasRoute:
		why := "the Service Proxy may still run the config from before the route was added"
		if here[0].Shadowed {
			why = fmt.Sprintf("the route (line %d) comes after a rule that takes its requests first (line %d)", here[0].Line, here[0].ShadowedBy)
		}
		r.Diagnosis.Message = fmt.Sprintf("%s, and the config has a route for %s there, yet the request fell through to the Websites tier: %s.", head, urlPath, why)
		r.Diagnosis.Fix = "Restart the Service Proxy so that it reads the config on disk, then check the route's order with Socketbar's lint."
	case len(a.RouteSites) == 0:
		r.Diagnosis.Message = fmt.Sprintf("%s, and no site of this Server has a route for %s: the request went through the catch-all to the Websites tier.", head, urlPath)
		r.Diagnosis.Fix = fmt.Sprintf("Add a WebSocket route for %s for %s with Socketbar.", urlPath, siteName(a.Site))
	default:
		r.Diagnosis.Cause = wstest.CauseRouteMissingSite
		reach := "the route reaches only " + siteNamesOf(a.RouteSites)
		if slices.Contains(a.RouteSites, a.Site) {
			reach = fmt.Sprintf("%s %s the route only in VirtualHosts for other ports", siteName(a.Site), hasOrHave(a.Site))
		}
		r.Diagnosis.Message = fmt.Sprintf("%s, and it has no route for %s: %s.", head, urlPath, reach)
		r.Diagnosis.Fix = fmt.Sprintf("Add the route for %s too: Socketbar adds a route for the sites you choose.", siteName(a.Site))
		if a.Site != "" && !v.macros {
			r.Diagnosis.Fix += fmt.Sprintf(" On this Server (5.0/5.1) %s's VirtualHosts are in apache_serviceproxy_customsites.conf, which Server.app rewrites when the sites change; Socketbar then reports the route as lost and can put it back.", a.Site)
		}
	}
}

// isLocal reports whether ip is this machine's: loopback, or one of its
// interfaces' addresses.
func isLocal(ip string) bool {
	a := net.ParseIP(ip)
	if a == nil {
		return false
	}
	if a.IsLoopback() {
		return true
	}
	addrs, _ := net.InterfaceAddrs()
	for _, ad := range addrs {
		if n, ok := ad.(*net.IPNet); ok && n.IP.Equal(a) {
			return true
		}
	}
	return false
}

// explainSite says which of the Server's VirtualHosts answered a test
// and whether it has the route, when the test reached this Server: an
// address of this machine, or a name that is one of its sites (a Server
// behind NAT is reached at an address of the router). A test of another
// machine, or with no Server here, is left as it is.
func (l *Local) explainSite(ctx context.Context, opts TestOptions, r *wstest.Report) {
	if r.Status == 0 || r.Server == proxy.ServerHeader {
		return // no HTTP answer, or socketbar serve's own
	}
	u, err := validate.WebSocketURL(opts.URL)
	if err != nil {
		return
	}
	host := u.Hostname()
	if h := opts.Header.Get("Host"); h != "" {
		host = h
		if hh, _, err := net.SplitHostPort(h); err == nil {
			host = hh
		}
	}
	srv, cfg, err := l.load(ctx, opts.Target)
	if err != nil {
		return
	}
	v := readSiteView(ctx, srv, cfg)
	if v == nil {
		return
	}
	ip, _, _ := net.SplitHostPort(r.Remote)
	if s := v.list.Lookup(host); !isLocal(ip) && (s == nil || s.Default || host == "") {
		return
	}
	if sv, here, ok := v.answer(r, host, u.Path); ok {
		v.explain(r, sv, here, u.Path)
	}
}
