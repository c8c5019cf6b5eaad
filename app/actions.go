package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/socketbar/socketbar/proxy"
	"github.com/socketbar/socketbar/proxy/wstest"
	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/demo"
)

// Snapshot is what the app shows: the Server, its config and what is
// known about them, read at one moment.
type Snapshot struct {
	Root     string
	Server   *serverctl.Server
	Config   *serverctl.Config
	Routes   []serverctl.Route
	Findings []serverctl.Finding
	Drift    *serverctl.Drift
	History  []serverctl.BackupEntry
	// Service is the Service Proxy's state; ServiceErr says why it is unknown.
	Service    serverctl.ServiceState
	ServiceErr error
	// Err says why there is no Server or config.
	Err error
	// ModTime is the config file's, to notice changes on disk.
	ModTime time.Time
}

// NoServer reports whether no Server was found under the root.
func (s *Snapshot) NoServer() bool {
	var nf *serverctl.NotFoundError
	return errors.As(s.Err, &nf)
}

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
	ws := 0
	for _, r := range s.Routes {
		if r.WebSocket {
			ws++
		}
	}
	line := fmt.Sprintf("%s · Apache %s · %d routes, %d WebSocket", svc, s.Server.Apache, len(s.Routes), ws)
	if serverctl.HasErrors(s.Findings) || s.Drift != nil {
		line = "⚠ " + line
	}
	return line
}

// Actions is everything the windows ask of the Server; the app never
// parses config or runs commands itself. Tests substitute a fake.
type Actions interface {
	// Load reads the Server under root.
	Load(ctx context.Context, root string) *Snapshot
	// Apply puts a change in place through Socketbar's transaction,
	// reporting each step as it starts.
	Apply(ctx context.Context, s *Snapshot, ch serverctl.Change, progress func(serverctl.Step)) (*serverctl.Result, error)
	// Restart restarts the Service Proxy and verifies it came back.
	Restart(ctx context.Context, s *Snapshot) (int, error)
	// Test runs the connection test.
	Test(ctx context.Context, url string, opts wstest.Options) *wstest.Report
	// StartDemo prepares and starts the demo Server and returns its root.
	StartDemo(ctx context.Context) (string, error)
	// StopDemo stops the demo Server this app started, if any.
	StopDemo(ctx context.Context) error
}

// ServerActions is the real Actions: serverctl, wstest and demo.
type ServerActions struct {
	// HTTPD overrides the httpd used for config tests (like --httpd).
	HTTPD string

	mu   sync.Mutex
	demo *demo.State  // the demo Server this app started
	echo *http.Server // its echo app
}

// Load implements Actions.
func (a *ServerActions) Load(ctx context.Context, root string) *Snapshot {
	s := &Snapshot{Root: root}
	srv, err := serverctl.Discover(ctx, serverctl.Options{Root: root})
	if err != nil {
		s.Err = err
		return s
	}
	s.Server = srv
	cfg, err := serverctl.ReadConfig(srv.HostPath(srv.ConfigPath))
	if err != nil {
		s.Err = err
		return s
	}
	s.Config = cfg
	if fi, err := os.Stat(cfg.Path); err == nil {
		s.ModTime = fi.ModTime()
	}
	s.Routes = cfg.Routes()
	sites := map[string][]byte{}
	paths, _ := filepath.Glob(filepath.Join(srv.HostPath(serverctl.SitesDir), "*.conf"))
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			sites[p] = b
		}
	}
	s.Findings = cfg.Lint(serverctl.LintOptions{Apache: srv.Apache, Sites: sites})
	store := serverctl.BackupStoreFor(cfg.Path)
	s.Drift, _ = serverctl.FindDrift(cfg, store)
	s.History, _ = store.List()
	if a, err := srv.Applier(cfg, serverctl.ApplyOptions{}); err != nil {
		s.ServiceErr = err
	} else {
		s.Service, s.ServiceErr = a.Service.State(ctx)
	}
	return s
}

// Apply implements Actions. When this user may not write the config, macOS
// asks once for an administrator's password and runs the same transaction
// as root; the steps are then reported as one.
func (a *ServerActions) Apply(ctx context.Context, s *Snapshot, ch serverctl.Change, progress func(serverctl.Step)) (*serverctl.Result, error) {
	ap, err := s.Server.Applier(s.Config, serverctl.ApplyOptions{HTTPD: a.HTTPD})
	if err != nil {
		return nil, err
	}
	if serverctl.Writable(s.Config.Path) && serverctl.Writable(filepath.Dir(s.Config.Path)) {
		ap.Progress = progress
		return ap.Apply(ctx, ch)
	}
	if runtime.GOOS != "darwin" {
		return nil, fmt.Errorf("this user may not write %s; start Socketbar as a user who may, or use the command line with sudo", s.Config.Path)
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	progress(serverctl.StepTest)
	res, err := serverctl.ApplyElevated(ctx, serverctl.ExecRunner{}, self, serverctl.Plan{Root: s.Root, HTTPD: a.HTTPD, Timeout: 15 * time.Second}, ch)
	if err != nil {
		return nil, err
	}
	return &serverctl.Result{Backup: serverctl.BackupEntry{ID: res.BackupID}, Restarted: res.Restarted, PID: res.PID, Took: time.Duration(res.TookMS) * time.Millisecond}, nil
}

// Restart implements Actions.
func (a *ServerActions) Restart(ctx context.Context, s *Snapshot) (int, error) {
	ap, err := s.Server.Applier(s.Config, serverctl.ApplyOptions{HTTPD: a.HTTPD})
	if err != nil {
		return 0, err
	}
	pid, err := ap.Restart(ctx)
	if err != nil {
		if tail := ap.ErrorLogTail(); tail != "" {
			err = fmt.Errorf("%w\nLast lines of the error log:\n%s", err, tail)
		}
	}
	return pid, err
}

// Test implements Actions.
func (a *ServerActions) Test(ctx context.Context, url string, opts wstest.Options) *wstest.Report {
	return wstest.Run(ctx, url, opts)
}

// StartDemo implements Actions: the demo tree in the user's config folder,
// its echo app, its Websites tier and its Service Proxy.
func (a *ServerActions) StartDemo(ctx context.Context) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	base, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	st, err := demo.Prepare(ctx, filepath.Join(base, "socketbar", "demo"))
	if err != nil {
		return "", err
	}
	if st.HTTPD == nil {
		return st.Root, fmt.Errorf("the demo Server is at %s and can be browsed, but it cannot run: %w", st.Root, demo.ErrNoHTTPD)
	}
	if a.echo == nil {
		echo, err := proxy.ServeEcho(fmt.Sprintf("127.0.0.1:%d", st.EchoPort))
		if err != nil {
			return st.Root, err
		}
		a.echo = echo
	}
	if err := st.Start(ctx); err != nil {
		return st.Root, err
	}
	a.demo = st
	return st.Root, nil
}

// StopDemo implements Actions: the demo's httpds and echo app stop with
// the app that started them.
func (a *ServerActions) StopDemo(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	var err error
	if a.demo != nil {
		err = a.demo.Stop(ctx)
		a.demo = nil
	}
	if a.echo != nil {
		a.echo.Close()
		a.echo = nil
	}
	return err
}

// publicURL is the wss:// URL a person would test a route at: the Service
// Proxy's TLS endpoint for the route's host, by loopback address.
func publicURL(s *Snapshot, r serverctl.Route) string {
	if s.Config == nil {
		return ""
	}
	port := r.VHost[strings.LastIndexByte(r.VHost, ':')+1:]
	for _, e := range s.Config.Endpoints(s.Server.Job.Defines) {
		if _, p, _ := net.SplitHostPort(e.Addr); p == port {
			scheme := "ws://"
			if e.TLS {
				scheme = "wss://"
			}
			return scheme + e.Addr + r.Path
		}
	}
	return "wss://localhost" + r.Path
}
