package serverctl

import (
	"context"
	"fmt"
	"github.com/socketbar/socketbar/serverctl/run"
	"github.com/socketbar/socketbar/serverctl/service"
	"net"
	"os"
	"path"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/socketbar/socketbar/serverctl/apacheconf"
	"github.com/socketbar/socketbar/serverctl/apacheconf/loader"
	"github.com/socketbar/socketbar/serverctl/sites"
)

// active reports whether a conditional section applies: <IfDefine X> when X
// is defined, <IfModule m> when the module is loaded (by identifier or
// source file name), each negated by a leading '!'. Other sections apply.
func active(n *apacheconf.Node, defines map[string]bool, modules map[string]int) bool {
	if len(n.Args) == 0 {
		return true
	}
	arg := n.Args[0]
	neg := strings.HasPrefix(arg, "!")
	arg = strings.TrimPrefix(arg, "!")
	switch {
	case n.Is("IfDefine"):
		return defines[arg] != neg
	case n.Is("IfModule"):
		id := arg
		if strings.HasPrefix(id, "mod_") && strings.HasSuffix(id, ".c") {
			id = strings.TrimSuffix(strings.TrimPrefix(id, "mod_"), ".c") + "_module"
		}
		_, loaded := modules[id]
		return loaded != neg
	}
	return true
}

// Endpoints lists where the Service Proxy listens with the given -D defines:
// every Listen in an active section, dialled on loopback, with TLS when the
// Listen says https or an active VirtualHost on its port turns on SSLEngine
// (mod_ssl) or MSTEngine (Apple's mod_secure_transport).
func (c *Config) Endpoints(defines []string) []service.Endpoint {
	defs := map[string]bool{}
	for _, d := range defines {
		defs[d] = true
	}
	mods := c.LoadedModules()
	tlsPorts := map[string]bool{}
	var listens []struct{ addr, proto string }
	var visit func(nodes []*apacheconf.Node, port string)
	visit = func(nodes []*apacheconf.Node, port string) {
		for _, n := range nodes {
			switch {
			case n.Kind == apacheconf.Section && (n.Is("Macro") || !active(n, defs, mods)):
			case n.Kind == apacheconf.Section && n.Is("VirtualHost"):
				for _, a := range n.Args {
					if i := strings.LastIndexByte(a, ':'); i >= 0 {
						visit(n.Children, a[i+1:])
					}
				}
			case n.Kind == apacheconf.Section:
				visit(n.Children, port)
			case n.Is("Listen") && port == "" && len(n.Args) >= 1:
				l := struct{ addr, proto string }{addr: n.Args[0]}
				if len(n.Args) >= 2 {
					l.proto = strings.ToLower(n.Args[1])
				}
				listens = append(listens, l)
			case (n.Is("SSLEngine") || n.Is("MSTEngine")) && port != "" && len(n.Args) == 1 && strings.EqualFold(n.Args[0], "on"):
				tlsPorts[port] = true
			}
		}
	}
	visit(c.File.Nodes, "")
	var eps []service.Endpoint
	seen := map[string]bool{}
	for _, l := range listens {
		host, port := "127.0.0.1", l.addr
		if h, p, err := net.SplitHostPort(l.addr); err == nil {
			host, port = h, p
			switch host {
			case "", "*", "0.0.0.0":
				host = "127.0.0.1"
			case "::":
				host = "::1"
			}
		}
		addr := net.JoinHostPort(host, port)
		if seen[addr] {
			continue
		}
		seen[addr] = true
		eps = append(eps, service.Endpoint{Addr: addr, TLS: l.proto == "https" || tlsPorts[port]})
	}
	return eps
}

// PidFile returns where httpd writes its pid: the PidFile directive with
// ${NAME} expanded and a relative path joined to ServerRoot, or Apache's
// default logs/httpd.pid.
func (c *Config) PidFile(vars map[string]string) string {
	serverRoot, pid := "", "logs/httpd.pid"
	for _, n := range c.File.Nodes {
		switch {
		case n.Kind != apacheconf.Directive || len(n.Args) != 1:
		case n.Is("ServerRoot"):
			serverRoot = ExpandVars(n.Args[0], vars)
		case n.Is("PidFile"):
			pid = ExpandVars(n.Args[0], vars)
		}
	}
	if !strings.HasPrefix(pid, "/") && serverRoot != "" {
		pid = strings.TrimSuffix(serverRoot, "/") + "/" + pid
	}
	return pid
}

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

// Service returns the driver that restarts this Server's Service Proxy.
func (s *Server) Service(cfg *Config, httpd string, env []string, runner run.Runner) service.Driver {
	if runtime.GOOS == "darwin" && (s.Root == "/" || s.Root == "") {
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
