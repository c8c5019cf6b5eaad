package serverctl

import (
	"context"
	"fmt"
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
	var env []string
	for k, v := range s.Job.Environment {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	a := &Applier{
		ConfigPath:     cfg.Path,
		Tester:         HTTPDTester{Binary: httpd, Defines: s.Job.Defines, Env: env, Runner: runner},
		Endpoints:      cfg.Endpoints(s.Job.Defines),
		VerifyTimeout:  opts.VerifyTimeout,
		ErrorLog:       s.HostPath(s.ErrorLogPath),
		Backups:        BackupStoreFor(cfg.Path),
		ResolveInclude: s.includeResolver(cfg),
		Includes:       func(ctx context.Context) (IncludedFiles, error) { return s.Includes(ctx, cfg) },
		SiteFiles: func(ctx context.Context) ([]*Config, error) {
			lc, err := loader.Load(ctx, cfg.Path, loader.Options{Root: s.Root, Vars: s.Vars()})
			if err != nil {
				return nil, err
			}
			return SiteFiles(lc, sites.FromConfig(lc))
		},
	}
	if !opts.NoRestart {
		a.Service = s.Service(cfg, httpd, env, runner)
	}
	return a, nil
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
// launchd's on a Mac, which a Server reached over SSH is (its commands go
// through runner, to the Server); the httpd driver, which reads a pid file
// and signals a process of this machine, only for a tree run here.
func (s *Server) Service(cfg *Config, httpd string, env []string, runner run.Runner) service.Driver {
	if s.Remote || runtime.GOOS == "darwin" && (s.Root == "/" || s.Root == "") {
		return service.Launchd{Label: ServiceLabel, Runner: runner}
	}
	return service.HTTPD{
		Binary:     httpd,
		ConfigFile: cfg.Path,
		ErrorLog:   s.HostPath(s.ErrorLogPath),
		Defines:    s.Job.Defines,
		Env:        env,
		PidFile:    cfg.PidFile(cfg.Vars(s.Vars())),
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
