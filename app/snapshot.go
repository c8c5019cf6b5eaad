package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/socketbar/socketbar/serverctl/action"
)

// Snapshot is what the app shows: the Server's status read at one moment.
// When there is no Server or no readable config, Err says why and the
// Status fields are empty.
type Snapshot struct {
	action.Status
	Root string
	// Host is the Server's over SSH ("": this machine's).
	Host string
	Err  error
	// connecting is set while the Server just chosen is being read: the
	// app shows nothing of it yet, and offers no action on it.
	connecting bool
}

// target is the Server the snapshot is of, as the actions take it.
func (s *Snapshot) target() action.Target { return action.Target{Root: s.Root, Host: s.Host} }

// load reads this machine's Server under root through the actions.
func load(ctx context.Context, a action.Actions, root string) *Snapshot {
	return loadTarget(ctx, a, action.Target{Root: root})
}

// loadTarget reads the Server of t through the actions.
func loadTarget(ctx context.Context, a action.Actions, t action.Target) *Snapshot {
	s := &Snapshot{Root: t.Root, Host: t.Host}
	st, err := a.Status(ctx, t)
	if err != nil {
		s.Err = err
		return s
	}
	s.Status = *st
	s.Err = st.ConfigErr
	return s
}

// found reports whether the snapshot is of a Server, readable or not.
func (s *Snapshot) found() bool { return s.Server.Root != "" }

// demoStopped reports whether the snapshot is of a demo tree whose
// Service Proxy does not run: it can be started again.
func (s *Snapshot) demoStopped() bool {
	return s.Demo != nil && s.Config != "" && s.ServiceErr == nil && !s.Service.Running
}

// NoServer reports whether no Server was found under the root.
func (s *Snapshot) NoServer() bool { return action.IsNoServer(s.Err) }

// StatusLine is the menu's first line: service, Apache, routes, warnings,
// after the Server's name when it is reached over SSH.
func (s *Snapshot) StatusLine() string {
	line := s.statusLine()
	if s.Host == "" {
		return line
	}
	if rest, warn := strings.CutPrefix(line, "⚠ "); warn {
		return "⚠ " + s.Host + ": " + rest
	}
	return s.Host + ": " + line
}

func (s *Snapshot) statusLine() string {
	if s.connecting && s.Host != "" {
		return "Connecting…"
	}
	if s.connecting {
		return "Reading the Server…"
	}
	if words, _ := linkProblem(s.Err); words != "" {
		return words
	}
	switch {
	case s.NoServer():
		return "No macOS Server found"
	case !s.found() || s.Config == "":
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
	if action.HasErrors(s.Findings) || (s.Drift != nil && len(s.Drift.Missing) > 0) || s.DriftErr != nil || s.HistoryErr != nil {
		line = "⚠ " + line
	}
	return line
}

// since is a duration rounded for people.
func since(d time.Duration) time.Duration { return d.Round(time.Millisecond) }

// withService is s with another Service Proxy state.
func (s *Snapshot) withService(st action.ServiceState, err error) *Snapshot {
	c := *s
	c.Service, c.ServiceErr = st, err
	return &c
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
