package serverctl

import (
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/socketbar/socketbar/serverctl/apacheconf"
	"github.com/socketbar/socketbar/serverctl/apacheconf/loader"
	"github.com/socketbar/socketbar/serverctl/sites"
)

// Route is one proxy rule of a virtual host.
type Route struct {
	VHost   string `json:"vhost"`
	Path    string `json:"path"`
	Backend string `json:"backend"`
	Line    int    `json:"line"`
	// WebSocket says whether the rule can carry a WebSocket UpgradeWorker: a ws://
	// or wss:// target (mod_proxy_wstunnel), or an http(s) worker with
	// upgrade=websocket (mod_proxy_http, Apache 2.4.47+).
	WebSocket bool `json:"websocket"`
	// Shadowed says that an earlier rule of the host matches every request
	// this one would, so this one never runs. ShadowedBy is that rule's line.
	Shadowed   bool `json:"shadowed"`
	ShadowedBy int  `json:"shadowed_by,omitempty"`
	// Managed says Socketbar wrote the rule (it lies inside a marked block).
	Managed bool `json:"managed"`
	// Directive is ProxyPass, ProxyPassMatch or RewriteRule.
	Directive string `json:"directive"`
	// Pattern is the regular expression of a RewriteRule or ProxyPassMatch.
	Pattern string `json:"pattern,omitempty"`
	// Conditions are the RewriteCond lines guarding a RewriteRule.
	Conditions []string `json:"conditions,omitempty"`

	// UpgradeWorker says the rule is an http(s) worker with
	// upgrade=websocket, which needs Apache 2.4.47.
	UpgradeWorker bool `json:"upgrade_worker,omitempty"`

	// Site is the ServerName (without port) of the custom website whose
	// VirtualHost holds the rule, "" for the default hosts (see SiteRoutes).
	Site string `json:"site"`
	// File is the file holding the rule's text when it is not the main
	// config (an included file); Line is a line of that file. A rule made
	// by a mod_macro Use line has its line in the macro's body.
	File string `json:"file,omitempty"`

	match matcher
	node  *apacheconf.Node
}

// BaseBackend is the backend without a RewriteRule's back-references: the
// target ws://b/ws/$1 gives ws://b/ws/, the base every request goes under.
func (r Route) BaseBackend() string {
	if i := strings.IndexByte(r.Backend, '$'); i >= 0 {
		return r.Backend[:i]
	}
	return r.Backend
}

// Node returns the directive the route was read from.
func (r Route) Node() *apacheconf.Node { return r.node }

// Routes lists the proxy routes of every virtual host in the order Apache
// tries them: mod_rewrite's [P] rules first (its translate hook runs before
// mod_proxy's), then ProxyPass and ProxyPassMatch in file order.
//
// Rules outside every <VirtualHost> belong to the main server; Apache
// merges its ProxyPass rules into each host, so they are listed first,
// under MainServer.
func (c *Config) Routes() []Route {
	var top []*apacheconf.Node
	for _, n := range c.File.Nodes {
		if !n.Is("VirtualHost") && !n.Is("Macro") && !containsVirtualHost(n) {
			top = append(top, n)
		}
	}
	all := hostRoutes(MainServer, top)
	for _, vh := range c.VirtualHosts() {
		all = append(all, hostRoutes(vh.Label(), vh.Node.Children)...)
	}
	return all
}

// MainServer labels routes declared outside every <VirtualHost>.
const MainServer = "main server"

// containsVirtualHost reports whether a section such as <IfModule> wraps a
// virtual host; such sections are walked host by host instead.
func containsVirtualHost(n *apacheconf.Node) bool {
	for _, c := range n.Children {
		if c.Is("VirtualHost") || (c.Kind == apacheconf.Section && containsVirtualHost(c)) {
			return true
		}
	}
	return false
}

// hostRoutes collects and orders the routes of one virtual host (or the
// main server) and marks the shadowed ones.
func hostRoutes(label string, nodes []*apacheconf.Node) []Route {
	var rewrites, passes []Route
	var conds []string
	var walk func(nodes []*apacheconf.Node, location string)
	walk = func(nodes []*apacheconf.Node, location string) {
		managed := false
		for _, n := range nodes {
			if n.Kind == apacheconf.Comment {
				switch m := parseMarker(n); {
				case m.begin:
					managed = true
				case m.end:
					managed = false
				}
				continue
			}
			if n.Kind == apacheconf.Section {
				loc := location
				if n.Is("Location") && len(n.Args) == 1 {
					loc = n.Args[0]
				}
				if !n.Is("Macro") && !n.Is("LocationMatch") {
					walk(n.Children, loc)
				}
				continue
			}
			switch {
			case n.Is("RewriteCond"):
				conds = append(conds, strings.Join(n.Args, " "))
			case n.Is("RewriteRule"):
				if r, ok := rewriteRoute(n, conds); ok {
					r.Managed = managed
					rewrites = append(rewrites, r)
				}
				conds = nil
			case n.Is("ProxyPass"), n.Is("ProxyPassMatch"):
				if r, ok := passRoute(n, location); ok {
					r.Managed = managed
					passes = append(passes, r)
				}
			}
		}
	}
	walk(nodes, "")

	routes := append(rewrites, passes...)
	for i := range routes {
		routes[i].VHost = label
		if !routes[i].WebSocket && routes[i].Directive == "RewriteRule" {
			routes[i].WebSocket = upgradeWorkerFor(routes[i].Backend, passes)
		}
		for j := 0; j < i; j++ {
			if routes[j].match.covers(routes[i].match) {
				routes[i].Shadowed, routes[i].ShadowedBy = true, routes[j].Line
				break
			}
		}
	}
	return routes
}

// passRoute reads "ProxyPass PATH URL [key=value…]", its one-argument form
// inside <Location PATH>, and ProxyPassMatch. Exclusions ("!") are not routes.
func passRoute(n *apacheconf.Node, location string) (Route, bool) {
	args := n.Args
	if location != "" {
		args = append([]string{location}, args...)
	}
	if len(args) < 2 || args[1] == "!" {
		return Route{}, false
	}
	r := Route{Path: args[0], Backend: args[1], Line: n.Line, node: n}
	if n.Is("ProxyPassMatch") {
		r.Directive, r.Pattern = "ProxyPassMatch", args[0]
		r.match = regexMatcher(args[0], false)
		if r.match.kind != matchComplex {
			r.Path = r.match.prefix
		}
	} else {
		r.Directive = "ProxyPass"
		r.match = aliasMatcher(args[0])
	}
	for _, p := range args[2:] {
		k, v, _ := strings.Cut(p, "=")
		if strings.EqualFold(k, "upgrade") {
			for _, proto := range strings.Split(v, ",") {
				if strings.EqualFold(proto, "websocket") || strings.EqualFold(proto, "ANY") {
					r.UpgradeWorker = true
				}
			}
		}
	}
	r.WebSocket = isWebSocketURL(r.Backend) || r.UpgradeWorker
	return r, true
}

// rewriteRoute reads "RewriteRule PATTERN TARGET [flags]" when it proxies ([P]).
func rewriteRoute(n *apacheconf.Node, conds []string) (Route, bool) {
	if len(n.Args) < 3 || !hasProxyFlag(n.Args[2]) || strings.HasPrefix(n.Args[0], "!") {
		return Route{}, false
	}
	r := Route{
		Directive:  "RewriteRule",
		Pattern:    n.Args[0],
		Backend:    n.Args[1],
		Line:       n.Line,
		Conditions: conds,
		node:       n,
		match:      regexMatcher(n.Args[0], len(conds) > 0),
	}
	r.Path = r.Pattern
	if r.match.kind != matchComplex {
		r.Path = r.match.prefix
	}
	r.WebSocket = isWebSocketURL(r.Backend)
	return r, true
}

func hasProxyFlag(flags string) bool {
	if !strings.HasPrefix(flags, "[") || !strings.HasSuffix(flags, "]") {
		return false
	}
	for _, f := range strings.Split(flags[1:len(flags)-1], ",") {
		f = strings.TrimSpace(f)
		if strings.EqualFold(f, "P") || strings.EqualFold(f, "proxy") {
			return true
		}
	}
	return false
}

func isWebSocketURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (strings.EqualFold(u.Scheme, "ws") || strings.EqualFold(u.Scheme, "wss"))
}

// upgradeWorkerFor reports whether an http(s) RewriteRule target is served
// by a worker declared with upgrade=websocket: mod_proxy reuses the worker
// whose URL is a prefix of the target, and with it the worker's parameters.
func upgradeWorkerFor(target string, passes []Route) bool {
	for _, p := range passes {
		if p.UpgradeWorker && strings.HasPrefix(target, p.Backend) {
			return true
		}
	}
	return false
}

// ServeRoute is a route as a test proxy serves it: a path prefix and the
// backend base URL.
type ServeRoute struct{ Path, Backend string }

// ServeRoutes lists the routes worth serving from a test proxy: each path
// once (the first in Apache's order), without the catch-all to the
// Websites tier, shadowed rules or patterns that are not a plain prefix.
// A RewriteRule target such as ws://b/ws/$1 gives the backend ws://b/ws/.
func (c *Config) ServeRoutes() []ServeRoute {
	var out []ServeRoute
	seen := map[string]bool{}
	for _, r := range c.Routes() {
		if r.Shadowed || r.Path == "/" || !strings.HasPrefix(r.Path, "/") || seen[r.Path] {
			continue
		}
		backend := r.BaseBackend()
		if u, err := url.Parse(backend); err != nil || u.Host == "" {
			continue
		}
		seen[r.Path] = true
		out = append(out, ServeRoute{Path: r.Path, Backend: backend})
	}
	return out
}

// SiteRoutes lists the routes of the whole config Apache reads, per site:
// the main server's first, then each site's VirtualHosts (the default hosts,
// then the custom sites by name), each in the order Apache tries them. A
// custom site's VirtualHost made from a macro has the rules of the macro's
// body, with the body's lines; a rule limited by a RewriteCond on
// %{HTTP_HOST} that none of the site's names match is left out of that site.
func SiteRoutes(lc *loader.Config, list *sites.List) []Route {
	main := lc.Main()
	var top []*apacheconf.Node
	for _, n := range main.Parsed.Nodes {
		if !n.Is("VirtualHost") && !n.Is("Macro") && !containsVirtualHost(n) {
			top = append(top, n)
		}
	}
	all := hostRoutes(MainServer, top)
	for _, site := range list.Sites {
		names := append([]string{site.Name}, site.Aliases...)
		for _, v := range site.VHosts {
			pos := map[*apacheconf.Node]loader.Pos{}
			var index func([]*loader.Node)
			index = func(nodes []*loader.Node) {
				for _, n := range nodes {
					pos[n.Src] = n.Pos
					index(n.Children)
				}
			}
			index(v.Node.Children)
			lines := map[int]int{}
			for src, p := range pos {
				lines[src.Line] = p.Line
			}
			for _, r := range hostRoutes(strings.Join(v.Addrs, " "), v.Node.Src.Children) {
				if !site.Default && !hostAllowed(r.Conditions, names) {
					continue
				}
				p := pos[r.node]
				r.Site, r.Line = site.Name, p.Line
				if p.File != main.Path {
					r.File = p.File
				}
				if r.Shadowed {
					r.ShadowedBy = lines[r.ShadowedBy]
				}
				all = append(all, r)
			}
		}
	}
	return all
}

// hostAllowed reports whether the RewriteCond lines of a rule let a request
// for one of names through, as far as their %{HTTP_HOST} conditions go.
func hostAllowed(conds, names []string) bool {
	for _, c := range conds {
		f := strings.Fields(c)
		if len(f) < 2 || f[0] != "%{HTTP_HOST}" || strings.HasPrefix(f[1], "!") {
			continue
		}
		expr := f[1]
		if len(f) > 2 && strings.Contains(strings.ToUpper(f[2]), "NC") {
			expr = "(?i)" + expr
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			continue
		}
		if !slices.ContainsFunc(names, re.MatchString) {
			return false
		}
	}
	return true
}
