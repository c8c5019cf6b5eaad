package action

import (
	"strings"

	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/apacheconf/loader"
	"github.com/socketbar/socketbar/serverctl/demo"
	"github.com/socketbar/socketbar/serverctl/lint"
	"github.com/socketbar/socketbar/serverctl/service"
	"github.com/socketbar/socketbar/serverctl/sites"
)

// Plain data the front ends show, named here so that they need no package
// of the model: values that carry words and numbers, never a file, a
// process or a parsed config.
type (
	// Finding is one of lint's findings.
	Finding = lint.Finding
	// Drift is how the config differs from what Socketbar's last change
	// left: routes that vanished, and routes whose site is gone.
	Drift = serverctl.Drift
	// Version is an Apache version; the zero Version is unknown.
	Version = serverctl.Version
	// Webapp is one of Server.app's webapps.
	Webapp = serverctl.Webapp
	// FileProblem is a file of the Server that discovery could not use, or
	// used with a caveat.
	FileProblem = serverctl.FileProblem
	// Module is a LoadModule line of the config.
	Module = serverctl.Module
	// ServiceState is whether the Service Proxy runs, and its pid.
	ServiceState = service.State
	// BackupEntry is one change in Socketbar's history.
	BackupEntry = serverctl.BackupEntry
	// Strategy is how a route carries WebSockets (see the Strategy… constants).
	Strategy = serverctl.Strategy
	// Step is a step of a transaction, as ApplyOptions.Progress hears it.
	Step = serverctl.Step
	// ProxyRoute is a route the test proxy serves.
	ProxyRoute = serverctl.ServeRoute
)

// The strategies an added route is written with.
const (
	StrategyAuto    = serverctl.StrategyAuto
	StrategyTunnel  = serverctl.StrategyTunnel
	StrategyUpgrade = serverctl.StrategyUpgrade
)

// Steps are the steps of a transaction that succeeds, in the order
// ApplyOptions.Progress hears them.
func Steps() []Step {
	return []Step{serverctl.StepTest, serverctl.StepBackup, serverctl.StepWrite, serverctl.StepRestart, serverctl.StepVerify}
}

// ResolveStrategy is the strategy an add writes for the choice s on
// Apache apache, and why; an error when that Apache cannot carry it.
func ResolveStrategy(s Strategy, apache Version) (Strategy, string, error) {
	return serverctl.ResolveStrategy(s, apache)
}

// HasErrors reports whether any finding is an error (not a warning).
func HasErrors(findings []Finding) bool { return lint.HasErrors(findings) }

// ServerInfo is what discovery found of a Server: its versions, the files
// that make up its Service Proxy (as paths on this machine), and the
// files it could not use.
type ServerInfo struct {
	// Root is the directory that stands for the Server's "/".
	Root                       string
	ServerVersion, ServerBuild string
	// Apache is the installed Apache (zero when unknown); ApacheSource
	// says where it came from, ApacheError why it is unknown.
	Apache                    Version
	ApacheSource, ApacheError string
	// ConfigPath and ErrorLogPath are the Service Proxy's config and error
	// log on this machine, whether or not they can be read.
	ConfigPath, ErrorLogPath string
	// Defines and Environment are the launchd job's -D options and
	// environment, which the config's IfDefine and ${VAR} read.
	Defines     []string
	Environment map[string]string
	Webapps     []Webapp
	// Unreadable lists files that could not be used; Warnings files read
	// with a caveat.
	Unreadable, Warnings []FileProblem
}

func serverInfo(srv *serverctl.Server) ServerInfo {
	return ServerInfo{
		Root: srv.Root, ServerVersion: srv.ServerVersion, ServerBuild: srv.ServerBuild,
		Apache: srv.Apache, ApacheSource: srv.ApacheVersionSource, ApacheError: srv.ApacheVersionError,
		ConfigPath: srv.HostPath(srv.ConfigPath), ErrorLogPath: srv.HostPath(srv.ErrorLogPath),
		Defines: srv.Job.Defines, Environment: srv.Job.Environment, Webapps: srv.Webapps,
		Unreadable: srv.Unreadable, Warnings: srv.Warnings,
	}
}

// VirtualHost is one of the main config's VirtualHosts, as a form offers
// it for a new route.
type VirtualHost struct {
	// Addrs are its addresses as written ("*:443"), Ports their ports.
	Addrs, Ports []string
	// Label names it by scheme and address: "HTTPS *:443".
	Label string
	// TLS says the config serves its port with TLS.
	TLS bool
	// Web says it carries the websites: a new route goes there unless the
	// person chooses otherwise.
	Web bool
}

// endpoints are where the Service Proxy listens, by port, with whether
// each speaks TLS: what names a VirtualHost HTTPS or HTTP.
type endpoints []service.Endpoint

// label names a VirtualHost by its scheme and address ("HTTPS *:443"),
// the scheme from whether the config serves its (first) port with TLS;
// the name alone when nothing listens there.
func (eps endpoints) label(vhost string) string {
	first, _, _ := strings.Cut(vhost, " ")
	port := first[strings.LastIndexByte(first, ':')+1:]
	for _, e := range eps {
		if e.Addr[strings.LastIndexByte(e.Addr, ':')+1:] != port {
			continue
		}
		if e.TLS {
			return "HTTPS " + vhost
		}
		return "HTTP " + vhost
	}
	return vhost
}

// virtualHosts are the main config's VirtualHosts, in file order.
func virtualHosts(cfg *serverctl.Config, eps endpoints, web []string) []VirtualHost {
	var out []VirtualHost
	for _, vh := range cfg.VirtualHosts() {
		v := VirtualHost{Addrs: vh.Addrs, Label: eps.label(vh.Label())}
		v.TLS = strings.HasPrefix(v.Label, "HTTPS ")
		for _, a := range vh.Addrs {
			p := a[strings.LastIndexByte(a, ':')+1:]
			v.Ports = append(v.Ports, p)
			for _, w := range web {
				v.Web = v.Web || w == p
			}
		}
		out = append(out, v)
	}
	return out
}

// Route is a proxy rule as the front ends show it: the rule's own data
// (its JSON is serverctl.Route's) and what showing it needs, the
// VirtualHost's label and where a person would test it.
type Route struct {
	VHost     string `json:"vhost"`
	Path      string `json:"path"`
	Backend   string `json:"backend"`
	Line      int    `json:"line"`
	WebSocket bool   `json:"websocket"`
	// Shadowed says an earlier rule takes every request this one would;
	// ShadowedBy is that rule's line.
	Shadowed   bool `json:"shadowed"`
	ShadowedBy int  `json:"shadowed_by,omitempty"`
	// Managed says Socketbar wrote the rule.
	Managed bool `json:"managed"`
	// Directive is ProxyPass, ProxyPassMatch or RewriteRule; Pattern the
	// regular expression of the last two, Conditions a RewriteRule's
	// RewriteCond lines.
	Directive  string   `json:"directive"`
	Pattern    string   `json:"pattern,omitempty"`
	Conditions []string `json:"conditions,omitempty"`
	// UpgradeWorker says the rule is an http(s) worker with
	// upgrade=websocket (Apache 2.4.47+).
	UpgradeWorker bool `json:"upgrade_worker,omitempty"`
	// Site is the custom website whose VirtualHost holds the rule, "" for
	// the default hosts.
	Site string `json:"site"`
	// File holds the rule when it is not the main config; Line is its line there.
	File string `json:"file,omitempty"`

	// VHostLabel names the VirtualHost by scheme and address ("HTTPS *:443").
	VHostLabel string `json:"-"`
	// TestURL is where a person tests the route: the Service Proxy's
	// endpoint by loopback address, or for a custom site's route the
	// site's name, dialled at TestConnect (see routeTarget).
	TestURL, TestConnect string `json:"-"`
}

// BaseBackend is the backend without a RewriteRule's back-references: the
// target ws://b/ws/$1 gives ws://b/ws/.
func (r Route) BaseBackend() string { return serverctl.Route{Backend: r.Backend}.BaseBackend() }

// routeViews are routes as shown, labelled and with where to test them by eps.
func routeViews(routes []serverctl.Route, eps endpoints) []Route {
	out := make([]Route, 0, len(routes))
	for _, r := range routes {
		v := Route{VHost: r.VHost, Path: r.Path, Backend: r.Backend, Line: r.Line, WebSocket: r.WebSocket,
			Shadowed: r.Shadowed, ShadowedBy: r.ShadowedBy, Managed: r.Managed, Directive: r.Directive,
			Pattern: r.Pattern, Conditions: r.Conditions, UpgradeWorker: r.UpgradeWorker, Site: r.Site, File: r.File,
			VHostLabel: r.VHost}
		if eps != nil {
			v.VHostLabel = eps.label(r.VHost)
			v.TestURL, v.TestConnect = routeTarget(eps, r)
		}
		out = append(out, v)
	}
	return out
}

// Site is the default hosts or one custom website.
type Site struct {
	// Name is the ServerName, "" for the default hosts (Default).
	Name    string
	Default bool
	Aliases []string
	Ports   []int
	// CertID is the certificate identity of its first TLS VirtualHost.
	CertID string
	// Where is each of its VirtualHosts' FILE:LINE: the Use line for one
	// a macro made (the line that differs per site), else its own.
	Where []string
	// Addrs are its VirtualHosts' addresses, in order ("*:443", "*:80").
	Addrs []string
}

// SiteFinding is a problem in the site list: a duplicate VirtualHost, or
// a site Server.app's plist and the config disagree on. None stops Apache.
type SiteFinding struct {
	// Kind is "duplicate", "plist-only", "config-only" or "plist-unreadable".
	Kind    string
	Where   string
	Message string
}

func siteViews(list *sites.List) ([]Site, []SiteFinding) {
	var out []Site
	for _, s := range list.Sites {
		v := Site{Name: s.Name, Default: s.Default, Aliases: s.Aliases, Ports: s.Ports, CertID: s.CertID}
		for _, vh := range s.VHosts {
			v.Where = append(v.Where, vhostPos(vh).String())
			v.Addrs = append(v.Addrs, vh.Addrs...)
		}
		out = append(out, v)
	}
	var findings []SiteFinding
	for _, f := range list.Findings {
		findings = append(findings, SiteFinding{Kind: f.Kind, Where: f.Pos.String(), Message: f.Msg})
	}
	return out, findings
}

// vhostPos is where a site's VirtualHost is written: its Use line when a
// macro made it (the line that differs per site; the body is shared), else
// its <VirtualHost> line.
func vhostPos(v *sites.VHost) loader.Pos {
	if o := v.Node.Origin; o != nil {
		return o.Use
	}
	return v.Node.Pos
}

// HistoryEntry is one change in Socketbar's history with what became of
// it. Its JSON is the BackupEntry's.
type HistoryEntry struct {
	BackupEntry
	// Undone says a later change that took effect undid it, or reverted
	// it with the change it undid.
	Undone bool `json:"-"`
}

// State says what became of the change, for people: "undone", "applied",
// or how it ended otherwise ("rolled back", "not written", "pending", …).
func (e HistoryEntry) State() string {
	switch {
	case e.Undone:
		return "undone"
	case e.Applied():
		return string(serverctl.OutcomeApplied)
	}
	return string(e.Outcome)
}

func historyViews(entries []serverctl.BackupEntry) []HistoryEntry {
	undone := serverctl.Undone(entries)
	out := make([]HistoryEntry, 0, len(entries))
	for _, e := range entries {
		out = append(out, HistoryEntry{BackupEntry: e, Undone: undone[e.ID]})
	}
	return out
}

// DemoInfo is where the parts of a demo Server answer.
type DemoInfo struct {
	// Root is the demo tree, the Target's Root for it.
	Root string
	// HTTPS and HTTP are the Service Proxy's ports, WebsitesHTTP and
	// WebsitesHTTPS the Websites tier's.
	HTTPS, HTTP, WebsitesHTTP, WebsitesHTTPS int
	// EchoURL is the demo's WebSocket echo app, the backend to try;
	// HTTPSURL and HTTPURL the Service Proxy's addresses.
	EchoURL, HTTPSURL, HTTPURL string
	// CustomSite is the name of the demo's custom website, which has a
	// VirtualHost of its own.
	CustomSite string
}

func demoInfo(st *demo.State) DemoInfo {
	return DemoInfo{Root: st.Root, HTTPS: st.HTTPS, HTTP: st.HTTP, WebsitesHTTP: st.WebsitesHTTP, WebsitesHTTPS: st.WebsitesHTTPS,
		EchoURL: st.EchoURL(), HTTPSURL: st.HTTPSURL(), HTTPURL: st.HTTPURL(), CustomSite: demo.CustomSite}
}
