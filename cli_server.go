package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/socketbar/socketbar/serverctl"
)

// statusReport is the JSON of `socketbar status --json`.
type statusReport struct {
	Root            string                  `json:"root"`
	ServerVersion   string                  `json:"server_version"`
	ServerBuild     string                  `json:"server_build,omitempty"`
	ApacheVersion   serverctl.Version       `json:"apache_version"`
	ApacheSource    string                  `json:"apache_version_source,omitempty"`
	ApacheError     string                  `json:"apache_version_error,omitempty"`
	Config          string                  `json:"config"`
	ErrorLog        string                  `json:"error_log"`
	Defines         []string                `json:"defines"`
	Environment     map[string]string       `json:"environment"`
	Webapps         []serverctl.Webapp      `json:"webapps"`
	Unreadable      []serverctl.FileProblem `json:"unreadable"`
	Warnings        []serverctl.FileProblem `json:"warnings"`
	ConfigError     string                  `json:"config_error,omitempty"`
	Modules         int                     `json:"modules"`
	MissingModules  []serverctl.Module      `json:"missing_modules"`
	ModulesChecked  bool                    `json:"modules_checked"`
	Routes          int                     `json:"routes"`
	ManagedRoutes   int                     `json:"managed_routes"`
	WebSocketRoutes int                     `json:"websocket_routes"`
	// Drift lists Socketbar routes recorded by the last change that the
	// config no longer has (Server.app rewrote it).
	Drift *serverctl.Drift `json:"drift,omitempty"`
}

func (c *cli) status(args []string) int {
	fs := c.flags("status", "[--json] [--root DIR]", "Show the Server, its Apache and the Service Proxy config.")
	sf := c.addServerFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if _, code, done := c.parse(fs, args, 0, 0); done {
		return code
	}
	srv, code := c.discover(sf)
	if srv == nil {
		return code
	}
	r := statusReport{
		Root: srv.Root, ServerVersion: srv.ServerVersion, ServerBuild: srv.ServerBuild,
		ApacheVersion: srv.Apache, ApacheSource: srv.ApacheVersionSource, ApacheError: srv.ApacheVersionError,
		Config: srv.HostPath(srv.ConfigPath), ErrorLog: srv.HostPath(srv.ErrorLogPath),
		Defines: srv.Job.Defines, Environment: srv.Job.Environment, Webapps: srv.Webapps,
		Unreadable: srv.Unreadable, Warnings: srv.Warnings,
	}
	if cfg, err := serverctl.ReadConfig(r.Config); err != nil {
		r.ConfigError = err.Error()
	} else {
		r.Modules, r.MissingModules, r.ModulesChecked = checkModules(srv, cfg)
		r.Drift, _ = serverctl.FindDrift(cfg, serverctl.BackupStoreFor(cfg.Path))
		for _, rt := range cfg.Routes() {
			r.Routes++
			if rt.Managed {
				r.ManagedRoutes++
			}
			if rt.WebSocket {
				r.WebSocketRoutes++
			}
		}
	}
	if *asJSON {
		return c.writeJSON(r)
	}
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	server := "macOS Server " + orUnknown(r.ServerVersion)
	if r.ServerBuild != "" {
		server += " (" + r.ServerBuild + ")"
	}
	fmt.Fprintf(w, "Server:\t%s\n", server)
	apache := r.ApacheVersion.String()
	if r.ApacheSource != "" {
		apache += " (from " + r.ApacheSource + ")"
	} else if r.ApacheError != "" {
		apache += " (" + r.ApacheError + ")"
	}
	fmt.Fprintf(w, "Apache:\t%s\n", apache)
	fmt.Fprintf(w, "Config:\t%s\n", r.Config)
	fmt.Fprintf(w, "Error log:\t%s\n", r.ErrorLog)
	fmt.Fprintf(w, "Defines:\t%s\n", orNone(strings.Join(r.Defines, " ")))
	var env []string
	for _, k := range sortedKeys(r.Environment) {
		env = append(env, fmt.Sprintf("%s=%q", k, r.Environment[k]))
	}
	fmt.Fprintf(w, "Environment:\t%s\n", orNone(strings.Join(env, " ")))
	var apps []string
	for _, a := range r.Webapps {
		apps = append(apps, a.Name)
	}
	fmt.Fprintf(w, "Webapps:\t%s\n", orNone(strings.Join(apps, ", ")))
	if r.ConfigError != "" {
		fmt.Fprintf(w, "Routes:\tunknown: %s\n", r.ConfigError)
	} else {
		fmt.Fprintf(w, "Routes:\t%d (%d WebSocket, %d managed by Socketbar)\n", r.Routes, r.WebSocketRoutes, r.ManagedRoutes)
	}
	switch {
	case r.ConfigError != "":
	case !r.ModulesChecked:
		fmt.Fprintf(w, "Modules:\t%d loaded; their files are not under this root, so not checked\n", r.Modules)
	case len(r.MissingModules) == 0:
		fmt.Fprintf(w, "Modules:\t%d loaded, all files present\n", r.Modules)
	default:
		for _, m := range r.MissingModules {
			fmt.Fprintf(w, "Missing module:\t%s (line %d): %s does not exist; the Service Proxy will not start\n", m.Name, m.Line, srv.FilePath(m.Path))
		}
	}
	if d := r.Drift; d != nil {
		var lost []string
		for _, m := range d.Missing {
			lost = append(lost, m.Path+" in "+m.VHost)
		}
		fmt.Fprintf(w, "Drift:\t%d Socketbar route(s) missing since the config was rewritten at %s: %s. Run socketbar reapply.\n",
			len(d.Missing), d.Changed.Local().Format("2006-01-02 15:04:05"), strings.Join(lost, ", "))
	}
	for _, p := range r.Unreadable {
		fmt.Fprintf(w, "Unreadable:\t%s: %s\n", p.Path, p.Reason)
	}
	for _, p := range r.Warnings {
		fmt.Fprintf(w, "Warning:\t%s: %s\n", p.Path, p.Reason)
	}
	w.Flush()
	if r.ConfigError != "" {
		return exitFailure
	}
	return exitOK
}

// checkModules resolves the config's module files under the root and lists
// the missing ones. A tree with none of the modules' folders (a copy of a
// Server's config files, without its binaries) cannot be checked.
func checkModules(srv *serverctl.Server, cfg *serverctl.Config) (count int, missing []serverctl.Module, checked bool) {
	mods := cfg.Modules(cfg.Vars(srv.Vars()))
	for _, m := range mods {
		if _, err := os.Stat(filepath.Dir(srv.FilePath(m.Path))); err == nil {
			checked = true
		}
	}
	if !checked {
		return len(mods), nil, false
	}
	for _, m := range mods {
		if _, err := os.Stat(srv.FilePath(m.Path)); err != nil {
			missing = append(missing, m)
		}
	}
	return len(mods), missing, true
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// routesReport is the JSON of `socketbar routes --json`.
type routesReport struct {
	Config string            `json:"config"`
	Routes []serverctl.Route `json:"routes"`
}

func (c *cli) routes(args []string) int {
	fs := c.flags("routes", "[--json] [--root DIR]", "List every proxy route of the Service Proxy config, per VirtualHost, in the order Apache matches them\n(RewriteRule [P] first, then ProxyPass/ProxyPassMatch in file order).")
	sf := c.addServerFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if _, code, done := c.parse(fs, args, 0, 0); done {
		return code
	}
	_, cfg, code := c.loadConfig(sf)
	if cfg == nil {
		return code
	}
	routes := cfg.Routes()
	if *asJSON {
		if routes == nil {
			routes = []serverctl.Route{}
		}
		return c.writeJSON(routesReport{Config: cfg.Path, Routes: routes})
	}
	fmt.Fprintf(c.stdout, "%s\n\n", cfg.Path)
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "VHOST\tPATH\tBACKEND\tLINE\tWEBSOCKET\tNOTES")
	for _, r := range routes {
		var notes []string
		if r.Managed {
			notes = append(notes, "managed")
		}
		if r.Shadowed {
			notes = append(notes, fmt.Sprintf("shadowed by line %d", r.ShadowedBy))
		}
		if len(r.Conditions) > 0 {
			notes = append(notes, "conditional")
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\t%s\n", r.VHost, r.Path, r.Backend, r.Line, yesNo(r.WebSocket), strings.Join(notes, ", "))
	}
	w.Flush()
	return exitOK
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// lintReport is the JSON of `socketbar lint --json`.
type lintReport struct {
	Config   string              `json:"config"`
	Errors   int                 `json:"errors"`
	Warnings int                 `json:"warnings"`
	Findings []serverctl.Finding `json:"findings"`
}

func (c *cli) lint(args []string) int {
	fs := c.flags("lint", "[--file CONF] [--json] [--root DIR]", "Find what stops WebSockets in the Service Proxy config: missing modules, shadowed routes,\nrules that turn upgrades into plain HTTP, and WebSocket rules put in the Websites tier.\nExits 1 when there are errors.")
	sf := c.addServerFlags(fs)
	file := fs.String("file", "", "lint this config file instead of the Server's (no Server needed)")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, code, done := c.parse(fs, args, 0, 0); done {
		return code
	}
	opts := serverctl.LintOptions{}
	var cfg *serverctl.Config
	if *file != "" {
		if sf.apacheVersion != "" {
			v, err := serverctl.ParseVersion(sf.apacheVersion)
			if err != nil {
				fmt.Fprintf(c.stderr, "socketbar: --apache-version: %v.\n", err)
				return exitUsage
			}
			opts.Apache = v
		}
		var err error
		if cfg, err = serverctl.ReadConfig(*file); err != nil {
			fmt.Fprintf(c.stderr, "socketbar: %v\n", err)
			return exitFailure
		}
	} else {
		var srv *serverctl.Server
		var code int
		if srv, cfg, code = c.loadConfig(sf); cfg == nil {
			return code
		}
		opts.Apache = srv.Apache
		opts.Sites = readSites(srv.HostPath(serverctl.SitesDir))
	}
	findings := cfg.Lint(opts)
	r := lintReport{Config: cfg.Path, Findings: findings}
	for _, f := range findings {
		if f.Severity == serverctl.SeverityError {
			r.Errors++
		} else {
			r.Warnings++
		}
	}
	if *asJSON {
		if r.Findings == nil {
			r.Findings = []serverctl.Finding{}
		}
		if code := c.writeJSON(r); code != exitOK {
			return code
		}
	} else {
		for _, f := range findings {
			loc := f.File
			if f.Line > 0 {
				loc = fmt.Sprintf("%s:%d", f.File, f.Line)
			}
			fmt.Fprintf(c.stdout, "%s: %s: %s\n    fix: %s\n", loc, f.Severity, f.Message, f.Fix)
		}
		fmt.Fprintf(c.stdout, "%s: %d error(s), %d warning(s)\n", cfg.Path, r.Errors, r.Warnings)
	}
	if r.Errors > 0 {
		return exitFailure
	}
	return exitOK
}

// readSites reads the Websites tier's site configs; unreadable ones are skipped.
func readSites(dir string) map[string][]byte {
	sites := map[string][]byte{}
	paths, _ := filepath.Glob(filepath.Join(dir, "*.conf"))
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			sites[p] = b
		}
	}
	return sites
}
