package serverctl

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/socketbar/socketbar/serverctl/run"
	"github.com/socketbar/socketbar/serverctl/servertest"
)

func TestHTTPDTesterCommand(t *testing.T) {
	tester := HTTPDTester{Binary: "/w", Defines: []string{"FOREGROUND"}}.Command("/tmp/x.conf")
	if !slices.Equal(tester.Args, []string{"-t", "-f", "/tmp/x.conf", "-D", "FOREGROUND"}) {
		t.Errorf("tester args = %q", tester.Args)
	}
}

func TestEndpoints(t *testing.T) {
	c := mustParse(t, `LoadModule ssl_module mod_ssl.so
<IfDefine PROXY_CALENDAR>
Listen 8443
</IfDefine>
<IfDefine !PROXY_CALENDAR>
Listen 8008
</IfDefine>
Listen 80
Listen [::]:443
Listen 127.0.0.1:8800 https
<VirtualHost *:443>
<IfModule mod_ssl.c>
SSLEngine On
</IfModule>
</VirtualHost>
<VirtualHost *:80>
<IfModule mod_nothere.c>
SSLEngine On
</IfModule>
</VirtualHost>
<Macro M $p>
Listen $p
</Macro>
`)
	var got []string
	for _, e := range c.Endpoints([]string{"FOREGROUND"}) {
		got = append(got, e.String())
	}
	want := []string{"http://127.0.0.1:8008", "http://127.0.0.1:80", "https://[::1]:443", "https://127.0.0.1:8800"}
	if !slices.Equal(got, want) {
		t.Errorf("endpoints = %q, want %q", got, want)
	}
	if eps := c.Endpoints([]string{"PROXY_CALENDAR"}); eps[0].Addr != "127.0.0.1:8443" {
		t.Errorf("with PROXY_CALENDAR: %v", eps)
	}
}

func TestPidFile(t *testing.T) {
	for conf, want := range map[string]string{
		"PidFile /var/run/service_proxy.pid\n":              "/var/run/service_proxy.pid",
		"ServerRoot /usr\nPidFile run/x.pid\n":              "/usr/run/x.pid",
		"ServerRoot \"${R}\"\n":                             "/r/logs/httpd.pid",
		"Define P /p\nPidFile ${P}/httpd.pid\n":             "/p/httpd.pid",
		"<IfModule x>\nPidFile /ignored.pid\n</IfModule>\n": "logs/httpd.pid",
	} {
		c := mustParse(t, conf)
		if got := c.PidFile(c.Vars(map[string]string{"R": "/r"})); got != want {
			t.Errorf("PidFile(%q) = %q, want %q", conf, got, want)
		}
	}
}

func TestBackupStoreKeepsTheNewest(t *testing.T) {
	s := BackupStore{Dir: t.TempDir(), Keep: 3}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 5; i++ {
		if _, err := s.Save(BackupEntry{Time: base.Add(time.Duration(i) * time.Second), Description: "change " + strconv.Itoa(i)}, FileEdit{Old: []byte("v" + strconv.Itoa(i))}); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := s.List()
	if err != nil || len(entries) != 3 || entries[0].Description != "change 4" || entries[2].Description != "change 2" {
		t.Fatalf("entries = %+v, %v", entries, err)
	}
	files, _ := os.ReadDir(s.Dir)
	if len(files) != 6 {
		t.Errorf("%d files in the store, want 6", len(files))
	}
	_, data, err := s.Load(entries[1].ID)
	if err != nil || string(data) != "v3" {
		t.Errorf("Load = %q, %v", data, err)
	}
	if err := os.WriteFile(filepath.Join(s.Dir, entries[1].ID+".bak"), []byte("tampered"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Load(entries[1].ID); err == nil || !strings.Contains(err.Error(), "hash") {
		t.Errorf("tampered backup: err = %v", err)
	}
	same := base.Add(10 * time.Second)
	a, _ := s.Save(BackupEntry{Time: same}, FileEdit{Old: []byte("x")})
	b, _ := s.Save(BackupEntry{Time: same}, FileEdit{Old: []byte("y")})
	if a.ID == b.ID {
		t.Errorf("two saves at one instant share ID %s", a.ID)
	}
}

// blockingTester holds the config test until released, so a second
// transaction can try to run meanwhile.
type blockingTester struct {
	started chan struct{}
	release chan struct{}
}

func (b blockingTester) Test(context.Context, string) (string, error) {
	close(b.started)
	<-b.release
	return "Syntax OK", nil
}

func TestTwoTransactionsCannotInterleave(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "apache_serviceproxy.conf")
	if err := os.WriteFile(conf, []byte("Listen 80\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bt := blockingTester{started: make(chan struct{}), release: make(chan struct{})}
	first := &Applier{ConfigPath: conf, Tester: bt, Backups: BackupStoreFor(conf)}
	done := make(chan error, 1)
	go func() {
		_, err := first.Apply(context.Background(), Change{Old: []byte("Listen 80\n"), New: []byte("Listen 81\n")})
		done <- err
	}()
	<-bt.started
	second := &Applier{ConfigPath: conf, Tester: blockingTester{started: make(chan struct{}), release: make(chan struct{})}, Backups: BackupStoreFor(conf)}
	_, err := second.Apply(context.Background(), Change{Old: []byte("Listen 80\n"), New: []byte("Listen 82\n")})
	if err == nil || !strings.Contains(err.Error(), "another Socketbar is applying") {
		t.Errorf("second transaction: %v, want the lock's refusal", err)
	}
	close(bt.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(conf); string(got) != "Listen 81\n" {
		t.Errorf("config = %q", got)
	}
}

// A Server reached over SSH at its "/" is a Mac whatever this machine
// is: its service is launchd's, run through the runner there, never the
// httpd driver, whose pid file names a process of this machine. A tree
// over SSH (--root) opened for changes gets the httpd driver, which reads
// its pid file and finds its process there; opened for reading, it has
// no way there and gets launchd's too.
func TestARemoteServersServiceIsLaunchd(t *testing.T) {
	root := servertest.Copy(t, "5.3.1-sites")
	cases := []struct {
		name   string
		remote *Remote
		want   string
	}{
		{"this machine", nil, "httpd"},
		{"a Mac over SSH", &Remote{RemoteRoot: "/", Files: localDisk{}, Commands: run.Exec{}}, "launchd"},
		{"a tree over SSH, read only", &Remote{RemoteRoot: "/srv/tree"}, "launchd"},
		{"a tree over SSH, for changes", &Remote{RemoteRoot: "/srv/tree", Files: localDisk{}, Commands: run.Exec{}}, "httpd"},
	}
	for _, c := range cases {
		srv, err := Discover(context.Background(), Options{Root: root, ApacheVersion: "2.4.23", Remote: c.remote})
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := ReadConfig(srv.HostPath(srv.ConfigPath))
		if err != nil {
			t.Fatal(err)
		}
		name := srv.Service(cfg, "/usr/sbin/httpd", nil, run.Exec{}).Name()
		if name != c.want && (c.remote != nil || runtime.GOOS != "darwin") {
			t.Errorf("%s: the %s driver, want %s", c.name, name, c.want)
		}
	}
}
