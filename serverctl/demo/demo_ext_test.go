package demo_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/socketbar/socketbar/internal/loopport"
	"github.com/socketbar/socketbar/proxy"
	"github.com/socketbar/socketbar/proxy/wstest"
	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/apachetest"
	"github.com/socketbar/socketbar/serverctl/demo"
	"github.com/socketbar/socketbar/serverctl/lint"
)

func TestDemoRunsARealServiceProxy(t *testing.T) {
	apachetest.Require(t) // a missing httpd fails under CI
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "demo tree") // a space, as in ~/Library/Application Support
	st, err := demo.Prepare(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.HTTPD == nil {
		t.Fatal("no httpd found although apache2 is installed")
	}
	echo, err := proxy.ServeEcho(fmt.Sprintf("127.0.0.1:%d", st.EchoPort))
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	if err := st.Start(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range []int{st.HTTP, st.HTTPS, st.WebsitesHTTP, st.WebsitesHTTPS, st.EchoPort} {
		if held, err := loopport.Held(p); held || err != nil {
			t.Errorf("port %d still reserved after Start (%v)", p, err)
		}
	}
	t.Cleanup(func() {
		if err := st.Stop(context.Background()); err != nil {
			t.Errorf("stop: %v", err)
		}
		for _, pid := range []string{"service_proxy.pid", "websites.pid"} {
			if _, err := os.Stat(filepath.Join(dir, "private/var/run", pid)); err == nil {
				t.Errorf("%s still there after Stop", pid)
			}
		}
	})
	url := fmt.Sprintf("wss://127.0.0.1:%d/echo/", st.HTTPS)
	if r := wstest.Run(ctx, url, wstest.Options{Insecure: true}); r.Diagnosis.Cause != wstest.CauseRouteMissing {
		t.Errorf("before add: %+v", r.Diagnosis)
	}

	srv, err := serverctl.Discover(ctx, serverctl.Options{Root: dir})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := serverctl.ReadConfig(srv.HostPath(srv.ConfigPath))
	if err != nil {
		t.Fatal(err)
	}
	if findings := lint.Check(cfg, lint.Options{Apache: srv.Apache}); len(findings) != 0 {
		t.Errorf("the demo config has lint findings: %+v", findings)
	}
	edit, err := cfg.AddRoute(serverctl.AddRequest{Path: "/echo/", Backend: st.EchoURL(), DefaultPorts: srv.WebPorts(cfg), Apache: srv.Apache})
	if err != nil {
		t.Fatal(err)
	}
	a, err := srv.Applier(cfg, serverctl.ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Apply(ctx, serverctl.Change{Old: edit.Old, New: edit.New, Description: "demo test"}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{url, fmt.Sprintf("ws://127.0.0.1:%d/echo/", st.HTTP)} {
		if r := wstest.Run(ctx, u, wstest.Options{Insecure: true, ExpectEcho: true}); !r.OK {
			t.Errorf("%s after add: %+v", u, r.Diagnosis)
		}
	}

	again, err := demo.Prepare(ctx, dir)
	if err != nil || again.HTTPS != st.HTTPS || again.EchoPort != st.EchoPort {
		t.Errorf("Prepare on an existing tree made a new one: %+v, %v", again, err)
	}
}
