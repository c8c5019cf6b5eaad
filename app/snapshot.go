package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/action"
	"github.com/socketbar/socketbar/serverctl/demo"
	"github.com/socketbar/socketbar/serverctl/lint"
	"github.com/socketbar/socketbar/serverctl/service"
)

// Snapshot is what the app shows: the Server's status read at one moment.
// When there is no Server or no readable config, Err says why and the
// Status fields are empty.
type Snapshot struct {
	action.Status
	Root string
	Err  error
	// Demo is set when Root is a demo tree (made by the app or the CLI).
	Demo *demo.State
}

// target is the Server the snapshot is of, as the actions take it.
func (s *Snapshot) target() action.Target { return action.Target{Root: s.Root} }

// load reads the Server under root through the actions.
func load(ctx context.Context, a action.Actions, root string) *Snapshot {
	s := &Snapshot{Root: root}
	if root != "" {
		s.Demo, _ = demo.Load(root)
	}
	st, err := a.Status(ctx, action.Target{Root: root})
	if err != nil {
		s.Err = err
		return s
	}
	s.Status = *st
	s.Err = st.ConfigErr
	return s
}

// demoStopped reports whether the snapshot is of a demo tree whose
// Service Proxy does not run: it can be started again.
func (s *Snapshot) demoStopped() bool {
	return s.Demo != nil && s.Config != nil && s.ServiceErr == nil && !s.Service.Running
}

// runningDemo finds a demo that runs in the default demo folder, started
// by the CLI (socketbar demo) or another app, for an app that found no
// Server: it returns the demo's root.
func runningDemo(ctx context.Context) (string, bool) {
	dir, err := action.DefaultDemoDir()
	if err != nil {
		return "", false
	}
	st, err := demo.Load(dir)
	if err != nil {
		return "", false
	}
	running, err := st.Running(ctx)
	return dir, err == nil && running
}

// NoServer reports whether no Server was found under the root.
func (s *Snapshot) NoServer() bool { return action.IsNoServer(s.Err) }

// StatusLine is the menu's first line: service, Apache, routes, warnings.
func (s *Snapshot) StatusLine() string {
	switch {
	case s.NoServer():
		return "No macOS Server found"
	case s.Server == nil || s.Config == nil:
		return "Service Proxy config unreadable"
	}
	svc := "Service Proxy stopped"
	switch {
	case s.ServiceErr != nil:
		svc = "Service Proxy state unknown"
	case s.Service.Running:
		svc = "Service Proxy running"
	}
	n := s.Counts()
	line := fmt.Sprintf("%s · Apache %s · %d routes, %d WebSocket", svc, s.Server.Apache, n.Routes, n.WebSocket)
	if lint.HasErrors(s.Findings) || (s.Drift != nil && len(s.Drift.Missing) > 0) {
		line = "⚠ " + line
	}
	return line
}

// routeTarget is where a person would test a route: the Service Proxy's
// endpoint for the route's VirtualHost, by loopback address, or for a
// custom site's route the site's name, dialled at that endpoint.
func (s *Snapshot) routeTarget(r serverctl.Route) (url, connect string) {
	if s.Config == nil {
		return "", ""
	}
	return action.RouteTarget(s.Config.Endpoints(s.Server.Job.Defines), r)
}

// since is a duration rounded for people.
func since(d time.Duration) time.Duration { return d.Round(time.Millisecond) }

// serviceState reads the Service Proxy's state alone, the cheap part of
// Status (a pid file, or launchctl on a Mac), for the watcher to run
// between changes to the config. Actions offers only the whole Status,
// which also lints and reads the history, so this asks serverctl directly.
func (s *Snapshot) serviceState(ctx context.Context) (service.State, error) {
	if s.Server == nil || s.Config == nil {
		return service.State{}, errors.New("no Service Proxy config")
	}
	a, err := s.Server.Applier(s.Config, serverctl.ApplyOptions{HTTPD: s.Status.Target.HTTPD})
	if err != nil {
		return service.State{}, err
	}
	return a.Service.State(ctx)
}

// withService is s with another Service Proxy state.
func (s *Snapshot) withService(st service.State, err error) *Snapshot {
	c := *s
	c.Service, c.ServiceErr = st, err
	return &c
}

// vhostLabel names a VirtualHost by its scheme and address ("HTTPS *:443"),
// the scheme from whether the config serves its port with TLS.
func (s *Snapshot) vhostLabel(vhost string) string {
	if s.Config == nil || s.Server == nil {
		return vhost
	}
	first, _, _ := strings.Cut(vhost, " ")
	port := first[strings.LastIndexByte(first, ':')+1:]
	for _, e := range s.Config.Endpoints(s.Server.Job.Defines) {
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

// shortPath shortens a long path by whole folders in its middle, keeping
// the first and the last ones, so it never breaks inside a name:
// /Library/Server/…/apache2/apache_serviceproxy.conf.
func shortPath(p string, max int) string {
	if len(p) <= max {
		return p
	}
	parts := strings.Split(p, "/")
	head, tail := 2, len(parts)-1 // "" and the first folder; the file
	for tail > head+1 && len(strings.Join(append(append(parts[:head:head], "…"), parts[tail-1:]...), "/")) <= max {
		tail--
	}
	return strings.Join(append(append(parts[:head:head], "…"), parts[tail:]...), "/")
}
