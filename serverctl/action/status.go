package action

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/apacheconf/loader"
	"github.com/socketbar/socketbar/serverctl/lint"
	"github.com/socketbar/socketbar/serverctl/service"
	"github.com/socketbar/socketbar/serverctl/sites"
)

// Status is what is known about a Server at one moment: what `socketbar
// status` prints and what the app shows.
type Status struct {
	Target Target
	Server *serverctl.Server
	// Config is nil when the Service Proxy config cannot be read; ConfigErr says why.
	Config    *serverctl.Config
	ConfigErr error
	// ModTime is the config file's, to notice changes on disk.
	ModTime time.Time
	// Routes are the routes of every site (each with its Site) when the
	// whole config could be read, else the main config's alone.
	Routes []serverctl.Route
	// Sites are the default hosts and the custom websites, cross-checked
	// with Server.app's plist: where a route can go. Nil when the files the
	// config includes cannot be read; SitesErr says why.
	Sites    *sites.List
	SitesErr error
	// WebPorts are the VirtualHosts that carry the websites, by port: where
	// a route goes by default.
	WebPorts []string
	Findings []lint.Finding
	// Drift lists Socketbar routes that vanished since its last change,
	// and those that went with their site (Drift.Gone); nil when neither.
	Drift   *serverctl.Drift
	History []serverctl.BackupEntry
	Modules ModuleCheck
	// Interrupted says a change was cut off (Socketbar was killed); the
	// next change finishes or rolls it back.
	Interrupted bool
	// Service is the Service Proxy's state; ServiceErr says why it is unknown.
	Service    service.State
	ServiceErr error
}

// ModuleCheck says whether the module files the config loads exist.
type ModuleCheck struct {
	Count   int                `json:"modules"`
	Missing []serverctl.Module `json:"missing_modules"`
	// Checked is false when the modules' folders are not under the root
	// (a copy of a Server's config files without its binaries).
	Checked bool `json:"modules_checked"`
}

// RouteCounts counts routes as people count them: a route that is in both
// the HTTPS and the HTTP VirtualHost, or in several sites, or written as a
// ws:// rule for upgrades plus an http:// one for plain requests, is one
// route.
type RouteCounts struct {
	Rules, Routes, WebSocket, Managed int
}

// Counts counts the status's routes, each path and backend (whatever its
// scheme) once; a route is WebSocket or managed when any of its rules is.
func (s *Status) Counts() RouteCounts {
	type route struct{ webSocket, managed bool }
	var c RouteCounts
	var order [][2]string
	seen := map[[2]string]*route{}
	for _, r := range s.Routes {
		c.Rules++
		backend := r.BaseBackend()
		if _, rest, ok := strings.Cut(backend, "://"); ok {
			backend = rest
		}
		key := [2]string{r.Path, backend}
		if seen[key] == nil {
			seen[key] = &route{}
			order = append(order, key)
		}
		seen[key].webSocket = seen[key].webSocket || r.WebSocket
		seen[key].managed = seen[key].managed || r.Managed
	}
	for _, k := range order {
		c.Routes++
		if seen[k].webSocket {
			c.WebSocket++
		}
		if seen[k].managed {
			c.Managed++
		}
	}
	return c
}

// Status reads everything about the Server of t. The error is only for no
// Server at all; a config that cannot be read is in ConfigErr.
func (l *Local) Status(ctx context.Context, t Target) (*Status, error) {
	srv, err := l.discover(ctx, t)
	if err != nil {
		return nil, err
	}
	s := &Status{Target: t, Server: srv}
	cfg, err := serverctl.ReadConfig(srv.HostPath(srv.ConfigPath))
	if err != nil {
		s.ConfigErr = err
		return s, nil
	}
	s.Config = cfg
	if fi, err := os.Stat(cfg.Path); err == nil {
		s.ModTime = fi.ModTime()
	}
	s.Routes = cfg.Routes()
	// One read of the whole config serves lint, the sites, their routes
	// and the drift of the site files.
	lo := lintOptions(ctx, srv, cfg)
	var files []*serverctl.Config
	if lo.LoadErr != nil {
		s.SitesErr = fmt.Errorf("read the sites: %w", lo.LoadErr)
	} else {
		s.Sites = sites.Read(lo.Loaded, srv.Root)
		s.Routes = serverctl.SiteRoutes(lo.Loaded, s.Sites)
		files, _ = serverctl.SiteFiles(lo.Loaded, s.Sites)
	}
	s.WebPorts = srv.WebPorts(cfg)
	s.Findings = lint.Check(cfg, lo)
	store := serverctl.BackupStoreFor(cfg.Path)
	s.Drift, _ = serverctl.FindDrift(cfg, store, s.Sites, files...)
	s.History, _ = store.List()
	s.Interrupted = store.Interrupted()
	s.Modules = checkModules(srv, cfg)
	if a, err := srv.Applier(cfg, serverctl.ApplyOptions{HTTPD: t.HTTPD, Runner: l.Runner}); err != nil {
		s.ServiceErr = err
	} else {
		s.Service, s.ServiceErr = a.Service.State(ctx)
	}
	return s, nil
}

// VHostPos is where a site's VirtualHost is written: its Use line when a
// macro made it (the line that differs per site; the body is shared), else
// its <VirtualHost> line.
func VHostPos(v *sites.VHost) loader.Pos {
	if o := v.Node.Origin; o != nil {
		return o.Use
	}
	return v.Node.Pos
}

// checkModules resolves the config's module files under the root and lists
// the missing ones.
func checkModules(srv *serverctl.Server, cfg *serverctl.Config) ModuleCheck {
	mods := cfg.Modules(cfg.Vars(srv.Vars()))
	mc := ModuleCheck{Count: len(mods)}
	for _, m := range mods {
		if _, err := os.Stat(filepath.Dir(srv.FilePath(m.Path))); err == nil {
			mc.Checked = true
		}
	}
	if !mc.Checked {
		return mc
	}
	for _, m := range mods {
		if _, err := os.Stat(srv.FilePath(m.Path)); err != nil {
			mc.Missing = append(mc.Missing, m)
		}
	}
	return mc
}

// lintOptions is what lint needs to know about the Server beyond its main
// config: the Apache version, the Websites tier's site configs, and the
// whole config Apache reads (the customsites file, what the macros make),
// loaded so that a Use line Apache refuses is reported, not fatal.
func lintOptions(ctx context.Context, srv *serverctl.Server, cfg *serverctl.Config) lint.Options {
	lo := lint.Options{Apache: srv.Apache, Sites: readSites(srv.HostPath(serverctl.SitesDir))}
	lo.Loaded, lo.LoadErr = loader.Load(ctx, cfg.Path, loader.Options{Root: srv.Root, Vars: srv.Vars(), KeepGoing: true})
	return lo
}

// readSites reads the Websites tier's site configs; unreadable ones are skipped.
func readSites(dir string) map[string][]byte {
	sites := map[string][]byte{}
	paths, _ := filepath.Glob(filepath.Join(dir, "*.conf"))
	for _, p := range paths {
		if b, err := serverctl.ReadFile(p); err == nil {
			sites[p] = b
		}
	}
	return sites
}

// RouteList is the Service Proxy's routes, in the order Apache matches them.
type RouteList struct {
	Config string            `json:"config"`
	Routes []serverctl.Route `json:"routes"`
	// Warning says why the routes are the main config's only (an included
	// file that cannot be read); "" when they are the whole config's.
	Warning string `json:"warning,omitempty"`
}

// Routes lists the routes of the Server of t.
func (l *Local) Routes(ctx context.Context, t Target) (*RouteList, error) {
	srv, cfg, err := l.load(ctx, t)
	if err != nil {
		return nil, err
	}
	rl := &RouteList{Config: cfg.Path, Routes: cfg.Routes()}
	if lc, err := loadAll(ctx, srv, cfg); err == nil {
		rl.Routes = serverctl.SiteRoutes(lc, sites.Read(lc, srv.Root))
	} else {
		rl.Warning = err.Error() + "; listing the main config's routes only"
	}
	if rl.Routes == nil {
		rl.Routes = []serverctl.Route{}
	}
	return rl, nil
}

// LintOptions say what to lint: a config file on its own, or the Server's.
type LintOptions struct {
	Target Target
	// File, when set, is linted instead of the Server's config; no Server
	// is needed, and Target.ApacheVersion (if set) is the Apache assumed.
	File string
}

// LintReport is lint's findings.
type LintReport struct {
	Config   string         `json:"config"`
	Errors   int            `json:"errors"`
	Warnings int            `json:"warnings"`
	Findings []lint.Finding `json:"findings"`
}

// Lint finds what stops WebSockets in a Service Proxy config.
func (l *Local) Lint(ctx context.Context, opts LintOptions) (*LintReport, error) {
	var cfg *serverctl.Config
	lo := lint.Options{}
	if opts.File != "" {
		if v := opts.Target.ApacheVersion; v != "" {
			ver, err := serverctl.ParseVersion(v)
			if err != nil {
				return nil, &serverctl.InputError{Field: serverctl.FieldApacheVersion, Msg: err.Error()}
			}
			lo.Apache = ver
		}
		var err error
		if cfg, err = serverctl.ReadConfig(opts.File); err != nil {
			return nil, err
		}
	} else {
		srv, c, err := l.load(ctx, opts.Target)
		if err != nil {
			return nil, err
		}
		cfg, lo = c, lintOptions(ctx, srv, c)
	}
	r := &LintReport{Config: cfg.Path, Findings: lint.Check(cfg, lo)}
	if r.Findings == nil {
		r.Findings = []lint.Finding{}
	}
	for _, f := range r.Findings {
		if f.Severity == lint.SeverityError {
			r.Errors++
		} else {
			r.Warnings++
		}
	}
	return r, nil
}

// History is Socketbar's changes to a config, newest first.
type History struct {
	// Dir is where the backups are.
	Dir     string                  `json:"backups"`
	Entries []serverctl.BackupEntry `json:"entries"`
}

// History lists the changes Socketbar made to the config of t.
func (l *Local) History(ctx context.Context, t Target) (*History, error) {
	_, cfg, err := l.load(ctx, t)
	if err != nil {
		return nil, err
	}
	store := serverctl.BackupStoreFor(cfg.Path)
	entries, err := store.List()
	if err != nil {
		return nil, err
	}
	if entries == nil {
		entries = []serverctl.BackupEntry{}
	}
	return &History{Dir: store.Dir, Entries: entries}, nil
}
