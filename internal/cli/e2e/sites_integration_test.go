package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/socketbar/socketbar/serverctl/apachetest"
	"github.com/socketbar/socketbar/serverctl/servertest"
)

// TestTwoTierCustomSites runs Server 5.3.1's Service Proxy with two custom
// sites (chat.example.com with an alias, shop.example.com, made by the
// macros from the customsites file) in front of a Websites tier and a
// WebSocket echo app, and drives the built CLI: a route added for every
// site reaches the custom sites and the default host, one added with
// --site reaches that site only, with each strategy, and remove gives every
// file back byte for byte.
func TestTwoTierCustomSites(t *testing.T) {
	for _, version := range []string{"5.1.7", "5.3.1", "5.6.3"} {
		t.Run(version, func(t *testing.T) { twoTierCustomSites(t, version) })
	}
}

func twoTierCustomSites(t *testing.T, version string) {
	h := apachetest.Require(t)
	fixture := servertest.Dir(t, version+"-sites")
	s := apachetest.LocalizeTree(t, h, fixture)
	customsites := filepath.Join(s.Root, "Library/Server/Web/Config/Proxy/apache_serviceproxy_customsites.conf")
	s.LocalizeIncluded(t, customsites)
	apachetest.StartWebsites(t, h, s)
	t.Cleanup(func() {
		apachetest.StopHTTPD(t, h, s.ConfigPath, s.Env, filepath.Join(s.Root, "var/run/service_proxy.pid"))
	})
	if r := run(t, nil, "restart", "--root", s.Root); r.code != 0 {
		t.Fatalf("start the front: %s%s", r.stdout, r.stderr)
	}
	backend := echoBackend(t)
	original, originalSites := readFile(t, s.ConfigPath), readFile(t, customsites)
	const path = "/chat/stream/"
	web := []string{"--vhost", fmt.Sprint(s.Ports[443]), "--vhost", fmt.Sprint(s.Ports[80])}

	type probe struct {
		host string
		tls  bool
	}
	var probes []probe
	for _, host := range []string{"chat.example.com", "www.chat.example.com", "shop.example.com", "127.0.0.1"} {
		probes = append(probes, probe{host, true}, probe{host, false})
	}
	check := func(t *testing.T, reaches func(host string) bool) {
		t.Helper()
		for _, p := range probes {
			port := s.Ports[80]
			if p.tls {
				port = s.Ports[443]
			}
			err := apachetest.SiteRoundTrip(port, p.tls, p.host, path)
			switch want := reaches(p.host); {
			case want && err != nil:
				t.Errorf("%s (tls %v): %v; want the echo", p.host, p.tls, err)
			case !want && (err == nil || !strings.Contains(err.Error(), "404")):
				t.Errorf("%s (tls %v): %v; want 404 from the Websites tier", p.host, p.tls, err)
			}
		}
	}
	removeAll := func(t *testing.T) {
		t.Helper()
		if rm := run(t, nil, append([]string{"remove", path, "--root", s.Root}, web...)...); rm.code != 0 {
			t.Fatalf("remove: exit %d\n%s%s", rm.code, rm.stdout, rm.stderr)
		}
		if readFile(t, s.ConfigPath) != original || readFile(t, customsites) != originalSites {
			t.Fatal("after remove the files differ from the originals")
		}
		check(t, func(string) bool { return false })
	}

	t.Run("before add every host falls through to the Websites tier", func(t *testing.T) {
		check(t, func(string) bool { return false })
	})
	for _, strategy := range []string{"tunnel", "upgrade"} {
		t.Run("every site/"+strategy, func(t *testing.T) {
			start := time.Now()
			add := run(t, nil, append([]string{"add", path, backend.URL + path, "--root", s.Root, "--strategy", strategy}, web...)...)
			if add.code != 0 {
				t.Fatalf("add: exit %d\n%s%s", add.code, add.stdout, add.stderr)
			}
			t.Logf("add → verified with two custom sites (%s): %v", strategy, time.Since(start).Round(time.Millisecond))
			check(t, func(string) bool { return true })
			routes := run(t, nil, "routes", "--json", "--root", s.Root)
			var rl struct {
				Routes []struct{ Site, Path string }
			}
			if err := json.Unmarshal([]byte(routes.stdout), &rl); err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			for _, r := range rl.Routes {
				if r.Path == path {
					got[r.Site]++
				}
			}
			if got[""] == 0 || got["chat.example.com"] == 0 || got["shop.example.com"] == 0 {
				t.Errorf("routes --json for %s per site = %v; want the default hosts and both custom sites", path, got)
			}
			removeAll(t)
		})
		t.Run("one site/"+strategy, func(t *testing.T) {
			start := time.Now()
			add := run(t, nil, append([]string{"add", path, backend.URL + path, "--root", s.Root, "--strategy", strategy, "--site", "chat.example.com"}, web...)...)
			if add.code != 0 {
				t.Fatalf("add --site: exit %d\n%s%s", add.code, add.stdout, add.stderr)
			}
			t.Logf("add --site → verified (%s): %v", strategy, time.Since(start).Round(time.Millisecond))
			check(t, func(host string) bool { return strings.HasSuffix(host, "chat.example.com") })
			removeAll(t)
		})
	}
	t.Run("a second site joins the route, then leaves it", func(t *testing.T) {
		for _, site := range []string{"chat.example.com", "shop.example.com"} {
			if add := run(t, nil, append([]string{"add", path, backend.URL + path, "--root", s.Root, "--site", site}, web...)...); add.code != 0 {
				t.Fatalf("add --site %s: exit %d\n%s%s", site, add.code, add.stdout, add.stderr)
			}
		}
		check(t, func(host string) bool { return host != "127.0.0.1" })
		if rm := run(t, nil, append([]string{"remove", path, "--root", s.Root, "--site", "shop.example.com"}, web...)...); rm.code != 0 {
			t.Fatalf("remove --site shop: exit %d\n%s%s", rm.code, rm.stdout, rm.stderr)
		}
		check(t, func(host string) bool { return strings.HasSuffix(host, "chat.example.com") })
		removeAll(t)
	})
	t.Run("an unknown site exits 2 and lists the sites", func(t *testing.T) {
		r := run(t, nil, "add", path, backend.URL+path, "--root", s.Root, "--site", "nope.example.com")
		if r.code != 2 || !strings.Contains(r.stderr, "chat.example.com") || !strings.Contains(r.stderr, "shop.example.com") {
			t.Errorf("exit %d, stderr %q; want 2 and the list of sites", r.code, r.stderr)
		}
		if readFile(t, s.ConfigPath) != original {
			t.Error("a refused add changed the config")
		}
	})
	if _, err := os.Stat(customsites); err != nil {
		t.Fatal(err)
	}
}
