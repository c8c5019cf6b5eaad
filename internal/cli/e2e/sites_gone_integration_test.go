package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/socketbar/socketbar/serverctl/apachetest"
	"github.com/socketbar/socketbar/serverctl/servertest"
)

// TestRouteWhoseSiteIsGone routes /chat/stream/ for chat.example.com on a
// real Apache, then deletes the site as Server.app does: on 5.1.7, where
// each custom site is a whole VirtualHost in the customsites file, deleting
// the last ones removes that file; on 5.3.1, where the sites are Use lines
// of the macros that hold the route, chat's Use lines go and the route
// stays in the macro, conditioned on a Host no site has. Either way status
// says the site is gone, not that routes drifted (exit 0), and reapply or
// remove settles it: status is clean afterwards, every other site still
// answers, and on 5.3.1 the dead block leaves the macro.
func TestRouteWhoseSiteIsGone(t *testing.T) {
	for _, version := range []string{"5.1.7", "5.3.1"} {
		t.Run(version, func(t *testing.T) { routeWhoseSiteIsGone(t, version) })
	}
}

func routeWhoseSiteIsGone(t *testing.T, version string) {
	h := apachetest.Require(t)
	fixture := servertest.Dir(t, version+"-sites")
	s := apachetest.LocalizeTree(t, h, fixture)
	customsites := filepath.Join(s.Root, "Library/Server/Web/Config/Proxy/apache_serviceproxy_customsites.conf")
	sitesPlist := filepath.Join(s.Root, "Library/Server/Web/Config/apache2/servermgr_web_apache2_config.plist")
	s.LocalizeIncluded(t, customsites)
	apachetest.StartWebsites(t, h, s)
	t.Cleanup(func() {
		apachetest.StopHTTPD(t, h, s.ConfigPath, s.Env, filepath.Join(s.Root, "var/run/service_proxy.pid"))
	})
	backend := echoBackend(t)
	origMain, origSites, origPlist := readFile(t, s.ConfigPath), readFile(t, customsites), readFile(t, sitesPlist)
	const path = "/chat/stream/"
	web := []string{"--root", s.Root, "--vhost", fmt.Sprint(s.Ports[443]), "--vhost", fmt.Sprint(s.Ports[80])}
	mustRun := func(t *testing.T, args ...string) result {
		t.Helper()
		r := run(t, nil, args...)
		if r.code != 0 {
			t.Fatalf("%s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
		}
		return r
	}
	// deleteSites does what Server.app does when sites are deleted: the
	// plist and the customsites file lose them, the Service Proxy restarts.
	deleteSites := func(t *testing.T) {
		t.Helper()
		gone := []string{"chat.example.com"}
		if version == "5.1.7" {
			gone = append(gone, "shop.example.com") // the last site goes, and the file with it
			if err := os.Remove(customsites); err != nil {
				t.Fatal(err)
			}
		} else {
			var keep []string
			for _, l := range strings.SplitAfter(origSites, "\n") {
				if !strings.Contains(l, "chat.example.com") {
					keep = append(keep, l)
				}
			}
			if err := os.WriteFile(customsites, []byte(strings.Join(keep, "")), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		plistText := origPlist
		for _, name := range gone {
			plistText = regexp.MustCompile(`(?s)<dict>\s*<key>serverName</key>\s*<string>`+regexp.QuoteMeta(name)+`</string>.*?</dict>\s*`).ReplaceAllString(plistText, "")
		}
		if err := os.WriteFile(sitesPlist, []byte(plistText), 0o644); err != nil {
			t.Fatal(err)
		}
		mustRun(t, "restart", "--root", s.Root)
	}
	type statusJSON struct {
		Drift *struct {
			Missing []struct{ VHost, Path string }
			Gone    []struct {
				VHost, Path string
				Sites       []string
			}
		}
	}

	for _, settle := range []string{"reapply", "remove"} {
		t.Run(settle, func(t *testing.T) {
			// Server.app (re)creates the sites.
			if err := os.WriteFile(customsites, []byte(origSites), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(sitesPlist, []byte(origPlist), 0o644); err != nil {
				t.Fatal(err)
			}
			mustRun(t, "restart", "--root", s.Root)
			mustRun(t, append([]string{"add", path, backend.URL + path, "--site", "chat.example.com"}, web...)...)
			if err := apachetest.SiteRoundTrip(s.Ports[443], true, "chat.example.com", path); err != nil {
				t.Fatalf("the route for chat.example.com does not echo: %v", err)
			}
			deleteSites(t)

			st := run(t, nil, "status", "--root", s.Root)
			if st.code != 0 || strings.Contains(st.stdout, "Drift:") || !strings.Contains(st.stdout, "Site gone:") || !strings.Contains(st.stdout, path) || !strings.Contains(st.stdout, "chat.example.com") {
				t.Errorf("status after the site was deleted: exit %d; want 0, no drift, and a line saying chat.example.com is gone\n%s%s", st.code, st.stdout, st.stderr)
			}
			var js statusJSON
			if err := json.Unmarshal([]byte(run(t, nil, "status", "--json", "--root", s.Root).stdout), &js); err != nil {
				t.Fatal(err)
			}
			if js.Drift == nil || len(js.Drift.Missing) != 0 || len(js.Drift.Gone) == 0 {
				t.Fatalf("status --json drift = %+v; want no route missing and the route for chat gone", js.Drift)
			}
			for _, g := range js.Drift.Gone {
				if g.Path != path || !strings.Contains(strings.Join(g.Sites, " "), "chat.example.com") {
					t.Errorf("gone route %+v; want %s for chat.example.com", g, path)
				}
			}

			args := []string{"reapply", "--root", s.Root}
			if settle == "remove" {
				args = append([]string{"remove", path}, web...)
			}
			r := mustRun(t, args...)
			if !strings.Contains(r.stdout, "chat.example.com") {
				t.Errorf("%s does not say what became of chat.example.com's route:\n%s", settle, r.stdout)
			}
			st = run(t, nil, "status", "--root", s.Root)
			if st.code != 0 || strings.Contains(st.stdout, "Drift:") || strings.Contains(st.stdout, "Site gone:") {
				t.Errorf("status after %s: exit %d; want 0 and nothing gone or drifted\n%s%s", settle, st.code, st.stdout, st.stderr)
			}
			if again := mustRun(t, "reapply", "--root", s.Root); !strings.Contains(again.stdout, "nothing to put back") {
				t.Errorf("a second reapply:\n%s", again.stdout)
			}
			if got := readFile(t, s.ConfigPath); got != origMain {
				t.Errorf("after %s the main config is not the original; the route for a gone site stayed:\n%s", settle, got)
			}
			// The Service Proxy still serves what is left.
			hosts := []string{"127.0.0.1", "chat.example.com"}
			if version != "5.1.7" {
				hosts = append(hosts, "shop.example.com")
			}
			for _, host := range hosts {
				if err := apachetest.SiteRoundTrip(s.Ports[443], true, host, path); err == nil || !strings.Contains(err.Error(), "404") {
					t.Errorf("%s after %s: %v; want 404 from the Websites tier", host, settle, err)
				}
			}
		})
	}
	if version == "5.1.7" {
		// Undo walks back past changes whose customsites file Server.app
		// deleted with its sites, and never brings the file back.
		u := run(t, nil, "undo", "--root", s.Root)
		if u.code != 0 {
			t.Errorf("undo: exit %d\n%s%s", u.code, u.stdout, u.stderr)
		}
		if _, err := os.Stat(customsites); !os.IsNotExist(err) {
			t.Errorf("undo brought back the customsites file of deleted sites (%v)", err)
		}
		if st := run(t, nil, "status", "--root", s.Root); st.code != 0 || strings.Contains(st.stdout, "Site gone:") {
			t.Errorf("status after undo: exit %d\n%s", st.code, st.stdout)
		}
	}
}
