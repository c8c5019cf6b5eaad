package app

import (
	"context"
	"fmt"
	"time"

	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/action"
	"github.com/socketbar/socketbar/serverctl/lint"
)

// Snapshot is what the app shows: the Server's status read at one moment.
// When there is no Server or no readable config, Err says why and the
// Status fields are empty.
type Snapshot struct {
	action.Status
	Root string
	Err  error
}

// target is the Server the snapshot is of, as the actions take it.
func (s *Snapshot) target() action.Target { return action.Target{Root: s.Root} }

// load reads the Server under root through the actions.
func load(ctx context.Context, a action.Actions, root string) *Snapshot {
	s := &Snapshot{Root: root}
	st, err := a.Status(ctx, action.Target{Root: root})
	if err != nil {
		s.Err = err
		return s
	}
	s.Status = *st
	s.Err = st.ConfigErr
	return s
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
	if lint.HasErrors(s.Findings) || s.Drift != nil {
		line = "⚠ " + line
	}
	return line
}

// routeURL is the URL a person would test a route at: the Service Proxy's
// endpoint for the route's VirtualHost, by loopback address.
func (s *Snapshot) routeURL(r serverctl.Route) string {
	if s.Config == nil {
		return ""
	}
	return action.RouteURL(s.Config.Endpoints(s.Server.Job.Defines), r)
}

// since is a duration rounded for people.
func since(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
