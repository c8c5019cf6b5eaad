package remote

import (
	"errors"
	"strings"
	"testing"
)

func TestParseHostAccepts(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Host
	}{
		{"server", Host{Name: "server"}},
		{"server.example.com", Host{Name: "server.example.com"}},
		{"admin@server.example.com", Host{User: "admin", Name: "server.example.com"}},
		{"admin@server:2222", Host{User: "admin", Name: "server", Port: 2222}},
		{"192.0.2.7:22", Host{Name: "192.0.2.7", Port: 22}},
		{"[::1]:2222", Host{Name: "::1", Port: 2222}},
		{"[::1]", Host{Name: "::1"}},
		{"::1", Host{Name: "::1"}},
		{"bob@[2001:db8::1]:65535", Host{User: "bob", Name: "2001:db8::1", Port: 65535}},
		{"[fe80::1%en0]:22", Host{Name: "fe80::1%en0", Port: 22}},
		{"my_mini", Host{Name: "my_mini"}}, // an alias from ~/.ssh/config
		{"j.appleseed@mini-2.local:1", Host{User: "j.appleseed", Name: "mini-2.local", Port: 1}},
	} {
		got, err := ParseHost(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseHost(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			continue
		}
		if back, err := ParseHost(got.String()); err != nil || back != got {
			t.Errorf("ParseHost(%q.String() = %q) = %+v, %v", tc.in, got.String(), back, err)
		}
	}
}

func TestParseHostRefuses(t *testing.T) {
	for _, tc := range []struct {
		in, field, problem string
	}{
		{"", "host", "empty"},
		{"  ", "host", "empty"},
		{"-oProxyCommand=touch /tmp/pwned", "host", `starts with "-"`},
		{"-p2222", "host", `starts with "-"`},
		{"-oProxyCommand=x@server", "user", `starts with "-"`},
		{"@server", "user", "empty"},
		{"admin@", "host", "empty"},
		{"a b@server", "user", "white space"},
		{"admin@ser ver", "host", "white space"},
		{"admin@server\n", "host", "white space"},
		{"admin@serv\x01er", "host", "control"},
		{"admin@serv\x7fer", "host", "control"},
		{"ad'min@server", "user", "contains"},
		{`admin@"server"`, "host", `'"'`},
		{"admin@$(id)", "host", `'$'`},
		{"admin@`id`", "host", "'`'"},
		{"admin@server;id", "host", "';'"},
		{"admin@server|id", "host", "'|'"},
		{"a@b@server", "user", "'@'"},
		{"admin@sérver", "host", "not ASCII"},
		{"admin@server/x", "host", "'/'"},
		{"ssh://server", "port", "not a number"},
		{"server:", "port", "empty"},
		{"server:0", "port", "outside"},
		{"server:65536", "port", "outside"},
		{"server:-22", "port", "not a number"},
		{"server:+22", "port", "not a number"},
		{"server:22x", "port", "not a number"},
		{"server:0000022", "port", "not a number"},
		{"[::1]:", "port", "empty"},
		{"[::1", "host", `"]"`},
		{"[::1]x", "host", "after"},
		{"[server]:22", "host", "IPv6"},
		{"1:2:3", "host", "IPv6"},
		{"[fe80::1%]:22", "host", "IPv6"},
		{strings.Repeat("a", 300), "host", "longer"},
	} {
		_, err := ParseHost(tc.in)
		var he *HostError
		if !errors.As(err, &he) {
			t.Errorf("ParseHost(%q) = %v, want a *HostError", tc.in, err)
			continue
		}
		if he.Field != tc.field || !strings.Contains(he.Problem, tc.problem) || he.Fix == "" {
			t.Errorf("ParseHost(%q): field %q, problem %q, fix %q; want field %q, problem with %q", tc.in, he.Field, he.Problem, he.Fix, tc.field, tc.problem)
		}
	}
}

func TestHostArgsEndOptionsBeforeTheName(t *testing.T) {
	got := strings.Join(Host{User: "admin", Name: "server", Port: 2222}.args(), " ")
	if got != "-l admin -p 2222 -- server" {
		t.Errorf("args = %q", got)
	}
	if got := strings.Join(Host{Name: "server"}.args(), " "); got != "-- server" {
		t.Errorf("args = %q", got)
	}
}

func TestValidateRefusesHostsParseHostWould(t *testing.T) {
	for _, h := range []Host{
		{Name: "-oProxyCommand=x"},
		{Name: "server", User: "-l"},
		{Name: "server", Port: 70000},
		{Name: "server", Port: -1},
		{Name: "a:b"},
		{Name: ""},
	} {
		if err := h.validate(); err == nil {
			t.Errorf("validate(%+v) accepted it", h)
		}
	}
}

func FuzzParseHost(f *testing.F) {
	for _, s := range []string{"server", "a@b:22", "[::1]:2", "::1", "-x", "a@@b", "[fe80::1%en0]", "b:65535"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseHost(s)
		if err != nil {
			return
		}
		if back, err := ParseHost(h.String()); err != nil || back != h {
			t.Fatalf("ParseHost(%q) = %+v, but its String %q reads back as %+v, %v", s, h, h.String(), back, err)
		}
		for _, part := range []string{h.User, h.Name} {
			if strings.HasPrefix(part, "-") || strings.ContainsAny(part, " \t\n\r'\"`$;|&<>()\\*?[]{}!#~/=,@") {
				t.Fatalf("ParseHost(%q) accepted %q", s, part)
			}
		}
		if h.Port < 0 || h.Port > 65535 {
			t.Fatalf("ParseHost(%q) accepted port %d", s, h.Port)
		}
	})
}
