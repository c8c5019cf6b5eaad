package serverctl_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/apachetest"
)

// chatHosts are the names of the fixtures' chat.example.com site, as the
// action layer selects them for --site chat.example.com.
var chatHosts = []string{"chat.example.com", "www.chat.example.com"}

type siteCase struct {
	golden string
	req    serverctl.AddRequest
	// blocks is how many Socketbar blocks the edit leaves, and limited how
	// many of them carry a %{HTTP_HOST} condition.
	blocks, limited int
}

func siteCases() []siteCase {
	cur := serverctl.Version{Major: 2, Minor: 4, Patch: 71}
	base := serverctl.AddRequest{Path: "/chat/stream/", Backend: "http://127.0.0.1:8001/chat/stream/", Apache: cur}
	with := func(f func(*serverctl.AddRequest)) serverctl.AddRequest { r := base; f(&r); return r }
	return []siteCase{
		{"all-tunnel", with(func(r *serverctl.AddRequest) { r.Strategy = serverctl.StrategyTunnel }), 4, 0},
		{"all-upgrade", with(func(r *serverctl.AddRequest) { r.Strategy = serverctl.StrategyUpgrade }), 4, 0},
		{"chat-tunnel", with(func(r *serverctl.AddRequest) {
			r.Strategy, r.Sites = serverctl.StrategyTunnel, &serverctl.SiteSelection{Hosts: chatHosts}
		}), 2, 2},
		{"chat-upgrade", with(func(r *serverctl.AddRequest) {
			r.Strategy, r.Sites = serverctl.StrategyUpgrade, &serverctl.SiteSelection{Hosts: chatHosts}
		}), 2, 2},
		{"default-and-chat-443", with(func(r *serverctl.AddRequest) {
			r.Ports, r.Sites = []string{"443"}, &serverctl.SiteSelection{Default: true, Hosts: chatHosts}
		}), 2, 1},
		{"default-only", with(func(r *serverctl.AddRequest) { r.Sites = &serverctl.SiteSelection{Default: true} }), 2, 0},
	}
}

// TestSiteEditsGoldenAndRemoveRestores checks each site edit on the 5.3.1
// and 5.6.3 trees against its golden file, that the blocks read back with
// the hosts they were limited to, and that remove gives back every byte.
func TestSiteEditsGoldenAndRemoveRestores(t *testing.T) {
	for _, version := range []string{"5.3.1-sites", "5.6.3-sites"} {
		for _, tc := range siteCases() {
			t.Run(version+"/"+tc.golden, func(t *testing.T) {
				cfg := readFixture(t, version)
				edit, err := cfg.AddRoute(tc.req)
				if err != nil {
					t.Fatal(err)
				}
				checkGoldenFile(t, version+"-"+tc.golden+".diff", serverctl.UnifiedDiff("a/apache_serviceproxy.conf", "b/apache_serviceproxy.conf", edit.Old, edit.New))
				nc, err := serverctl.ParseConfig(cfg.Path, edit.New)
				if err != nil {
					t.Fatal(err)
				}
				blocks, err := nc.Blocks()
				if err != nil {
					t.Fatal(err)
				}
				limited := 0
				for _, b := range blocks {
					if len(b.Hosts) > 0 {
						limited++
						if strings.Join(b.Hosts, " ") != strings.Join(chatHosts, " ") || b.Host.Macro == "" || b.Strategy != serverctl.StrategyTunnel {
							t.Errorf("limited block %+v: want chat's hosts, in a macro, tunnel", b)
						}
					}
				}
				if len(blocks) != tc.blocks || limited != tc.limited {
					t.Errorf("%d blocks, %d limited; want %d, %d", len(blocks), limited, tc.blocks, tc.limited)
				}
				again, err := nc.AddRoute(tc.req)
				if err != nil || again.Changed() {
					t.Errorf("adding the same route again: changed=%v, %v; want nothing to change", again != nil && again.Changed(), err)
				}
				rm, err := nc.RemoveRoute(tc.req.Path, nil)
				if err != nil {
					t.Fatal(err)
				}
				if string(rm.New) != string(cfg.Src) {
					t.Error("remove did not give back the original bytes")
				}
			})
		}
	}
}

// TestSiteRemoveRefusesSharedBlock: removing for one site must not take a
// route from the other custom sites that share the macro.
func TestSiteRemoveRefusesSharedBlock(t *testing.T) {
	cfg := readFixture(t, "5.3.1-sites")
	edit, err := cfg.AddRoute(serverctl.AddRequest{Path: "/ws/", Backend: "http://127.0.0.1:1/ws/"})
	if err != nil {
		t.Fatal(err)
	}
	nc, _ := serverctl.ParseConfig(cfg.Path, edit.New)
	_, err = nc.RemoveRouteWith("/ws/", nil, serverctl.RemoveOptions{Sites: &serverctl.SiteSelection{Hosts: chatHosts}})
	if err == nil || !strings.Contains(err.Error(), "every custom site") {
		t.Fatalf("err = %v, want a refusal naming every custom site", err)
	}
	rm, err := nc.RemoveRouteWith("/ws/", nil, serverctl.RemoveOptions{Sites: &serverctl.SiteSelection{Default: true}})
	if err != nil {
		t.Fatal(err)
	}
	rc, _ := serverctl.ParseConfig(cfg.Path, rm.New)
	blocks, _ := rc.Blocks()
	if len(blocks) != 2 || blocks[0].Host.Macro == "" || blocks[1].Host.Macro == "" {
		t.Errorf("after removing from the default hosts: %+v, want the two macro blocks", blocks)
	}
}

// TestSiteReapplyPutsLimitedBlocksBack: drift of a site-limited block is
// put back in the same macro, limited to the same hosts.
func TestSiteReapplyPutsLimitedBlocksBack(t *testing.T) {
	cfg := readFixture(t, "5.6.3-sites")
	edit, err := cfg.AddRoute(serverctl.AddRequest{Path: "/ws/", Backend: "http://127.0.0.1:1/ws/", Sites: &serverctl.SiteSelection{Hosts: chatHosts}})
	if err != nil {
		t.Fatal(err)
	}
	nc, _ := serverctl.ParseConfig(cfg.Path, edit.New)
	d := &serverctl.Drift{Missing: nc.ManagedRoutes()}
	back, err := cfg.Reapply(d, serverctl.Version{})
	if err != nil {
		t.Fatal(err)
	}
	if string(back.New) != string(edit.New) {
		t.Errorf("reapply wrote another file than the add:\n%s", serverctl.UnifiedDiff("add", "reapply", edit.New, back.New))
	}
}

// TestSiteEditsPassApacheConfigTest runs the real Apache (with mod_macro)
// on each site edit of the localized trees, the customsites file included.
func TestSiteEditsPassApacheConfigTest(t *testing.T) {
	h := apachetest.Require(t)
	for _, version := range []string{"5.3.1-sites", "5.6.3-sites"} {
		fixture, _ := filepath.Abs(filepath.Join("testdata", "servers", version))
		s := apachetest.LocalizeTree(t, h, fixture)
		s.LocalizeIncluded(t, filepath.Join(s.Root, "Library/Server/Web/Config/Proxy/apache_serviceproxy_customsites.conf"))
		orig, err := serverctl.ReadConfig(s.ConfigPath)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range siteCases() {
			t.Run(version+"/"+tc.golden, func(t *testing.T) {
				req := tc.req
				req.DefaultPorts = []string{fmt.Sprint(s.Ports[443]), fmt.Sprint(s.Ports[80])}
				req.Ports = nil
				for _, p := range tc.req.Ports {
					n, _ := strconv.Atoi(p)
					req.Ports = append(req.Ports, fmt.Sprint(s.Ports[n]))
				}
				edit, err := orig.AddRoute(req)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(s.ConfigPath, edit.New, 0o644); err != nil {
					t.Fatal(err)
				}
				defer os.WriteFile(s.ConfigPath, orig.Src, 0o644)
				if out, err := s.ConfigTest(h); err != nil || !strings.Contains(out, "Syntax OK") {
					t.Errorf("apache2 -t: %v\n%s", err, out)
				}
			})
		}
	}
}

func readFixture(t *testing.T, version string) *serverctl.Config {
	t.Helper()
	c, err := serverctl.ReadConfig(filepath.Join("testdata", "servers", version, serverctl.DefaultConfigPath))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checkGoldenFile compares got with testdata/golden/sites/name; set
// SOCKETBAR_UPDATE_GOLDEN=1 to rewrite it.
func checkGoldenFile(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", "sites", name)
	if os.Getenv("SOCKETBAR_UPDATE_GOLDEN") != "" {
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
		t.Fatalf("%v (set SOCKETBAR_UPDATE_GOLDEN=1 to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file:\n%s", name, serverctl.UnifiedDiff("golden", "got", want, []byte(got)))
	}
}

// TestSiteFileEditsGoldenAndRemoveRestores does for Server 5.1.7, whose
// custom sites have whole VirtualHosts in the customsites file, what
// TestSiteEditsGoldenAndRemoveRestores does for 5.2+: each edit of the two
// files against its golden file, the block count per file, no Host
// condition anywhere (each site has VirtualHosts of its own, so the chosen
// strategy is kept), and remove giving back both files byte for byte.
func TestSiteFileEditsGoldenAndRemoveRestores(t *testing.T) {
	const version = "5.1.7-sites"
	root, _ := filepath.Abs(filepath.Join("testdata", "servers", version))
	want := map[string][2]int{ // blocks in the main config, in the customsites file
		"all-tunnel": {2, 4}, "all-upgrade": {2, 4}, "chat-tunnel": {0, 2}, "chat-upgrade": {0, 2},
		"default-and-chat-443": {1, 1}, "default-only": {2, 0},
	}
	for _, tc := range siteCases() {
		t.Run(tc.golden, func(t *testing.T) {
			cfg := readFixture(t, version)
			files := siteFilesOf(t, &serverctl.Server{Root: root}, cfg)
			if len(files) != 1 || filepath.Base(files[0].Path) != "apache_serviceproxy_customsites.conf" {
				t.Fatalf("site files = %d; want the customsites file", len(files))
			}
			edit, err := cfg.AddRouteToSet(tc.req, files)
			if err != nil {
				t.Fatal(err)
			}
			diff := serverctl.UnifiedDiff("a/apache_serviceproxy.conf", "b/apache_serviceproxy.conf", edit.Old, edit.New)
			for _, f := range edit.Also {
				diff += serverctl.UnifiedDiff("a/"+filepath.Base(f.Path), "b/"+filepath.Base(f.Path), f.Old, f.New)
			}
			checkGoldenFile(t, version+"-"+tc.golden+".diff", diff)
			newMain, err := serverctl.ParseConfig(cfg.Path, edit.New)
			if err != nil {
				t.Fatal(err)
			}
			newSites := files[0]
			if len(edit.Also) == 1 {
				if newSites, err = serverctl.ParseConfig(files[0].Path, edit.Also[0].New); err != nil {
					t.Fatal(err)
				}
				newSites.Included = true
			}
			var got [2]int
			for i, c := range []*serverctl.Config{newMain, newSites} {
				blocks, err := c.Blocks()
				if err != nil {
					t.Fatal(err)
				}
				got[i] = len(blocks)
				for _, b := range blocks {
					if len(b.Hosts) > 0 || b.Strategy != edit.Strategy {
						t.Errorf("block %s in %s: hosts %v, %s; want no Host condition and %s", b.Path, b.Host.Label(), b.Hosts, b.Strategy, edit.Strategy)
					}
				}
			}
			if got != want[tc.golden] {
				t.Errorf("blocks (main, customsites) = %v; want %v", got, want[tc.golden])
			}
			rm, err := newMain.RemoveRouteFromSet(tc.req.Path, nil, serverctl.RemoveOptions{}, []*serverctl.Config{newSites})
			if err != nil {
				t.Fatal(err)
			}
			if string(rm.New) != string(cfg.Src) {
				t.Error("remove did not give back the main config's bytes")
			}
			for _, f := range rm.Also {
				if string(f.New) != string(files[0].Src) {
					t.Error("remove did not give back the customsites file's bytes")
				}
			}
		})
	}
}

// TestSiteOnOtherPortsSaysWhichPorts: a route for a custom site on a port
// none of its VirtualHosts listens on is refused with the site's name and
// the ports it does have, so the person can pick one.
func TestSiteOnOtherPortsSaysWhichPorts(t *testing.T) {
	const version = "5.1.7-sites"
	root, _ := filepath.Abs(filepath.Join("testdata", "servers", version))
	cfg := readFixture(t, version)
	files := siteFilesOf(t, &serverctl.Server{Root: root}, cfg)
	_, err := cfg.AddRouteToSet(serverctl.AddRequest{Path: "/ws/", Backend: "http://127.0.0.1:8001/ws/", Ports: []string{"8443"},
		Sites: &serverctl.SiteSelection{Hosts: chatHosts}}, files)
	var in *serverctl.InputError
	if !errors.As(err, &in) || in.Field != serverctl.FieldSite {
		t.Fatalf("err = %v; want an InputError on the site", err)
	}
	for _, want := range []string{"chat.example.com", "8443", "443, 80"} {
		if !strings.Contains(in.Msg, want) {
			t.Errorf("the refusal %q does not name %s", in.Msg, want)
		}
	}
}

// TestSiteRoutesMergeAndNarrow: on Server 5.2+ the custom sites share one
// block per macro. Adding the same route for another site extends the
// block to both (no replace needed: nothing it served is lost); removing
// it for one site narrows the block to the others, in place, so each step
// undone gives back the earlier bytes; a route already serving every site
// needs nothing for one more; a different backend still needs replace.
func TestSiteRoutesMergeAndNarrow(t *testing.T) {
	cfg := readFixture(t, "5.3.1-sites")
	shop := []string{"shop.example.com"}
	add := func(c *serverctl.Config, hosts []string, backend string) (*serverctl.Config, *serverctl.Edit, error) {
		t.Helper()
		req := serverctl.AddRequest{Path: "/c/", Backend: backend, Strategy: serverctl.StrategyTunnel}
		if hosts != nil {
			req.Sites = &serverctl.SiteSelection{Hosts: hosts}
		}
		e, err := c.AddRoute(req)
		if err != nil {
			return nil, nil, err
		}
		nc, err := serverctl.ParseConfig(c.Path, e.New)
		if err != nil {
			t.Fatal(err)
		}
		return nc, e, nil
	}
	hostsOf := func(c *serverctl.Config) []string {
		t.Helper()
		blocks, err := c.Blocks()
		if err != nil {
			t.Fatal(err)
		}
		var all []string
		for _, b := range blocks {
			all = append(all, b.Host.Label()+"="+strings.Join(b.Hosts, ","))
		}
		return all
	}
	const backend = "http://127.0.0.1:8001/c/"
	chatOnly, _, err := add(cfg, chatHosts, backend)
	if err != nil {
		t.Fatal(err)
	}
	both, e, err := add(chatOnly, shop, backend)
	if err != nil {
		t.Fatalf("adding the route for shop too: %v", err)
	}
	want := "chat.example.com,www.chat.example.com,shop.example.com"
	if got := hostsOf(both); len(got) != 2 || !strings.HasSuffix(got[0], "="+want) || !strings.HasSuffix(got[1], "="+want) {
		t.Errorf("blocks after adding for shop = %q; want both macros serving %s", got, want)
	}
	if !strings.Contains(strings.Join(e.Notes, "\n"), "extending the route for /c/") {
		t.Errorf("notes do not say the route was extended:\n%s", strings.Join(e.Notes, "\n"))
	}

	rm, err := both.RemoveRouteWith("/c/", nil, serverctl.RemoveOptions{Sites: &serverctl.SiteSelection{Hosts: shop}})
	if err != nil {
		t.Fatalf("removing for shop: %v", err)
	}
	if string(rm.New) != string(chatOnly.Src) {
		t.Errorf("removing for shop does not give back the chat-only config:\n%s", serverctl.UnifiedDiff("want", "got", chatOnly.Src, rm.New))
	}
	afterChat, err := serverctl.ParseConfig(cfg.Path, rm.New)
	if err != nil {
		t.Fatal(err)
	}
	rm, err = afterChat.RemoveRouteWith("/c/", nil, serverctl.RemoveOptions{Sites: &serverctl.SiteSelection{Hosts: chatHosts}})
	if err != nil || string(rm.New) != string(cfg.Src) {
		t.Errorf("removing for chat then: %v; want the original bytes", err)
	}

	every, _, err := add(cfg, nil, backend)
	if err != nil {
		t.Fatal(err)
	}
	if _, e, err := add(every, shop, backend); err != nil || e.Changed() {
		t.Errorf("adding for shop a route that serves every site: changed=%v, %v; want nothing to change", e != nil && e.Changed(), err)
	}
	widened, _, err := add(chatOnly, nil, backend)
	if err != nil {
		t.Fatalf("adding for every site a route limited to chat: %v", err)
	}
	if got := hostsOf(widened); !strings.HasSuffix(got[len(got)-1], "=") {
		t.Errorf("after adding for every site the macro blocks are %q; want them unlimited", got)
	}
	var in *serverctl.InputError
	if _, _, err := add(chatOnly, shop, "http://127.0.0.1:9/other/"); !errors.As(err, &in) || in.Remedy != serverctl.RemedyReplace {
		t.Errorf("another backend for shop: %v; want the refusal that offers replace", err)
	}
}
