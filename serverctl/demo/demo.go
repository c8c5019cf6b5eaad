package demo

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/socketbar/socketbar/serverctl/run"
	"github.com/socketbar/socketbar/serverctl/service"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/socketbar/socketbar/internal/loopport"
	"github.com/socketbar/socketbar/proxy/tlscert"
	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/sites"

	"github.com/socketbar/socketbar/internal/pkgerr"
)

//go:embed files
var files embed.FS

// StateFile sits at the root of a demo tree and records how it was made.
const StateFile = "socketbar-demo.json"

// HTTPD is an Apache httpd on this machine.
type HTTPD struct {
	Path       string `json:"path"`
	ModulesDir string `json:"modules_dir"`
	// BuiltIn are modules compiled into the binary ("log_config"): loading
	// them again is an error, so the demo leaves them out.
	BuiltIn []string `json:"built_in"`
}

// ErrNoHTTPD means no Apache httpd was found; the demo then only reads.
var ErrNoHTTPD = errors.New("no Apache httpd found (install apache2, or httpd on macOS it is built in)")

// FindHTTPD looks for Debian's apache2, a distribution's or Homebrew's
// httpd, or macOS's own, with its modules folder.
func FindHTTPD(ctx context.Context) (*HTTPD, error) {
	for _, c := range []struct{ bin, mods string }{
		{"/usr/sbin/apache2", "/usr/lib/apache2/modules"},
		{"/usr/sbin/httpd", "/usr/libexec/apache2"}, // macOS
		{"/usr/sbin/httpd", "/usr/lib64/httpd/modules"},
		{"/usr/sbin/httpd", "/usr/lib/httpd/modules"},
		{"/opt/homebrew/bin/httpd", "/opt/homebrew/lib/httpd/modules"},
		{"/usr/local/bin/httpd", "/usr/local/lib/httpd/modules"},
	} {
		if _, err := os.Stat(c.bin); err != nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(c.mods, "mod_proxy.so")); err != nil {
			continue
		}
		h := &HTTPD{Path: c.bin, ModulesDir: c.mods}
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		out, err := exec.CommandContext(ctx, c.bin, "-l").Output()
		cancel()
		if err != nil {
			return nil, errorf("%s -l: %w", c.bin, err)
		}
		for _, f := range strings.Fields(string(out)) {
			if name, ok := strings.CutSuffix(f, ".c"); ok {
				h.BuiltIn = append(h.BuiltIn, strings.TrimPrefix(name, "mod_"))
			}
		}
		return h, nil
	}
	return nil, ErrNoHTTPD
}

// CustomSite is the demo's custom website, named under .test (RFC 6761:
// never a real domain): a name-based VirtualHost of its own in the
// Service Proxy, made by the macros of Server 5.2 and later, so that
// routes for custom sites can be tried on any machine. A client reaches
// it on 127.0.0.1 by sending this name as the Host (and the TLS SNI).
const CustomSite = "chat.socketbar.test"

// customAlias is the custom site's ServerAlias, and customCert its
// certificate identity (the name of its files in etc/certificates).
const (
	customAlias = "www." + CustomSite
	customCert  = CustomSite
)

// frontModules are what the demo's Service Proxy loads, as Apple's does.
var frontModules = []string{"mpm_prefork", "unixd", "authz_core", "authz_host", "log_config", "headers", "env", "setenvif",
	"proxy", "proxy_http", "proxy_wstunnel", "rewrite", "ssl", "socache_shmcb", "version", "macro"}

var websitesModules = []string{"mpm_prefork", "unixd", "authz_core", "log_config", "rewrite"}

// State is how a demo tree was made.
type State struct {
	Root          string `json:"root"`
	HTTPD         *HTTPD `json:"httpd,omitempty"`
	HTTP          int    `json:"http"`
	HTTPS         int    `json:"https"`
	WebsitesHTTP  int    `json:"websites_http"`
	WebsitesHTTPS int    `json:"websites_https"`
	// EchoPort is where the demo's WebSocket app listens; the caller runs
	// it (proxy.EchoHandler) at EchoURL.
	EchoPort int `json:"echo_port"`

	// reserved holds the ports of a tree just made until Start.
	reserved []*loopport.Port
}

// EchoURL is the demo WebSocket app's base URL, for socketbar add.
func (st *State) EchoURL() string { return fmt.Sprintf("http://127.0.0.1:%d/echo/", st.EchoPort) }

// HTTPSURL and HTTPURL are the demo Service Proxy's addresses.
func (st *State) HTTPSURL() string { return fmt.Sprintf("https://127.0.0.1:%d", st.HTTPS) }

// HTTPURL is the demo Service Proxy's plain address.
func (st *State) HTTPURL() string { return fmt.Sprintf("http://127.0.0.1:%d", st.HTTP) }

// Prepare makes the demo tree in dir, or reuses the one there. A tree made
// without httpd is made again once one is found.
func Prepare(ctx context.Context, dir string) (*State, error) {
	h, herr := FindHTTPD(ctx)
	if herr != nil && !errors.Is(herr, ErrNoHTTPD) {
		return nil, herr
	}
	if st, err := Load(dir); err == nil && (st.HTTPD != nil || h == nil) {
		// Trees made by earlier versions get what those lacked: the
		// default sites, then the custom site.
		if err := st.writeDefaultSites(); err != nil {
			return nil, err
		}
		return st, st.addCustomSite()
	}
	if err := Clear(dir); err != nil {
		return nil, err
	}
	st := &State{Root: dir, HTTPD: h}
	if err := st.reservePorts(); err != nil {
		return nil, err
	}
	if err := st.write(); err != nil {
		st.releasePorts()
		os.RemoveAll(dir)
		return nil, err
	}
	return st, nil
}

// ErrNotDemoTree means a folder holds something other than a demo tree:
// the demo never writes into it nor deletes it.
var ErrNotDemoTree = errors.New("is not a demo tree and not empty; the demo needs a new or empty folder, or one it made")

// Clear removes dir when it is a demo tree (it holds StateFile) or an
// empty folder, and refuses anything else, so that a mistyped --dir never
// costs a person their files.
func Clear(dir string) error {
	fi, err := os.Lstat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return errorf("%w", err)
	case !fi.IsDir():
		return errorf("%s %w", dir, ErrNotDemoTree)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return errorf("%w", err)
	}
	if len(entries) > 0 {
		if st, err := os.Lstat(filepath.Join(dir, StateFile)); err != nil || !st.Mode().IsRegular() {
			return errorf("%s %w", dir, ErrNotDemoTree)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return errorf("clear %s: %w", dir, err)
	}
	return nil
}

// writeDefaultSites writes the Websites tier's default sites, named by its
// ports as on a real Server: that is how Socketbar tells the web
// VirtualHosts (where a route goes by default) from the others.
func (st *State) writeDefaultSites() error {
	dir := filepath.Join(st.Root, filepath.FromSlash(serverctl.SitesDir))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return errorf("%w", err)
	}
	for _, port := range []int{st.WebsitesHTTP, st.WebsitesHTTPS} {
		site := filepath.Join(dir, fmt.Sprintf("0000_127.0.0.1_%d_.conf", port))
		if err := os.WriteFile(site, []byte("# Default site of the Socketbar demo's Websites tier (served by websites-demo.conf).\n"), 0o644); err != nil {
			return errorf("write %s: %w", site, err)
		}
	}
	return nil
}

// Load reads the state of an existing demo tree.
func Load(dir string) (*State, error) {
	data, err := os.ReadFile(filepath.Join(dir, StateFile))
	if err != nil {
		return nil, err
	}
	var st State
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, errorf("%s: %w", StateFile, err)
	}
	st.Root = dir
	return &st, nil
}

// reservePorts picks the demo's ports and holds them (see loopport) until
// Start has bound them: a port probed and let go could be handed to another
// demo being made at the same time (two test packages, or the app and the
// CLI), or to any program listening on :0, before httpd binds it. They lie
// outside the kernel's ephemeral range, so a later start of the same tree
// finds them taken only if a program chose that very port.
func (st *State) reservePorts() error {
	for _, p := range []*int{&st.HTTP, &st.HTTPS, &st.WebsitesHTTP, &st.WebsitesHTTPS, &st.EchoPort} {
		r, err := loopport.Reserve()
		if err != nil {
			st.releasePorts()
			return errorf("%w", err)
		}
		st.reserved = append(st.reserved, r)
		*p = r.Number
	}
	return nil
}

// releasePorts lets other reservers have the demo's ports again.
func (st *State) releasePorts() {
	for _, r := range st.reserved {
		r.Release()
	}
	st.reserved = nil
}

// ConfigPath is the demo's Service Proxy config.
func (st *State) ConfigPath() string {
	return filepath.Join(st.Root, filepath.FromSlash(serverctl.DefaultConfigPath))
}

func (st *State) websitesConf() string {
	return filepath.Join(st.Root, "Library/Server/Web/Config/apache2/websites-demo.conf")
}

// templateData fills the templates.
func (st *State) templateData() map[string]any {
	builtIn := map[string]bool{}
	modulesDir := ""
	if st.HTTPD != nil {
		modulesDir = st.HTTPD.ModulesDir
		for _, m := range st.HTTPD.BuiltIn {
			builtIn[m] = true
		}
	}
	keep := func(mods []string) []string {
		var out []string
		for _, m := range mods {
			if !builtIn[m] {
				out = append(out, m)
			}
		}
		return out
	}
	user, group := "", ""
	if os.Geteuid() == 0 {
		user, group = "nobody", "nogroup"
		if _, err := os.Stat("/etc/group"); err == nil {
			if g, _ := os.ReadFile("/etc/group"); !bytes.Contains(g, []byte("\nnogroup:")) {
				group = "nobody"
			}
		}
	}
	data := map[string]any{"Root": st.Root, "HTTP": st.HTTP, "HTTPS": st.HTTPS, "WebsitesHTTP": st.WebsitesHTTP,
		"WebsitesHTTPS": st.WebsitesHTTPS, "Modules": keep(frontModules), "WebsitesModules": keep(websitesModules),
		"ModulesDir": modulesDir, "User": user, "Group": group, "EchoURL": st.EchoURL(),
		"Site": CustomSite, "SiteAlias": customAlias, "SiteCert": customCert}
	return data
}

// render fills in the template files/name.
func render(name string, data map[string]any) ([]byte, error) {
	raw, err := files.ReadFile("files/" + name)
	if err != nil {
		return nil, err
	}
	t, err := template.New(name).Option("missingkey=error").Parse(string(raw))
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return nil, errorf("render %s: %w", name, err)
	}
	return b.Bytes(), nil
}

// put writes a file of the tree at rel, a Mac path.
func (st *State) put(rel string, content []byte, perm os.FileMode) error {
	p := filepath.Join(st.Root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return errorf("%w", err)
	}
	if err := os.WriteFile(p, content, perm); err != nil {
		return errorf("write %s: %w", rel, err)
	}
	return nil
}

// customSiteFiles are the custom site's own files: its Use lines, as
// Server.app writes them, and Server.app's site list, which Socketbar
// cross-checks the config with.
var customSiteFiles = []struct{ tmpl, dest string }{
	{"customsites.conf.tmpl", "/Library/Server/Web/Config/Proxy/apache_serviceproxy_customsites.conf"},
	{"servermgr_web_apache2_config.plist.tmpl", sites.PlistPath},
}

// write makes the tree.
func (st *State) write() error {
	data := st.templateData()
	macros, err := render("customsites-macros.conf.tmpl", data)
	if err != nil {
		return err
	}
	data["CustomSiteMacros"] = string(macros)
	steps := append([]struct{ tmpl, dest string }{
		{"apache_serviceproxy.conf.tmpl", serverctl.DefaultConfigPath},
		{"websites.conf.tmpl", "/Library/Server/Web/Config/apache2/websites-demo.conf"},
		{"launchd.plist.tmpl", serverctl.LaunchdPlistPath},
	}, customSiteFiles...)
	for _, s := range steps {
		out, err := render(s.tmpl, data)
		if err != nil {
			return err
		}
		if err := st.put(s.dest, out, 0o644); err != nil {
			return err
		}
	}
	if err := st.writeDefaultSites(); err != nil {
		return err
	}
	for name, dest := range map[string]string{
		"version.plist":     serverctl.VersionPlistPath,
		"webapp.wiki.plist": serverctl.WebappsDir + "/com.apple.webapp.wiki.plist",
	} {
		raw, _ := files.ReadFile("files/" + name)
		if err := st.put(dest, raw, 0o644); err != nil {
			return err
		}
	}
	for _, d := range []string{"private/var/log/apache2", "private/var/run", "usr", "etc/certificates", "prefix/usr/libexec/apache2"} {
		if err := os.MkdirAll(filepath.Join(st.Root, d), 0o755); err != nil {
			return err
		}
	}
	certs := filepath.Join(st.Root, "etc/certificates")
	if err := tlscert.Write(filepath.Join(certs, "demo.cert.pem"), filepath.Join(certs, "demo.key.pem"),
		tlscert.Spec{Names: []string{"localhost", "127.0.0.1", "::1"}, NotAfter: time.Now().AddDate(5, 0, 0)}); err != nil {
		return errorf("certificate: %w", err)
	}
	if err := st.writeSiteCert(); err != nil {
		return err
	}
	if st.HTTPD != nil {
		for _, l := range []string{serverctl.ServerRootPath + "/usr/sbin/httpd-server-wrapper", serverctl.HTTPDPath} {
			p := filepath.Join(st.Root, filepath.FromSlash(l))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			if err := os.Symlink(st.HTTPD.Path, p); err != nil {
				return errorf("link httpd: %w", err)
			}
		}
		if err := st.linkModules(data["Modules"].([]string)); err != nil {
			return err
		}
	}
	state, _ := json.MarshalIndent(st, "", "  ")
	return os.WriteFile(filepath.Join(st.Root, StateFile), append(state, '\n'), 0o644)
}

// linkModules links the modules the Service Proxy loads into the tree,
// those not linked yet.
func (st *State) linkModules(mods []string) error {
	for _, m := range mods {
		link := filepath.Join(st.Root, "prefix/usr/libexec/apache2", "mod_"+m+".so")
		if _, err := os.Lstat(link); err == nil {
			continue
		}
		if err := os.Symlink(filepath.Join(st.HTTPD.ModulesDir, "mod_"+m+".so"), link); err != nil {
			return errorf("link module: %w", err)
		}
	}
	return nil
}

// writeSiteCert makes the custom site's certificate, for its names.
func (st *State) writeSiteCert() error {
	certs := filepath.Join(st.Root, "etc/certificates")
	if err := os.MkdirAll(certs, 0o755); err != nil {
		return errorf("%w", err)
	}
	if err := tlscert.Write(filepath.Join(certs, customCert+".cert.pem"), filepath.Join(certs, customCert+".key.pem"),
		tlscert.Spec{Names: []string{CustomSite, customAlias}, NotAfter: time.Now().AddDate(5, 0, 0)}); err != nil {
		return errorf("certificate of %s: %w", CustomSite, err)
	}
	return nil
}

// addCustomSite gives a tree made before the demo had a custom site
// (without the macros in its config) the custom site: the macro
// definitions go in before the config's IncludeOptional of the customsites
// files, where Server 5.2+ has them, and mod_macro's LoadModule after the
// last LoadModule, leaving the rest of the config (the person's routes)
// as it is. A tree that has the macros is left alone.
func (st *State) addCustomSite() error {
	conf := st.ConfigPath()
	old, err := os.ReadFile(conf)
	if err != nil {
		return errorf("%w", err)
	}
	if bytes.Contains(old, []byte("<Macro VHost443")) {
		return nil
	}
	data := st.templateData()
	macros, err := render("customsites-macros.conf.tmpl", data)
	if err != nil {
		return err
	}
	lines := strings.SplitAfter(string(old), "\n")
	include, lastLoad := len(lines), -1
	for i, l := range lines {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		switch {
		case strings.EqualFold(f[0], "LoadModule"):
			lastLoad = i
		case strings.EqualFold(f[0], "IncludeOptional") && strings.Contains(l, "apache_serviceproxy_customsites") && include == len(lines):
			include = i
		}
	}
	var b strings.Builder
	for i, l := range lines {
		if i == include {
			b.Write(macros)
		}
		b.WriteString(l)
		if i == lastLoad && slices.Contains(data["Modules"].([]string), "macro") && !bytes.Contains(old, []byte("macro_module")) {
			b.WriteString(`LoadModule macro_module "${MODULE_INSTALL_PATH_PREFIX}/usr/libexec/apache2/mod_macro.so"` + "\n")
		}
	}
	if include == len(lines) {
		if !strings.HasSuffix(b.String(), "\n") {
			b.WriteString("\n")
		}
		b.Write(macros)
	}
	for _, f := range customSiteFiles {
		out, err := render(f.tmpl, data)
		if err != nil {
			return err
		}
		if err := st.put(f.dest, out, 0o644); err != nil {
			return err
		}
	}
	if err := st.writeSiteCert(); err != nil {
		return err
	}
	if st.HTTPD != nil {
		if err := st.linkModules(data["Modules"].([]string)); err != nil {
			return err
		}
	}
	if err := os.WriteFile(conf, []byte(b.String()), 0o644); err != nil {
		return errorf("%w", err)
	}
	return nil
}

// Start runs the Websites tier, then the Service Proxy through Socketbar's
// own httpd driver, and waits until both answer. The caller serves the echo
// app on EchoPort before, since Start lets go of the ports Prepare reserved.
func (st *State) Start(ctx context.Context) error {
	defer st.releasePorts()
	if st.HTTPD == nil {
		return errorf("%w; the demo tree at %s can be read, but not started", ErrNoHTTPD, st.Root)
	}
	websites := service.HTTPD{Binary: st.HTTPD.Path, ConfigFile: st.websitesConf(),
		PidFile: filepath.Join(st.Root, "private/var/run/websites.pid"), Runner: run.Exec{}}
	if cur, _ := websites.State(ctx); !cur.Running {
		if err := websites.Start(ctx); err != nil {
			return errorf("start the Websites tier: %w", err)
		}
	}
	a, err := st.applier(ctx)
	if err != nil {
		return err
	}
	if _, err := a.Restart(ctx); err != nil {
		return errorf("start the Service Proxy: %w\n%s", err, a.ErrorLogTail())
	}
	return nil
}

// Stop stops the Service Proxy and the Websites tier.
func (st *State) Stop(ctx context.Context) error {
	if st.HTTPD == nil {
		return nil
	}
	a, err := st.applier(ctx)
	if err != nil {
		return err
	}
	var errs []error
	if svc, ok := a.Service.(service.HTTPD); ok {
		errs = append(errs, svc.Stop(ctx))
	}
	websites := service.HTTPD{Binary: st.HTTPD.Path, ConfigFile: st.websitesConf(),
		PidFile: filepath.Join(st.Root, "private/var/run/websites.pid"), Runner: run.Exec{}}
	errs = append(errs, websites.Stop(ctx))
	return errors.Join(errs...)
}

func (st *State) applier(ctx context.Context) (*serverctl.Applier, error) {
	srv, err := serverctl.Discover(ctx, serverctl.Options{Root: st.Root})
	if err != nil {
		return nil, err
	}
	cfg, err := serverctl.ReadConfig(srv.HostPath(srv.ConfigPath))
	if err != nil {
		return nil, err
	}
	return srv.Applier(cfg, serverctl.ApplyOptions{})
}

// Running reports whether the demo's Service Proxy runs: a demo started
// by another Socketbar (the CLI or the app) is found by its tree.
func (st *State) Running(ctx context.Context) (bool, error) {
	if st.HTTPD == nil {
		return false, nil
	}
	a, err := st.applier(ctx)
	if err != nil {
		return false, err
	}
	s, err := a.Service.State(ctx)
	return s.Running, err
}

// errorf is fmt.Errorf for this package's own errors: their Error() names
// the package for logs, and pkgerr.Text gives people the message without it.
func errorf(format string, args ...any) error { return pkgerr.Errorf("demo", format, args...) }
