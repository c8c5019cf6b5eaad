package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/socketbar/socketbar/serverctl/action"
	"github.com/socketbar/socketbar/serverctl/apacheconf/loader"
	"github.com/socketbar/socketbar/serverctl/servertest"
	"github.com/socketbar/socketbar/serverctl/sites"
)

// readSites lists the sites of the Server tree at root as the sites
// package reads them, for the CLI's output to be compared with.
func readSites(t *testing.T, root string) *sites.List {
	t.Helper()
	conf := filepath.Join(root, "Library/Server/Web/Config/Proxy/apache_serviceproxy.conf")
	lc, err := loader.Load(context.Background(), conf, loader.Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	return sites.Read(lc, root)
}

// status lists every site with its names, ports, certificate and places,
// and the plist cross-check's findings, in its text and its JSON.
func TestStatusListsTheSites(t *testing.T) {
	for _, tt := range []struct {
		name  string
		setup func(t *testing.T, root string)
	}{
		{"as Server.app wrote them", func(*testing.T, string) {}},
		{"a site the plist lacks", func(t *testing.T, root string) {
			custom := filepath.Join(root, "Library/Server/Web/Config/Proxy/apache_serviceproxy_customsites.conf")
			f, err := os.OpenFile(custom, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteString("Use VHost80 * extra.example.com \"\"\n"); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			root := servertest.Copy(t, "5.3.1-sites")
			tt.setup(t, root)
			want := readSites(t, root)
			custom := 0
			for _, s := range want.Sites {
				if !s.Default {
					custom++
				}
			}
			if custom < 2 {
				t.Fatalf("the fixture has %d custom sites; the test needs some", custom)
			}

			j := runIn(t, &action.Local{}, nil, "status", "--json", "--root", root)
			var got struct {
				Sites []struct {
					Name    string   `json:"name"`
					Aliases []string `json:"aliases"`
					Ports   []int    `json:"ports"`
					CertID  string   `json:"cert_id"`
					Where   []string `json:"where"`
				} `json:"sites"`
				Findings []struct {
					Kind, Where, Message string
				} `json:"site_findings"`
			}
			if err := json.Unmarshal([]byte(j.stdout), &got); err != nil {
				t.Fatalf("status --json: %v\n%s%s", err, j.stdout, j.stderr)
			}
			if len(got.Sites) != len(want.Sites) {
				t.Fatalf("status --json lists %d sites, sites.Read %d:\n%s", len(got.Sites), len(want.Sites), j.stdout)
			}
			for i, w := range want.Sites {
				g := got.Sites[i]
				if g.Name != w.Name || !slices.Equal(g.Aliases, append([]string{}, w.Aliases...)) ||
					!slices.Equal(g.Ports, w.Ports) || g.CertID != w.CertID || len(g.Where) != len(w.VHosts) {
					t.Errorf("site %d: JSON %+v\nwant %+v", i, g, *w)
					continue
				}
				for k, v := range w.VHosts {
					if g.Where[k] != action.VHostPos(v).String() {
						t.Errorf("site %q VirtualHost %d is at %s, JSON says %s", w.Name, k, action.VHostPos(v), g.Where[k])
					}
				}
			}
			if len(got.Findings) != len(want.Findings) {
				t.Errorf("status --json has %d site findings, sites.Read %d: %+v", len(got.Findings), len(want.Findings), got.Findings)
			}
			for i := range min(len(got.Findings), len(want.Findings)) {
				if g, w := got.Findings[i], want.Findings[i]; g.Kind != w.Kind || g.Where != w.Pos.String() || g.Message != w.Msg {
					t.Errorf("site finding %d: %+v, want %+v", i, g, w)
				}
			}

			text := runIn(t, &action.Local{}, nil, "status", "--root", root)
			if text.code != j.code {
				t.Errorf("status exits %d, status --json %d", text.code, j.code)
			}
			lines := strings.Split(text.stdout, "\n")
			for _, w := range want.Sites {
				name := w.Name
				if w.Default {
					name = "default hosts"
				}
				line := ""
				for _, l := range lines {
					if strings.Contains(l, " "+name) && strings.Contains(l, "; ports ") {
						line = l
					}
				}
				wantIn := append([]string{name, action.VHostPos(w.VHosts[0]).String()}, w.Aliases...)
				if w.CertID != "" {
					wantIn = append(wantIn, "certificate "+w.CertID)
				}
				for _, p := range w.Ports {
					wantIn = append(wantIn, strconv.Itoa(p))
				}
				for _, s := range wantIn {
					if !strings.Contains(line, s) {
						t.Errorf("status line for %s lacks %q: %q\n%s", name, s, line, text.stdout)
					}
				}
			}
			for _, f := range want.Findings {
				if !strings.Contains(text.stdout, f.Msg) {
					t.Errorf("status does not show the finding %q:\n%s", f.Msg, text.stdout)
				}
			}
		})
	}
}

// routes names a rule of the customsites file by the file's name and line
// in its table (the folder is the config's), and by its whole path in JSON.
func TestRoutesNamesAnIncludedFileBesideTheConfigByItsName(t *testing.T) {
	root := servertest.Copy(t, "5.1.7-sites")
	var rl action.RouteList
	j := runIn(t, &action.Local{}, nil, "routes", "--json", "--root", root)
	if err := json.Unmarshal([]byte(j.stdout), &rl); err != nil {
		t.Fatalf("%v\n%s%s", err, j.stdout, j.stderr)
	}
	r := runIn(t, &action.Local{}, nil, "routes", "--root", root)
	lines := strings.Split(r.stdout, "\n")
	checked := 0
	for _, rt := range rl.Routes {
		if rt.File == "" {
			continue
		}
		checked++
		if !filepath.IsAbs(rt.File) {
			t.Errorf("JSON file %q; want the whole path", rt.File)
		}
		cell := filepath.Base(rt.File) + ":" + strconv.Itoa(rt.Line)
		found := slices.ContainsFunc(lines, func(l string) bool {
			f := strings.Fields(l)
			return len(f) > 4 && f[0] == rt.Site && f[4] == cell
		})
		if !found {
			t.Errorf("no row for %s with LINE %s in\n%s", rt.Site, cell, r.stdout)
		}
	}
	if checked == 0 || strings.Contains(r.stdout, "/Library/Server/Web/Config/Proxy/apache_serviceproxy_customsites.conf") {
		t.Errorf("%d rules from included files; the table names the folder:\n%s", checked, r.stdout)
	}
}
