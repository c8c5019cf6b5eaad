package e2e

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/socketbar/socketbar/proxy/wstest"
	"github.com/socketbar/socketbar/serverctl/action"
	"github.com/socketbar/socketbar/serverctl/apachetest"
	"github.com/socketbar/socketbar/serverctl/servertest"
)

// TestConnectNamesTheSiteThatAnswered runs Server 5.3.1's Service Proxy
// with two custom sites on loopback and tests a custom site's URL at the
// Service Proxy's address before DNS could point at it: the diagnosis
// names the site whose VirtualHost answered and whether it lacks the
// route, before any add and after an add for the default hosts only; the
// route check tests each site by its name.
func TestConnectNamesTheSiteThatAnswered(t *testing.T) {
	h := apachetest.Require(t)
	fixture := servertest.Dir(t, "5.3.1-sites")
	s := apachetest.LocalizeTree(t, h, fixture)
	s.LocalizeIncluded(t, filepath.Join(s.Root, "Library/Server/Web/Config/Proxy/apache_serviceproxy_customsites.conf"))
	apachetest.StartWebsites(t, h, s)
	t.Cleanup(func() {
		apachetest.StopHTTPD(t, h, s.ConfigPath, s.Env, filepath.Join(s.Root, "var/run/service_proxy.pid"))
	})
	if r := run(t, nil, "restart", "--root", s.Root); r.code != 0 {
		t.Fatalf("start the front: %s%s", r.stdout, r.stderr)
	}
	backend := echoBackend(t)
	const path = "/chat/stream/"
	https := fmt.Sprintf("127.0.0.1:%d", s.Ports[443])
	web := []string{"--vhost", fmt.Sprint(s.Ports[443]), "--vhost", fmt.Sprint(s.Ports[80])}

	test := func(t *testing.T, url string, args ...string) (*wstest.Report, result) {
		t.Helper()
		r := run(t, nil, append([]string{"test", "--json", "--insecure", "--timeout", "5s", "--root", s.Root, url}, args...)...)
		var rep wstest.Report
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("test %s: exit %d: %v\n%s%s", url, r.code, err, r.stdout, r.stderr)
		}
		return &rep, r
	}
	lacks := func(t *testing.T, cause string, msg ...string) {
		t.Helper()
		rep, r := test(t, "wss://chat.example.com"+path, "--connect", https)
		if r.code != 1 || rep.Diagnosis.Cause != cause {
			t.Errorf("exit %d, cause %q (%s); want 1 and %q", r.code, rep.Diagnosis.Cause, rep.Diagnosis.Message, cause)
		}
		for _, m := range msg {
			if !strings.Contains(rep.Diagnosis.Message, m) {
				t.Errorf("message %q lacks %q", rep.Diagnosis.Message, m)
			}
		}
		if rep.VHost == nil || rep.VHost.Site != "chat.example.com" || rep.VHost.HasRoute || rep.VHost.Port != s.Ports[443] {
			t.Errorf("vhost %+v; want chat.example.com on port %d without the route", rep.VHost, s.Ports[443])
		}
		if rep.Connect != https || len(rep.Steps) == 0 || !strings.HasPrefix(rep.Steps[0].Detail, "skipped") {
			t.Errorf("connect %q, first step %+v; want %s and the lookup skipped", rep.Connect, rep.Steps, https)
		}
		if tls := rep.Steps[2]; tls.Name != wstest.StepTLS || !strings.Contains(tls.Detail, "chat.example.com") {
			t.Errorf("tls step %+v; want the certificate checked for chat.example.com, the name sent", tls)
		}
	}

	t.Run("before add", func(t *testing.T) {
		lacks(t, wstest.CauseRouteMissing, fmt.Sprintf("chat.example.com's VirtualHost answered (port %d)", s.Ports[443]), "no site of this Server has a route for "+path)
	})
	t.Run("added for the default hosts only", func(t *testing.T) {
		if add := run(t, nil, append([]string{"add", path, backend.URL + path, "--root", s.Root, "--site", "default"}, web...)...); add.code != 0 {
			t.Fatalf("add: exit %d\n%s%s", add.code, add.stdout, add.stderr)
		}
		lacks(t, wstest.CauseRouteMissingSite, "chat.example.com's VirtualHost answered", "it has no route for "+path, "the route reaches only the default hosts")
		if rep, r := test(t, "wss://"+https+path); r.code != 0 {
			t.Errorf("by address (the default hosts): exit %d, %+v", r.code, rep.Diagnosis)
		}
		var tiers struct {
			action.TierReport
			Summary string
		}
		r := run(t, nil, "test", "--json", "--route", path, "--root", s.Root, "--timeout", "5s", "--proxy-addr", fmt.Sprintf("127.0.0.1:%d", apachetest.FreePort(t)))
		if err := json.Unmarshal([]byte(r.stdout), &tiers); err != nil {
			t.Fatalf("%v\n%s%s", err, r.stdout, r.stderr)
		}
		skipped := map[string]string{}
		for _, tr := range tiers.Tiers {
			if tr.Tier == action.TierServiceProxy && tr.Site != "" {
				skipped[tr.Site] = tr.Skipped
			}
		}
		for _, site := range []string{"chat.example.com", "shop.example.com"} {
			if !strings.Contains(skipped[site], "has no route for "+path) || !strings.Contains(r.stdout, "without the route") {
				t.Errorf("route check, %s: %q; want it listed without the route\n%s", site, skipped[site], r.stdout)
			}
		}
		if rm := run(t, nil, append([]string{"remove", path, "--root", s.Root}, web...)...); rm.code != 0 {
			t.Fatalf("remove: exit %d\n%s%s", rm.code, rm.stdout, rm.stderr)
		}
	})
	t.Run("added for every site", func(t *testing.T) {
		if add := run(t, nil, append([]string{"add", path, backend.URL + path, "--root", s.Root}, web...)...); add.code != 0 {
			t.Fatalf("add: exit %d\n%s%s", add.code, add.stdout, add.stderr)
		}
		if rep, r := test(t, "wss://chat.example.com"+path, "--connect", https); r.code != 0 || rep.VHost == nil || !rep.VHost.HasRoute {
			t.Errorf("exit %d, %+v, vhost %+v; want the echo through chat.example.com's route", r.code, rep.Diagnosis, rep.VHost)
		}
		var tiers action.TierReport
		r := run(t, nil, "test", "--json", "--route", path, "--root", s.Root, "--timeout", "5s", "--proxy-addr", fmt.Sprintf("127.0.0.1:%d", apachetest.FreePort(t)))
		if err := json.Unmarshal([]byte(r.stdout), &tiers); err != nil {
			t.Fatalf("%v\n%s%s", err, r.stdout, r.stderr)
		}
		tested := map[string]int{}
		for _, tr := range tiers.Tiers {
			if tr.Tier != action.TierServiceProxy {
				continue
			}
			if tr.Report == nil || !tr.Report.OK {
				t.Errorf("route check, %q %s: %+v", tr.Site, tr.VHost, tr)
				continue
			}
			if tr.Site != "" && (tr.Report.Connect == "" || tr.Report.VHost == nil || tr.Report.VHost.Site != tr.Site) {
				t.Errorf("route check, %s: connect %q, vhost %+v; want it dialled by address with its name", tr.Site, tr.Report.Connect, tr.Report.VHost)
			}
			tested[tr.Site]++
		}
		if tested[""] != 2 || tested["chat.example.com"] != 2 || tested["shop.example.com"] != 2 {
			t.Errorf("Service Proxy tiers tested per site: %v; want HTTPS and HTTP for the default hosts and each site\n%s", tested, r.stdout)
		}
	})
}
