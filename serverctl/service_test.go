package serverctl

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestLaunchdCommandLines(t *testing.T) {
	fr := &fakeRunner{out: map[string]string{
		"/bin/launchctl print system/com.apple.serviceproxy": "system/com.apple.serviceproxy = {\n\tactive count = 1\n\tpath = /Applications/Server.app/Contents/ServerRoot/System/Library/LaunchDaemons/com.apple.serviceproxy.plist\n\tstate = running\n\n\tprogram = /Applications/Server.app/Contents/ServerRoot/usr/sbin/httpd-server-wrapper\n\tpid = 4711\n\tendpoints = {\n\t\tpid = 12\n\t}\n}\n",
	}}
	s := LaunchdService{Label: ServiceLabel, Runner: fr}
	st, err := s.State(context.Background())
	if err != nil || st != (ServiceState{Running: true, PID: 4711}) {
		t.Fatalf("State = %+v, %v", st, err)
	}
	if err := s.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []Command{
		{Path: "/bin/launchctl", Args: []string{"print", "system/com.apple.serviceproxy"}},
		{Path: "/bin/launchctl", Args: []string{"kickstart", "-kp", "system/com.apple.serviceproxy"}},
	}
	if len(fr.seen) != 2 || fr.seen[0].String() != want[0].String() || fr.seen[1].String() != want[1].String() {
		t.Errorf("ran %v, want %v", fr.seen, want)
	}
}

func TestParseLaunchctlPrint(t *testing.T) {
	tests := []struct {
		out  string
		want ServiceState
	}{
		{"\tstate = running\n\tpid = 99\n", ServiceState{Running: true, PID: 99}},
		{"\tstate = not running\n\tlast exit code = 1\n", ServiceState{}},
		{"\tstate = waiting\n\tpid = 5\n", ServiceState{}},
		{"", ServiceState{}},
	}
	for _, tt := range tests {
		if got := parseLaunchctlPrint([]byte(tt.out)); got != tt.want {
			t.Errorf("parse %q = %+v, want %+v", tt.out, got, tt.want)
		}
	}
}

func TestLaunchdNotLoaded(t *testing.T) {
	r := runnerFunc(func(context.Context, Command) ([]byte, error) {
		return []byte(`Could not find service "com.apple.serviceproxy" in domain for system`), errors.New("exit status 113")
	})
	st, err := LaunchdService{Label: ServiceLabel, Runner: r}.State(context.Background())
	if err != nil || st.Running {
		t.Errorf("State = %+v, %v; want not running and no error", st, err)
	}
}

type runnerFunc func(context.Context, Command) ([]byte, error)

func (f runnerFunc) Run(ctx context.Context, c Command) ([]byte, error) { return f(ctx, c) }

func TestHTTPDCommandDropsForeground(t *testing.T) {
	s := HTTPDService{Binary: "/usr/sbin/httpd", ConfigFile: "/c.conf", ErrorLog: "/e.log", Defines: []string{"FOREGROUND", "PROXY_CALENDAR"}, Env: []string{"A=1"}}
	got := s.Command("start")
	want := []string{"-f", "/c.conf", "-E", "/e.log", "-D", "PROXY_CALENDAR", "-k", "start"}
	if got.Path != "/usr/sbin/httpd" || !slices.Equal(got.Args, want) || !slices.Equal(got.Env, []string{"A=1"}) {
		t.Errorf("Command = %+v, want args %q", got, want)
	}
	tester := HTTPDTester{Binary: "/w", Defines: []string{"FOREGROUND"}}.Command("/tmp/x.conf")
	if !slices.Equal(tester.Args, []string{"-t", "-f", "/tmp/x.conf", "-D", "FOREGROUND"}) {
		t.Errorf("tester args = %q", tester.Args)
	}
}

func TestHTTPDStateFromPidFile(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "httpd.pid")
	s := HTTPDService{PidFile: pidFile}
	for _, tt := range []struct {
		content string
		want    ServiceState
	}{
		{"", ServiceState{}},
		{"garbage", ServiceState{}},
		{strconv.Itoa(os.Getpid()) + "\n", ServiceState{Running: true, PID: os.Getpid()}},
		{"999999999", ServiceState{}},
	} {
		if tt.content != "" {
			if err := os.WriteFile(pidFile, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		st, err := s.State(context.Background())
		if err != nil || st.Running != tt.want.Running || st.PID != tt.want.PID {
			t.Errorf("pid file %q: State = %+v, %v; want %+v", tt.content, st, err, tt.want)
		}
		if st.Running && st.Generation == "" {
			t.Errorf("pid file %q: no generation", tt.content)
		}
	}
}

// TestHTTPDStateStalePidFile: a pid file whose pid now belongs to another
// program (here: this test) is not a running service, and Start removes it
// so that httpd does not refuse to start.
func TestHTTPDStateStalePidFile(t *testing.T) {
	if _, ok := processArgs(os.Getpid()); !ok {
		t.Skip("this system does not show command lines")
	}
	dir := t.TempDir()
	s := HTTPDService{PidFile: filepath.Join(dir, "httpd.pid"), ConfigFile: filepath.Join(dir, "proxy.conf"),
		Runner: runnerFunc(func(context.Context, Command) ([]byte, error) { return nil, nil })}
	if err := os.WriteFile(s.PidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if st, err := s.State(context.Background()); err != nil || st.Running {
		t.Fatalf("State = %+v, %v; want not running (pid %d is not an httpd for %s)", st, err, os.Getpid(), s.ConfigFile)
	}
	if err := s.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.PidFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale pid file still there before start: %v", err)
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
		if _, err := s.Save([]byte("v"+strconv.Itoa(i)), BackupEntry{Time: base.Add(time.Duration(i) * time.Second), Description: "change " + strconv.Itoa(i)}, 0o644); err != nil {
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
	a, _ := s.Save([]byte("x"), BackupEntry{Time: same}, 0o644)
	b, _ := s.Save([]byte("y"), BackupEntry{Time: same}, 0o644)
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
