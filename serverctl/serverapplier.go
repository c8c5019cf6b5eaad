package serverctl

import (
	"context"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/socketbar/socketbar/serverctl/apacheconf"
	"github.com/socketbar/socketbar/serverctl/apacheconf/loader"
	"github.com/socketbar/socketbar/serverctl/run"
	"github.com/socketbar/socketbar/serverctl/service"
	"github.com/socketbar/socketbar/serverctl/sites"
)

// ApplyOptions tune Server.Applier.
type ApplyOptions struct {
	// HTTPD overrides the binary used for the config test and the httpd driver.
	HTTPD string
	// NoRestart writes without restarting.
	NoRestart     bool
	VerifyTimeout time.Duration
	Runner        run.Runner
}

// Applier returns the transaction for changes to cfg on this Server: the
// config test runs the launchd job's program with its defines and
// environment; the service is launchd on a Mac (root "/") and the httpd
// driver anywhere else (a Server tree on Linux, the demo, the tests).
func (s *Server) Applier(cfg *Config, opts ApplyOptions) (*Applier, error) {
	runner := opts.Runner
	if runner == nil {
		runner = run.Exec{}
	}
	httpd, err := s.httpdBinary(opts.HTTPD)
	if err != nil {
		return nil, err
	}
	env := s.jobEnv()
	backups := s.Backups(cfg)
	var machine service.Machine
	var dial func(context.Context, string, string) (net.Conn, error)
	if r := s.Remote; r != nil {
		if r.Files == nil || r.Commands == nil {
			return nil, errorf("the Server over SSH was opened for reading only")
		}
		swap := s.swapOf()
		d := swapDisk{d: r.Files, swap: swap}
		backups.host = d
		runner = swapRunner{r: r.Commands, swap: swap}
		machine = remoteMachine{d: d, alive: r.Alive}
		dial = r.Dial
	}
	a := &Applier{
		ConfigPath:     cfg.Path,
		Tester:         HTTPDTester{Binary: httpd, Defines: s.Job.Defines, Env: env, Runner: runner},
		Endpoints:      cfg.Endpoints(s.Job.Defines),
		VerifyTimeout:  opts.VerifyTimeout,
		ErrorLog:       s.HostPath(s.ErrorLogPath),
		Backups:        backups,
		ResolveInclude: s.includeResolver(cfg),
		Includes:       func(ctx context.Context) (IncludedFiles, error) { return s.Includes(ctx, cfg) },
		textPath:       func(p string) string { return s.swapOf().arg(p) },
		SiteFiles: func(ctx context.Context) ([]*Config, error) {
			lc, err := loader.Load(ctx, cfg.Path, s.LoaderOptions())
			if err != nil {
				return nil, err
			}
			return SiteFiles(lc, sites.FromConfig(lc))
		},
	}
	for i := range a.Endpoints {
		a.Endpoints[i].Dial = dial
	}
	if !opts.NoRestart {
		a.Service = s.Service(cfg, httpd, env, runner)
		if h, ok := a.Service.(service.HTTPD); ok && machine != nil {
			h.Machine = machine
			a.Service = h
		}
	}
	return a, nil
}

// ServiceDriver is the driver of this Server's Service Proxy (see
// Service), for reading its state: a Server over SSH opened for reading
// has one too.
func (s *Server) ServiceDriver(cfg *Config, opts ApplyOptions) (service.Driver, error) {
	runner := opts.Runner
	if runner == nil {
		runner = run.Exec{}
	}
	httpd, err := s.httpdBinary(opts.HTTPD)
	if err != nil {
		return nil, err
	}
	drv := s.Service(cfg, httpd, s.jobEnv(), runner)
	if h, ok := drv.(service.HTTPD); ok && s.Remote != nil {
		// A tree over SSH read from its mirror: the pid file fetched
		// with it, the process looked for there.
		h.Machine = remoteMachine{d: readOnly{localDisk{}}, alive: s.Remote.Alive}
		if s.Remote.Files != nil {
			h.Machine = remoteMachine{d: swapDisk{d: s.Remote.Files, swap: s.swapOf()}, alive: s.Remote.Alive}
		}
		drv = h
	}
	return drv, nil
}

// readOnly is a Disk whose writes are refused: a mirror is never written
// back to.
type readOnly struct{ Disk }

func (readOnly) Remove(p string) error {
	return &fs.PathError{Op: "remove", Path: p, Err: fs.ErrPermission}
}

// jobEnv is the launchd job's environment as NAME=value, sorted.
func (s *Server) jobEnv() []string {
	var env []string
	for k, v := range s.Job.Environment {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	return env
}

// includeResolver maps an Include line's argument the way Apache reads it
// (${VAR} from the job's environment and the config's Define lines, a
// relative path from ServerRoot) onto this machine.
func (s *Server) includeResolver(cfg *Config) func(string) string {
	vars := cfg.Vars(s.Vars())
	serverRoot := loader.DefaultServerRoot
	for _, n := range cfg.File.Nodes {
		if n.Kind == apacheconf.Directive && n.Is("ServerRoot") && len(n.Args) == 1 {
			serverRoot = ExpandVars(n.Args[0], vars)
		}
	}
	return func(arg string) string {
		p := ExpandVars(arg, vars)
		if !path.IsAbs(p) {
			p = path.Join(serverRoot, p)
		}
		return s.FilePath(path.Clean(p))
	}
}

// Service returns the driver that restarts this Server's Service Proxy:
// launchd's on a Mac, which a Server reached over SSH at its "/" is (its
// commands go through runner, to the Server); the httpd driver, which
// reads a pid file and finds the process, for a tree (here, or on a
// Server reached over SSH with --root, through Applier's Machine).
func (s *Server) Service(cfg *Config, httpd string, env []string, runner run.Runner) service.Driver {
	// Read-only (Files nil), a tree over SSH has no way to its pid file,
	// and launchd's driver says what it can.
	remoteMac := s.Remote != nil && (s.Remote.RemoteRoot == "/" || s.Remote.RemoteRoot == "" || s.Remote.Files == nil && s.Remote.Alive == nil)
	if remoteMac || s.Remote == nil && runtime.GOOS == "darwin" && (s.Root == "/" || s.Root == "") {
		return service.Launchd{Label: ServiceLabel, Runner: runner}
	}
	return service.HTTPD{
		Binary:     httpd,
		ConfigFile: cfg.Path,
		ErrorLog:   s.HostPath(s.ErrorLogPath),
		Defines:    s.Job.Defines,
		Env:        env,
		PidFile:    s.pidFile(cfg),
		Runner:     runner,
	}
}

// httpdBinary picks the program that reads the config: the override, else
// the launchd job's program (Apple's wrapper, which sets CERT_ID), else
// /usr/sbin/httpd, all under the root.
func (s *Server) httpdBinary(override string) (string, error) {
	if override != "" {
		return override, nil
	}
	var looked []string
	if len(s.Job.ProgramArguments) > 0 {
		p := s.HostPath(s.Job.ProgramArguments[0])
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		looked = append(looked, p)
	}
	p := s.HostPath(HTTPDPath)
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	looked = append(looked, p)
	return "", &NoHTTPDError{Looked: looked}
}

// NoHTTPDError says no httpd was found to test the config with.
type NoHTTPDError struct{ Looked []string }

func (e *NoHTTPDError) Error() string {
	return fmt.Sprintf("serverctl: cannot run Apache's config test: no httpd at %s", strings.Join(e.Looked, " or "))
}

// remoteMachine is the Server reached over SSH, for the httpd driver of a
// tree there.
type remoteMachine struct {
	d     Disk
	alive func(pid int) (bool, error)
}

func (m remoteMachine) ReadFile(p string, noFollow bool) ([]byte, fs.FileInfo, error) {
	return m.d.ReadFile(p, noFollow)
}

func (m remoteMachine) Remove(p string) error { return m.d.Remove(p) }

func (m remoteMachine) Alive(pid int) (bool, error) {
	if m.alive == nil {
		return false, errorf("cannot tell whether process %d runs on the Server", pid)
	}
	return m.alive(pid)
}

// pidFile is where the config's httpd writes its pid; on a tree over SSH,
// in the mirror's terms (Applier's Disk maps it to the Server's).
func (s *Server) pidFile(cfg *Config) string {
	p := cfg.PidFile(cfg.Vars(s.Vars()))
	if s.Remote != nil {
		return s.FilePath(p)
	}
	return p
}
