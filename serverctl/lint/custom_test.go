package lint

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/apacheconf/loader"
	"github.com/socketbar/socketbar/serverctl/servertest"
)

const customsitesPath = "Library/Server/Web/Config/Proxy/apache_serviceproxy_customsites.conf"

var apache2458 = serverctl.Version{Major: 2, Minor: 4, Patch: 58}

// checkTree lints the Server tree at root as the action layer does: the
// main config, and the whole config loaded with KeepGoing.
func checkTree(t *testing.T, root string) []Finding {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv, err := serverctl.Discover(ctx, serverctl.Options{Root: root, ApacheVersion: "2.4.58"})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := serverctl.ReadConfig(srv.HostPath(srv.ConfigPath))
	if err != nil {
		t.Fatal(err)
	}
	lc, err := loader.Load(ctx, cfg.Path, loader.Options{Root: root, Vars: srv.Vars(), KeepGoing: true})
	return Check(cfg, Options{Apache: apache2458, Loaded: lc, LoadErr: err})
}

// fixture is a Server tree being edited by a test case.
type fixture struct {
	t       *testing.T
	root    string
	version string
}

func (f fixture) path(rel string) string { return filepath.Join(f.root, filepath.FromSlash(rel)) }

func (f fixture) main() string { return f.path(serverctl.DefaultConfigPath) }

func (f fixture) customsites() string { return f.path(customsitesPath) }

func (f fixture) read(file string) string {
	f.t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		f.t.Fatal(err)
	}
	return string(b)
}

func (f fixture) write(file, text string) {
	f.t.Helper()
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

// insert puts text on its own lines before (or after) the nth line (1-based)
// of file that contains anchor.
func (f fixture) insert(file, anchor string, nth int, after bool, text string) {
	f.t.Helper()
	lines := strings.SplitAfter(f.read(file), "\n")
	at := f.lineOf(file, anchor, nth) - 1
	if after {
		at++
	}
	lines = append(lines[:at], append([]string{text}, lines[at:]...)...)
	f.write(file, strings.Join(lines, ""))
}

// lineOf is the 1-based line of the nth line of file containing s.
func (f fixture) lineOf(file, s string, nth int) int {
	f.t.Helper()
	for i, ln := range strings.Split(f.read(file), "\n") {
		if strings.Contains(ln, s) {
			if nth--; nth == 0 {
				return i + 1
			}
		}
	}
	f.t.Fatalf("%s has no line %d with %q", file, nth, s)
	return 0
}

// add adds a Socketbar route to the main config, as the action layer does.
func (f fixture) add(path string, sel *serverctl.SiteSelection) {
	f.t.Helper()
	cfg, err := serverctl.ReadConfig(f.main())
	if err != nil {
		f.t.Fatal(err)
	}
	edit, err := cfg.AddRoute(serverctl.AddRequest{Path: path, Backend: "http://127.0.0.1:8001" + path, Apache: apache2458, Sites: sel})
	if err != nil {
		f.t.Fatal(err)
	}
	f.write(f.main(), string(edit.New))
}

// want is one expected finding: its severity, file and line, and words its
// message or fix must hold.
type want struct {
	sev   Severity
	file  string
	line  int
	words []string
	not   []string
}

const (
	mainName  = "apache_serviceproxy.conf"
	sitesName = "apache_serviceproxy_customsites.conf"
	// the default 443 VirtualHost's catch-all: the main config's first
	// such line; on 5.2+ the second is the VHost443 macro's.
	catchAll443 = "ProxyPass / http://127.0.0.1:34543/"
	wsRoute     = "ProxyPass /live/ ws://127.0.0.1:9000/live/\n"
)

var (
	allTrees   = []string{"5.1.7-sites", "5.3.1-sites", "5.6.3-sites"}
	macroTrees = []string{"5.3.1-sites", "5.6.3-sites"}
)

// TestLintCustomSites edits copies of the Server trees with two custom
// websites (chat.example.com with an alias, shop.example.com) to make each
// problem lint must find in the whole config: WebSocket routes that reach
// the default hosts but not a custom site (Server 5.2+ macros and 5.0/5.1
// VirtualHosts), Server.app's duplicate VirtualHosts, and Use lines
// mod_macro refuses; and checks that the fixed or correct shapes give none.
func TestLintCustomSites(t *testing.T) {
	tests := []struct {
		name     string
		versions []string
		edit     func(f fixture) []want
	}{
		{
			name:     "the tree as stored",
			versions: allTrees,
			edit:     func(fixture) []want { return nil },
		},
		{
			name:     "Socketbar route in the default hosts only",
			versions: allTrees,
			edit: func(f fixture) []want {
				f.add("/chat/", &serverctl.SiteSelection{Default: true})
				const rule = "ProxyPass /chat/ http://127.0.0.1:8001/chat/ upgrade=websocket"
				fix := "<Macro VHost"
				if f.version == "5.1.7-sites" {
					fix = "each site's own VirtualHost in " + sitesName
				}
				words := []string{"/chat/", "not chat.example.com and shop.example.com", "catch-all ProxyPass /", fix}
				return []want{
					{SeverityWarning, mainName, f.lineOf(f.main(), rule, 1), append(words, "*:80"), nil},
					{SeverityWarning, mainName, f.lineOf(f.main(), rule, 2), append(words, "*:443"), nil},
				}
			},
		},
		{
			name:     "Socketbar route for every site",
			versions: macroTrees,
			edit: func(f fixture) []want {
				f.add("/chat/", nil)
				return nil
			},
		},
		{
			name:     "Socketbar route for the default hosts and one site",
			versions: macroTrees,
			edit: func(f fixture) []want {
				f.add("/chat/", &serverctl.SiteSelection{Default: true, Hosts: []string{"shop.example.com"}})
				const rule = "ProxyPass /chat/ http://127.0.0.1:8001/chat/ upgrade=websocket"
				// the host-limited WebSocket rules in the VHost80 and VHost443 macros
				limited := "RewriteRule ^/chat/(.*)$ ws://"
				return []want{
					{SeverityWarning, mainName, f.lineOf(f.main(), rule, 1), []string{"not chat.example.com,", "RewriteCond %{HTTP_HOST}", fmt.Sprintf("line %d", f.lineOf(f.main(), limited, 1))}, []string{"shop.example.com"}},
					{SeverityWarning, mainName, f.lineOf(f.main(), rule, 2), []string{"not chat.example.com,", fmt.Sprintf("line %d", f.lineOf(f.main(), limited, 2))}, []string{"shop.example.com"}},
				}
			},
		},
		{
			name:     "hand-written ws:// ProxyPass in the default 443 host only",
			versions: allTrees,
			edit: func(f fixture) []want {
				f.insert(f.main(), catchAll443, 1, false, wsRoute)
				fix := "<Macro VHost443>"
				if f.version == "5.1.7-sites" {
					fix = sitesName
				}
				return []want{{SeverityWarning, mainName, f.lineOf(f.main(), wsRoute[:len(wsRoute)-1], 1), []string{"*:443", "/live/", "chat.example.com and shop.example.com", fix}, nil}}
			},
		},
		{
			name:     "hand-written upgrade=websocket route in the default and macro 443 hosts",
			versions: macroTrees,
			edit: func(f fixture) []want {
				const rule = "ProxyPass /live/ http://127.0.0.1:9000/live/ upgrade=websocket\n"
				f.insert(f.main(), catchAll443, 2, false, rule)
				f.insert(f.main(), catchAll443, 1, false, rule)
				return nil
			},
		},
		{
			name:     "route in the macro after its catch-all",
			versions: macroTrees,
			edit: func(f fixture) []want {
				f.insert(f.main(), catchAll443, 2, true, wsRoute)
				f.insert(f.main(), catchAll443, 1, false, wsRoute)
				return []want{{SeverityWarning, mainName, f.lineOf(f.main(), wsRoute[:len(wsRoute)-1], 1),
					[]string{"chat.example.com and shop.example.com", fmt.Sprintf("catch-all ProxyPass / (line %d of %s)", f.lineOf(f.main(), catchAll443, 2), mainName)}, nil}}
			},
		},
		{
			name:     "route in the macro behind a negated host condition",
			versions: macroTrees,
			edit: func(f fixture) []want {
				f.insert(f.main(), catchAll443, 2, false, "RewriteEngine On\nRewriteCond %{HTTP_HOST} !^chat\\.example\\.com$ [NC]\nRewriteRule ^/live/(.*)$ ws://127.0.0.1:9000/live/$1 [P,L]\n")
				f.insert(f.main(), catchAll443, 1, false, wsRoute)
				return []want{{SeverityWarning, mainName, f.lineOf(f.main(), wsRoute[:len(wsRoute)-1], 1),
					[]string{"not chat.example.com (its aliases do get it)", "RewriteCond %{HTTP_HOST}"}, []string{"shop.example.com"}}}
			},
		},
		{
			name:     "5.0/5.1: route in the default host and one site's VirtualHost",
			versions: []string{"5.1.7-sites"},
			edit: func(f fixture) []want {
				f.insert(f.customsites(), catchAll443, 1, false, wsRoute)
				f.insert(f.main(), catchAll443, 1, false, wsRoute)
				return []want{{SeverityWarning, mainName, f.lineOf(f.main(), wsRoute[:len(wsRoute)-1], 1),
					[]string{"not shop.example.com,", fmt.Sprintf("line %d of %s", f.lineOf(f.customsites(), catchAll443, 2), sitesName), "Server.app rewrites"}, []string{"chat.example.com"}}}
			},
		},
		{
			name:     "5.0/5.1: route in the default host and both sites' VirtualHosts",
			versions: []string{"5.1.7-sites"},
			edit: func(f fixture) []want {
				f.insert(f.customsites(), catchAll443, 2, false, wsRoute)
				f.insert(f.customsites(), catchAll443, 1, false, wsRoute)
				f.insert(f.main(), catchAll443, 1, false, wsRoute)
				return nil
			},
		},
		{
			name:     "duplicate Use line for one site and port",
			versions: macroTrees,
			edit: func(f fixture) []want {
				text := f.read(f.customsites())
				first, _, _ := strings.Cut(text, "\n")
				f.write(f.customsites(), text+first+"\n")
				return []want{{SeverityWarning, sitesName, strings.Count(text, "\n") + 1,
					[]string{"second VirtualHost for chat.example.com on port 443", "line 1 of " + sitesName, "serves only the first"}, nil}}
			},
		},
		{
			name:     "5.0/5.1: duplicate VirtualHost for one site and port",
			versions: []string{"5.1.7-sites"},
			edit: func(f fixture) []want {
				text := f.read(f.customsites())
				end := f.lineOf(f.customsites(), "</VirtualHost>", 1)
				block := strings.Join(strings.SplitAfter(text, "\n")[:end], "")
				f.write(f.customsites(), text+block)
				return []want{{SeverityWarning, sitesName, strings.Count(text, "\n") + 1,
					[]string{"second VirtualHost for chat.example.com on port 443", "line 1 of " + sitesName}, nil}}
			},
		},
		{
			name:     "Use line with an argument missing",
			versions: macroTrees,
			edit: func(f fixture) []want {
				f.write(f.customsites(), strings.Replace(f.read(f.customsites()), `Use VHost80 * shop.example.com ""`, "Use VHost80 * shop.example.com", 1))
				return []want{{SeverityError, sitesName, f.lineOf(f.customsites(), "Use VHost80 * shop.example.com", 1),
					[]string{"has 2 arguments", "takes 3", fmt.Sprintf("line %d of %s", f.lineOf(f.main(), "<Macro VHost80", 1), mainName), "$vhostName $serverName $serverAliasDirective"}, nil}}
			},
		},
		{
			name:     "Use of an undefined macro",
			versions: allTrees,
			edit: func(f fixture) []want {
				f.write(f.customsites(), f.read(f.customsites())+"Use VHost433 * new.example.com \"\" ID ID\n")
				defined := "there is none"
				if f.version != "5.1.7-sites" {
					defined = "VHost443, VHost80"
				}
				return []want{{SeverityError, sitesName, f.lineOf(f.customsites(), "Use VHost433", 1), []string{"not defined", defined}, nil}}
			},
		},
		{
			name:     "Use before the macro's definition",
			versions: macroTrees,
			edit: func(f fixture) []want {
				f.write(f.main(), "Use VHost80 * early.example.com \"\"\n"+f.read(f.main()))
				return []want{{SeverityError, mainName, 1, []string{"not defined", "Move the line below", fmt.Sprintf("line %d", f.lineOf(f.main(), "<Macro VHost80", 1))}, nil}}
			},
		},
		{
			name:     "an included file that is missing",
			versions: []string{"5.3.1-sites"},
			edit: func(f fixture) []want {
				f.write(f.main(), f.read(f.main())+"Include /Library/Server/Web/Config/Proxy/missing.conf\n")
				return []want{{SeverityWarning, mainName, f.lineOf(f.main(), "missing.conf", 1), []string{"not checked", "missing.conf"}, nil}}
			},
		},
	}
	for _, tt := range tests {
		for _, version := range tt.versions {
			t.Run(tt.name+"/"+version, func(t *testing.T) {
				f := fixture{t: t, root: servertest.Copy(t, version), version: version}
				wants := tt.edit(f)
				got := checkTree(t, f.root)
				var lines []string
				for _, g := range got {
					lines = append(lines, fmt.Sprintf("%s %s:%d %s | fix: %s", g.Severity, filepath.Base(g.File), g.Line, g.Message, g.Fix))
				}
				if len(got) != len(wants) {
					t.Fatalf("%d findings, want %d:\n%s", len(got), len(wants), strings.Join(lines, "\n"))
				}
				for i, w := range wants {
					g := got[i]
					text := g.Message + " | " + g.Fix
					if g.Severity != w.sev || filepath.Base(g.File) != w.file || g.Line != w.line {
						t.Errorf("finding %d is %s %s:%d, want %s %s:%d\n%s", i, g.Severity, filepath.Base(g.File), g.Line, w.sev, w.file, w.line, lines[i])
					}
					for _, word := range w.words {
						if !strings.Contains(text, word) {
							t.Errorf("finding %d lacks %q:\n%s", i, word, lines[i])
						}
					}
					for _, word := range w.not {
						if strings.Contains(text, word) {
							t.Errorf("finding %d names %q:\n%s", i, word, lines[i])
						}
					}
					if g.Fix == "" || strings.Contains(g.Fix, "--") {
						t.Errorf("finding %d: fix %q is empty or names a CLI flag", i, g.Fix)
					}
					if !filepath.IsAbs(g.File) || !strings.HasPrefix(g.File, f.root) {
						t.Errorf("finding %d names %s, not the file on this machine", i, g.File)
					}
				}
			})
		}
	}
}

// TestSiteFileVirtualHostsAreChecked: on Server 5.0/5.1 the custom sites'
// own VirtualHosts in the customsites file get the checks the main
// config's get, each finding naming that file and line: a WebSocket rule
// after the site's catch-all never runs, a RewriteRule without
// RewriteEngine On is ignored, an anchored Connection condition refuses
// Firefox. The file as Server.app writes it has no such finding.
func TestSiteFileVirtualHostsAreChecked(t *testing.T) {
	root := servertest.Copy(t, "5.1.7-sites")
	f := fixture{t: t, root: root, version: "5.1.7-sites"}
	inFile := func(fs []Finding) []Finding {
		var out []Finding
		for _, x := range fs {
			if x.File == f.customsites() {
				out = append(out, x)
			}
		}
		return out
	}
	if got := inFile(checkTree(t, root)); len(got) != 0 {
		t.Fatalf("the customsites file as written has findings: %+v", got)
	}
	src := f.read(f.customsites())
	// chat.example.com:443: a WebSocket ProxyPass after the catch-all.
	src = strings.Replace(src, "\tProxyPassReverse / http://127.0.0.1:34543/\n</VirtualHost>",
		"\tProxyPassReverse / http://127.0.0.1:34543/\n\tProxyPass /late/ ws://127.0.0.1:9000/late/\n</VirtualHost>", 1)
	// shop.example.com:80: rewrite rules without the engine, anchored Connection.
	src = strings.Replace(src, "\tServerName shop.example.com:80\n",
		"\tServerName shop.example.com:80\n\tRewriteCond %{HTTP:Connection} ^Upgrade$\n\tRewriteRule ^/ws/(.*)$ ws://127.0.0.1:9000/ws/$1 [P,L]\n", 1)
	if err := os.WriteFile(f.customsites(), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(src, "\n")
	lineOf := func(s string) int {
		for i, l := range lines {
			if strings.Contains(l, s) {
				return i + 1
			}
		}
		t.Fatalf("no line with %q", s)
		return 0
	}
	got := inFile(checkTree(t, root))
	for _, want := range []struct {
		line int
		msg  string
	}{
		{lineOf("ProxyPass /late/"), "chat.example.com:443: the ProxyPass for /late/ never runs"},
		{lineOf("RewriteRule ^/ws/"), "shop.example.com:80: RewriteRule without `RewriteEngine On`"},
		{lineOf("^Upgrade$"), "shop.example.com:80: the Connection condition"},
	} {
		found := false
		for _, x := range got {
			if x.Line == want.line && strings.HasPrefix(x.Message, want.msg) && x.Severity == SeverityError {
				found = true
			}
		}
		if !found {
			t.Errorf("no error at %s:%d starting %q; findings in the file:\n%s", filepath.Base(f.customsites()), want.line, want.msg, fmt.Sprint(got))
		}
	}
}
