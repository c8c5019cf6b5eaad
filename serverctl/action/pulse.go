package action

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/socketbar/socketbar/serverctl"
)

// Pulse is the cheap part of a Status, for a watcher to read every few
// seconds: whether the config file changed, and the Service Proxy's state,
// which a restart from elsewhere changes without touching the file.
type Pulse struct {
	// ModTime is the config file's; when it differs from the Status's, the
	// whole Status is due.
	ModTime time.Time
	// Service is the Service Proxy's state; ServiceErr says why it is unknown.
	Service    ServiceState
	ServiceErr error
}

// Pulse reads the config file's modification time and the Service Proxy's
// state. Between changes to the config it costs a stat and the state (a
// pid file, or launchctl on a Mac): the Server and config that the last
// Status of t read are reused, not discovered again.
func (l *Local) Pulse(ctx context.Context, t Target) (*Pulse, error) {
	srv, cfg, mod, err := l.recall(ctx, t)
	if err != nil {
		return nil, err
	}
	p := &Pulse{ModTime: mod}
	if a, err := srv.Applier(cfg, serverctl.ApplyOptions{HTTPD: t.HTTPD, Runner: l.Runner}); err != nil {
		p.ServiceErr = err
	} else {
		p.Service, p.ServiceErr = a.Service.State(ctx)
	}
	return p, nil
}

// ErrorLog is the end of the Service Proxy's error log.
type ErrorLog struct {
	// Path is the log file on this machine.
	Path string
	// Tail is its last lines, "" when it is empty or cannot be read.
	Tail string
}

// ErrorLog reads the last lines of the Service Proxy's error log, where
// Apache says why it refused a config or a request.
func (l *Local) ErrorLog(ctx context.Context, t Target, lines int) (*ErrorLog, error) {
	if t.Host != "" {
		// The mirror holds the log's end (mirror.Limits.Tail).
		return onServer(ctx, l, t, func(there *Local, ctx context.Context, t Target) (*ErrorLog, error) {
			return there.ErrorLog(ctx, t, lines)
		})
	}
	srv, err := l.server(ctx, t)
	if err != nil {
		return nil, err
	}
	return &ErrorLog{Path: srv.HostPath(srv.ErrorLogPath), Tail: srv.ErrorLogTail(lines)}, nil
}

// TestProxyRoutes are the routes of the Server of t that the test proxy
// serves (StartTestProxy with UseServer): each path once, in Apache's
// order, without the catch-all to the Websites tier.
func (l *Local) TestProxyRoutes(ctx context.Context, t Target) ([]ProxyRoute, error) {
	_, cfg, _, err := l.recall(ctx, t)
	if err != nil {
		return nil, err
	}
	return servedRoutes(cfg), nil
}

// servedRoutes are the config's routes the test proxy can serve.
func servedRoutes(cfg *serverctl.Config) []ProxyRoute {
	var out []ProxyRoute
	for _, r := range cfg.ServeRoutes() {
		if _, err := proxyRoute(r); err == nil {
			out = append(out, r)
		}
	}
	return out
}

// loaded is a Server and its config as one Status read them, and the
// config file's modification time then.
type loaded struct {
	srv     *serverctl.Server
	cfg     *serverctl.Config
	modTime time.Time
}

// memory keeps, per Target, what the last Status read, so that a watcher's
// Pulse need not discover the Server again (which asks httpd -v for its
// version) while the config file stays as it was.
type memory struct {
	mu sync.Mutex
	by map[Target]loaded
}

// remember keeps what a Status of t read.
func (l *Local) remember(t Target, srv *serverctl.Server, cfg *serverctl.Config, modTime time.Time) {
	l.mem.mu.Lock()
	defer l.mem.mu.Unlock()
	if l.mem.by == nil {
		l.mem.by = map[Target]loaded{}
	}
	l.mem.by[t] = loaded{srv, cfg, modTime}
}

// recall returns the Server and config of t that the last Status read,
// while the config file has the same modification time; else it reads
// them again and remembers them. modTime is the file's now.
func (l *Local) recall(ctx context.Context, t Target) (srv *serverctl.Server, cfg *serverctl.Config, modTime time.Time, err error) {
	l.mem.mu.Lock()
	last, ok := l.mem.by[t]
	l.mem.mu.Unlock()
	if ok {
		fi, err := os.Stat(last.cfg.Path)
		if err != nil {
			return nil, nil, time.Time{}, fmt.Errorf("read %s: %w", last.cfg.Path, err)
		}
		if fi.ModTime().Equal(last.modTime) {
			return last.srv, last.cfg, last.modTime, nil
		}
	}
	if srv, cfg, err = l.load(ctx, t); err != nil {
		return nil, nil, time.Time{}, err
	}
	if fi, err := os.Stat(cfg.Path); err == nil {
		modTime = fi.ModTime()
	}
	l.remember(t, srv, cfg, modTime)
	return srv, cfg, modTime, nil
}

// server is the Server of t as the last Status found it, else found now.
func (l *Local) server(ctx context.Context, t Target) (*serverctl.Server, error) {
	l.mem.mu.Lock()
	last, ok := l.mem.by[t]
	l.mem.mu.Unlock()
	if ok {
		return last.srv, nil
	}
	return l.discover(ctx, t)
}
