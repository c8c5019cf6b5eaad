package serverctl

import (
	"context"
	"errors"
	"github.com/socketbar/socketbar/serverctl/run"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/socketbar/socketbar/serverctl/servertest"
)

// fakeRunner records the commands it is asked to run and answers from a table.
type fakeRunner struct {
	out  map[string]string // command line → output
	err  error
	seen []run.Command
}

func (f *fakeRunner) Run(_ context.Context, cmd run.Command) ([]byte, error) {
	f.seen = append(f.seen, cmd)
	if f.err != nil {
		return nil, f.err
	}
	return []byte(f.out[cmd.String()]), nil
}

func TestDiscoverFixtures(t *testing.T) {
	tests := []struct {
		version    string
		program    string
		unreadable []string // base names
		warnings   []string
		webapps    []string
	}{
		{"5.1.7", "/usr/sbin/httpd", nil, []string{"com.apple.webapp.webcalendar.plist"},
			[]string{"com.apple.webapp.devicemgr", "com.apple.webapp.webcalendar", "com.apple.webapp.wiki"}},
		{"5.3.1", "/Applications/Server.app/Contents/ServerRoot/usr/sbin/httpd-server-wrapper",
			[]string{"com.example.webapp.truncated.plist"}, []string{"com.apple.webapp.webcalendar.plist"},
			[]string{"com.apple.webapp.devicemgr", "com.apple.webapp.webcalendar", "com.apple.webapp.wiki"}},
		{"5.6.3", "/Applications/Server.app/Contents/ServerRoot/usr/sbin/httpd-server-wrapper",
			[]string{"com.example.webapp.garbage.plist"}, []string{"com.apple.webapp.webcalendar.plist"},
			[]string{"com.apple.webapp.devicemgr", "com.apple.webapp.webcalendar", "com.apple.webapp.wiki"}},
		{"5.7.1", "/Applications/Server.app/Contents/ServerRoot/usr/sbin/httpd-server-wrapper", nil, nil,
			[]string{"com.apple.webapp.devicemgr"}},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			root := servertest.Dir(t, tt.version)
			srv, err := Discover(context.Background(), Options{Root: root, ApacheVersion: "2.4.23"})
			if err != nil {
				t.Fatal(err)
			}
			if srv.ServerVersion != tt.version || srv.ProductVersion != tt.version {
				t.Errorf("versions = %q/%q, want %q", srv.ServerVersion, srv.ProductVersion, tt.version)
			}
			if srv.ConfigPath != DefaultConfigPath || srv.ErrorLogPath != DefaultErrorLogPath {
				t.Errorf("paths = %q %q", srv.ConfigPath, srv.ErrorLogPath)
			}
			if !slices.Equal(srv.Job.Defines, []string{"FOREGROUND"}) || srv.Job.ProgramArguments[0] != tt.program {
				t.Errorf("job = %+v", srv.Job)
			}
			if got := srv.Job.Environment["SERVER_INSTALL_PATH_PREFIX"]; got != ServerRootPath {
				t.Errorf("SERVER_INSTALL_PATH_PREFIX = %q", got)
			}
			if v, ok := srv.Job.Environment["MODULE_INSTALL_PATH_PREFIX"]; !ok || v != "" {
				t.Errorf("MODULE_INSTALL_PATH_PREFIX = %q, %v; want present and empty", v, ok)
			}
			if got := baseNames(srv.Unreadable); !slices.Equal(got, tt.unreadable) {
				t.Errorf("unreadable = %q, want %q", got, tt.unreadable)
			}
			for _, p := range srv.Unreadable {
				if p.Reason == "" {
					t.Errorf("%s: no reason given", p.Path)
				}
			}
			if got := baseNames(srv.Warnings); !slices.Equal(got, tt.warnings) {
				t.Errorf("warnings = %q, want %q", got, tt.warnings)
			}
			var names []string
			for _, w := range srv.Webapps {
				names = append(names, w.Name)
			}
			if !slices.Equal(names, tt.webapps) {
				t.Errorf("webapps = %q, want %q", names, tt.webapps)
			}
			if _, err := os.Stat(srv.HostPath(srv.ConfigPath)); err != nil {
				t.Errorf("config not found at host path: %v", err)
			}
		})
	}
}

func baseNames(ps []FileProblem) []string {
	var names []string
	for _, p := range ps {
		names = append(names, filepath.Base(p.Path))
	}
	return names
}

func TestBinaryPlistFixtureIsBinaryAndRead(t *testing.T) {
	path := filepath.Join(servertest.Dir(t, "5.3.1"), WebappsDir, "com.apple.webapp.devicemgr.plist")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), "bplist00") {
		t.Fatalf("%s is not a binary plist", path)
	}
	srv, err := Discover(context.Background(), Options{Root: servertest.Dir(t, "5.3.1"), ApacheVersion: "2.4.23"})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range srv.Webapps {
		if w.Name == "com.apple.webapp.devicemgr" {
			want := []WebappProxy{{Path: "/devicemanagement", URLs: []string{"http://127.0.0.1:4100/devicemanagement"}}}
			if len(w.Proxies) != 1 || w.Proxies[0].Path != want[0].Path || !slices.Equal(w.Proxies[0].URLs, want[0].URLs) {
				t.Errorf("proxies = %+v, want %+v", w.Proxies, want)
			}
			return
		}
	}
	t.Fatal("binary webapp plist not read")
}

func TestDiscoverAsksHTTPDForItsVersion(t *testing.T) {
	root := servertest.Copy(t, "5.7.1")
	httpd := filepath.Join(root, "usr", "sbin", "httpd")
	writeFile(t, httpd, "#!/bin/sh\n")
	tests := []struct {
		out     string
		err     error
		want    Version
		errPart string
	}{
		{"Server version: Apache/2.4.23 (Unix)\nServer built:   Aug  8 2016 16:31:34\n", nil, Version{2, 4, 23}, ""},
		{"Server version: Apache/2.4.71 (Debian)\n", nil, Version{2, 4, 71}, ""},
		{"httpd: garbage\n", nil, Version{}, "no Apache/X.Y.Z"},
		{"", errors.New("exit status 1"), Version{}, "failed"},
	}
	for _, tt := range tests {
		fr := &fakeRunner{out: map[string]string{httpd + " -v": tt.out}, err: tt.err}
		srv, err := Discover(context.Background(), Options{Root: root, Runner: fr})
		if err != nil {
			t.Fatal(err)
		}
		if len(fr.seen) != 1 || fr.seen[0].Path != httpd || !slices.Equal(fr.seen[0].Args, []string{"-v"}) {
			t.Fatalf("ran %v, want %s -v", fr.seen, httpd)
		}
		if srv.Apache != tt.want || !strings.Contains(srv.ApacheVersionError, tt.errPart) {
			t.Errorf("output %q: Apache %v (%q), want %v (%q)", tt.out, srv.Apache, srv.ApacheVersionError, tt.want, tt.errPart)
		}
	}
}

func TestDiscoverWithoutHTTPDLeavesVersionUnknown(t *testing.T) {
	fr := &fakeRunner{}
	srv, err := Discover(context.Background(), Options{Root: servertest.Dir(t, "5.3.1"), Runner: fr})
	if err != nil {
		t.Fatal(err)
	}
	if srv.Apache.Known() || len(fr.seen) != 0 || !strings.Contains(srv.ApacheVersionError, "no httpd at") {
		t.Errorf("Apache = %v, ran %v, error %q", srv.Apache, fr.seen, srv.ApacheVersionError)
	}
}

func TestDiscoverNothingThere(t *testing.T) {
	root := t.TempDir()
	_, err := Discover(context.Background(), Options{Root: root})
	var nf *NotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("err = %v, want NotFoundError", err)
	}
	want := []string{filepath.Join(root, LaunchdPlistPath), filepath.Join(root, DefaultConfigPath)}
	if !slices.Equal(nf.Looked, want) {
		t.Errorf("looked at %q, want %q", nf.Looked, want)
	}
}

func TestDiscoverFollowsLaunchdConfigPath(t *testing.T) {
	root := servertest.Copy(t, "5.3.1")
	plistPath := filepath.Join(root, LaunchdPlistPath)
	data, _ := os.ReadFile(plistPath)
	moved := strings.Replace(string(data), DefaultConfigPath, "/etc/proxy/custom.conf", 1)
	writeFile(t, plistPath, moved)
	srv, err := Discover(context.Background(), Options{Root: root, ApacheVersion: "2.4.71"})
	if err != nil {
		t.Fatal(err)
	}
	if srv.ConfigPath != "/etc/proxy/custom.conf" {
		t.Errorf("ConfigPath = %q", srv.ConfigPath)
	}
}

func TestParseLaunchJob(t *testing.T) {
	job := parseLaunchJob("x", []string{"/usr/sbin/httpd", "-DFOREGROUND", "-D", "PROXY_CALENDAR", "-fconf", "-E", "err.log", "-k", "start"}, nil)
	if !slices.Equal(job.Defines, []string{"FOREGROUND", "PROXY_CALENDAR"}) || job.ConfigFile != "conf" || job.ErrorLog != "err.log" {
		t.Errorf("job = %+v", job)
	}
}

func TestParseVersion(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Version
		ok   bool
	}{{"2.4.23", Version{2, 4, 23}, true}, {"2.4", Version{}, false}, {"2.4.x", Version{}, false}, {" 2.4.1", Version{}, false}} {
		got, err := ParseVersion(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("ParseVersion(%q) = %v, %v", tt.in, got, err)
		}
	}
	if !(Version{2, 4, 47}).HasUpgradeParam() || (Version{2, 4, 46}).HasUpgradeParam() || (Version{}).HasUpgradeParam() || !(Version{3, 0, 0}).HasUpgradeParam() {
		t.Error("HasUpgradeParam is wrong around 2.4.47")
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestFilePath(t *testing.T) {
	root := t.TempDir()
	s := &Server{Root: root}
	for in, want := range map[string]string{
		"/usr/libexec/apache2/mod_proxy.so":        filepath.Join(root, "usr/libexec/apache2/mod_proxy.so"),
		filepath.Join(root, "prefix/usr/mod_x.so"): filepath.Join(root, "prefix/usr/mod_x.so"),
		root + "-other/mod_y.so":                   filepath.Join(root, root+"-other/mod_y.so"),
	} {
		if got := s.FilePath(in); got != want {
			t.Errorf("FilePath(%q) = %q, want %q", in, got, want)
		}
	}
	if got := (&Server{Root: "/"}).FilePath("/usr/x"); got != "/usr/x" {
		t.Errorf("on a real Mac FilePath changed %q", got)
	}
}

func TestWebPortsFollowTheWebsitesTier(t *testing.T) {
	for _, tt := range []struct {
		version string
		want    []string
	}{
		{"5.1.7", []string{"443", "80"}},
		{"5.3.1", []string{"443", "80"}},
		{"5.7.1", []string{"443", "80"}}, // no Websites tier: the default
	} {
		root := servertest.Dir(t, tt.version)
		srv, err := Discover(context.Background(), Options{Root: root, ApacheVersion: "2.4.23"})
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := ReadConfig(srv.HostPath(srv.ConfigPath))
		if err != nil {
			t.Fatal(err)
		}
		if got := srv.WebPorts(cfg); !slices.Equal(got, tt.want) {
			t.Errorf("%s: WebPorts = %q, want %q (Websites tier %q)", tt.version, got, tt.want, srv.WebsitesPorts)
		}
	}
	// A stand-in whose Websites tier listens elsewhere: its own hosts, by
	// the catch-all that reaches the tier, whatever their ports.
	cfg, err := ParseConfig("x.conf", []byte(`<VirtualHost *:8443>
ProxyPass / http://127.0.0.1:2000/
</VirtualHost>
<VirtualHost *:8080>
ProxyPass / http://127.0.0.1:2001/
</VirtualHost>
<VirtualHost *:9999>
ProxyPass / http://127.0.0.1:28008/
</VirtualHost>
`))
	if err != nil {
		t.Fatal(err)
	}
	srv := &Server{WebsitesPorts: []string{"2000", "2001"}}
	if got := srv.WebPorts(cfg); !slices.Equal(got, []string{"8443", "8080"}) {
		t.Errorf("stand-in: WebPorts = %q", got)
	}
}

// TestUnreadableSitesFolderIsReported: the Websites tier's ports come from
// the names in its sites folder; one that cannot be read is reported, not
// taken for a Server without default sites.
func TestUnreadableSitesFolderIsReported(t *testing.T) {
	root := servertest.Copy(t, "5.3.1")
	sites := filepath.Join(root, filepath.FromSlash(SitesDir))
	if err := os.RemoveAll(sites); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sites, []byte("not a folder\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv, err := Discover(context.Background(), Options{Root: root, ApacheVersion: "2.4.23"})
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, p := range srv.Unreadable {
		found = found || (p.Path == sites && p.Reason != "")
	}
	if !found {
		t.Errorf("unreadable = %+v; want %s with its reason", srv.Unreadable, sites)
	}
}
