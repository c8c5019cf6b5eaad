package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/action"
	"github.com/socketbar/socketbar/serverctl/servertest"
)

// Where the Server tree's proxy config files are, as Apache names them
// (without the root) in status's places.
const (
	proxyConf   = "/Library/Server/Web/Config/Proxy/apache_serviceproxy.conf"
	customsites = "/Library/Server/Web/Config/Proxy/apache_serviceproxy_customsites.conf"
)

// lineOf is the number of the line of the file at root+name whose text,
// trimmed, starts with prefix; the test fails unless exactly one does.
func lineOf(t *testing.T, root, name, prefix string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, name))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for i, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), prefix) {
			if n != 0 {
				t.Fatalf("%s: lines %d and %d start with %q", name, n, i+1, prefix)
			}
			n = i + 1
		}
	}
	if n == 0 {
		t.Fatalf("%s: no line starts with %q", name, prefix)
	}
	return n
}

// siteWant is a site as the fixture's text declares it, and its line in
// status's text.
type siteWant struct {
	name    string
	aliases []string
	ports   []int
	certID  string
	where   []string // FILE:LINE of each VirtualHost, or of the Use line that makes it
	text    string   // status's line for it, after "Sites:" and its padding
}

// fixtureSites are the sites of the 5.3.1-sites tree at root, read from
// its files' text by hand: the default hosts' six VirtualHosts in the
// proxy config, and the two custom sites that the customsites file's Use
// lines make, one VHost443 and one VHost80 each.
func fixtureSites(t *testing.T, root string) []siteWant {
	var lines []int
	for _, port := range []string{"80", "443", "8008", "8443", "8800", "8843"} {
		lines = append(lines, lineOf(t, root, proxyConf, "<VirtualHost *:"+port+">"))
	}
	slices.Sort(lines) // in file order
	var def, defLines []string
	for _, n := range lines {
		def = append(def, fmt.Sprintf("%s:%d", proxyConf, n))
		defLines = append(defLines, strconv.Itoa(n))
	}
	use := func(macro, site string) int { return lineOf(t, root, customsites, "Use "+macro+" * "+site+" ") }
	chat := []int{use("VHost443", "chat.example.com"), use("VHost80", "chat.example.com")}
	shop := []int{use("VHost443", "shop.example.com"), use("VHost80", "shop.example.com")}
	const chatCert = "chat.example.com.5F0C3A1B9D2E4F60718293A4B5C6D7E8F9012345"
	const shopCert = "shop.example.com.0A1B2C3D4E5F60718293A4B5C6D7E8F901234567"
	return []siteWant{
		{"", []string{}, []int{80, 443, 8008, 8443, 8800, 8843}, "${CERT_ID}", def,
			"default hosts; ports 80, 443, 8008, 8443, 8800, 8843; certificate ${CERT_ID}; at " + proxyConf + ":" + strings.Join(defLines, ", ")},
		{"chat.example.com", []string{"www.chat.example.com"}, []int{80, 443}, chatCert,
			[]string{fmt.Sprintf("%s:%d", customsites, chat[0]), fmt.Sprintf("%s:%d", customsites, chat[1])},
			fmt.Sprintf("chat.example.com (also www.chat.example.com); ports 80, 443; certificate %s; at %s:%d, %d", chatCert, customsites, chat[0], chat[1])},
		{"shop.example.com", []string{}, []int{80, 443}, shopCert,
			[]string{fmt.Sprintf("%s:%d", customsites, shop[0]), fmt.Sprintf("%s:%d", customsites, shop[1])},
			fmt.Sprintf("shop.example.com; ports 80, 443; certificate %s; at %s:%d, %d", shopCert, customsites, shop[0], shop[1])},
	}
}

// status lists every site with its names, ports, certificate and places,
// and the plist cross-check's findings, in its text and its JSON. What it
// should say is read from the fixture's text, not from the sites package
// that status itself asks.
func TestStatusListsTheSites(t *testing.T) {
	const extra = `Use VHost80 * extra.example.com ""`
	for _, tt := range []struct {
		name  string
		extra bool // a Use line for a site the plist lacks is added
	}{
		{"as Server.app wrote them", false},
		{"a site the plist lacks", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			root := servertest.Copy(t, "5.3.1-sites")
			want := fixtureSites(t, root)
			type findingWant struct{ kind, where, mentions string }
			var findings []findingWant
			if tt.extra {
				f, err := os.OpenFile(filepath.Join(root, customsites), os.O_APPEND|os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				_, err = f.WriteString(extra + "\n")
				f.Close()
				if err != nil {
					t.Fatal(err)
				}
				where := fmt.Sprintf("%s:%d", customsites, lineOf(t, root, customsites, extra))
				// Sorted by name: between chat and shop.
				want = slices.Insert(want, 2, siteWant{"extra.example.com", []string{}, []int{80}, "", []string{where},
					"extra.example.com; ports 80; at " + where})
				findings = append(findings, findingWant{"config-only", where, "extra.example.com port 80 is not among Server.app's sites"})
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
			if len(got.Sites) != len(want) {
				t.Fatalf("status --json lists %d sites, the fixture has %d:\n%s", len(got.Sites), len(want), j.stdout)
			}
			for i, w := range want {
				g := got.Sites[i]
				if g.Name != w.name || !slices.Equal(g.Aliases, w.aliases) || g.Aliases == nil || !slices.Equal(g.Ports, w.ports) ||
					g.CertID != w.certID || !slices.Equal(g.Where, w.where) {
					t.Errorf("site %d: JSON %+v\nwant %+v", i, g, w)
				}
			}
			if len(got.Findings) != len(findings) {
				t.Errorf("status --json has %d site findings, want %d: %+v", len(got.Findings), len(findings), got.Findings)
			}
			for i := range min(len(got.Findings), len(findings)) {
				if g, w := got.Findings[i], findings[i]; g.Kind != w.kind || g.Where != w.where || !strings.Contains(g.Message, w.mentions) {
					t.Errorf("site finding %d: %+v, want %+v", i, g, w)
				}
			}

			text := runIn(t, &action.Local{}, nil, "status", "--root", root)
			if text.code != j.code {
				t.Errorf("status exits %d, status --json %d", text.code, j.code)
			}
			// The "Sites:" line and the ones under it, which start with
			// the padding of an empty label.
			var lines []string
			inSites := false
			for _, l := range strings.Split(text.stdout, "\n") {
				inSites = strings.HasPrefix(l, "Sites:") || inSites && strings.HasPrefix(l, " ")
				if inSites {
					lines = append(lines, strings.TrimSpace(strings.TrimPrefix(l, "Sites:")))
				}
			}
			var wantLines []string
			for _, w := range want {
				wantLines = append(wantLines, w.text)
			}
			if !slices.Equal(lines, wantLines) {
				t.Errorf("status's site lines:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(wantLines, "\n"))
			}
			for _, f := range findings {
				if !strings.Contains(text.stdout, "Site warning:") || !strings.Contains(text.stdout, f.where+": VirtualHost for "+f.mentions) {
					t.Errorf("status does not show the finding at %s:\n%s", f.where, text.stdout)
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

// statusRun reads the Server at its Target and says so in text or JSON;
// it returns errReported (exit 1) for the states a script watches for, and
// the library's error when there is no Server to read.
func TestStatusRun(t *testing.T) {
	for _, tt := range []struct {
		name    string
		setup   func(t *testing.T) string // the root
		json    bool
		out     []string // in stdout, in this order
		wantErr func(error) bool
	}{
		{"text", func(t *testing.T) string { return servertest.Copy(t, "5.3.1") }, false,
			[]string{"Server:", "macOS Server 5.3.1 (16S4123)\n", "Routes:", "10 (0 WebSocket, 0 managed by Socketbar)\n"}, nil},
		{"JSON", func(t *testing.T) string { return servertest.Copy(t, "5.3.1") }, true,
			[]string{`"server_version": "5.3.1"`, `"routes": 10,`, `"managed_routes": 0,`}, nil},
		{"an unreadable config", func(t *testing.T) string {
			root := servertest.Copy(t, "5.3.1")
			if err := os.WriteFile(filepath.Join(root, proxyConf), []byte("<VirtualHost *:80>\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			return root
		}, false, []string{"Routes:", "unknown: ", "is never closed"},
			func(err error) bool { return errors.Is(err, errReported) }},
		{"no Server", func(t *testing.T) string { return t.TempDir() }, false, nil,
			func(err error) bool {
				var nf *serverctl.NotFoundError
				return errors.As(err, &nf)
			}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e, out := runEnv(&action.Local{})
			err := statusRun(context.Background(), e, &StatusOptions{Target: action.Target{Root: tt.setup(t)}, JSON: tt.json})
			checkRun(t, err, tt.wantErr, out.String(), tt.out)
			if tt.json && !json.Valid(out.Bytes()) {
				t.Errorf("not JSON:\n%s", out)
			}
		})
	}
}

// brokenHistoryRoot is a copy of a Server tree with a file where the
// history's folder (socketbar-backups) belongs, so neither drift nor
// history can be read.
func brokenHistoryRoot(t *testing.T, version string) string {
	t.Helper()
	root := servertest.Copy(t, version)
	if err := os.WriteFile(filepath.Join(root, "Library/Server/Web/Config/Proxy/socketbar-backups"), []byte("not a folder\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// status says when it cannot tell whether Socketbar's routes vanished
// (drift, history) instead of saying nothing, and exits 1 for it, as it
// does for drift itself: a script watching for drift must not be told
// all is well.
func TestStatusSaysWhenItCannotReadTheHistory(t *testing.T) {
	root := brokenHistoryRoot(t, "5.3.1")
	text := runIn(t, &action.Local{}, nil, "status", "--root", root)
	for _, want := range []string{"\nDrift:", "unknown: compare the config with Socketbar's last change", "\nHistory:", "unknown: read Socketbar's history"} {
		if !strings.Contains(text.stdout, want) {
			t.Errorf("status does not say %q:\n%s", want, text.stdout)
		}
	}
	if text.code != 1 {
		t.Errorf("status exits %d; want 1, as for drift", text.code)
	}
	j := runIn(t, &action.Local{}, nil, "status", "--json", "--root", root)
	var got struct {
		DriftError   string `json:"drift_error"`
		HistoryError string `json:"history_error"`
	}
	if err := json.Unmarshal([]byte(j.stdout), &got); err != nil {
		t.Fatalf("%v\n%s", err, j.stdout)
	}
	if got.DriftError == "" || got.HistoryError == "" || j.code != 1 {
		t.Errorf("status --json: drift_error %q, history_error %q, exit %d", got.DriftError, got.HistoryError, j.code)
	}
}
