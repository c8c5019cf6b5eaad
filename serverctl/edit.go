package serverctl

import (
	"bytes"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/socketbar/socketbar/internal/validate"
	"github.com/socketbar/socketbar/serverctl/apacheconf"
)

// Strategy is how a WebSocket route is written.
type Strategy string

const (
	// StrategyAuto picks Upgrade when the Apache version is known to have
	// it and Tunnel otherwise.
	StrategyAuto Strategy = "auto"
	// StrategyTunnel hands Upgrade requests to mod_proxy_wstunnel through
	// mod_rewrite ([P] to ws:// or wss://) and plain requests to ProxyPass.
	// It works from Apache 2.4.5 on.
	StrategyTunnel Strategy = "tunnel"
	// StrategyUpgrade uses one ProxyPass with upgrade=websocket, which
	// mod_proxy_http understands from Apache 2.4.47 on.
	StrategyUpgrade Strategy = "upgrade"
)

// ResolveStrategy turns auto into a concrete strategy for apache and says
// why; it refuses upgrade where Apache cannot run it.
func ResolveStrategy(s Strategy, apache Version) (Strategy, string, error) {
	switch s {
	case StrategyAuto, "":
		if apache.HasUpgradeParam() {
			return StrategyUpgrade, fmt.Sprintf("Apache %s supports upgrade=websocket (2.4.47 or later)", apache), nil
		}
		if !apache.Known() {
			return StrategyTunnel, "the Apache version is unknown, and mod_proxy_wstunnel works on every Apache from 2.4.5", nil
		}
		return StrategyTunnel, fmt.Sprintf("Apache %s predates upgrade=websocket (2.4.47), so mod_proxy_wstunnel carries the upgrade", apache), nil
	case StrategyTunnel:
		return StrategyTunnel, "chosen explicitly", nil
	case StrategyUpgrade:
		if !apache.Known() {
			return "", "", &InputError{Field: FieldStrategy, Msg: "upgrade needs Apache 2.4.47 or later and the Apache version is unknown", Remedy: RemedyApacheVersion}
		}
		if !apache.HasUpgradeParam() {
			return "", "", &InputError{Field: FieldStrategy, Msg: fmt.Sprintf("upgrade needs Apache 2.4.47 or later, this is %s (its config test would fail with \"ProxyPass unknown Worker parameter\")", apache), Remedy: RemedyTunnel}
		}
		return StrategyUpgrade, "chosen explicitly", nil
	}
	return "", "", inputErr(FieldStrategy, "%q is not one of auto, tunnel, upgrade", s)
}

// AddRequest asks for a WebSocket route.
type AddRequest struct {
	Path    string
	Backend string
	// Ports selects the virtual hosts by port. Empty means DefaultPorts,
	// where one missing host is fine.
	Ports []string
	// DefaultPorts are the web hosts' ports (Server.WebPorts); empty means
	// 443 and 80.
	DefaultPorts []string
	Strategy     Strategy
	// Replace allows changing an existing Socketbar route for Path.
	Replace bool
	// Apache is the installed Apache version (zero when unknown).
	Apache Version
	// Sites restricts the route to some sites; nil means every site.
	Sites *SiteSelection
}

// Edit is a change to a config, computed in memory.
type Edit struct {
	Old, New []byte
	// Notes say, one line per virtual host, what the edit does or why it
	// leaves something alone.
	Notes []string
	// Strategy and Why are set by AddRoute.
	Strategy Strategy
	Why      string
	// Hosts counts the VirtualHosts (or macro templates) the edit chose
	// to write into, including those that already held the route.
	Hosts int
	// Also are the edits to other files of the config that belong to the
	// same change (Server 5.0/5.1's customsites file): they are tested,
	// written and rolled back with this one.
	Also []FileEdit
}

// Changed reports whether the edit changes any file.
func (e *Edit) Changed() bool {
	if !bytes.Equal(e.Old, e.New) {
		return true
	}
	for _, f := range e.Also {
		if !bytes.Equal(f.Old, f.New) {
			return true
		}
	}
	return false
}

// SiteSelection restricts a route to some of the Server's sites.
type SiteSelection struct {
	// Default selects the default hosts (the main config's *:443 and *:80).
	Default bool
	// Hosts are the names (ServerName and ServerAliases) of the chosen
	// custom sites. The route goes into the custom sites' macro template
	// guarded by a RewriteCond on %{HTTP_HOST} matching one of them, since
	// the template is shared by every custom site.
	Hosts []string
}

// mergeHosts is the host names a macro block serves after a route for
// more hosts is added to it: every site (nil) when either serves every
// site, else the union. widened says whether that serves more than old.
func mergeHosts(old, more []string) (merged []string, widened bool) {
	if len(old) == 0 {
		return nil, false
	}
	if len(more) == 0 {
		return nil, true
	}
	merged = slices.Clone(old)
	for _, h := range more {
		if !slices.ContainsFunc(merged, func(m string) bool { return strings.EqualFold(m, h) }) {
			merged = append(merged, h)
		}
	}
	return merged, len(merged) > len(old)
}

// servedBy says in words which hosts a macro block serves.
func servedBy(hosts []string) string {
	if len(hosts) == 0 {
		return "every custom site"
	}
	return strings.Join(hosts, ", ")
}

// FieldSite is the sites a route is restricted to (--site).
const FieldSite Field = "site"

// target is a VirtualHost to write a block into, and the host names that
// block is limited to (nil: every request the host answers).
type target struct {
	vh    VHost
	hosts []string
}

// AddRoute returns the config with a managed WebSocket route block for
// req.Path in each selected virtual host, placed right before the host's
// catch-all "ProxyPass /" (rules after it would never match), or at the end
// of the host when it has none. Every other byte stays as it was.
//
// Without req.Sites the route goes to every site: the default hosts and,
// on Server 5.2+, the macro templates every custom site is made from. In
// an included site file (Config.Included) it goes to the selected sites'
// own VirtualHosts; see AddRouteToSet for the main config with those.
func (c *Config) AddRoute(req AddRequest) (*Edit, error) {
	if _, err := normalizeRoute(req.Path, req.Backend); err != nil {
		return nil, err
	}
	work, err := apacheconf.Parse(c.Src)
	if err != nil {
		return nil, err
	}
	wc := &Config{Path: c.Path, Src: c.Src, File: work, Included: c.Included}
	targets, err := wc.selectTargets(req)
	if err != nil {
		return nil, err
	}
	return wc.addTo(req, targets)
}

// selectTargets picks the hosts an add writes into: the default hosts by
// port (see selectHosts) unless req.Sites leaves them out, and the macro
// templates on the same ports unless req.Sites chooses no custom site.
func (c *Config) selectTargets(req AddRequest) ([]target, error) {
	sel := req.Sites
	if c.Included {
		var targets []target
		for _, vh := range c.siteHosts(req.Ports, req.DefaultPorts, sel) {
			targets = append(targets, target{vh: vh})
		}
		return targets, nil
	}
	var targets []target
	if sel == nil || sel.Default {
		hosts, err := c.selectHosts(req.Ports, req.DefaultPorts, "")
		if err != nil {
			return nil, err
		}
		for _, vh := range hosts {
			targets = append(targets, target{vh: vh})
		}
	}
	if sel != nil && len(sel.Hosts) == 0 {
		return targets, nil
	}
	macros := c.MacroHosts()
	if len(macros) == 0 {
		// Server 5.0/5.1: the custom sites have VirtualHosts of their own
		// in an included file, which AddRouteToSet edits.
		return targets, nil
	}
	ports := req.Ports
	if len(ports) == 0 {
		ports = req.DefaultPorts
	}
	if len(ports) == 0 {
		ports = []string{"443", "80"}
	}
	var hosts []string
	if sel != nil {
		hosts = sel.Hosts
	}
	found := false
	for _, vh := range macros {
		if slices.ContainsFunc(ports, vh.HasPort) {
			targets = append(targets, target{vh: vh, hosts: hosts})
			found = true
		}
	}
	if !found && sel != nil {
		return nil, inputErr(FieldVHost, "%s: the custom sites' macros in %s have no <VirtualHost> on that port; theirs are %s", strings.Join(ports, " or "), c.Path, hostLabels(macros))
	}
	return targets, nil
}

// addTo writes req's block into each target of the config c, which must be
// a fresh parse that the edit may change.
func (c *Config) addTo(req AddRequest, targets []target) (*Edit, error) {
	backend, err := normalizeRoute(req.Path, req.Backend)
	if err != nil {
		return nil, err
	}
	strategy, why, err := ResolveStrategy(req.Strategy, req.Apache)
	if err != nil {
		return nil, err
	}
	blocks, err := c.Blocks()
	if err != nil {
		return nil, err
	}
	a := &adder{c: c, req: req, backend: backend, strategy: strategy, blocks: blocks,
		edit: &Edit{Old: c.Src, Strategy: strategy, Why: why, Hosts: len(targets)}}
	for _, tg := range targets {
		if err := a.add(tg); err != nil {
			return nil, err
		}
	}
	edit := a.edit
	edit.New = c.File.Bytes()
	if len(a.written) == 1 && a.written[0] != strategy {
		// Every block went into the macros limited to sites: the route
		// is a tunnel, whatever was asked.
		edit.Strategy, edit.Why = a.written[0], "a route limited to some sites in the custom sites' macros is written with mod_rewrite"
	}
	edit.Notes = append(edit.Notes, shadowNotes(c.Path, edit.New, req.Path)...)
	return edit, nil
}

// adder writes one route's block into the hosts of a config, one at a time.
type adder struct {
	c        *Config
	req      AddRequest
	backend  string
	strategy Strategy
	blocks   []Block
	edit     *Edit
	// written are the strategies the blocks were written with, in the
	// order first written.
	written []Strategy
}

func (a *adder) note(format string, args ...any) {
	a.edit.Notes = append(a.edit.Notes, fmt.Sprintf(format, args...))
}

// add writes the block into one target: new before the host's catch-all,
// or in place of Socketbar's block for the same path when that one may go
// (the same route for more sites of a shared macro, or req.Replace).
func (a *adder) add(tg target) error {
	req, backend, vh := a.req, a.backend, tg.vh
	hosts := tg.hosts
	old := findBlock(a.blocks, vh, req.Path)
	merging := false
	if old != nil && !req.Replace && vh.Macro != "" && old.Backend == backend && (len(hosts) > 0 || len(old.Hosts) > 0) && len(old.handLines()) == 0 {
		// The same route for other sites of the shared macro: it serves
		// the union of both, so nothing it served is lost.
		merged, widened := mergeHosts(old.Hosts, hosts)
		if !widened {
			a.note("%s: %s → %s already serves %s; nothing to change", vh.Label(), req.Path, backend, servedBy(old.Hosts))
			return nil
		}
		hosts, merging = merged, true
		a.note("%s: extending the route for %s from %s to %s", vh.Label(), req.Path, servedBy(old.Hosts), servedBy(hosts))
	}
	label := vh.Label()
	if len(hosts) > 0 {
		label += " (for " + strings.Join(hosts, ", ") + ")"
	}
	ts := a.strategyFor(hosts)
	anchor, indent, eol := insertionPoint(vh)
	if eol == "" {
		eol = a.c.File.EOL()
	}
	sslProxy := needsSSLProxy(vh, backend)
	if old != nil {
		if blockText(old) == renderBlock(req.Path, backend, ts, indent, eol, sslProxy, hosts) {
			a.note("%s: %s → %s is already there; nothing to change", label, req.Path, backend)
			return nil
		}
		if hand := old.handLines(); len(hand) > 0 {
			return &HandEditedError{Path: req.Path, VHost: vh.Label(), File: a.c.Path, Lines: hand}
		}
		if !req.Replace && !merging {
			return &RouteExistsError{Path: req.Path, VHost: vh.Label(), Backend: old.Backend, Strategy: old.Strategy, Hosts: old.Hosts, Line: old.Begin.Line}
		}
		if e := old.Begin.EOL(); e != "" {
			eol = e
		}
		if err := replaceBlock(a.c.File, old, renderBlock(req.Path, backend, ts, old.Begin.Indent(), eol, sslProxy, hosts)); err != nil {
			return err
		}
		if !merging {
			a.note("%s: replacing the route for %s (was %s, %s%s) with %s (%s)", label, req.Path, old.Backend, old.Strategy, old.hostsNote(), backend, ts)
		}
		return nil
	}
	nodes, err := apacheconf.Lines(renderBlock(req.Path, backend, ts, indent, eol, sslProxy, hosts))
	if err != nil {
		return errorf("rendered block does not parse: %w", err)
	}
	where := "at the end of the host (it has no catch-all)"
	if anchor != nil {
		err, where = a.c.File.InsertBefore(anchor, nodes), "before the catch-all ProxyPass /"
	} else {
		err = a.c.File.Append(vh.Node, nodes)
	}
	if err != nil {
		return err
	}
	switch {
	case vh.Site != "":
		where += " in the site's own VirtualHost"
	case vh.Macro != "" && len(hosts) > 0:
		where += ", guarded by the Host, so only those sites answer it"
	case vh.Macro != "":
		where += ", so every custom site made from it gets it"
	}
	a.note("%s: adding %s → %s (%s) %s", label, req.Path, backend, ts, where)
	return nil
}

// strategyFor is the strategy a block for hosts is written with: a block
// limited to some hosts needs mod_rewrite, so upgrade becomes tunnel (said
// once per edit).
func (a *adder) strategyFor(hosts []string) Strategy {
	ts := a.strategy
	if len(hosts) > 0 && ts == StrategyUpgrade {
		ts = StrategyTunnel
		if !slices.Contains(a.written, StrategyTunnel) {
			a.note("a route limited to some sites in the custom sites' macros is written with mod_rewrite (a ProxyPass cannot depend on the Host), so as tunnel; Apache %s carries its ws:// target with mod_proxy_http's upgrade", a.req.Apache)
		}
	}
	if !slices.Contains(a.written, ts) {
		a.written = append(a.written, ts)
	}
	return ts
}

// RemoveRoute returns the config without Socketbar's blocks for path in the
// selected hosts (all hosts when ports is empty). Rules Socketbar did not
// write are never removed: a block holding a line added or changed by hand
// is refused with a *HandEditedError naming the lines.
func (c *Config) RemoveRoute(path string, ports []string) (*Edit, error) {
	return c.RemoveRouteWith(path, ports, RemoveOptions{})
}

// RemoveOptions tune RemoveRouteWith.
type RemoveOptions struct {
	// KeepHandLines removes only the lines Socketbar wrote (its markers
	// and rules) from a block that also holds lines added by hand, and
	// leaves those where they are, outside any block.
	KeepHandLines bool
	// Sites restricts the removal to some sites; nil means every site. A
	// block in the custom sites' macro that serves a site outside
	// Sites.Hosts is refused rather than taken from that site too.
	Sites *SiteSelection
}

// RemoveRouteWith is RemoveRoute with options; the front end offers
// KeepHandLines after RemoveRoute refused with a *HandEditedError.
func (c *Config) RemoveRouteWith(path string, ports []string, opts RemoveOptions) (*Edit, error) {
	if err := validate.Path(path); err != nil {
		return nil, err
	}
	work, err := apacheconf.Parse(c.Src)
	if err != nil {
		return nil, err
	}
	wc := &Config{Path: c.Path, Src: c.Src, File: work, Included: c.Included}
	hosts, err := wc.removeHosts(ports, opts.Sites, path)
	if err != nil {
		return nil, err
	}
	blocks, err := wc.Blocks()
	if err != nil {
		return nil, err
	}
	edit := &Edit{Old: c.Src}
	for _, vh := range hosts {
		if b := findBlock(blocks, vh, path); b != nil {
			if sel := opts.Sites; sel != nil && vh.Macro != "" {
				if extra := b.hostsBeyond(sel.Hosts); extra != "" {
					if len(b.Hosts) == 0 || len(b.handLines()) > 0 {
						return nil, &InputError{Field: FieldSite, Remedy: RemedyEverySite, Msg: fmt.Sprintf("Socketbar's route for %s in %s (line %d) also serves %s, which the custom sites share", path, vh.Label(), b.Begin.Line, extra)}
					}
					// Limited to some sites: keep it for the others.
					if err := narrowBlock(work, vh, b, sel.Hosts); err != nil {
						return nil, err
					}
					edit.Notes = append(edit.Notes, fmt.Sprintf("%s: the route for %s now serves %s only (was %s)", vh.Label(), path, extra, servedBy(b.Hosts)))
					continue
				}
			}
			hand := b.handLines()
			switch {
			case len(hand) > 0 && !opts.KeepHandLines:
				return nil, &HandEditedError{Path: path, VHost: vh.Label(), File: c.Path, Lines: hand}
			case len(hand) > 0:
				keep := map[int]bool{}
				for _, h := range hand {
					keep[h.Line] = true
				}
				for _, n := range append(append([]*apacheconf.Node{b.Begin}, b.interior()...), b.End) {
					if !keep[n.Line] {
						if err := work.RemoveRun(n, n); err != nil {
							return nil, err
						}
					}
				}
				edit.Notes = append(edit.Notes, fmt.Sprintf("%s: removing Socketbar's lines for %s, keeping %d line(s) added by hand", vh.Label(), path, len(hand)))
				continue
			}
			if err := work.RemoveRun(b.Begin, b.End); err != nil {
				return nil, err
			}
			edit.Notes = append(edit.Notes, fmt.Sprintf("%s: removing %s → %s (lines %d–%d)", vh.Label(), path, b.Backend, b.Begin.Line, b.End.Line))
		}
	}
	edit.New = work.Bytes()
	if !edit.Changed() {
		nm := &NotManagedError{Path: path}
		for _, r := range c.Routes() {
			if r.Path == path && !r.Managed {
				nm.Rule = &r
				break
			}
		}
		return nil, nm
	}
	return edit, nil
}

// removeHosts picks the hosts a remove looks in: the default hosts (every
// VirtualHost, or those on ports) unless sel leaves them out, and the
// custom sites' macro templates unless sel chooses no custom site.
func (c *Config) removeHosts(ports []string, sel *SiteSelection, path string) ([]VHost, error) {
	if c.Included {
		return c.siteHosts(ports, nil, sel), nil
	}
	var hosts []VHost
	if sel == nil || sel.Default {
		h, err := c.selectHosts(ports, nil, path)
		if err != nil && (sel != nil || len(c.MacroHosts()) == 0) {
			return nil, err
		}
		hosts = h
	}
	if sel != nil && len(sel.Hosts) == 0 {
		return hosts, nil
	}
	for _, vh := range c.MacroHosts() {
		if len(ports) == 0 || slices.ContainsFunc(ports, vh.HasPort) {
			hosts = append(hosts, vh)
		}
	}
	return hosts, nil
}

// narrowBlock rewrites the macro block b in place so that it no longer
// serves the host names in drop, with the same backend and strategy.
func narrowBlock(work *apacheconf.File, vh VHost, b *Block, drop []string) error {
	var keep []string
	for _, h := range b.Hosts {
		if !slices.ContainsFunc(drop, func(d string) bool { return strings.EqualFold(d, h) }) {
			keep = append(keep, h)
		}
	}
	return replaceBlock(work, b, renderBlock(b.Path, b.Backend, b.Strategy, b.Begin.Indent(), b.Begin.EOL(), needsSSLProxy(vh, b.Backend), keep))
}

// replaceBlock puts text where the block b is, so that its neighbours and
// the other blocks keep their order.
func replaceBlock(work *apacheconf.File, b *Block, text string) error {
	nodes, err := apacheconf.Lines(text)
	if err != nil {
		return errorf("rendered block does not parse: %w", err)
	}
	if err := work.InsertBefore(b.Begin, nodes); err != nil {
		return err
	}
	return work.RemoveRun(b.Begin, b.End)
}

// siteHosts are an included site file's VirtualHosts that sel chooses
// (every one for nil) on ports, or on defaults when ports is empty (every
// port when both are).
func (c *Config) siteHosts(ports, defaults []string, sel *SiteSelection) []VHost {
	if len(ports) == 0 {
		ports = defaults
	}
	var hosts []VHost
	for _, vh := range c.VirtualHosts() {
		if vh.Site == "" || (len(ports) > 0 && !slices.ContainsFunc(ports, vh.HasPort)) {
			continue
		}
		if sel != nil && !slices.ContainsFunc(sel.Hosts, func(h string) bool { return strings.EqualFold(h, vh.Site) }) {
			continue
		}
		hosts = append(hosts, vh)
	}
	return hosts
}

// NotManagedError says there is nothing of Socketbar's to remove for Path.
// Rule is a rule for Path that someone else wrote, nil when there is none:
// Socketbar never removes it, so it is there to edit by hand.
type NotManagedError struct {
	Path string
	Rule *Route
}

func (e *NotManagedError) Error() string {
	msg := "Socketbar has no route for " + e.Path
	if e.Rule != nil {
		msg += fmt.Sprintf("; the rule on line %d (%s) was not written by Socketbar, so edit it by hand", e.Rule.Line, e.Rule.Directive)
	}
	return msg
}

// selectHosts picks the virtual hosts on ports. With no ports: for an add
// (removing == ""), the hosts on the default ports (one of them is
// enough); for a remove, every host.
func (c *Config) selectHosts(ports, defaults []string, removing string) ([]VHost, error) {
	all := c.VirtualHosts()
	if len(ports) == 0 && removing != "" {
		return all, nil
	}
	explicit := len(ports) > 0
	if !explicit {
		ports = defaults
		if len(ports) == 0 {
			ports = []string{"443", "80"}
		}
	}
	var hosts []VHost
	for _, p := range ports {
		if _, err := fmt.Sscanf(p, "%d", new(int)); err != nil || strings.Trim(p, "0123456789") != "" {
			return nil, inputErr(FieldVHost, "%q is not a port number such as 443", p)
		}
		found := false
		for _, vh := range all {
			if vh.HasPort(p) && !containsHost(hosts, vh) {
				hosts = append(hosts, vh)
				found = true
			}
		}
		if !found && explicit {
			return nil, inputErr(FieldVHost, "%s: no <VirtualHost> of %s is on that port; its hosts are %s", p, c.Path, hostLabels(all))
		}
	}
	if len(hosts) == 0 {
		return nil, &InputError{Field: FieldVHost, Remedy: RemedyChooseVHost, Msg: fmt.Sprintf("%s: no <VirtualHost> of %s is on that port; its hosts are %s", strings.Join(ports, " or "), c.Path, hostLabels(all))}
	}
	return hosts, nil
}

func containsHost(hosts []VHost, vh VHost) bool {
	for _, h := range hosts {
		if h.Node == vh.Node {
			return true
		}
	}
	return false
}

func hostLabels(hosts []VHost) string {
	if len(hosts) == 0 {
		return "none"
	}
	var l []string
	for _, h := range hosts {
		l = append(l, h.Label())
	}
	return strings.Join(l, ", ")
}

// insertionPoint finds where a new block goes in vh: before the catch-all
// ProxyPass / (and before the comment lines right above it, which describe
// it), or nil for the end of the host. It returns the indentation and line
// ending to use.
func insertionPoint(vh VHost) (anchor *apacheconf.Node, indent, eol string) {
	var catchAll, lastDirective *apacheconf.Node
	var find func([]*apacheconf.Node)
	find = func(nodes []*apacheconf.Node) {
		for _, n := range nodes {
			if catchAll != nil {
				return
			}
			switch {
			case n.Kind == apacheconf.Section && !n.Is("Location") && !n.Is("LocationMatch") && !n.Is("Macro"):
				find(n.Children)
			case n.Kind == apacheconf.Directive && n.Is("ProxyPass") && len(n.Args) >= 2 && n.Args[0] == "/" && n.Args[1] != "!":
				catchAll = n
			}
		}
	}
	find(vh.Node.Children)
	for _, n := range vh.Node.Children {
		if n.Kind == apacheconf.Directive {
			lastDirective = n
		}
	}
	if catchAll == nil {
		indent = "\t"
		if lastDirective != nil {
			indent, eol = lastDirective.Indent(), lastDirective.EOL()
		}
		return nil, indent, eol
	}
	anchor = catchAll
	siblings := vh.Node.Children
	if catchAll.Parent != nil {
		siblings = catchAll.Parent.Children
	}
	for i := indexOf(siblings, catchAll) - 1; i >= 0 && siblings[i].Kind == apacheconf.Comment && !parseMarker(siblings[i]).end; i-- {
		anchor = siblings[i]
	}
	return anchor, catchAll.Indent(), catchAll.EOL()
}

func indexOf(nodes []*apacheconf.Node, n *apacheconf.Node) int {
	for i, c := range nodes {
		if c == n {
			return i
		}
	}
	return -1
}

// needsSSLProxy reports whether a TLS backend needs "SSLProxyEngine On"
// in vh because the host does not switch it on already.
func needsSSLProxy(vh VHost, backend string) bool {
	u, _ := url.Parse(backend)
	if u.Scheme != "https" && u.Scheme != "wss" {
		return false
	}
	// Lines inside Socketbar's blocks do not count: each block must still
	// work when the others are removed.
	on := false
	var find func([]*apacheconf.Node)
	find = func(nodes []*apacheconf.Node) {
		managed := false
		for _, n := range nodes {
			switch m := parseMarker(n); {
			case m.begin:
				managed = true
			case m.end:
				managed = false
			case n.Kind == apacheconf.Section:
				find(n.Children)
			case !managed && n.Is("SSLProxyEngine") && len(n.Args) == 1 && strings.EqualFold(n.Args[0], "on"):
				on = true
			}
		}
	}
	find(vh.Node.Children)
	return !on
}

// renderBlock writes the lines of one managed route block. With hosts, the
// block answers only requests whose Host is one of them: every rule is a
// RewriteRule [P] behind a RewriteCond on %{HTTP_HOST}, since ProxyPass
// cannot be made conditional, so s must be StrategyTunnel (addTo sees to
// it): the ws:// target is carried by mod_proxy_wstunnel before Apache
// 2.4.47 and by mod_proxy_http's upgrade from 2.4.47 on.
func renderBlock(path, backend string, s Strategy, indent, eol string, sslProxy bool, hosts []string) string {
	u, _ := url.Parse(backend)
	secure := u.Scheme == "https" || u.Scheme == "wss"
	httpURL, wsURL := *u, *u
	httpURL.Scheme, wsURL.Scheme = "http", "ws"
	if secure {
		httpURL.Scheme, wsURL.Scheme = "https", "wss"
	}
	var lines []string
	lines = append(lines, fmt.Sprintf("# %s %s -> %s (%s). Managed by Socketbar: change it with `socketbar add/remove`.", markerBegin, path, httpURL.String(), s))
	if sslProxy {
		lines = append(lines, "SSLProxyEngine On")
	}
	pattern, suffix := rewritePattern(path)
	hostCond := ""
	if len(hosts) > 0 {
		hostCond = "RewriteCond %{HTTP_HOST} " + hostPattern(hosts) + " [NC]"
	}
	switch {
	case s == StrategyUpgrade && hostCond == "":
		lines = append(lines,
			fmt.Sprintf("ProxyPass %s %s upgrade=websocket", path, httpURL.String()),
			fmt.Sprintf("ProxyPassReverse %s %s", path, httpURL.String()))
	case hostCond != "":
		lines = append(lines,
			"RewriteEngine On",
			hostCond,
			"RewriteCond %{HTTP:Upgrade} websocket [NC]",
			"RewriteCond %{HTTP:Connection} upgrade [NC]",
			fmt.Sprintf("RewriteRule %s %s%s [P,L]", pattern, wsURL.String(), suffix),
			hostCond,
			fmt.Sprintf("RewriteRule %s %s%s [P,L]", pattern, httpURL.String(), suffix),
			fmt.Sprintf("ProxyPassReverse %s %s", path, httpURL.String()))
	default:
		lines = append(lines,
			"RewriteEngine On",
			"RewriteCond %{HTTP:Upgrade} websocket [NC]",
			"RewriteCond %{HTTP:Connection} upgrade [NC]",
			fmt.Sprintf("RewriteRule %s %s%s [P,L]", pattern, wsURL.String(), suffix),
			fmt.Sprintf("ProxyPass %s %s", path, httpURL.String()),
			fmt.Sprintf("ProxyPassReverse %s %s", path, httpURL.String()))
	}
	lines = append(lines, fmt.Sprintf("# %s %s", markerEnd, path))
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(indent + l + eol)
	}
	return b.String()
}

// hostPattern is the RewriteCond pattern matching a Host header naming one
// of hosts, with or without a port: ^(a\.example|b\.example)(:[0-9]+)?$.
// It is matched with [NC], as host names are case-insensitive.
func hostPattern(hosts []string) string {
	q := make([]string, len(hosts))
	for i, h := range hosts {
		q[i] = regexp.QuoteMeta(strings.ToLower(h))
	}
	return "^(" + strings.Join(q, "|") + ")(:[0-9]+)?$"
}

// parseHostPattern reads hostPattern's output back into the host names;
// ok is false for any other pattern.
func parseHostPattern(p string) (hosts []string, ok bool) {
	inner, found := strings.CutPrefix(p, "^(")
	if !found {
		return nil, false
	}
	if inner, found = strings.CutSuffix(inner, ")(:[0-9]+)?$"); !found || inner == "" {
		return nil, false
	}
	for _, q := range strings.Split(inner, "|") {
		h := strings.ReplaceAll(q, `\.`, ".")
		if h == "" || regexp.QuoteMeta(h) != q {
			return nil, false
		}
		hosts = append(hosts, h)
	}
	return hosts, true
}

// rewritePattern returns a RewriteRule pattern that answers exactly the
// paths ProxyPass PATH answers (mod_proxy's alias_match: /ws covers /ws and
// /ws/…, not /wsx), with every regex metacharacter of path escaped, and the
// back-reference to append to the target.
func rewritePattern(path string) (pattern, suffix string) {
	quoted := regexp.QuoteMeta(path)
	if strings.HasSuffix(path, "/") {
		return "^" + quoted + "(.*)$", "$1"
	}
	return "^" + quoted + "(/.*)?$", "$1"
}

// shadowNotes warns when a managed route for path ends up behind a rule
// that answers first.
func shadowNotes(name string, src []byte, path string) []string {
	c, err := ParseConfig(name, src)
	if err != nil {
		return nil
	}
	var notes []string
	for _, r := range c.Routes() {
		if r.Managed && r.Path == path && r.Shadowed {
			notes = append(notes, fmt.Sprintf("warning: %s: the new %s on line %d is shadowed by the rule on line %d, which answers the same requests first; move or remove that rule", r.VHost, r.Directive, r.Line, r.ShadowedBy))
		}
	}
	return notes
}
