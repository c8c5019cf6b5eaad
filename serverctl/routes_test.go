package serverctl

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/socketbar/socketbar/serverctl/servertest"
)

func mustParse(t *testing.T, src string) *Config {
	t.Helper()
	c, err := ParseConfig("test.conf", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// routeLine renders the fields a test compares, in one line.
func routeLine(r Route) string {
	s := fmt.Sprintf("%s %s %s %s L%d", r.VHost, r.Directive, r.Path, r.Backend, r.Line)
	if r.WebSocket {
		s += " ws"
	}
	if r.Shadowed {
		s += fmt.Sprintf(" shadowed-by-L%d", r.ShadowedBy)
	}
	if r.Managed {
		s += " managed"
	}
	return s
}

func TestRoutesOrderAndShadowing(t *testing.T) {
	tests := []struct {
		name string
		conf string
		want []string
	}{
		{
			name: "rewrite rules are tried before ProxyPass, whatever the file order",
			conf: `<VirtualHost *:80>
ProxyPass /app http://127.0.0.1:1/app
RewriteEngine On
RewriteCond %{HTTP:Upgrade} websocket [NC]
RewriteRule ^/app/ws(/.*)?$ ws://127.0.0.1:2/ws$1 [P,L]
</VirtualHost>
`,
			want: []string{
				"*:80 RewriteRule /app/ws ws://127.0.0.1:2/ws$1 L5 ws",
				"*:80 ProxyPass /app http://127.0.0.1:1/app L2",
			},
		},
		{
			name: "catch-all shadows everything after it; segment match is whole-component",
			conf: `<VirtualHost *:443>
ProxyPass /ws http://127.0.0.1:1/ws
ProxyPass /wsx http://127.0.0.1:1/wsx
ProxyPass /ws/deeper http://127.0.0.1:1/ws/deeper
ProxyPass / http://127.0.0.1:34543/
ProxyPass /late ws://127.0.0.1:2/late
ProxyPass /never !
</VirtualHost>
`,
			want: []string{
				"*:443 ProxyPass /ws http://127.0.0.1:1/ws L2",
				"*:443 ProxyPass /wsx http://127.0.0.1:1/wsx L3",
				"*:443 ProxyPass /ws/deeper http://127.0.0.1:1/ws/deeper L4 shadowed-by-L2",
				"*:443 ProxyPass / http://127.0.0.1:34543/ L5",
				"*:443 ProxyPass /late ws://127.0.0.1:2/late L6 ws shadowed-by-L5",
			},
		},
		{
			name: "upgrade=websocket, ProxyPassMatch, Location form, managed block",
			conf: `<VirtualHost *:80>
	# socketbar:begin /chat/ -> http://127.0.0.1:9/chat/ (upgrade). Managed by Socketbar.
	ProxyPass /chat/ http://127.0.0.1:9/chat/ upgrade=websocket
	# socketbar:end /chat/
	ProxyPassMatch ^/api/(.*)$ http://127.0.0.1:3/api/$1
	ProxyPassMatch ^/api/v[0-9]+/x http://127.0.0.1:3/
	<Location /loc>
		ProxyPass http://127.0.0.1:4/loc
	</Location>
</VirtualHost>
`,
			want: []string{
				"*:80 ProxyPass /chat/ http://127.0.0.1:9/chat/ L3 ws managed",
				"*:80 ProxyPassMatch /api/ http://127.0.0.1:3/api/$1 L5",
				"*:80 ProxyPassMatch ^/api/v[0-9]+/x http://127.0.0.1:3/ L6 shadowed-by-L5",
				"*:80 ProxyPass /loc http://127.0.0.1:4/loc L8",
			},
		},
		{
			name: "conditional rewrite rules shadow nothing; http [P] counts as WebSocket only with an upgrade worker",
			conf: `<VirtualHost *:80>
RewriteEngine On
RewriteCond %{HTTP:Upgrade} websocket [NC]
RewriteRule ^/a/(.*)$ http://127.0.0.1:5/a/$1 [P]
RewriteCond %{HTTP:Upgrade} websocket [NC]
RewriteRule ^/a/b(.*)$ http://127.0.0.1:6/b/$1 [P]
RewriteRule ^/c/(.*)$ http://127.0.0.1:6/c/$1 [P]
RewriteRule ^/c/d/(.*)$ http://127.0.0.1:6/d/$1 [P]
RewriteRule ^/redirect https://example.com/ [R,L]
ProxyPass /b/ http://127.0.0.1:6/ upgrade=websocket
</VirtualHost>
`,
			want: []string{
				"*:80 RewriteRule /a/ http://127.0.0.1:5/a/$1 L4",
				"*:80 RewriteRule /a/b http://127.0.0.1:6/b/$1 L6 ws",
				"*:80 RewriteRule /c/ http://127.0.0.1:6/c/$1 L7 ws",
				"*:80 RewriteRule /c/d/ http://127.0.0.1:6/d/$1 L8 ws shadowed-by-L7",
				"*:80 ProxyPass /b/ http://127.0.0.1:6/ L10 ws",
			},
		},
		{
			name: "macro templates are not hosts",
			conf: `<Macro VHost80 $a>
<VirtualHost $a:80>
ProxyPass / http://127.0.0.1:1/
</VirtualHost>
</Macro>
<IfModule mod_ssl.c>
<VirtualHost *:443 [::]:443>
ProxyPass /x http://127.0.0.1:1/x
</VirtualHost>
</IfModule>
`,
			want: []string{"*:443 [::]:443 ProxyPass /x http://127.0.0.1:1/x L8"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, r := range mustParse(t, tt.conf).Routes() {
				got = append(got, routeLine(r))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("routes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestMatcherCovers(t *testing.T) {
	tests := []struct {
		a, b matcher
		want bool
	}{
		{aliasMatcher("/"), aliasMatcher("/anything"), true},
		{aliasMatcher("/ws"), aliasMatcher("/ws"), true},
		{aliasMatcher("/ws"), aliasMatcher("/ws/"), true},
		{aliasMatcher("/ws"), aliasMatcher("/wsx"), false},
		{aliasMatcher("/ws/"), aliasMatcher("/ws"), false},
		{aliasMatcher("/ws/"), aliasMatcher("/ws/a"), true},
		{regexMatcher("^/ws(/.*)?$", false), aliasMatcher("/ws/a"), true},
		{regexMatcher("^/ws(/.*)?$", false), regexMatcher("^/wsx", false), false},
		{regexMatcher("^/ws(/.*)?$", true), aliasMatcher("/ws/a"), false},
		{regexMatcher("^/ws$", false), regexMatcher("^/ws$", false), true},
		{regexMatcher("^/ws$", false), aliasMatcher("/ws"), false},
		{regexMatcher("/ws", false), aliasMatcher("/ws"), false}, // unanchored: complex
		{aliasMatcher("/api/"), regexMatcher(`^/api/v\d+`, false), true},
	}
	for _, tt := range tests {
		if got := tt.a.covers(tt.b); got != tt.want {
			t.Errorf("%+v covers %+v = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestLiteralPrefix(t *testing.T) {
	tests := []struct{ re, lit, rest string }{
		{`/api/v1\.0/ws\+x/(.*)$`, "/api/v1.0/ws+x/", "(.*)$"},
		{`/ws(/.*)?$`, "/ws", "(/.*)?$"},
		{`/abc?`, "/ab", "c?"},
		{`/a\d`, "/a", `\d`},
		{`/x\`, "/x", `\`},
	}
	for _, tt := range tests {
		if lit, rest := literalPrefix(tt.re); lit != tt.lit || rest != tt.rest {
			t.Errorf("literalPrefix(%q) = %q, %q; want %q, %q", tt.re, lit, rest, tt.lit, tt.rest)
		}
	}
}

func TestFixtureRoutes(t *testing.T) {
	tests := []struct {
		version          string
		routes, shadowed int
		hosts            string
	}{
		{"5.1.7", 18, 0, "*:80,*:443,*:8008,*:8800,*:8443,*:8843"},
		{"5.3.1", 18, 0, "*:80,*:443,*:8008,*:8800,*:8443,*:8843"},
		{"5.6.3", 19, 0, "*:80,*:443,*:8008,*:8800,*:8443,*:8843"},
		{"5.7.1", 3, 0, "*:80,*:443"},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			c, err := ReadConfig(filepath.Join(servertest.Dir(t, tt.version), DefaultConfigPath))
			if err != nil {
				t.Fatal(err)
			}
			var labels []string
			for _, h := range c.VirtualHosts() {
				labels = append(labels, h.Label())
			}
			if got := strings.Join(labels, ","); got != tt.hosts {
				t.Errorf("hosts = %s, want %s", got, tt.hosts)
			}
			routes := c.Routes()
			shadowed := 0
			for _, r := range routes {
				if r.Shadowed {
					shadowed++
				}
				if r.WebSocket || r.Managed {
					t.Errorf("fixture route %s is WebSocket or managed", routeLine(r))
				}
				if got := strings.Fields(string(r.Node().Raw)); len(got) < 2 {
					t.Errorf("route line %d raw = %q", r.Line, r.Node().Raw)
				}
			}
			if len(routes) != tt.routes || shadowed != tt.shadowed {
				t.Errorf("%d routes (%d shadowed), want %d (%d)", len(routes), shadowed, tt.routes, tt.shadowed)
			}
		})
	}
}

func TestModulesResolveVariablesAndServerRoot(t *testing.T) {
	c := mustParse(t, `ServerRoot "${PREFIX}/usr"
Define MODS /opt/mods
LoadModule a_module ${MODULE_INSTALL_PATH_PREFIX}/usr/libexec/apache2/mod_a.so
LoadModule b_module libexec/apache2/mod_b.so
LoadModule c_module ${MODS}/mod_c.so
LoadModule d_module ${UNSET}/mod_d.so
<Macro M $x>
LoadModule e_module $x
</Macro>
`)
	vars := c.Vars(map[string]string{"MODULE_INSTALL_PATH_PREFIX": "", "PREFIX": "/p", "MODS": "/env/loses"})
	var got []string
	for _, m := range c.Modules(vars) {
		got = append(got, fmt.Sprintf("%s=%s@%d", m.Name, m.Path, m.Line))
	}
	want := "a_module=/usr/libexec/apache2/mod_a.so@3 b_module=/p/usr/libexec/apache2/mod_b.so@4 c_module=/opt/mods/mod_c.so@5 d_module=/p/usr/${UNSET}/mod_d.so@6" // unexpanded means relative, as in Apache
	if strings.Join(got, " ") != want {
		t.Errorf("modules:\n%s\nwant\n%s", strings.Join(got, " "), want)
	}
}
