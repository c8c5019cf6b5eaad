package lint

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/apacheconf/loader"
	"github.com/socketbar/socketbar/serverctl/sites"
)

// whole checks what only the whole config shows: the Use lines mod_macro
// refuses, Server.app's duplicate VirtualHosts, and WebSocket routes that
// reach the default hosts but not a custom website.
func (l *linter) whole() {
	lc := l.opts.Loaded
	if lc == nil {
		if err := l.opts.LoadErr; err != nil {
			var le *loader.Error
			pos := loader.Pos{File: l.c.Path}
			if errors.As(err, &le) {
				pos = le.Pos
			}
			if le != nil && errors.Is(err, loader.ErrLineTooLong) {
				l.addAt(SeverityError, pos,
					fmt.Sprintf("%v, and Apache does not start; the custom websites were not checked", le.Err),
					fmt.Sprintf("Shorten the macro's line, or the arguments of the Use line that make it, to at most %d bytes.", loader.MaxMacroLine))
				return
			}
			l.addAt(SeverityWarning, pos,
				fmt.Sprintf("the files this config includes could not all be read (%v), so the custom websites were not checked", err),
				"Correct what the error names (Apache reads the same files), then check again.")
		}
		return
	}
	l.refusedUses(lc)
	list := sites.FromConfig(lc)
	l.duplicates(list)
	l.reach(lc, list)
	l.siteFiles(lc, list)
}

// siteFiles checks the custom sites' own VirtualHosts in the files the
// config includes (Server 5.0/5.1's customsites file, where Socketbar now
// writes routes too) as the main config's are checked: rules that never
// run, http:// upgrades, rewrite rules without RewriteEngine, anchored
// Connection conditions, modules the main config does not load, and
// broken Socketbar markers.
func (l *linter) siteFiles(lc *loader.Config, list *sites.List) {
	files, err := serverctl.SiteFiles(lc, list)
	if err != nil {
		return // the load above already read them; a parse error is the loader's to report
	}
	loaded := l.c.LoadedModules()
	for _, f := range files {
		sub := &linter{c: f, opts: l.opts}
		routes := f.Routes()
		if len(loaded) > 0 {
			sub.needModules(routes, loaded, l)
		}
		sub.routes(routes)
		sub.hosts()
		if _, err := f.Blocks(); err != nil {
			sub.add(SeverityError, 0, err.Error(), "Make every `# socketbar:begin PATH` line have a matching `# socketbar:end PATH` line in the same section, or delete both with the lines between them.")
		}
		l.found = append(l.found, sub.found...)
	}
}

// addAt adds a finding at a place of the expanded config, naming the file
// as the rest of lint does (the file on this machine).
func (l *linter) addAt(sev Severity, p loader.Pos, msg, fix string) {
	l.found = append(l.found, Finding{Severity: sev, File: l.local(p.File), Line: p.Line, Message: msg, Fix: fix})
}

// local maps a Mac path of the expanded config to the file on this machine.
func (l *linter) local(mac string) string {
	if lc := l.opts.Loaded; lc != nil {
		for _, f := range lc.Files {
			if f.Path == mac {
				return f.Local
			}
		}
	}
	if mac == "" || strings.HasSuffix(filepath.ToSlash(l.c.Path), mac) {
		return l.c.Path // the main file, also when the load failed
	}
	return mac
}

// refusedUses reports the Use lines mod_macro refuses: Apache does not
// start with any of them ("Syntax error on line N … used with 2 arguments
// instead of 3", "macro 'x' undefined").
func (l *linter) refusedUses(lc *loader.Config) {
	for _, e := range lc.Refused {
		var ue *loader.UseError
		if !errors.As(e, &ue) {
			continue
		}
		var msg, fix string
		switch {
		case ue.Macro == "":
			msg = "this Use line names no macro; mod_macro refuses it and Apache does not start"
			fix = "Delete the line, or write the name of the macro it means after `Use`."
		case ue.Def == nil:
			msg = fmt.Sprintf("Use %s calls a macro that is not defined at this line; mod_macro refuses it (\"macro '%s' undefined\") and Apache does not start", ue.Macro, strings.ToLower(ue.Macro))
			if later, ok := lc.Macros[strings.ToLower(ue.Macro)]; ok {
				fix = fmt.Sprintf("Move the line below the macro's definition (line %d of %s): a macro must be defined before it is used.", later.Def.Line, path.Base(later.Def.File))
			} else {
				fix = fmt.Sprintf("Correct the name to a defined macro (%s), or define <Macro %s …> above this line.", macroNames(lc), ue.Macro)
			}
		case ue.Recursion != nil:
			msg = fmt.Sprintf("Use %s calls the macro it is part of; mod_macro refuses the recursion and Apache does not start", ue.Macro)
			fix = fmt.Sprintf("Remove the Use %s line from the macro body.", ue.Macro)
		default:
			params := ue.Def.Params
			msg = fmt.Sprintf("Use %s has %d %s, but macro %s (line %d of %s) takes %d; mod_macro refuses the line and Apache does not start",
				ue.Macro, len(ue.Args), plural(len(ue.Args), "argument"), ue.Def.Name, ue.Def.Def.Line, path.Base(ue.Def.Def.File), len(params))
			fix = fmt.Sprintf("Give it %d %s, in order: %s. Quote an argument that holds spaces, and write an empty one as \"\".",
				len(params), plural(len(params), "argument"), strings.Join(params, " "))
		}
		l.addAt(SeverityError, e.Pos, msg, fix)
	}
}

func macroNames(lc *loader.Config) string {
	var names []string
	for _, m := range lc.Macros {
		names = append(names, m.Name)
	}
	if len(names) == 0 {
		return "there is none"
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// duplicates reports a second VirtualHost for one site and port, which
// Server.app has written after a certificate import: Apache picks the
// first VirtualHost whose name matches, so the second one never answers.
func (l *linter) duplicates(list *sites.List) {
	for _, f := range list.Findings {
		if f.Kind != "duplicate" {
			continue
		}
		l.addAt(SeverityWarning, f.Pos,
			fmt.Sprintf("second VirtualHost for %s on port %d (the first is line %d of %s): Apache serves only the first, so no route in this one ever answers",
				f.Site, f.Port, f.First.Line, path.Base(f.First.File)),
			"Delete this duplicate and keep the site's routes in the first one. Server.app writes this file from its list of websites: if the duplicate comes back, look for the site listed twice in Server.app's Websites.")
	}
}

// miss is a custom site that a default-host WebSocket route does not reach.
type miss struct {
	site  *sites.Site
	vhost *sites.VHost
	// names are the site's names (ServerName, aliases) the route misses.
	names []string
	// taker is the site's rule that gets the route's requests instead, if
	// any; excluded says it is the site's own WebSocket rule for the path
	// whose %{HTTP_HOST} condition leaves the site out.
	taker    *serverctl.Route
	excluded bool
}

// reach reports WebSocket routes of the default hosts that a custom
// website's VirtualHost on the same port does not carry. Apache picks a
// custom site's own VirtualHost by SNI and Host, so its browsers never see
// the default hosts' routes: there the path goes to the site's catch-all
// (the Websites tier answers 404) unless the site has a route of its own.
func (l *linter) reach(lc *loader.Config, list *sites.List) {
	var def *sites.Site
	var custom []*sites.Site
	for _, s := range list.Sites {
		if s.Default {
			def = s
		} else {
			custom = append(custom, s)
		}
	}
	if def == nil || len(custom) == 0 {
		return
	}
	for _, dv := range def.VHosts {
		seen := map[string]bool{}
		for _, r := range vhostRoutes(lc, def, dv) {
			if !r.WebSocket || r.Shadowed || seen[r.Path] {
				continue
			}
			seen[r.Path] = true
			var misses []miss
			for _, s := range custom {
				cv := servedOn(s, dv.Ports)
				if cv == nil {
					continue
				}
				m := miss{site: s, vhost: cv}
				for _, name := range siteNames(s) {
					if !hostReaches(r.Conditions, name) {
						continue // the route is not meant for this name
					}
					if taker, excluded, ok := missing(lc, s, cv, r, name); ok {
						m.names = append(m.names, name)
						if m.taker == nil || excluded && !m.excluded {
							m.taker, m.excluded = taker, excluded
						}
					}
				}
				if len(m.names) > 0 {
					misses = append(misses, m)
				}
			}
			if len(misses) > 0 {
				l.reachFinding(lc, r, misses)
			}
		}
	}
}

// servedOn returns the site's VirtualHost Apache serves on one of ports:
// the first one (a duplicate after it never answers).
func servedOn(s *sites.Site, ports []int) *sites.VHost {
	for _, v := range s.VHosts {
		for _, p := range v.Ports {
			if slices.Contains(ports, p) {
				return v
			}
		}
	}
	return nil
}

func siteNames(s *sites.Site) []string { return append([]string{s.Name}, s.Aliases...) }

// missing follows a request for the route's path, naming the site by
// name, through the site's VirtualHost in Apache's order: the first rule
// that answers the whole path takes it. ok is false when that rule carries
// WebSockets. taker is the rule that takes it instead, if any, or the
// site's WebSocket rule for the path whose host condition leaves name out
// (excluded).
func missing(lc *loader.Config, s *sites.Site, v *sites.VHost, r serverctl.Route, name string) (taker *serverctl.Route, excluded, ok bool) {
	for _, c := range vhostRoutes(lc, s, v) {
		if !c.Answers(r) && c.Path != r.Path {
			continue
		}
		if !hostReaches(c.Conditions, name) {
			if c.WebSocket && taker == nil {
				taker, excluded = &c, true
			}
			continue
		}
		if c.WebSocket {
			return nil, false, false
		}
		if len(c.Conditions) > 0 {
			continue // may decline the request
		}
		if taker == nil {
			taker = &c
		}
		return taker, excluded, true
	}
	return taker, excluded, true
}

// vhostRoutes lists the routes of one VirtualHost of the expanded config,
// in the order Apache tries them, every rule kept whatever its host
// conditions (the caller judges those).
func vhostRoutes(lc *loader.Config, s *sites.Site, v *sites.VHost) []serverctl.Route {
	one := &sites.Site{Name: s.Name, Aliases: s.Aliases, Default: true, VHosts: []*sites.VHost{v}}
	var out []serverctl.Route
	for _, r := range serverctl.SiteRoutes(lc, &sites.List{Sites: []*sites.Site{one}}) {
		if r.VHost != serverctl.MainServer {
			out = append(out, r)
		}
	}
	return out
}

// hostReaches reports whether a request for the host name gets past a
// rule's RewriteCond lines on %{HTTP_HOST}, negated ones included. A
// condition it cannot read, or an [OR] chain, counts as letting it through.
func hostReaches(conds []string, name string) bool {
	type cond struct {
		re  *regexp.Regexp
		neg bool
	}
	var cs []cond
	for _, c := range conds {
		f := strings.Fields(c)
		if len(f) < 2 || !strings.EqualFold(f[0], "%{HTTP_HOST}") {
			continue
		}
		flags := ""
		if len(f) > 2 {
			flags = strings.ToUpper(f[2])
		}
		if strings.Contains(flags, "OR") {
			return true
		}
		expr, neg := strings.CutPrefix(f[1], "!")
		if strings.HasPrefix(expr, "=") || strings.HasPrefix(expr, "-") || strings.HasPrefix(expr, "<") || strings.HasPrefix(expr, ">") {
			return true // a comparison or a file test, not a pattern
		}
		if strings.Contains(flags, "NC") {
			expr = "(?i)" + expr
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			return true
		}
		cs = append(cs, cond{re, neg})
	}
	for _, c := range cs {
		if c.re.MatchString(name) == c.neg {
			return false
		}
	}
	return true
}

// reachFinding words one finding for a default-host route and the sites
// it misses, grouped by what fixes them.
func (l *linter) reachFinding(lc *loader.Config, r serverctl.Route, misses []miss) {
	type group struct {
		names []string
		// whys are what happens at the sites, each with its places.
		whys  []string
		where map[string][]string
		fix   func(names string) string
	}
	var order []string
	groups := map[string]*group{}
	for _, m := range misses {
		key, fix := reachFix(lc, m)
		g := groups[key]
		if g == nil {
			g = &group{fix: fix, where: map[string][]string{}}
			groups[key] = g
			order = append(order, key)
		}
		g.names = append(g.names, missedLabel(m))
		why, at := reachWhy(lc, r, m)
		if _, ok := g.where[why]; !ok {
			g.whys = append(g.whys, why)
		}
		if at != "" && !slices.Contains(g.where[why], at) {
			g.where[why] = append(g.where[why], at)
		}
	}
	for _, key := range order {
		g := groups[key]
		var whys []string
		for _, w := range g.whys {
			at := ""
			if len(g.where[w]) > 0 {
				at = " (" + strings.Join(g.where[w], ", ") + ")"
			}
			whys = append(whys, fmt.Sprintf(w, at))
		}
		names := strings.Join(g.names, " and ")
		l.addAt(SeverityWarning, loader.Pos{File: routeFile(lc, r), Line: r.Line},
			fmt.Sprintf("%s: the WebSocket route for %s reaches the default hosts but not %s, whose own VirtualHost Apache picks by name: %s",
				r.VHost, r.Path, names, strings.Join(whys, "; ")),
			g.fix(names))
	}
}

// missedLabel names a site the route misses, and which of its names when
// it misses only some of them.
func missedLabel(m miss) string {
	all := siteNames(m.site)
	switch {
	case len(m.names) == len(all):
		return m.site.Name
	case len(m.names) == 1 && m.names[0] == m.site.Name:
		return m.site.Name + " (its aliases do get it)"
	}
	return fmt.Sprintf("%s (as %s)", m.site.Name, strings.Join(m.names, ", "))
}

// routeFile is the Mac path of the file holding a route's text.
func routeFile(lc *loader.Config, r serverctl.Route) string {
	if r.File != "" {
		return r.File
	}
	return lc.Main().Path
}

// reachWhy says where the site's VirtualHost sends the route's requests:
// a sentence with a %s for the place, and the place ("line 16 of FILE").
func reachWhy(lc *loader.Config, r serverctl.Route, m miss) (why, at string) {
	if m.taker != nil {
		at = fmt.Sprintf("line %d of %s", m.taker.Line, path.Base(routeFile(lc, *m.taker)))
	}
	switch {
	case m.excluded:
		return "a RewriteCond %%{HTTP_HOST} on its WebSocket rule for " + r.Path + "%s leaves it out", at
	case m.taker != nil && m.taker.Path == "/":
		return "there " + r.Path + " goes to the catch-all ProxyPass /%s, and the Websites tier answers 404", at
	case m.taker != nil:
		return "there " + r.Path + " goes to the " + m.taker.Directive + " for " + m.taker.Path + "%s, which carries no WebSocket", at
	}
	return "no rule there answers " + r.Path + "%s", ""
}

// reachFix says how to give the sites the route: widen the host condition
// that leaves them out, add it to the macro body their VirtualHosts are
// made from (Server 5.2 and later), or to their own VirtualHosts in the
// customsites file (Server 5.0/5.1). The key groups sites with one fix.
func reachFix(lc *loader.Config, m miss) (string, func(string) string) {
	if m.excluded {
		line := m.taker.Line
		file := path.Base(routeFile(lc, *m.taker))
		return fmt.Sprintf("cond %s:%d", file, line), func(names string) string {
			return fmt.Sprintf("Add the route for %s too: add the site's names (its ServerName and aliases) to the RewriteCond %%{HTTP_HOST} pattern above line %d of %s.", names, line, file)
		}
	}
	if o := m.vhost.Node.Origin; o != nil {
		macro := lc.Macros[strings.ToLower(o.Macro)]
		where := fmt.Sprintf("the <Macro %s> body", o.Macro)
		if macro != nil {
			where = fmt.Sprintf("the <Macro %s> body (line %d of %s)", macro.Name, macro.Def.Line, path.Base(macro.Def.File))
		}
		return "macro " + strings.ToLower(o.Macro), func(names string) string {
			return fmt.Sprintf("Add the route for %s too: every custom site's VirtualHost on this port is made from %s, so put the route there, above its catch-all ProxyPass /; behind a RewriteCond %%{HTTP_HOST} line naming the site it reaches only that site.", names, where)
		}
	}
	file := path.Base(m.vhost.Node.Pos.File)
	return "file " + m.vhost.Node.Pos.File, func(names string) string {
		return fmt.Sprintf("Add the route for %s too: Socketbar writes it into each site's own VirtualHost in %s, above its catch-all ProxyPass /. Server.app rewrites that file whenever its websites change; Socketbar then reports the route as lost and can put it back.", names, file)
	}
}
