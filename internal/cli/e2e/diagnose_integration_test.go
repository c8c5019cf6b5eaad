package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/socketbar/socketbar/proxy/wstest"
	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/apachetest"
)

// testJSON runs socketbar test --json and decodes the report.
func testJSON(t *testing.T, args ...string) (wstest.Report, int) {
	t.Helper()
	r := run(t, nil, append([]string{"test", "--json", "--timeout", "5s"}, args...)...)
	var rep wstest.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("test --json: %v\n%s%s", err, r.stdout, r.stderr)
	}
	return rep, r.code
}

// applyText puts a hand-written change to the front's config in place
// through the transaction, as an admin's own edit would be.
func (tt *twoTier) applyText(t *testing.T, change func(string) string) {
	t.Helper()
	srv, err := serverctl.Discover(context.Background(), serverctl.Options{Root: tt.site.Root})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := serverctl.ReadConfig(srv.HostPath(srv.ConfigPath))
	if err != nil {
		t.Fatal(err)
	}
	a, err := srv.Applier(cfg, serverctl.ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	newText := change(string(cfg.Src))
	if newText == string(cfg.Src) {
		t.Fatal("the change changed nothing")
	}
	if _, err := a.Apply(context.Background(), serverctl.Change{Old: cfg.Src, New: []byte(newText), Description: "test edit"}); err != nil {
		t.Fatal(err)
	}
}

// beforeCatchAll inserts lines right before the *:443 host's catch-all.
func beforeCatchAll(lines string) func(string) string {
	return func(conf string) string {
		return strings.Replace(conf, "# The user websites, and webdav\n", lines+"# The user websites, and webdav\n", 1)
	}
}

func TestDiagnosesThroughRealApache(t *testing.T) {
	tt := startTwoTier(t, "5.3.1")
	front := fmt.Sprintf("127.0.0.1:%d", tt.site.Ports[443])

	// Apps behind the front: one that refuses plain requests as gorilla
	// does (400), one that accepts the upgrade and hangs up at once.
	strict := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := (&websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}).Upgrade(w, r, nil)
		if err == nil {
			c.Close()
		}
	}))
	t.Cleanup(strict.Close)
	down := fmt.Sprintf("127.0.0.1:%d", apachetest.FreePort(t)) // reserved, so nothing listens there

	t.Run("route missing: the request falls through to the Websites tier", func(t *testing.T) {
		rep, code := testJSON(t, "--insecure", "wss://"+front+"/chat/")
		if code != 1 || rep.Diagnosis.Cause != wstest.CauseRouteMissing || rep.Status != 404 {
			t.Errorf("exit %d, %+v", code, rep.Diagnosis)
		}
	})

	t.Run("certificate for another name", func(t *testing.T) {
		rep, _ := testJSON(t, "wss://"+front+"/chat/")
		if rep.Diagnosis.Cause != wstest.CauseTLS || !strings.Contains(rep.Diagnosis.Message, "it is for "+apachetest.CertName+", not 127.0.0.1") {
			t.Errorf("%+v", rep.Diagnosis)
		}
	})

	t.Run("http:// rule without upgrade=websocket", func(t *testing.T) {
		tt.applyText(t, beforeCatchAll(fmt.Sprintf("\tRewriteEngine On\n\tRewriteCond %%{HTTP:Upgrade} websocket [NC]\n\tRewriteRule ^/raw/(.*)$ %s/raw/$1 [P,L]\n", strict.URL)))
		rep, _ := testJSON(t, "--insecure", "wss://"+front+"/raw/x")
		if rep.Diagnosis.Cause != wstest.CauseUpgradeDropped || rep.Status != 400 {
			t.Errorf("%+v (HTTP %d)", rep.Diagnosis, rep.Status)
		}
	})

	t.Run("backend stopped", func(t *testing.T) {
		if r := run(t, nil, append([]string{"add", "/down/", "http://" + down + "/down/", "--root", tt.site.Root}, tt.vhostFlags()...)...); r.code != 0 {
			t.Fatal(r.stderr)
		}
		rep, _ := testJSON(t, "--insecure", "wss://"+front+"/down/")
		if rep.Diagnosis.Cause != wstest.CauseBackendDown || rep.Status != 503 {
			t.Errorf("%+v (HTTP %d)", rep.Diagnosis, rep.Status)
		}
	})

	t.Run("app accepts the upgrade, then hangs up", func(t *testing.T) {
		if r := run(t, nil, append([]string{"add", "/rejects/", strict.URL + "/rejects/", "--root", tt.site.Root}, tt.vhostFlags()...)...); r.code != 0 {
			t.Fatal(r.stderr)
		}
		rep, _ := testJSON(t, "--insecure", "wss://"+front+"/rejects/")
		if rep.Diagnosis.Cause != wstest.CauseAppRejected {
			t.Errorf("%+v", rep.Diagnosis)
		}
	})

	t.Run("healthy route", func(t *testing.T) {
		if r := run(t, nil, append([]string{"add", "/ws/", tt.backend.URL + "/ws/", "--root", tt.site.Root}, tt.vhostFlags()...)...); r.code != 0 {
			t.Fatal(r.stderr)
		}
		start := time.Now()
		rep, code := testJSON(t, "--insecure", "--expect-echo", "wss://"+front+"/ws/")
		if code != 0 || !rep.OK {
			t.Errorf("exit %d %+v", code, rep)
		}
		t.Logf("socketbar test on a healthy route through Apache: %v including process start", time.Since(start).Round(time.Millisecond))
	})

	t.Run("tier check of a healthy route, with socketbar serve running", func(t *testing.T) {
		proxyAddr := fmt.Sprintf("127.0.0.1:%d", apachetest.FreePort(t))
		stop := startServe(t, "--addr", proxyAddr, "--root", tt.site.Root)
		defer stop()
		r := run(t, nil, "test", "--json", "--route", "/ws/", "--root", tt.site.Root, "--proxy-addr", proxyAddr)
		var out struct {
			OK       bool
			BreaksAt string `json:"breaks_at"`
			Tiers    []struct {
				Tier    string
				Skipped string
				Report  *wstest.Report
			}
		}
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
			t.Fatalf("%v\n%s%s", err, r.stdout, r.stderr)
		}
		// The backend, the Service Proxy's HTTPS and HTTP VirtualHosts, serve.
		if r.code != 0 || !out.OK || len(out.Tiers) != 4 {
			t.Fatalf("exit %d: %s", r.code, r.stdout)
		}
		for _, tier := range out.Tiers {
			if tier.Skipped != "" || tier.Report == nil || !tier.Report.OK {
				t.Errorf("tier %s: skipped %q, report %+v", tier.Tier, tier.Skipped, tier.Report)
			}
		}
	})

	t.Run("tier check finds the tier that drops the upgrade", func(t *testing.T) {
		tt.applyText(t, beforeCatchAll(fmt.Sprintf("\tRewriteEngine On\n\tRewriteCond %%{HTTP:Upgrade} websocket [NC]\n\tRewriteRule ^/plain/(.*)$ %s/plain/$1 [P,L]\n", tt.backend.URL)))
		r := run(t, nil, "test", "--route", "/plain/", "--root", tt.site.Root, "--proxy-addr", down)
		if !strings.Contains(r.stdout, "forwards as a plain GET") {
			t.Error("the tier check does not point at the rule that drops the upgrade")
		}
		if r.code != 1 || !strings.Contains(r.stdout, "not through the Service Proxy") || !strings.Contains(r.stdout, "skipped: socketbar serve is not running") {
			t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})

	t.Run("mod_proxy_wstunnel not loaded", func(t *testing.T) {
		tt.applyText(t, func(conf string) string {
			conf = strings.Replace(conf, "LoadModule proxy_wstunnel_module", "# LoadModule proxy_wstunnel_module", 1)
			return strings.Replace(conf, "LoadModule proxy_http_module", "# LoadModule proxy_http_module", 1)
		})
		rep, _ := testJSON(t, "--insecure", "wss://"+front+"/ws/")
		if rep.Diagnosis.Cause != wstest.CauseModuleMissing {
			t.Errorf("%+v (HTTP %d)", rep.Diagnosis, rep.Status)
		}
		tier := run(t, nil, "test", "--route", "/ws/", "--root", tt.site.Root, "--proxy-addr", down)
		if tier.code != 1 || !strings.Contains(tier.stdout, "error log says") || !strings.Contains(tier.stdout, "AH01144") {
			t.Errorf("tier check does not quote the error log:\n%s", tier.stdout)
		}
	})
}
