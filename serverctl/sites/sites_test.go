package sites

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"howett.net/plist"

	"github.com/socketbar/socketbar/serverctl/apacheconf/loader"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const (
	proxyConfig  = "Library/Server/Web/Config/Proxy/apache_serviceproxy.conf"
	launchdPlist = "Applications/Server.app/Contents/ServerRoot/System/Library/LaunchDaemons/com.apple.serviceproxy.plist"
)

// loadTree loads a stored Server tree with its launchd job's variables.
func loadTree(t testing.TB, root string) *loader.Config {
	t.Helper()
	vars := map[string]string{}
	if data, err := os.ReadFile(filepath.Join(root, launchdPlist)); err == nil {
		var job struct{ EnvironmentVariables map[string]string }
		if _, err := plist.Unmarshal(data, &job); err != nil {
			t.Fatal(err)
		}
		vars = job.EnvironmentVariables
	}
	c, err := loader.Load(context.Background(), filepath.Join(root, proxyConfig), loader.Options{Root: root, Vars: vars})
	if err != nil {
		t.Fatalf("Load %s: %v", root, err)
	}
	return c
}

// Format prints a site list for golden files and reports.
func format(l *List) string {
	var b strings.Builder
	for _, s := range l.Sites {
		name := s.Name
		if s.Default {
			name = "(default hosts)"
		}
		fmt.Fprintf(&b, "site %s ports=%v aliases=%q cert=%q\n", name, s.Ports, s.Aliases, s.CertID)
		for _, v := range s.VHosts {
			fmt.Fprintf(&b, "\tvhost %s name=%q at %s", strings.Join(v.Addrs, " "), v.ServerName, v.Node.Pos)
			if o := v.Node.Origin; o != nil {
				fmt.Fprintf(&b, " made by Use %s at %s", o.Macro, o.Use)
			}
			b.WriteString("\n")
		}
	}
	for _, f := range l.Findings {
		fmt.Fprintf(&b, "finding %s\n", f)
	}
	return b.String()
}

// TestSitesGolden lists the sites of every stored Server tree; the trees
// with custom websites must show each site with its aliases, ports and
// certificate, and where its VirtualHost came from.
func TestSitesGolden(t *testing.T) {
	trees, _ := filepath.Glob("../testdata/servers/*")
	if len(trees) < 7 {
		t.Fatalf("found %d Server trees, want the 4 plain and 3 -sites ones", len(trees))
	}
	for _, tree := range trees {
		name := filepath.Base(tree)
		t.Run(name, func(t *testing.T) {
			root, _ := filepath.Abs(tree)
			got := format(Read(loadTree(t, root), root))
			golden := filepath.Join("testdata", name+".txt")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if got != string(want) {
				t.Errorf("sites differ from %s:\n got:\n%s\nwant:\n%s", golden, got, want)
			}
			if strings.HasSuffix(name, "-sites") {
				l := Read(loadTree(t, root), root)
				for _, n := range []string{"chat.example.com", "www.chat.example.com", "shop.example.com", "default"} {
					if l.Lookup(n) == nil {
						t.Errorf("Lookup(%q) found no site", n)
					}
				}
				if len(l.Findings) != 0 {
					t.Errorf("findings on a consistent tree: %v", l.Findings)
				}
			}
		})
	}
}
