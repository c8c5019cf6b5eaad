package serverctl

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/socketbar/socketbar/serverctl/servertest"
)

var update = flag.Bool("update", false, "rewrite golden files")

func fixtureConfig(t *testing.T, version string) *Config {
	t.Helper()
	c, err := ReadConfig(filepath.Join(servertest.Dir(t, version), DefaultConfigPath))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func toCRLF(c *Config) *Config {
	src := bytes.ReplaceAll(c.Src, []byte("\n"), []byte("\r\n"))
	out, err := ParseConfig(c.Path, src)
	if err != nil {
		panic(err)
	}
	return out
}

// checkGolden compares got with testdata/golden/name, or rewrites it with -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./serverctl -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file:\n%s", name, UnifiedDiff("golden", "got", want, []byte(got)))
	}
}

type addCase struct {
	golden  string
	version string
	crlf    bool
	req     AddRequest
}

func addCases() []addCase {
	old, cur := Version{2, 4, 23}, Version{2, 4, 71}
	return []addCase{
		{"5.1.7-add-tunnel.diff", "5.1.7", false, AddRequest{Path: "/ws/", Backend: "http://127.0.0.1:8000/ws/", Apache: old}},
		{"5.3.1-add-tunnel.diff", "5.3.1", false, AddRequest{Path: "/ws/", Backend: "http://127.0.0.1:8000/ws/", Apache: old}},
		{"5.3.1-add-upgrade.diff", "5.3.1", false, AddRequest{Path: "/ws/", Backend: "http://127.0.0.1:8000/ws/", Apache: cur}},
		{"5.3.1-add-metachars-crlf.diff", "5.3.1", true, AddRequest{Path: "/api/v1.0/ws+x/", Backend: "ws://127.0.0.1:8000", Strategy: StrategyTunnel, Apache: cur}},
		{"5.6.3-add-tls-backend-80.diff", "5.6.3", false, AddRequest{Path: "/vnc", Backend: "wss://10.0.0.5:6080/websockify", Ports: []string{"80"}, Apache: old}},
		{"5.7.1-add-no-catch-all.diff", "5.7.1", false, AddRequest{Path: "/socket.io/", Backend: "http://127.0.0.1:5000/socket.io/", Apache: cur}},
	}
}

func TestAddGoldenAndRemoveRestores(t *testing.T) {
	for _, tt := range addCases() {
		t.Run(tt.golden, func(t *testing.T) {
			c := fixtureConfig(t, tt.version)
			if tt.crlf {
				c = toCRLF(c)
			}
			edit, err := c.AddRoute(tt.req)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tt.golden, UnifiedDiff("a/apache_serviceproxy.conf", "b/apache_serviceproxy.conf", edit.Old, edit.New))

			// Only whole lines were added: the old file is a subsequence of
			// the new one, line for line.
			if !isLineSubsequence(splitLines(edit.Old), splitLines(edit.New)) {
				t.Error("the edit changed existing lines")
			}
			if tt.crlf && bytes.Contains(bytes.ReplaceAll(edit.New, []byte("\r\n"), nil), []byte("\n")) {
				t.Error("a CRLF file got LF-only lines")
			}

			// The new routes are there, carry WebSockets and are not shadowed.
			nc, err := ParseConfig(c.Path, edit.New)
			if err != nil {
				t.Fatal(err)
			}
			wsHosts := map[string]bool{}
			for _, r := range nc.Routes() {
				if r.Managed {
					if r.Shadowed {
						t.Errorf("managed route shadowed: %s", routeLine(r))
					}
					if r.WebSocket {
						wsHosts[r.VHost] = true
					}
				}
			}
			wantHosts := 2
			if len(tt.req.Ports) > 0 {
				wantHosts = len(tt.req.Ports)
			}
			if len(wsHosts) != wantHosts {
				t.Errorf("WebSocket routes in %v, want %d hosts", wsHosts, wantHosts)
			}

			// Adding again changes nothing.
			again, err := nc.AddRoute(tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if again.Changed() || !strings.Contains(strings.Join(again.Notes, "\n"), "already there") {
				t.Errorf("second add changed the file or did not say so: %q", again.Notes)
			}

			// Removing gives back the original, byte for byte.
			rm, err := nc.RemoveRoute(tt.req.Path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(rm.New, c.Src) {
				t.Errorf("add then remove did not restore the file:\n%s", UnifiedDiff("original", "after", c.Src, rm.New))
			}
		})
	}
}

func isLineSubsequence(sub, all []string) bool {
	i := 0
	for _, l := range all {
		if i < len(sub) && sub[i] == l {
			i++
		}
	}
	return i == len(sub)
}

func TestAddIndentsLikeNeighbours(t *testing.T) {
	c := mustParse(t, "<VirtualHost *:443>\n    ProxyPass /a http://127.0.0.1:1/a\n    ProxyPass / http://127.0.0.1:2/\n</VirtualHost>\n")
	edit, err := c.AddRoute(AddRequest{Path: "/ws", Backend: "http://127.0.0.1:3/ws", Ports: []string{"443"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range splitLines(edit.New)[2:9] {
		if !strings.HasPrefix(l, "    ") || strings.HasPrefix(l, "     ") {
			t.Errorf("line %q is not indented with 4 spaces", l)
		}
	}
}

func TestAddReplace(t *testing.T) {
	c := fixtureConfig(t, "5.3.1")
	first, err := c.AddRoute(AddRequest{Path: "/ws/", Backend: "http://127.0.0.1:8000/ws/"})
	if err != nil {
		t.Fatal(err)
	}
	nc, _ := ParseConfig(c.Path, first.New)
	other := AddRequest{Path: "/ws/", Backend: "http://127.0.0.1:9000/ws/"}
	_, err = nc.AddRoute(other)
	var in *InputError
	if !errors.As(err, &in) || in.Remedy != RemedyReplace || !strings.Contains(in.Msg, "8000") {
		t.Fatalf("conflicting add: err = %v, want a refusal offering to replace, naming the old backend", err)
	}
	other.Replace = true
	rep, err := nc.AddRoute(other)
	if err != nil {
		t.Fatal(err)
	}
	// *:443, *:80 and the custom sites' two macros.
	if bytes.Contains(rep.New, []byte("8000")) || bytes.Count(rep.New, []byte("socketbar:begin")) != 4 {
		t.Errorf("replace left the old backend or the wrong number of blocks")
	}
	direct, _ := c.AddRoute(other)
	if !bytes.Equal(rep.New, direct.New) {
		t.Errorf("replacing gives another file than adding the new route to the original")
	}
}

func TestAddRefusals(t *testing.T) {
	c := fixtureConfig(t, "5.3.1")
	tests := []struct {
		name  string
		req   AddRequest
		field Field
		part  string
	}{
		{"relative path", AddRequest{Path: "ws", Backend: "http://127.0.0.1:1/ws"}, FieldPath, "must start with /"},
		{"root path", AddRequest{Path: "/", Backend: "http://127.0.0.1:1/"}, FieldPath, "whole site"},
		{"newline in path", AddRequest{Path: "/ws\nProxyPass / http://evil/", Backend: "http://127.0.0.1:1/ws"}, FieldPath, "control character"},
		{"space in path", AddRequest{Path: "/a b", Backend: "http://127.0.0.1:1/a"}, FieldPath, "whitespace"},
		{"quote in path", AddRequest{Path: `/a"b`, Backend: "http://127.0.0.1:1/a"}, FieldPath, `'"'`},
		{"hash in path", AddRequest{Path: "/a#b", Backend: "http://127.0.0.1:1/a"}, FieldPath, `'#'`},
		{"backslash in path", AddRequest{Path: `/a\b`, Backend: "http://127.0.0.1:1/a"}, FieldPath, `'\\'`},
		{"dot-dot in path", AddRequest{Path: "/a/../b", Backend: "http://127.0.0.1:1/b"}, FieldPath, `".."`},
		{"dollar in path", AddRequest{Path: "/a$1", Backend: "http://127.0.0.1:1/a"}, FieldPath, `'$'`},
		{"percent in path", AddRequest{Path: "/a%20b", Backend: "http://127.0.0.1:1/a"}, FieldPath, "percent"},
		{"ftp backend", AddRequest{Path: "/ws", Backend: "ftp://127.0.0.1/ws"}, FieldBackend, "http://, https://, ws:// or wss://"},
		{"relative backend", AddRequest{Path: "/ws", Backend: "127.0.0.1:8000/ws"}, FieldBackend, ""},
		{"no host", AddRequest{Path: "/ws", Backend: "http:///ws"}, FieldBackend, "no host"},
		{"user info", AddRequest{Path: "/ws", Backend: "http://admin:pw@127.0.0.1/ws"}, FieldBackend, "user info"},
		{"newline in backend", AddRequest{Path: "/ws", Backend: "http://127.0.0.1/ws\n</VirtualHost>"}, FieldBackend, "control"},
		{"quote in backend", AddRequest{Path: "/ws", Backend: `http://127.0.0.1/w"s`}, FieldBackend, `'"'`},
		{"hash in backend", AddRequest{Path: "/ws", Backend: "http://127.0.0.1/ws#x"}, FieldBackend, "fragment"},
		{"query in backend", AddRequest{Path: "/ws", Backend: "http://127.0.0.1/ws?a=1"}, FieldBackend, "query"},
		{"space in backend", AddRequest{Path: "/ws", Backend: "http://127.0.0.1/ws retry=0"}, FieldBackend, "whitespace"},
		{"slash mismatch", AddRequest{Path: "/ws/", Backend: "http://127.0.0.1:1/ws"}, FieldBackend, "http://127.0.0.1:1/ws/"},
		{"upgrade on old apache", AddRequest{Path: "/ws", Backend: "http://127.0.0.1:1/ws", Strategy: StrategyUpgrade, Apache: Version{2, 4, 23}}, FieldStrategy, "2.4.47"},
		{"upgrade on unknown apache", AddRequest{Path: "/ws", Backend: "http://127.0.0.1:1/ws", Strategy: StrategyUpgrade}, FieldStrategy, "unknown"},
		{"bad strategy", AddRequest{Path: "/ws", Backend: "http://127.0.0.1:1/ws", Strategy: "magic"}, FieldStrategy, "auto, tunnel, upgrade"},
		{"missing vhost", AddRequest{Path: "/ws", Backend: "http://127.0.0.1:1/ws", Ports: []string{"9999"}}, FieldVHost, "9999: no <VirtualHost> of "},
		{"bad port", AddRequest{Path: "/ws", Backend: "http://127.0.0.1:1/ws", Ports: []string{"44x"}}, FieldVHost, "not a port"},
		{"host:port without scheme", AddRequest{Path: "/ws", Backend: "127.0.0.1:5020"}, FieldBackend, "a backend is a URL: http://127.0.0.1:5020"},
		{"name:port without scheme", AddRequest{Path: "/ws", Backend: "localhost:5020/ws"}, FieldBackend, "a backend is a URL: http://localhost:5020/ws"},
		{"port zero", AddRequest{Path: "/ws", Backend: "http://127.0.0.1:0/ws"}, FieldBackend, "port 0"},
		{"port too big", AddRequest{Path: "/ws", Backend: "http://127.0.0.1:65536/ws"}, FieldBackend, "1 to 65535"},
		{"port far too big", AddRequest{Path: "/ws", Backend: "http://127.0.0.1:99999/ws"}, FieldBackend, "1 to 65535"},
		{"bad IPv4", AddRequest{Path: "/ws", Backend: "http://999.999.999.999/ws"}, FieldBackend, "not an IP address"},
		{"leading hyphen", AddRequest{Path: "/ws", Backend: "http://-x/ws"}, FieldBackend, "host name"},
		{"underscore", AddRequest{Path: "/ws", Backend: "http://a_b/ws"}, FieldBackend, "host name"},
		{"dot host", AddRequest{Path: "/ws", Backend: "http://./ws"}, FieldBackend, "host name"},
		{"bad IPv6", AddRequest{Path: "/ws", Backend: "http://[zz::1]/ws"}, FieldBackend, "not a URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			edit, err := c.AddRoute(tt.req)
			var in *InputError
			if !errors.As(err, &in) {
				t.Fatalf("err = %v (edit %v), want an InputError", err, edit != nil)
			}
			if in.Field != tt.field || !strings.Contains(in.Msg, tt.part) {
				t.Errorf("error = %q %q, want field %q mentioning %q", in.Field, in.Msg, tt.field, tt.part)
			}
		})
	}
}

func TestAutoStrategy(t *testing.T) {
	for _, tt := range []struct {
		v    Version
		want Strategy
	}{{Version{}, StrategyTunnel}, {Version{2, 4, 23}, StrategyTunnel}, {Version{2, 4, 46}, StrategyTunnel}, {Version{2, 4, 47}, StrategyUpgrade}} {
		got, why, err := ResolveStrategy(StrategyAuto, tt.v)
		if err != nil || got != tt.want || why == "" {
			t.Errorf("auto on %v = %v (%q), %v; want %v", tt.v, got, why, err, tt.want)
		}
	}
}

func TestRemoveNeverTouchesUnmanagedRules(t *testing.T) {
	c := fixtureConfig(t, "5.3.1")
	_, err := c.RemoveRoute("/wiki", nil)
	var nm *NotManagedError
	if !errors.As(err, &nm) || nm.Rule == nil || nm.Rule.Managed || nm.Rule.Path != "/wiki" || !strings.Contains(nm.Error(), "not written by Socketbar") {
		t.Fatalf("err = %v, want NotManagedError naming the hand-written rule", err)
	}
	_, err = c.RemoveRoute("/nothing", nil)
	if !errors.As(err, &nm) {
		t.Fatalf("err = %v, want NotManagedError", err)
	}
}

func TestRemoveOneHostOnly(t *testing.T) {
	c := fixtureConfig(t, "5.3.1")
	add, err := c.AddRoute(AddRequest{Path: "/ws", Backend: "http://127.0.0.1:1/ws"})
	if err != nil {
		t.Fatal(err)
	}
	nc, _ := ParseConfig(c.Path, add.New)
	rm, err := nc.RemoveRoute("/ws", []string{"80"})
	if err != nil {
		t.Fatal(err)
	}
	rc, _ := ParseConfig(c.Path, rm.New)
	blocks, err := rc.Blocks()
	if err != nil || len(blocks) != 2 || blocks[0].Host.Label() != "*:443" || blocks[1].Host.Label() != "macro VHost443" {
		t.Fatalf("blocks after removing from *:80 = %+v, %v", blocks, err)
	}
}

func TestBrokenMarkersStopEdits(t *testing.T) {
	c := mustParse(t, "<VirtualHost *:80>\n# socketbar:begin /ws -> http://x/ws (tunnel).\nProxyPass /ws http://x/ws\nProxyPass / http://y/\n</VirtualHost>\n")
	if _, err := c.AddRoute(AddRequest{Path: "/other", Backend: "http://127.0.0.1:1/other"}); err == nil || !strings.Contains(err.Error(), "no end marker") {
		t.Errorf("add with a broken block: err = %v", err)
	}
	if _, err := c.RemoveRoute("/ws", nil); err == nil {
		t.Error("remove with a broken block succeeded")
	}
}
