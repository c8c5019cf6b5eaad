package sites_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/socketbar/socketbar/serverctl/apachetest"
	"github.com/socketbar/socketbar/serverctl/sites"
)

// TestRealApacheSeesTheSameSites runs the real Apache on every tree with
// custom websites: the config test must pass with mod_macro loaded, and
// Apache's own list of name-based VirtualHosts (-D DUMP_VHOSTS) must name
// exactly the custom sites, ports and aliases the loader found.
func TestRealApacheSeesTheSameSites(t *testing.T) {
	h := apachetest.Require(t)
	if _, err := os.Stat(filepath.Join(h.ModulesDir, "mod_macro.so")); err != nil && !slices.Contains(h.BuiltIn, "macro") {
		t.Fatalf("this Apache has no mod_macro: %v", err)
	}
	trees, _ := filepath.Glob("../testdata/servers/*-sites")
	if len(trees) != 3 {
		t.Fatalf("found %d trees with sites, want 3", len(trees))
	}
	for _, tree := range trees {
		t.Run(filepath.Base(tree), func(t *testing.T) {
			fixture, _ := filepath.Abs(tree)
			l := sites.Read(sites.LoadTree(t, fixture), fixture)
			s := apachetest.LocalizeTree(t, h, fixture)
			s.LocalizeIncluded(t, filepath.Join(s.Root, "Library/Server/Web/Config/Proxy/apache_serviceproxy_customsites.conf"))

			if out, err := s.ConfigTest(h); err != nil || !strings.Contains(out, "Syntax OK") {
				t.Fatalf("apache2 -t: %v\n%s", err, out)
			}
			// With DUMP_VHOSTS, -t prints the VirtualHosts instead of "Syntax OK".
			cmd := exec.Command(h.Path, "-t", "-D", "DUMP_VHOSTS", "-f", s.ConfigPath)
			cmd.Env = append(os.Environ(), s.Env...)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("apache2 -t -D DUMP_VHOSTS: %v\n%s", err, out)
			}
			t.Logf("apache2 -t -D DUMP_VHOSTS:\n%s", out)
			got := apacheNameVHosts(t, string(out), s.Ports)
			var want []string
			for _, site := range l.Sites {
				if site.Default {
					continue
				}
				for _, v := range site.VHosts {
					for _, p := range v.Ports {
						want = append(want, fmt.Sprintf("%s:%d aliases=%v", v.ServerName, p, v.Aliases))
					}
				}
			}
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("Apache's custom VirtualHosts:\n%s\nthe loader's:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if len(want) < 4 {
				t.Errorf("only %d custom VirtualHosts; the fixture has two sites on two ports", len(want))
			}
		})
	}
}

var (
	dumpNameVHost = regexp.MustCompile(`^\s+port (\d+) namevhost (\S+) `)
	dumpAlias     = regexp.MustCompile(`^\s+(?:wild )?alias (\S+)`)
)

// apacheNameVHosts reads DUMP_VHOSTS output into "name:port aliases=[…]"
// entries for names other than localhost, with the test's ports mapped back.
func apacheNameVHosts(t *testing.T, out string, ports map[int]int) []string {
	back := map[int]int{}
	for orig, p := range ports {
		back[p] = orig
	}
	type entry struct {
		name    string
		port    int
		aliases []string
	}
	var all []*entry
	var cur *entry
	for _, line := range strings.Split(out, "\n") {
		if m := dumpNameVHost.FindStringSubmatch(line); m != nil {
			p, _ := strconv.Atoi(m[1])
			cur = &entry{name: m[2], port: back[p]}
			all = append(all, cur)
			continue
		}
		if m := dumpAlias.FindStringSubmatch(line); m != nil && cur != nil {
			cur.aliases = append(cur.aliases, m[1])
			continue
		}
		cur = nil
	}
	var got []string
	for _, e := range all {
		if e.name == "localhost" {
			continue
		}
		if e.aliases == nil {
			e.aliases = []string{}
		}
		got = append(got, fmt.Sprintf("%s:%d aliases=%v", e.name, e.port, e.aliases))
	}
	slices.Sort(got)
	return got
}
