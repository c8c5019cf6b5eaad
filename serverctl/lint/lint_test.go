package lint

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/servertest"
)

const lintModules = `LoadModule proxy_module ${MODULE_INSTALL_PATH_PREFIX}/usr/libexec/apache2/mod_proxy.so
LoadModule proxy_http_module ${MODULE_INSTALL_PATH_PREFIX}/usr/libexec/apache2/mod_proxy_http.so
LoadModule proxy_wstunnel_module ${MODULE_INSTALL_PATH_PREFIX}/usr/libexec/apache2/mod_proxy_wstunnel.so
LoadModule rewrite_module ${MODULE_INSTALL_PATH_PREFIX}/usr/libexec/apache2/mod_rewrite.so
`

func findingLine(f Finding) string {
	return fmt.Sprintf("%s L%d %s", f.Severity, f.Line, f.Message)
}

func TestLintFindings(t *testing.T) {
	tests := []struct {
		name   string
		conf   string
		apache serverctl.Version
		sites  map[string]string
		want   []string // "severity Lline substring", one per finding, in order
	}{
		{
			name: "clean tunnel route",
			conf: lintModules + `<VirtualHost *:80>
RewriteEngine On
RewriteCond %{HTTP:Upgrade} websocket [NC]
RewriteCond %{HTTP:Connection} upgrade [NC]
RewriteRule ^/ws/(.*)$ ws://127.0.0.1:1/ws/$1 [P,L]
ProxyPass /ws/ http://127.0.0.1:1/ws/
ProxyPass / http://127.0.0.1:34580/
</VirtualHost>
`,
		},
		{
			name: "wstunnel not loaded",
			conf: strings.Replace(lintModules, "LoadModule proxy_wstunnel_module", "#LoadModule proxy_wstunnel_module", 1) + `<VirtualHost *:80>
ProxyPass /ws ws://127.0.0.1:1/ws
</VirtualHost>
`,
			apache: serverctl.Version{Major: 2, Minor: 4, Patch: 23},
			want:   []string{"error L6 proxy_wstunnel_module is not loaded"},
		},
		{
			name: "ws target on 2.4.47+ is handled by mod_proxy_http",
			conf: strings.Replace(lintModules, "LoadModule proxy_wstunnel_module", "#LoadModule proxy_wstunnel_module", 1) + `<VirtualHost *:80>
ProxyPass /ws ws://127.0.0.1:1/ws
</VirtualHost>
`,
			apache: serverctl.Version{Major: 2, Minor: 4, Patch: 71},
		},
		{
			name: "rewrite and http modules missing",
			conf: "LoadModule proxy_module mod_proxy.so\n<VirtualHost *:80>\nRewriteEngine On\nRewriteRule ^/a(.*)$ ws://b/a$1 [P]\nProxyPass /x http://b/x\n</VirtualHost>\n",
			want: []string{"error L4 proxy_wstunnel_module is not loaded", "error L4 rewrite_module is not loaded", "error L5 proxy_http_module is not loaded"},
		},
		{
			name: "route after the catch-all",
			conf: lintModules + "<VirtualHost *:443>\nProxyPass / http://127.0.0.1:34543/\nProxyPass /ws ws://127.0.0.1:1/ws\nProxyPass /plain http://127.0.0.1:1/plain\n</VirtualHost>\n",
			want: []string{"error L7 the ProxyPass for /ws never runs", "warning L8 the ProxyPass for /plain never runs"},
		},
		{
			name: "upgrade rewritten to http:// without an upgrade worker",
			conf: lintModules + "<VirtualHost *:80>\nRewriteEngine On\nRewriteCond %{HTTP:Upgrade} websocket [NC]\nRewriteRule ^/ws/(.*)$ http://127.0.0.1:1/ws/$1 [P,L]\n</VirtualHost>\n",
			want: []string{"error L8 forwards as a plain GET"},
		},
		{
			name:   "upgrade=websocket on old Apache",
			conf:   lintModules + "<VirtualHost *:80>\nProxyPass /ws/ http://127.0.0.1:1/ws/ upgrade=websocket\n</VirtualHost>\n",
			apache: serverctl.Version{Major: 2, Minor: 4, Patch: 23},
			want:   []string{"error L6 upgrade=websocket needs Apache 2.4.47 or later, this is 2.4.23"},
		},
		{
			name: "upgrade=websocket on unknown Apache",
			conf: lintModules + "<VirtualHost *:80>\nProxyPass /ws/ http://127.0.0.1:1/ws/ upgrade=websocket\n</VirtualHost>\n",
			want: []string{"warning L6 upgrade=websocket on line 6 needs Apache 2.4.47"},
		},
		{
			name: "anchored Connection condition",
			conf: lintModules + "<VirtualHost *:80>\nRewriteEngine On\nRewriteCond %{HTTP:Upgrade} =websocket [NC]\nRewriteCond %{HTTP:Connection} ^Upgrade$ [NC]\nRewriteRule ^/ws/(.*)$ ws://127.0.0.1:1/ws/$1 [P,L]\n</VirtualHost>\n",
			want: []string{"error L8 Firefox sends"},
		},
		{
			name: "RewriteEngine only in the main server",
			conf: lintModules + "RewriteEngine On\n<VirtualHost *:80>\nRewriteCond %{HTTP:Upgrade} websocket [NC]\nRewriteRule ^/ws/(.*)$ ws://127.0.0.1:1/ws/$1 [P,L]\n</VirtualHost>\n",
			want: []string{"error L8 RewriteRule without `RewriteEngine On`"},
		},
		{
			name:  "WebSocket rule only in the Websites tier",
			conf:  lintModules + "<VirtualHost *:80>\nProxyPass / http://127.0.0.1:34580/\n</VirtualHost>\n",
			sites: map[string]string{"sites/site.conf": "<VirtualHost 127.0.0.1:34580>\nRewriteEngine On\nRewriteCond %{HTTP:Upgrade} websocket [NC]\nRewriteRule ^/chat/(.*)$ ws://127.0.0.1:8001/chat/$1 [P,L]\n</VirtualHost>\n"},
			want:  []string{"error L4 WebSocket rule for /chat/ is in the Websites tier"},
		},
		{
			name:  "Websites-tier rule also routed in the Service Proxy",
			conf:  lintModules + "<VirtualHost *:80>\nProxyPass /chat/ ws://127.0.0.1:8001/chat/\nProxyPass / http://127.0.0.1:34580/\n</VirtualHost>\n",
			sites: map[string]string{"sites/site.conf": "<VirtualHost 127.0.0.1:34580>\nRewriteEngine On\nRewriteCond %{HTTP:Upgrade} websocket [NC]\nRewriteRule ^/chat/(.*)$ ws://127.0.0.1:8001/chat/$1 [P,L]\n</VirtualHost>\n"},
		},
		{
			name: "broken Socketbar markers",
			conf: lintModules + "<VirtualHost *:80>\n# socketbar:begin /ws -> http://x/ws (tunnel).\n</VirtualHost>\n",
			want: []string{"error L0 Socketbar block for /ws has no end marker"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sites := map[string][]byte{}
			for k, v := range tt.sites {
				sites[k] = []byte(v)
			}
			got := Check(mustParse(t, tt.conf), Options{Apache: tt.apache, Sites: sites})
			if len(got) != len(tt.want) {
				var lines []string
				for _, f := range got {
					lines = append(lines, findingLine(f))
				}
				t.Fatalf("%d findings, want %d:\n%s", len(got), len(tt.want), strings.Join(lines, "\n"))
			}
			for i, w := range tt.want {
				sev, rest, _ := strings.Cut(w, " ")
				line, part, _ := strings.Cut(rest, " ")
				f := got[i]
				if string(f.Severity) != sev || fmt.Sprintf("L%d", f.Line) != line || !strings.Contains(f.Message, part) {
					t.Errorf("finding %d = %s, want %s", i, findingLine(f), w)
				}
				if f.Fix == "" {
					t.Errorf("finding %d has no fix", i)
				}
			}
			if HasErrors(got) != strings.Contains(strings.Join(tt.want, "\n"), "error ") {
				t.Errorf("HasErrors = %v", HasErrors(got))
			}
		})
	}
}

func TestLintFixtures(t *testing.T) {
	for _, version := range []string{"5.1.7", "5.3.1", "5.6.3", "5.7.1"} {
		t.Run(version, func(t *testing.T) {
			root := servertest.Dir(t, version)
			c := fixtureConfig(t, version)
			sites := map[string][]byte{}
			paths, _ := filepath.Glob(filepath.Join(root, serverctl.SitesDir, "*.conf"))
			for _, p := range paths {
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				sites[p] = b
			}
			findings := Check(c, Options{Apache: serverctl.Version{Major: 2, Minor: 4, Patch: 23}, Sites: sites})
			wantTierError := len(paths) > 0
			if got := HasErrors(findings); got != wantTierError {
				t.Fatalf("HasErrors = %v, want %v: %+v", got, wantTierError, findings)
			}
			// Adding the route in the Service Proxy, as the fix says, clears it.
			edit, err := c.AddRoute(serverctl.AddRequest{Path: "/chat/", Backend: "http://127.0.0.1:8001/chat/", Apache: serverctl.Version{Major: 2, Minor: 4, Patch: 23}})
			if err != nil {
				t.Fatal(err)
			}
			fixed, _ := serverctl.ParseConfig(c.Path, edit.New)
			if after := Check(fixed, Options{Apache: serverctl.Version{Major: 2, Minor: 4, Patch: 23}, Sites: sites}); len(after) != 0 {
				t.Errorf("findings after the fix: %+v", after)
			}
		})
	}
}

func mustParse(t *testing.T, src string) *serverctl.Config {
	t.Helper()
	c, err := serverctl.ParseConfig("test.conf", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func fixtureConfig(t *testing.T, version string) *serverctl.Config {
	t.Helper()
	c, err := serverctl.ReadConfig(filepath.Join(servertest.Dir(t, version), serverctl.DefaultConfigPath))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestUpgradeWorkerFixHasNoBackReference(t *testing.T) {
	cfg, err := serverctl.ParseConfig("test.conf", []byte(lintModules+`<VirtualHost *:80>
RewriteEngine On
RewriteCond %{HTTP:Upgrade} websocket [NC]
RewriteCond %{HTTP:Connection} upgrade [NC]
RewriteRule ^/ws/(.*)$ http://127.0.0.1:9001/ws/$1 [P,L]
</VirtualHost>
`))
	if err != nil {
		t.Fatal(err)
	}
	var fixes []string
	for _, f := range Check(cfg, Options{Apache: serverctl.Version{Major: 2, Minor: 4, Patch: 58}}) {
		if strings.Contains(f.Message, "plain GET") {
			fixes = append(fixes, f.Fix)
		}
	}
	const want = "`ProxyPass /ws/ http://127.0.0.1:9001/ws/ upgrade=websocket`"
	if len(fixes) != 1 || !strings.Contains(fixes[0], want) || strings.Contains(fixes[0], "$") {
		t.Errorf("fixes %q, want one with %s", fixes, want)
	}
}
