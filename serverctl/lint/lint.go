package lint

import (
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/apacheconf"
	"github.com/socketbar/socketbar/serverctl/apacheconf/loader"
)

// Severity of a lint finding. Errors break WebSocket routing; warnings may.
type Severity string

// Severities.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Finding is one problem lint found, with what to do about it.
type Finding struct {
	Severity Severity `json:"severity"`
	File     string   `json:"file"`
	Line     int      `json:"line"`
	Message  string   `json:"message"`
	Fix      string   `json:"fix"`
}

// Options carries what lint knows beyond the file.
type Options struct {
	// Apache is the installed version (zero when unknown).
	Apache serverctl.Version
	// Sites are the Websites tier's site configs, by path.
	Sites map[string][]byte
	// Loaded is the whole config Apache reads: the files the main one
	// includes (the customsites file among them) and what its mod_macro Use
	// lines make, loaded with loader.Options.KeepGoing so that refused Use
	// lines are reported rather than stopping the load. Only with it does
	// lint see the custom websites; nil checks the main file on its own.
	Loaded *loader.Config
	// LoadErr, when Loaded is nil, says why the whole config could not be
	// read; lint reports it, since the custom websites went unchecked.
	LoadErr error
}

// HasErrors reports whether any finding is an error.
func HasErrors(fs []Finding) bool {
	for _, f := range fs {
		if f.Severity == SeverityError {
			return true
		}
	}
	return false
}

// Check checks the Service Proxy config for the mistakes that stop
// WebSockets from getting through. Findings come sorted by file and line,
// the main config's first.
func Check(c *serverctl.Config, opts Options) []Finding {
	l := &linter{c: c, opts: opts}
	routes := c.Routes()
	l.modules(routes)
	l.routes(routes)
	l.hosts()
	if _, err := c.Blocks(); err != nil {
		l.add(SeverityError, 0, err.Error(), "Make every `# socketbar:begin PATH` line have a matching `# socketbar:end PATH` line in the same section, or delete both with the lines between them.")
	}
	l.sites(routes)
	l.whole()
	sort.SliceStable(l.found, func(i, j int) bool {
		a, b := l.found[i], l.found[j]
		if a.File != b.File {
			if a.File == c.Path || b.File == c.Path {
				return a.File == c.Path
			}
			return a.File < b.File
		}
		return a.Line < b.Line
	})
	return l.found
}

type linter struct {
	c     *serverctl.Config
	opts  Options
	found []Finding
}

func (l *linter) add(sev Severity, line int, msg, fix string) {
	l.found = append(l.found, Finding{Severity: sev, File: l.c.Path, Line: line, Message: msg, Fix: fix})
}

// modules reports modules the routes need but the file does not load. A
// file without any LoadModule line loads its modules elsewhere, so it is
// not judged.
func (l *linter) modules(routes []serverctl.Route) {
	loaded := l.c.LoadedModules()
	if len(loaded) == 0 {
		return
	}
	l.needModules(routes, loaded, l)
}

// needModules reports the modules routes need that loaded lacks, at the
// routes' lines; the LoadModule line to add is written in the style of
// main's file.
func (l *linter) needModules(routes []serverctl.Route, loaded map[string]int, main *linter) {
	type need struct {
		line int
		why  string
	}
	needs := map[string]need{}
	want := func(mod string, r serverctl.Route, why string) {
		if _, ok := needs[mod]; !ok {
			needs[mod] = need{r.Line, why}
		}
	}
	for _, r := range routes {
		scheme := schemeOf(r.Backend)
		want("proxy_module", r, "every proxy route")
		switch scheme {
		case "http", "https":
			want("proxy_http_module", r, fmt.Sprintf("the %s route for %s (an %s:// backend)", r.Directive, r.Path, scheme))
		case "ws", "wss":
			if _, ok := loaded["proxy_http_module"]; !ok || !l.opts.Apache.HasUpgradeParam() {
				want("proxy_wstunnel_module", r, fmt.Sprintf("the %s route for %s (a %s:// backend)", r.Directive, r.Path, scheme))
			}
		}
		if r.Directive == "RewriteRule" {
			want("rewrite_module", r, fmt.Sprintf("the RewriteRule for %s", r.Path))
		}
	}
	names := make([]string, 0, len(needs))
	for m := range needs {
		names = append(names, m)
	}
	sort.Strings(names)
	for _, m := range names {
		if _, ok := loaded[m]; ok {
			continue
		}
		n := needs[m]
		l.add(SeverityError, n.line,
			fmt.Sprintf("%s is not loaded, but %s needs it; Apache answers such requests with 500 \"No protocol handler was valid for the URL\" (AH01144) or ignores the rule", m, n.why),
			fmt.Sprintf("Add `%s` next to the other LoadModule lines%s.", main.loadModuleLine(m), main.inFile(l)))
	}
}

// inFile names main's file when a finding is in another file's lines.
func (l *linter) inFile(of *linter) string {
	if of == l {
		return ""
	}
	return " in " + filepath.Base(l.c.Path)
}

// loadModuleLine writes a LoadModule line for mod in the style of the
// file's existing ones (same directory and variables).
func (l *linter) loadModuleLine(mod string) string {
	file := "mod_" + strings.TrimSuffix(mod, "_module") + ".so"
	dir := "${MODULE_INSTALL_PATH_PREFIX}/usr/libexec/apache2"
	l.c.File.Walk(func(n *apacheconf.Node) bool {
		if n.Kind == apacheconf.Directive && n.Is("LoadModule") && len(n.Args) == 2 {
			dir = path.Dir(n.Args[1])
			return false
		}
		return !n.Is("Macro")
	})
	return fmt.Sprintf("LoadModule %s %s/%s", mod, dir, file)
}

func (l *linter) routes(routes []serverctl.Route) {
	for _, r := range routes {
		if r.Shadowed {
			sev := SeverityWarning
			if r.WebSocket || r.Managed {
				sev = SeverityError
			}
			l.add(sev, r.Line,
				fmt.Sprintf("%s: the %s for %s never runs: the rule on line %d answers the same requests first", r.VHost, r.Directive, r.Path, r.ShadowedBy),
				fmt.Sprintf("Move it above line %d (ProxyPass rules match first-come; the catch-all ProxyPass / must stay last).", r.ShadowedBy))
		}
		if r.Directive == "RewriteRule" && !r.WebSocket && guardsUpgrade(r.Conditions) {
			s := schemeOf(r.Backend)
			l.add(SeverityError, r.Line,
				fmt.Sprintf("%s: the RewriteRule for %s proxies WebSocket upgrades to %s://, which Apache forwards as a plain GET (the backend answers 400)", r.VHost, r.Path, s),
				fmt.Sprintf("Point it at %s:// (mod_proxy_wstunnel), or on Apache 2.4.47+ declare the worker with `ProxyPass %s %s upgrade=websocket`.", map[string]string{"http": "ws", "https": "wss"}[s], r.Path, r.BaseBackend()))
		}
		if r.UpgradeWorker && r.Directive != "RewriteRule" {
			switch {
			case !l.opts.Apache.Known():
				l.add(SeverityWarning, r.Line,
					fmt.Sprintf("%s: upgrade=websocket on line %d needs Apache 2.4.47 or later, and the Apache version is unknown", r.VHost, r.Line),
					"Check with `httpd -v`; below 2.4.47 add the route again with the tunnel strategy.")
			case !l.opts.Apache.HasUpgradeParam():
				l.add(SeverityError, r.Line,
					fmt.Sprintf("%s: upgrade=websocket needs Apache 2.4.47 or later, this is %s; the config test fails with \"ProxyPass unknown Worker parameter\"", r.VHost, l.opts.Apache),
					fmt.Sprintf("Remove the route for %s and add it again with the tunnel strategy.", r.Path))
			}
		}
	}
}

// guardsUpgrade reports whether RewriteCond lines select Upgrade requests.
func guardsUpgrade(conds []string) bool {
	for _, c := range conds {
		if strings.HasPrefix(strings.ToLower(c), "%{http:upgrade}") {
			return true
		}
	}
	return false
}

// hosts checks each virtual host's mod_rewrite set-up: rules without
// RewriteEngine On in the same host are ignored (rewrite rules are not
// inherited), and a Connection condition anchored to the whole header fails
// for Firefox, which sends "Connection: keep-alive, Upgrade".
func (l *linter) hosts() {
	for _, vh := range l.c.VirtualHosts() {
		engine := false
		var firstRule *apacheconf.Node
		walk(vh.Node.Children, func(n *apacheconf.Node) {
			switch {
			case n.Is("RewriteEngine") && len(n.Args) == 1 && strings.EqualFold(n.Args[0], "on"):
				engine = true
			case n.Is("RewriteRule") && firstRule == nil:
				firstRule = n
			case n.Is("RewriteCond") && len(n.Args) >= 2 && strings.EqualFold(n.Args[0], "%{HTTP:Connection}"):
				if p := n.Args[1]; strings.HasPrefix(p, "^") || strings.HasSuffix(p, "$") {
					l.add(SeverityError, n.Line,
						fmt.Sprintf("%s: the Connection condition %q matches only a header that is exactly \"Upgrade\"; Firefox sends \"keep-alive, Upgrade\" and is refused", vh.Label(), p),
						"Write `RewriteCond %{HTTP:Connection} upgrade [NC]` (unanchored, any case).")
				}
			}
		})
		if firstRule != nil && !engine {
			l.add(SeverityError, firstRule.Line,
				fmt.Sprintf("%s: RewriteRule without `RewriteEngine On` in this VirtualHost; Apache ignores its rules (they are not inherited from the main server)", vh.Label()),
				"Add `RewriteEngine On` inside this VirtualHost, above its first RewriteRule.")
		}
	}
}

// walk calls fn on every directive below nodes, outside macros.
func walk(nodes []*apacheconf.Node, fn func(*apacheconf.Node)) {
	for _, n := range nodes {
		if n.Kind == apacheconf.Section {
			if !n.Is("Macro") {
				walk(n.Children, fn)
			}
			continue
		}
		if n.Kind == apacheconf.Directive {
			fn(n)
		}
	}
}

// sites finds WebSocket rules written into the Websites tier, where they
// never see an upgrade: the Service Proxy forwards to that tier with a plain
// ProxyPass that drops the Upgrade header.
func (l *linter) sites(routes []serverctl.Route) {
	names := make([]string, 0, len(l.opts.Sites))
	for name := range l.opts.Sites {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		sc, err := serverctl.ParseConfig(name, l.opts.Sites[name])
		if err != nil {
			l.found = append(l.found, Finding{SeverityWarning, name, 0, err.Error(), "Fix the file's sections so Apache can read it."})
			continue
		}
		for _, r := range sc.Routes() {
			if !r.WebSocket && !guardsUpgrade(r.Conditions) {
				continue
			}
			if servedByFront(routes, r) {
				continue
			}
			backend := httpForm(r.BaseBackend())
			l.found = append(l.found, Finding{
				Severity: SeverityError, File: name, Line: r.Line,
				Message: fmt.Sprintf("WebSocket rule for %s is in the Websites tier, which never sees an upgrade: the Service Proxy in front forwards with a plain ProxyPass that drops the Upgrade header", r.Path),
				Fix:     fmt.Sprintf("Route it in the Service Proxy instead: add a WebSocket route for %s to %s with Socketbar.", r.Path, backend),
			})
		}
	}
}

// servedByFront reports whether a WebSocket route of the Service Proxy
// answers every path the site's rule answers. An Upgrade guard on the
// front's rule is exactly what is wanted here, so its conditions do not count.
func servedByFront(routes []serverctl.Route, site serverctl.Route) bool {
	for _, r := range routes {
		if r.WebSocket && !r.Shadowed && r.Answers(site) {
			return true
		}
	}
	return false
}

func schemeOf(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Scheme)
}

// httpForm turns a rewrite target's base (ws://h/chat/ for ws://h/chat/$1)
// into the backend URL a route takes (http://h/chat/).
func httpForm(target string) string {
	switch {
	case strings.HasPrefix(target, "ws://"):
		return "http://" + target[len("ws://"):]
	case strings.HasPrefix(target, "wss://"):
		return "https://" + target[len("wss://"):]
	}
	return target
}
