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
	"github.com/socketbar/socketbar/serverctl/demo"
	"github.com/socketbar/socketbar/serverctl/lint"
	"github.com/socketbar/socketbar/serverctl/sites"
)

// Status is what is known about a Server at one moment: what `socketbar
// status` prints and what the app shows. Everything in it is plain data,
// so that a front end needs nothing but the action layer to show it.
type Status struct {
	Target Target
	Server ServerInfo
	// Config is the config file read, "" when it cannot be read: ConfigErr
	// says why, and nothing below it is known.
	Config    string
	ConfigErr error
	// ModTime is the config file's, to notice changes on disk (see Pulse).
	ModTime time.Time
	// Routes are the routes of every site (each with its Site) when the
	// whole config could be read, else the main config's alone.
	Routes []Route
	// VirtualHosts are the main config's, where a route can be added.
	VirtualHosts []VirtualHost
	// Sites are the default hosts and the custom websites, cross-checked
	// with Server.app's plist: where a route can go. Nil when the files the
	// config includes cannot be read; SitesErr says why.
	Sites        []Site
	SiteFindings []SiteFinding
	SitesErr     error
	// WebPorts are the ports of the VirtualHosts that carry the websites:
	// where a route goes by default.
	WebPorts []string
	Findings []Finding
	// Drift lists Socketbar routes that vanished since its last change,
	// and those that went with their site (Drift.Gone); nil when neither,
	// or when it could not be worked out: DriftErr says why.
	Drift    *Drift
	DriftErr error
	// History is Socketbar's changes, newest first; HistoryErr says why it
	// could not be read.
	History    []HistoryEntry
	HistoryErr error
	Modules    ModuleCheck
	// Interrupted says a change was cut off (Socketbar was killed); the
	// next change finishes or rolls it back.
	Interrupted bool
	// Service is the Service Proxy's state; ServiceErr says why it is unknown.
	Service    ServiceState
	ServiceErr error
	// Demo is set when the Server is a demo tree (made by socketbar demo
	// or the app): where its parts answer.
	Demo *DemoInfo
}

// ModuleCheck says whether the module files the config loads exist.
type ModuleCheck struct {
	Count   int             `json:"modules"`
	Missing []MissingModule `json:"missing_modules"`
	// Checked is false when the modules' folders are not under the root
	// (a copy of a Server's config files without its binaries).
	Checked bool `json:"modules_checked"`
}

// MissingModule is a module the config loads whose file does not exist.
type MissingModule struct {
	Module
	// File is the module's file on this machine.
	File string `json:"-"`
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
// Server at all; a config that cannot be read is in ConfigErr, and what
// else could not be read is in the other …Err fields.
func (l *Local) Status(ctx context.Context, t Target) (*Status, error) {
	if t.Host != "" {
		s, err := onServer(ctx, l, t, (*Local).Status)
		if s != nil {
			s.Target = t
		}
		return s, err
	}
	srv, err := l.discover(ctx, t)
	if err != nil {
		return nil, err
	}
	s := &Status{Target: t, Server: serverInfo(srv)}
	if st, err := demo.Load(srv.Root); err == nil {
		d := demoInfo(st)
		s.Demo = &d
	}
	cfg, err := serverctl.ReadConfig(srv.HostPath(srv.ConfigPath))
	if err != nil {
		s.ConfigErr = err
		return s, nil
	}
	s.Config = cfg.Path
	if fi, err := os.Stat(cfg.Path); err == nil {
		s.ModTime = fi.ModTime()
	}
	l.remember(t, srv, cfg, s.ModTime)
	eps := endpoints(cfg.Endpoints(srv.Job.Defines))
	routes := cfg.Routes()
	// One read of the whole config serves lint, the sites, their routes
	// and the drift of the site files.
	lo := lintOptions(ctx, srv, cfg)
	var list *sites.List
	var files []*serverctl.Config
	if lo.LoadErr != nil {
		s.SitesErr = fmt.Errorf("read the sites: %w", lo.LoadErr)
	} else {
		list = sites.Read(lo.Loaded, srv.Root)
		s.Sites, s.SiteFindings = siteViews(list)
		routes = serverctl.SiteRoutes(lo.Loaded, list)
		files, _ = serverctl.SiteFiles(lo.Loaded, list)
	}
	s.Routes = routeViews(routes, eps)
	s.WebPorts = srv.WebPorts(cfg)
	s.VirtualHosts = virtualHosts(cfg, eps, s.WebPorts)
	s.Findings = lint.Check(cfg, lo)
	store := srv.Backups(cfg)
	s.Drift, s.DriftErr = serverctl.FindDrift(cfg, store, list, files...)
	if s.DriftErr != nil {
		s.DriftErr = fmt.Errorf("compare the config with Socketbar's last change: %w", s.DriftErr)
	}
	entries, err := store.List()
	if err != nil {
		s.HistoryErr = fmt.Errorf("read Socketbar's history: %w", err)
	}
	s.History = historyViews(entries)
	s.Interrupted = store.Interrupted()
	s.Modules = checkModules(srv, cfg)
	if drv, err := srv.ServiceDriver(cfg, serverctl.ApplyOptions{HTTPD: t.HTTPD, Runner: l.Runner}); err != nil {
		s.ServiceErr = err
	} else {
		s.Service, s.ServiceErr = drv.State(ctx)
		if l.remote != nil {
			s.ServiceErr = serviceOnServer(s.ServiceErr)
		}
	}
	return s, nil
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
			mc.Missing = append(mc.Missing, MissingModule{Module: m, File: srv.FilePath(m.Path)})
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
	lo.Loaded, lo.LoadErr = loader.Load(ctx, cfg.Path, srv.LoaderOptionsKeepGoing())
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
