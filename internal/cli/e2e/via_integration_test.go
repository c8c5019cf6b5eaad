package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/socketbar/socketbar/internal/loopport"
	"github.com/socketbar/socketbar/internal/sshtest"
	"github.com/socketbar/socketbar/proxy/wstest"
	"github.com/socketbar/socketbar/serverctl/action"
)

// socketbar test URL --via HOST, the real binary against real Apache (the
// Service Proxy stand-in with a WebSocket route) behind a real sshd: the
// test from the Server's side goes through ssh -W and passes as the one
// from here does; where both fail, it says the Server fails too.
func TestTestViaFromBothEnds(t *testing.T) {
	tt := startTwoTier(t, "5.3.1")
	if r := run(t, nil, append([]string{"add", "/ws/", tt.backend.URL + "/ws/", "--root", tt.site.Root}, tt.vhostFlags()...)...); r.code != 0 {
		t.Fatalf("add: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	s := sshtest.Start(t)
	cfg := s.ConfigFile
	if os.Geteuid() == 0 {
		cfg = s.NewSudoUser(t).ConfigFile // an admin's login is not root
	}
	env := []string{"SOCKETBAR_SSH=ssh -F " + cfg, "SOCKETBAR_HOST="}
	tlsURL, plainURL := tt.urls("/ws/")

	for _, url := range []string{tlsURL, plainURL} {
		r := run(t, env, "test", "--via", sshtest.Alias, "--insecure", "--timeout", "20s", url)
		if r.code != 0 {
			t.Fatalf("test %s --via: exit %d\n%s%s", url, r.code, r.stdout, r.stderr)
		}
		for _, want := range []string{"[from here]\n  Testing " + url, "[from the Server " + sshtest.Alias + ", through SSH]\n  Testing " + url,
			"the Server " + sshtest.Alias + " connects to", "The WebSocket works from here and from the Server " + sshtest.Alias + " (through SSH)."} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("test %s --via lacks %q:\n%s", url, want, r.stdout)
			}
		}
		j := run(t, env, "test", "--json", "--via", sshtest.Alias, "--insecure", "--timeout", "20s", url)
		var b action.BothEnds
		if err := json.Unmarshal([]byte(j.stdout), &b); err != nil || j.code != 0 {
			t.Fatalf("--json: exit %d, %v\n%s%s", j.code, err, j.stdout, j.stderr)
		}
		if !b.OK || !b.Here.OK || !b.Server.OK || b.Server.From != "the Server "+sshtest.Alias || b.Via != sshtest.Alias || b.Server.Status != 101 {
			t.Errorf("--json: %+v\nhere %+v\nServer %+v", b, b.Here, b.Server)
		}
		if url == tlsURL && (b.Here.Certificate == "" || b.Here.Certificate != b.Server.Certificate) {
			t.Errorf("the Service Proxy's certificate: here %q, from the Server %q", b.Here.Certificate, b.Server.Certificate)
		}
	}

	// Both ends fail alike: a path without a route reaches the Websites
	// tier from both, and nothing listens on a reserved port.
	p, err := loopport.Reserve()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Release()
	noRoute, _ := tt.urls("/no-route/")
	for url, cause := range map[string]string{noRoute: wstest.CauseRouteMissing, "ws://" + p.Addr() + "/ws/": wstest.CauseRefused} {
		j := run(t, env, "test", "--json", "--via", sshtest.Alias, "--insecure", "--timeout", "20s", url)
		var b action.BothEnds
		if err := json.Unmarshal([]byte(j.stdout), &b); err != nil || j.code != 1 {
			t.Fatalf("%s --json: exit %d, %v\n%s%s", url, j.code, err, j.stdout, j.stderr)
		}
		if b.OK || b.Diagnosis.Cause != cause || b.Server.Diagnosis.Cause != cause || !strings.Contains(b.Diagnosis.Message, "fails the same way from the Server "+sshtest.Alias) {
			t.Errorf("%s: %+v\nServer: %+v", url, b.Diagnosis, b.Server.Diagnosis)
		}
	}
}

// A --via host that ssh would read as an option is refused before
// anything runs, in the flag's words, whatever SOCKETBAR_SSH says.
func TestTestViaRefusesAnOptionAsHost(t *testing.T) {
	planted := filepath.Join(t.TempDir(), "ran")
	for _, via := range []string{"-oProxyCommand=touch " + planted, "-J"} {
		r := run(t, []string{"SOCKETBAR_SSH=sh -c 'touch " + planted + "'"}, "test", "--via", via, "ws://127.0.0.1:1/ws/")
		if r.code != 2 || !strings.Contains(r.stderr, "--via \""+via+"\"") || !strings.Contains(r.stderr, "Nothing was run.") || r.stdout != "" {
			t.Errorf("--via %q: exit %d\n%s%s", via, r.code, r.stdout, r.stderr)
		}
	}
	if _, err := os.Stat(planted); err == nil {
		t.Error("something ran for a refused --via")
	}
}
