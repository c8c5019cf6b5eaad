package serverctl

import (
	"net/url"
	"strings"

	"github.com/socketbar/socketbar/serverctl/apacheconf"
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
