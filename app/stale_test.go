package app

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/action"
	"github.com/socketbar/socketbar/serverctl/action/actiontest"
	"github.com/socketbar/socketbar/serverctl/servertest"
	"github.com/socketbar/socketbar/serverctl/service"
)

// countingActions counts full Status reads.
type countingActions struct {
	actiontest.Recorder
	statuses atomic.Int32
}

func (c *countingActions) Status(ctx context.Context, t action.Target) (*action.Status, error) {
	c.statuses.Add(1)
	return c.Recorder.Status(ctx, t)
}

func TestWatcherFollowsTheServiceWithoutReloading(t *testing.T) {
	root := servertest.Copy(t, "5.7.1")
	// The fixture has no httpd; the driver only needs one to exist.
	httpd := filepath.Join(root, "usr/sbin/httpd")
	if err := os.MkdirAll(filepath.Dir(httpd), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(httpd, []byte("#!/bin/sh\necho 'Server version: Apache/2.4.58 (Unix)'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	fake := &countingActions{}
	u := newTestUI(test.NewTempApp(t), Options{Root: root, Actions: fake, Tray: noTray})
	u.showRoutes()
	s := u.current()
	if s.Service.Running {
		t.Fatal("the fixture's Service Proxy runs before the test started it")
	}
	// Where the service keeps its pid, as the model says.
	srv, err := serverctl.Discover(context.Background(), serverctl.Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := serverctl.ReadConfig(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	a, err := srv.Applier(cfg, serverctl.ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	svc, ok := a.Service.(service.HTTPD)
	if !ok {
		t.Skipf("the Service Proxy is driven by %T here, not a pid file", a.Service)
	}
	// A stand-in httpd: a process whose arguments name the config, as
	// httpd -f CONFIG does, and its pid in the pid file.
	proc := exec.Command("sh", "-c", "sleep 60", "-f", svc.ConfigFile)
	if err := proc.Start(); err != nil {
		t.Fatal(err)
	}
	defer proc.Process.Kill()
	if err := os.MkdirAll(filepath.Dir(svc.PidFile), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(svc.PidFile, []byte(strconv.Itoa(proc.Process.Pid)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := fake.statuses.Load()

	fresh, full := u.poll(context.Background(), s)
	if fresh == nil || full || !fresh.Service.Running || fresh.Service.PID != proc.Process.Pid {
		t.Fatalf("after the service started: fresh %v, full %v", fresh != nil, full)
	}
	if n := fake.statuses.Load() - before; n != 0 {
		t.Errorf("the watcher read the whole status %d time(s) for a state change", n)
	}
	u.setSnapshot(fresh)
	if got := canvasText(u.windows[winRoutes].Content()); !strings.Contains(got, "Service Proxy running") {
		t.Errorf("the header does not follow the service:\n%s", got)
	}
	if again, _ := u.poll(context.Background(), fresh); again != nil {
		t.Error("the watcher reports a change when nothing changed")
	}
	proc.Process.Kill()
	proc.Wait()
	if fresh, _ = u.poll(context.Background(), u.current()); fresh == nil || fresh.Service.Running {
		t.Error("the watcher missed the service stopping")
	}

	// A change to the file is a full reload.
	later := u.current().ModTime.Add(5e9)
	if err := os.Chtimes(s.Config, later, later); err != nil {
		t.Fatal(err)
	}
	if _, full := u.poll(context.Background(), u.current()); !full {
		t.Error("a changed config did not reload")
	}
	if watchEvery > 3e9 {
		t.Errorf("the watcher looks every %s; the state must be true within 3 s", watchEvery)
	}
}

func TestRoutesListLaysOutAfterEveryReload(t *testing.T) {
	root := servertest.Copy(t, "5.7.1")
	u := newTestUI(test.NewTempApp(t), Options{Root: root, Actions: newFake(), Tray: noTray})
	u.showRoutes()
	w := u.windows[winRoutes]
	w.Resize(fyne.NewSize(900, 560))
	v := u.routesView
	full := u.current()
	check := func(when string) {
		t.Helper()
		at := fyne.CurrentApp().Driver().AbsolutePositionForObject
		rowsEnd := at(v.rows).Y + v.rows.MinSize().Height
		if v.rows.Size().Height < v.rows.MinSize().Height-1 || at(v.findings).Y < rowsEnd || at(v.findings).Y > rowsEnd+3*theme.Padding() {
			t.Errorf("%s: rows at %v size %v (min %v), findings at %v", when, at(v.rows), v.rows.Size(), v.rows.MinSize(), at(v.findings))
		}
	}
	check("first")
	fewer := *full
	fewer.Routes = full.Routes[:2]
	u.setSnapshot(&fewer)
	check("fewer rows")
	u.setSnapshot(full)
	check("more rows")
}

func TestConfigPathAndVirtualHostLabels(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/Library/Server/Web/Config/apache2/apache_serviceproxy.conf", "/Library/Server/Web/Config/apache2/apache_serviceproxy.conf"},
		{"/tmp/a-very-long-temporary-folder-name-0123456789/demo/Library/Server/Web/Config/apache2/apache_serviceproxy.conf",
			"/tmp/…/Server/Web/Config/apache2/apache_serviceproxy.conf"},
	} {
		if got := shortPath(tc.in, 60); got != tc.want {
			t.Errorf("shortPath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	u := newTestUI(test.NewTempApp(t), Options{Root: servertest.Copy(t, "5.7.1"), Actions: newFake(), Tray: noTray})
	s := u.current()
	labels := map[string]string{}
	for _, v := range s.VirtualHosts {
		labels[strings.Join(v.Addrs, " ")] = v.Label
	}
	for _, r := range s.Routes {
		if l, ok := labels[r.VHost]; ok && l != r.VHostLabel {
			t.Errorf("route %s in %s is labelled %q, its VirtualHost %q", r.Path, r.VHost, r.VHostLabel, l)
		}
	}
	for vhost, want := range map[string]string{"*:443": "HTTPS *:443", "*:80": "HTTP *:80"} {
		if got := labels[vhost]; got != want {
			t.Errorf("VirtualHost %q is labelled %q, want %q", vhost, got, want)
		}
	}
	u.showAddRoute("", "")
	offered := map[string]bool{}
	for _, c := range u.addForm.hosts {
		offered[c.Text] = true
	}
	for _, c := range []string{"HTTPS *:443", "HTTP *:80"} {
		if !offered[c] {
			t.Errorf("Add Route offers no VirtualHost %q: %v", c, offered)
		}
	}
}
