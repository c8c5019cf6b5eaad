package serverctl

import (
	"context"
	"errors"
	"fmt"
	"github.com/socketbar/socketbar/serverctl/run"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Paths of a macOS Server 5 installation, as seen on the Mac.
const (
	ServiceLabel           = "com.apple.serviceproxy"
	ServerRootPath         = "/Applications/Server.app/Contents/ServerRoot"
	LaunchdPlistPath       = ServerRootPath + "/System/Library/LaunchDaemons/com.apple.serviceproxy.plist"
	VersionPlistPath       = "/Applications/Server.app/Contents/version.plist"
	ServerVersionPlistPath = ServerRootPath + "/System/Library/CoreServices/ServerVersion.plist"
	DefaultConfigPath      = "/Library/Server/Web/Config/Proxy/apache_serviceproxy.conf"
	DefaultErrorLogPath    = "/private/var/log/apache2/service_proxy_error.log"
	WebappsDir             = "/Library/Server/Web/Config/apache2/webapps"
	SitesDir               = "/Library/Server/Web/Config/apache2/sites"
	// DefaultPidFilePath is the PidFile of Apple's Service Proxy config.
	DefaultPidFilePath = "/var/run/service_proxy.pid"
	// HTTPDPath is the httpd that the Service Proxy's wrapper finally runs.
	HTTPDPath = "/usr/sbin/httpd"
)

// Options says where and how to look for a Server.
type Options struct {
	// Root is the directory that stands for "/" (default "/").
	Root string
	// ApacheVersion, when set ("2.4.23"), is used instead of asking httpd.
	ApacheVersion string
	// HTTPD is the httpd binary to ask for its version, as a path on this
	// machine. Default: HTTPDPath under Root, when it exists.
	HTTPD string
	// Runner runs httpd -v (default run.Exec).
	Runner run.Runner
	// Remote, when set, says that Root is a mirror of a Server reached
	// over SSH (serverctl/mirror) and Runner runs commands there; see
	// Remote.
	Remote *Remote
}

// LaunchJob is what the launchd plist of com.apple.serviceproxy says about
// how the Service Proxy's httpd is started.
type LaunchJob struct {
	Label string `json:"label"`
	// ProgramArguments as written, program first.
	ProgramArguments []string `json:"program_arguments"`
	// Environment is the job's EnvironmentVariables (Apache expands ${NAME}
	// in the config from these).
	Environment map[string]string `json:"environment"`
	// ConfigFile (-f), ErrorLog (-E) and Defines (-D) from the arguments.
	ConfigFile string   `json:"config_file"`
	ErrorLog   string   `json:"error_log"`
	Defines    []string `json:"defines"`
}

// Webapp is one webapp plist of the Websites service.
type Webapp struct {
	File        string         `json:"file"`
	Name        string         `json:"name"`
	DisplayName string         `json:"display_name,omitempty"`
	Proxies     []WebappProxy  `json:"proxies,omitempty"`
	Other       map[string]any `json:"-"`
}

// WebappProxy is one entry of a webapp's "proxies" dictionary.
type WebappProxy struct {
	Path string   `json:"path"`
	URLs []string `json:"urls"`
}

// FileProblem names a file discovery could not use, or used with a caveat.
type FileProblem struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// Server is what discovery found.
type Server struct {
	Root string `json:"root"`
	// ServerVersion is Server.app's CFBundleShortVersionString ("5.3.1").
	ServerVersion string `json:"server_version"`
	ServerBuild   string `json:"server_build,omitempty"`
	// ProductVersion is ServerVersion.plist's ProductVersion.
	ProductVersion string `json:"product_version,omitempty"`
	Apache         Version
	// ApacheVersionSource says where Apache came from ("httpd -v", "--apache-version").
	ApacheVersionSource string    `json:"apache_version_source,omitempty"`
	Job                 LaunchJob `json:"launchd_job"`
	// ConfigPath and ErrorLogPath are Mac paths (see HostPath).
	ConfigPath   string   `json:"config_path"`
	ErrorLogPath string   `json:"error_log_path"`
	Webapps      []Webapp `json:"webapps"`
	// Unreadable lists files that could not be used at all.
	Unreadable []FileProblem `json:"unreadable"`
	// Warnings lists files that were read with a caveat.
	Warnings []FileProblem `json:"warnings"`
	// ApacheVersionError says why the Apache version is unknown, if it is.
	ApacheVersionError string `json:"apache_version_error,omitempty"`
	// WebsitesPorts are the Websites tier's loopback ports, read from the
	// names of its default sites (0000_127.0.0.1_34543_.conf): 34543 and
	// 34580 on a real Server. See WebPorts.
	WebsitesPorts []string `json:"websites_ports"`
	// Remote is Options.Remote: Root mirrors a Server elsewhere.
	Remote *Remote `json:"-"`
}

// defaultSite names the Websites tier's default sites, which carry its port.
var defaultSite = regexp.MustCompile(`^0000_127\.0\.0\.1_([0-9]+)_\.conf$`)

// NotFoundError says that no Server was found and where discovery looked.
type NotFoundError struct {
	Root   string
	Looked []string
	// Host is the Server reached over SSH that was looked on ("" for this
	// machine); the action layer sets it.
	Host string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("serverctl: no macOS Server found under %s; looked for:\n  %s", e.Root, strings.Join(e.Looked, "\n  "))
}

// HostPath maps a Mac path onto this machine, under the root.
func (s *Server) HostPath(macPath string) string { return hostPath(s.Root, macPath) }

// FilePath maps a path from the config (what the Server's httpd opens) onto
// this machine. A tree made to run here (the demo) already names its own
// files; a path inside the root is taken as it is.
func (s *Server) FilePath(p string) string {
	if s.Root != "/" && s.Root != "" && strings.HasPrefix(p, s.Root+string(filepath.Separator)) {
		return p
	}
	if s.Remote != nil && s.Remote.RemoteRoot != "/" && s.Remote.RemoteRoot != "" {
		// A tree on the Server names its own files there too.
		if rest, ok := strings.CutPrefix(p, s.Remote.RemoteRoot+"/"); ok {
			return s.HostPath("/" + rest)
		}
	}
	return s.HostPath(p)
}

func hostPath(root, macPath string) string {
	if root == "" || root == "/" {
		return macPath
	}
	return filepath.Join(root, filepath.FromSlash(macPath))
}

// Discover looks for a macOS Server 5 under opts.Root. A Server is there when
// its launchd job or its Service Proxy config exists. Files that cannot be read
// are listed in Unreadable and discovery goes on without them.
func Discover(ctx context.Context, opts Options) (*Server, error) {
	root := opts.Root
	if root == "" {
		root = "/"
	}
	if abs, err := filepath.Abs(root); err == nil {
		root = abs
	}
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		return nil, errorf("root %s is not a directory", root)
	}
	s := &Server{Root: root, ConfigPath: DefaultConfigPath, ErrorLogPath: DefaultErrorLogPath, Remote: opts.Remote}

	launchdFound := s.readLaunchJob()
	if _, err := os.Stat(s.HostPath(s.ConfigPath)); err != nil && !launchdFound {
		looked := []string{s.HostPath(LaunchdPlistPath), s.HostPath(DefaultConfigPath)}
		if s.ConfigPath != DefaultConfigPath {
			looked = append(looked, s.HostPath(s.ConfigPath))
		}
		return nil, &NotFoundError{Root: root, Looked: looked}
	}
	s.readVersions()
	s.readWebapps()
	s.readWebsitesPorts()
	s.findApacheVersion(ctx, opts)
	return s, nil
}

func (s *Server) unreadable(macPath string, err error) {
	s.Unreadable = append(s.Unreadable, FileProblem{Path: s.HostPath(macPath), Reason: err.Error()})
}

func (s *Server) warn(macPath, note string) {
	if note != "" {
		s.Warnings = append(s.Warnings, FileProblem{Path: s.HostPath(macPath), Reason: note})
	}
}

// readLaunchJob reads the launchd plist and reports whether it exists.
func (s *Server) readLaunchJob() bool {
	var raw struct {
		Label                string            `plist:"Label"`
		ProgramArguments     []string          `plist:"ProgramArguments"`
		EnvironmentVariables map[string]string `plist:"EnvironmentVariables"`
	}
	note, err := readPlist(s.HostPath(LaunchdPlistPath), &raw)
	if errors.Is(err, os.ErrNotExist) {
		return false
	}
	if err != nil {
		s.unreadable(LaunchdPlistPath, err)
		return true
	}
	s.warn(LaunchdPlistPath, note)
	s.Job = parseLaunchJob(raw.Label, raw.ProgramArguments, raw.EnvironmentVariables)
	if s.Job.ConfigFile != "" {
		s.ConfigPath = s.Job.ConfigFile
	}
	if s.Job.ErrorLog != "" {
		s.ErrorLogPath = s.Job.ErrorLog
	}
	return true
}

// parseLaunchJob picks httpd's -f, -E and -D options out of the job's
// arguments. httpd accepts both "-f FILE" and "-fFILE".
func parseLaunchJob(label string, args []string, env map[string]string) LaunchJob {
	job := LaunchJob{Label: label, ProgramArguments: args, Environment: env}
	if job.Environment == nil {
		job.Environment = map[string]string{}
	}
	for i := 1; i < len(args); i++ {
		a := args[i]
		if len(a) < 2 || a[0] != '-' {
			continue
		}
		val := a[2:]
		if val == "" && i+1 < len(args) && strings.ContainsRune("fED", rune(a[1])) {
			i++
			val = args[i]
		}
		switch a[1] {
		case 'f':
			job.ConfigFile = val
		case 'E':
			job.ErrorLog = val
		case 'D':
			job.Defines = append(job.Defines, val)
		}
	}
	return job
}

func (s *Server) readVersions() {
	var app struct {
		Short string `plist:"CFBundleShortVersionString"`
		Build string `plist:"CFBundleVersion"`
	}
	if note, err := readPlist(s.HostPath(VersionPlistPath), &app); err != nil {
		s.unreadable(VersionPlistPath, err)
	} else {
		s.warn(VersionPlistPath, note)
		s.ServerVersion, s.ServerBuild = app.Short, app.Build
	}
	var product struct {
		Version string `plist:"ProductVersion"`
	}
	if note, err := readPlist(s.HostPath(ServerVersionPlistPath), &product); err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			s.unreadable(ServerVersionPlistPath, err)
		}
	} else {
		s.warn(ServerVersionPlistPath, note)
		s.ProductVersion = product.Version
	}
}

func (s *Server) readWebapps() {
	dir := s.HostPath(WebappsDir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			s.unreadable(WebappsDir, err)
		}
		return
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".plist") {
			continue
		}
		mac := WebappsDir + "/" + e.Name()
		var raw struct {
			Name        string `plist:"name"`
			DisplayName string `plist:"displayName"`
			Proxies     map[string]struct {
				Path string   `plist:"path"`
				URLs []string `plist:"urls"`
			} `plist:"proxies"`
		}
		note, err := readPlist(s.HostPath(mac), &raw)
		if err != nil {
			s.unreadable(mac, err)
			continue
		}
		s.warn(mac, note)
		w := Webapp{File: s.HostPath(mac), Name: raw.Name, DisplayName: raw.DisplayName}
		for key, p := range raw.Proxies {
			if p.Path == "" {
				p.Path = key
			}
			w.Proxies = append(w.Proxies, WebappProxy{Path: p.Path, URLs: p.URLs})
		}
		sort.Slice(w.Proxies, func(i, j int) bool { return w.Proxies[i].Path < w.Proxies[j].Path })
		s.Webapps = append(s.Webapps, w)
	}
}

func (s *Server) findApacheVersion(ctx context.Context, opts Options) {
	if opts.ApacheVersion != "" {
		v, err := ParseVersion(opts.ApacheVersion)
		if err != nil {
			s.ApacheVersionError = err.Error()
			return
		}
		s.Apache, s.ApacheVersionSource = v, "the version given"
		return
	}
	httpd := opts.HTTPD
	if httpd == "" {
		httpd = s.HostPath(HTTPDPath)
		if _, err := os.Stat(httpd); err != nil {
			s.ApacheVersionError = fmt.Sprintf("no httpd at %s to ask", httpd)
			return
		}
	}
	runner := opts.Runner
	if runner == nil {
		runner = run.Exec{}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := runner.Run(ctx, run.Command{Path: httpd, Args: []string{"-v"}})
	if err != nil {
		s.ApacheVersionError = fmt.Sprintf("%s -v failed: %v", httpd, err)
		return
	}
	v, err := parseHTTPDVersionOutput(out)
	if err != nil {
		s.ApacheVersionError = fmt.Sprintf("%s -v: %v", httpd, err)
		return
	}
	s.Apache, s.ApacheVersionSource = v, httpd+" -v"
}

func (s *Server) readWebsitesPorts() {
	entries, err := os.ReadDir(s.HostPath(SitesDir))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		// The ports then fall back to 443 and 80 (see WebPorts).
		s.unreadable(SitesDir, err)
	}
	for _, e := range entries {
		if m := defaultSite.FindStringSubmatch(e.Name()); m != nil {
			s.WebsitesPorts = append(s.WebsitesPorts, m[1])
		}
	}
}

// WebPorts are the ports of the Service Proxy's VirtualHosts that carry the
// websites: those whose catch-all forwards to the Websites tier (443 and
// 80 on a real Server, whatever a stand-in uses), else 443 and 80.
func (s *Server) WebPorts(cfg *Config) []string {
	var ports []string
	seen := map[string]bool{}
	for _, websites := range s.WebsitesPorts {
		for _, r := range cfg.Routes() {
			u, err := url.Parse(r.Backend)
			if r.Path != "/" || r.Directive != "ProxyPass" || err != nil || u.Host != "127.0.0.1:"+websites {
				continue
			}
			port := r.VHost[strings.LastIndexByte(r.VHost, ':')+1:]
			if !seen[port] {
				seen[port] = true
				ports = append(ports, port)
			}
		}
	}
	if len(ports) == 0 {
		return []string{"443", "80"}
	}
	return ports
}

// Vars returns the variables Apache expands in the config as ${NAME}: the
// launchd job's environment. (A -D define only switches <IfDefine>; it
// defines no value.) The config's own Define directives come on top, see
// Config.Vars.
func (s *Server) Vars() map[string]string {
	vars := map[string]string{}
	for k, v := range s.Job.Environment {
		vars[k] = v
	}
	return vars
}

// ErrorLogTail returns the last n lines of the Service Proxy's error log.
func (s *Server) ErrorLogTail(n int) string {
	return tailLines(localDisk{}, s.HostPath(s.ErrorLogPath), n)
}
