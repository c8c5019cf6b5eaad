package apachetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/socketbar/socketbar/internal/loopport"
	"github.com/socketbar/socketbar/proxy/tlscert"
	"github.com/socketbar/socketbar/serverctl/apacheconf"
	"github.com/socketbar/socketbar/serverctl/demo"
)

// HTTPD is an Apache httpd on this machine: the one the demo finds.
type HTTPD = demo.HTTPD

// Require finds httpd (Debian's apache2 or a plain httpd) as the demo does,
// or skips the test when there is none; under CI it fails instead, since
// CI installs apache2.
func Require(t testing.TB) HTTPD {
	t.Helper()
	h, err := demo.FindHTTPD(context.Background())
	switch {
	case err == nil:
		return *h
	case !errors.Is(err, demo.ErrNoHTTPD):
		t.Fatalf("apachetest: %v", err)
	case os.Getenv("CI") != "":
		t.Fatal("apache2 is not installed; CI must install it (apt-get install apache2)")
	default:
		t.Skip("apache2 is not installed (apt-get install apache2)")
	}
	return HTTPD{}
}

// Site is a config made runnable on this machine.
type Site struct {
	// Root stands for the Mac's "/": every Mac folder the config names lives below it.
	Root string
	// ConfigPath is the localized config.
	ConfigPath string
	// Env is what the launchd job would set, with MODULE_INSTALL_PATH_PREFIX
	// pointing at the module links.
	Env []string
	// Ports maps each port the original config listened on to the loopback port used instead.
	Ports map[int]int
	// Backends maps each loopback port the original config proxied to
	// (127.0.0.1:34580 for the Websites tier) to the port used instead.
	Backends map[int]int
	// CertFile and KeyFile are the generated certificate. Like a real
	// Server's, it names the public host (CertName), not 127.0.0.1.
	CertFile, KeyFile string
}

// macFolders are the Mac folders a Service Proxy config names; they move
// under the site's root.
var macFolders = regexp.MustCompile(`(^|[^A-Za-z0-9_.\-/])(/Library|/private|/var/run|/etc/certificates|/Applications)/`)

// Localize writes a runnable copy of conf below a new temporary root.
// vars are the launchd job's environment variables.
func Localize(t testing.TB, h HTTPD, conf []byte, vars map[string]string) *Site {
	t.Helper()
	root := t.TempDir()
	s := &Site{Root: root, Ports: map[int]int{}, Backends: map[int]int{}}
	s.makeTree(t)
	f, err := apacheconf.Parse(conf)
	if err != nil {
		t.Fatalf("apachetest: %v", err)
	}
	l := &localizer{t: t, h: h, site: s, serverRoot: filepath.Join(root, "usr"), env: map[string]string{}}
	for k, v := range vars {
		l.env[k] = v
	}
	l.env["MODULE_INSTALL_PATH_PREFIX"] = filepath.Join(root, "prefix")
	l.runUser, l.runGroup = runAs()
	l.out.WriteString("DefaultRuntimeDir " + filepath.Join(root, "private/var/run") + "\n")
	l.emit(f.Nodes)
	s.ConfigPath = filepath.Join(root, "Library/Server/Web/Config/Proxy/apache_serviceproxy.conf")
	must(t, os.WriteFile(s.ConfigPath, []byte(l.out.String()), 0o644))
	for k, v := range l.env {
		s.Env = append(s.Env, k+"="+v)
	}
	return s
}

// makeTree makes the folders below the site's root that the config and
// httpd use, an empty mime table and the certificate.
func (s *Site) makeTree(t testing.TB) {
	for _, d := range []string{"private/var/log/apache2", "private/var/run", "var/run", "etc/certificates",
		"Library/Server/Web/Data/Sites/Default", "Library/Server/Web/Config/Proxy", "usr/logs", "prefix"} {
		must(t, os.MkdirAll(filepath.Join(s.Root, d), 0o755))
	}
	// mod_mime opens ServerRoot/mime.types (Apple's and Debian's builds
	// differ in the default); an empty table is enough for a proxy.
	for _, f := range []string{"usr/mime.types", "usr/conf/mime.types"} {
		must(t, os.MkdirAll(filepath.Dir(filepath.Join(s.Root, f)), 0o755))
		must(t, os.WriteFile(filepath.Join(s.Root, f), nil, 0o644))
	}
	s.CertFile, s.KeyFile = filepath.Join(s.Root, "etc/certificates/test.cert.pem"), filepath.Join(s.Root, "etc/certificates/test.key.pem")
	must(t, tlscert.Write(s.CertFile, s.KeyFile, tlscert.Spec{Names: []string{CertName}, NotAfter: time.Now().Add(24 * time.Hour)}))
}

// localizer writes a config for the site: the Mac folders it names moved
// below the site's root, its addresses and backends mapped to loopback
// ports, its modules linked from this httpd, its certificate the site's.
type localizer struct {
	t                 testing.TB
	h                 HTTPD
	site              *Site
	serverRoot        string
	env               map[string]string
	runUser, runGroup string
	out               strings.Builder
}

// emit writes nodes, sections with their VirtualHost addresses mapped,
// comments and blank lines as they are.
func (l *localizer) emit(nodes []*apacheconf.Node) {
	for _, n := range nodes {
		switch {
		case n.Kind == apacheconf.Section:
			args := n.Args
			if n.Is("VirtualHost") {
				args = l.site.mapAddrs(l.t, n.Args)
			}
			l.out.WriteString("<" + n.Name + " " + quoteAll(args) + ">\n")
			l.emit(n.Children)
			l.out.WriteString("</" + n.Name + ">\n")
		case n.Kind != apacheconf.Directive:
			l.out.Write(n.Raw)
			if n.EOL() == "" {
				l.out.WriteString("\n")
			}
		default:
			l.directive(n)
		}
	}
}

// directive writes one directive with its arguments localized.
func (l *localizer) directive(n *apacheconf.Node) {
	s, t := l.site, l.t
	args := append([]string(nil), n.Args...)
	for i, a := range args {
		args[i] = macFolders.ReplaceAllString(a, "${1}"+s.Root+"${2}/")
		if n.Is("ProxyPass") || n.Is("ProxyPassReverse") || n.Is("ProxyPassMatch") || n.Is("RewriteRule") {
			args[i] = s.mapBackends(t, args[i])
		}
	}
	switch {
	case n.Is("ServerRoot"):
		args = []string{l.serverRoot}
	case n.Is("Listen"):
		args = []string{s.mapListen(t, args[0])}
	case n.Is("User"):
		args = []string{l.runUser}
	case n.Is("Group"):
		args = []string{l.runGroup}
	case n.Is("SSLCertificateFile"), n.Is("SSLCertificateChainFile"):
		args = []string{s.CertFile}
	case n.Is("SSLCertificateKeyFile"):
		args = []string{s.KeyFile}
	case n.Is("LoadModule") && len(args) == 2:
		if !linkModule(t, l.h, args[1], l.env, l.serverRoot) {
			l.out.WriteString("# built into this httpd: ")
		}
	}
	l.out.WriteString(n.Name + " " + quoteAll(args) + "\n")
}

// ConfigTest runs httpd -t on the site, as serviceproxyctl configtest does.
func (s *Site) ConfigTest(h HTTPD, defines ...string) (string, error) {
	args := []string{"-t", "-f", s.ConfigPath}
	for _, d := range defines {
		args = append(args, "-D", d)
	}
	cmd := exec.Command(h.Path, args...)
	cmd.Env = append(os.Environ(), s.Env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// mapListen swaps "80", "*:80" or "1.2.3.4:80" for 127.0.0.1:FREE.
func (s *Site) mapListen(t testing.TB, addr string) string {
	port := addr
	if i := strings.LastIndexByte(addr, ':'); i >= 0 {
		port = addr[i+1:]
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatalf("apachetest: Listen %s: %v", addr, err)
	}
	return fmt.Sprintf("127.0.0.1:%d", s.port(t, n))
}

func (s *Site) mapAddrs(t testing.TB, addrs []string) []string {
	var out []string
	for _, a := range addrs {
		i := strings.LastIndexByte(a, ':')
		n, err := strconv.Atoi(a[i+1:])
		if i < 0 || err != nil {
			out = append(out, a)
			continue
		}
		out = append(out, fmt.Sprintf("%s:%d", a[:i], s.port(t, n)))
	}
	return out
}

func (s *Site) port(t testing.TB, orig int) int {
	if p, ok := s.Ports[orig]; ok {
		return p
	}
	p := FreePort(t)
	s.Ports[orig] = p
	return p
}

var loopbackURL = regexp.MustCompile(`127\.0\.0\.1:[0-9]+`)

// mapBackends points every 127.0.0.1:PORT in arg at the port used instead.
func (s *Site) mapBackends(t testing.TB, arg string) string {
	return loopbackURL.ReplaceAllStringFunc(arg, func(m string) string {
		orig, _ := strconv.Atoi(m[len("127.0.0.1:"):])
		return fmt.Sprintf("127.0.0.1:%d", s.backend(t, orig))
	})
}

func (s *Site) backend(t testing.TB, orig int) int {
	if p, ok := s.Backends[orig]; ok {
		return p
	}
	p := FreePort(t)
	s.Backends[orig] = p
	return p
}

// CertName is the host name the generated certificate is for.
const CertName = "server.example.com"

// FreePort returns a TCP port on 127.0.0.1 for a server the test cannot
// hand a listener to (httpd, or a child process given --addr). The port is
// reserved until the test ends (see loopport): no other test, in this
// process or a parallel test package, is given it meanwhile, and it lies
// outside the range the kernel hands to listeners on :0. A Go server in the
// test itself should listen on 127.0.0.1:0 instead.
func FreePort(t testing.TB) int {
	t.Helper()
	p, err := loopport.Reserve()
	if err != nil {
		t.Fatalf("apachetest: %v", err)
	}
	t.Cleanup(func() { p.Release() })
	return p.Number
}

var varRef = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`)

// linkModule makes the module path the config names resolve to the local
// module of the same file name. It returns false for a module compiled into
// the local httpd, which refuses to load it again ("is built-in and can't
// be loaded"); Apple's httpd builds those as shared modules.
func linkModule(t testing.TB, h HTTPD, path string, env map[string]string, serverRoot string) bool {
	resolved := varRef.ReplaceAllStringFunc(path, func(ref string) string { return env[ref[2:len(ref)-1]] })
	if !filepath.IsAbs(resolved) {
		resolved = filepath.Join(serverRoot, resolved)
	}
	if slices.Contains(h.BuiltIn, strings.TrimPrefix(strings.TrimSuffix(filepath.Base(resolved), ".so"), "mod_")) {
		return false
	}
	target := filepath.Join(h.ModulesDir, filepath.Base(resolved))
	if _, err := os.Stat(target); err != nil {
		t.Fatalf("apachetest: the config loads %s, which this machine's Apache does not have (%v)", filepath.Base(resolved), err)
	}
	must(t, os.MkdirAll(filepath.Dir(resolved), 0o755))
	if err := os.Symlink(target, resolved); err != nil && !os.IsExist(err) {
		t.Fatalf("apachetest: link module: %v", err)
	}
	return true
}

// runAs returns a user and group httpd may switch to: nobody/nogroup when
// running as root (httpd refuses to serve as root), else the current ones.
func runAs() (string, string) {
	if os.Geteuid() == 0 {
		return "nobody", "nogroup"
	}
	u, err := user.Current()
	if err != nil {
		return "nobody", "nogroup"
	}
	g, err := user.LookupGroupId(u.Gid)
	if err != nil {
		return u.Username, "nogroup"
	}
	return u.Username, g.Name
}

func quoteAll(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\"'") {
			q[i] = `"` + strings.ReplaceAll(strings.ReplaceAll(a, `\`, `\\`), `"`, `\"`) + `"`
		} else {
			q[i] = a
		}
	}
	return strings.Join(q, " ")
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("apachetest: %v", err)
	}
}
