package demo_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/socketbar/socketbar/internal/loopport"
	"github.com/socketbar/socketbar/proxy"
	"github.com/socketbar/socketbar/proxy/wstest"
	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/action"
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

// dialAs opens a connection to 127.0.0.1:port as a client of host would:
// host goes in the TLS SNI and in the Host header.
func dialAs(host string, port int) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, fmt.Sprintf("127.0.0.1:%d", port))
	}
}

// getAs fetches url's path from 127.0.0.1 as host, returning the status,
// the body's start and the names of the certificate the server showed.
func getAs(t *testing.T, host string, port int, useTLS bool) (int, string, []string) {
	t.Helper()
	scheme := "http"
	if useTLS {
		scheme = "https"
	}
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext:     dialAs(host, port),
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true, ServerName: host},
	}}
	defer c.CloseIdleConnections()
	resp, err := c.Get(fmt.Sprintf("%s://%s:%d/", scheme, host, port))
	if err != nil {
		t.Fatalf("GET as %s on %d: %v", host, port, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var names []string
	if resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 {
		names = resp.TLS.PeerCertificates[0].DNSNames
	}
	return resp.StatusCode, string(body), names
}

// The demo's custom site is a VirtualHost of its own, as on Server 5.2+:
// under its name (SNI and Host) on 127.0.0.1 it shows its own certificate
// and forwards to the Websites tier, and a route added for it alone
// reaches it, and not the default hosts.
func TestDemoCustomSiteAnswersUnderItsName(t *testing.T) {
	apachetest.Require(t)
	ctx := context.Background()
	st, err := demo.Prepare(ctx, filepath.Join(t.TempDir(), "demo"))
	if err != nil {
		t.Fatal(err)
	}
	echo, err := proxy.ServeEcho(fmt.Sprintf("127.0.0.1:%d", st.EchoPort))
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	if err := st.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Stop(context.Background()) })

	l := &action.Local{}
	status, err := l.Status(ctx, action.Target{Root: st.Root})
	if err != nil || status.Sites == nil {
		t.Fatalf("status: %v, %v", err, status.SitesErr)
	}
	i := slices.IndexFunc(status.Sites, func(s action.Site) bool { return s.Name == demo.CustomSite })
	if i < 0 {
		t.Fatalf("the demo's sites: %+v, want %s", status.Sites, demo.CustomSite)
	}
	site := status.Sites[i]
	if site.Default || !slices.Equal(site.Ports, sorted(st.HTTP, st.HTTPS)) || site.CertID == "" || len(site.Aliases) == 0 {
		t.Fatalf("the demo's sites: %+v, want %s on ports %d and %d with an alias and a certificate", status.Sites, demo.CustomSite, st.HTTP, st.HTTPS)
	}
	if len(status.SiteFindings) > 0 {
		t.Errorf("the demo's sites disagree with its plist: %v", status.SiteFindings)
	}

	const websites = "Websites tier of the Socketbar demo"
	for _, tls := range []bool{true, false} {
		port := st.HTTP
		if tls {
			port = st.HTTPS
		}
		for _, host := range append([]string{demo.CustomSite}, site.Aliases...) {
			code, body, names := getAs(t, host, port, tls)
			if code != http.StatusNotFound || !strings.Contains(body, websites) {
				t.Errorf("%s on %d: HTTP %d %.80q, want the Websites tier's 404", host, port, code, body)
			}
			if tls && !slices.Contains(names, host) {
				t.Errorf("%s on %d: certificate for %q, want the site's own", host, port, names)
			}
		}
		if _, _, names := getAs(t, "127.0.0.1", port, tls); tls && slices.Contains(names, demo.CustomSite) {
			t.Errorf("the default host shows the custom site's certificate %q", names)
		}
	}

	p, err := l.ProposeAdd(ctx, action.AddOptions{Target: action.Target{Root: st.Root}, Path: "/echo/", Backend: st.EchoURL(), Sites: []string{demo.CustomSite}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Apply(ctx, p, action.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, tls := range []bool{true, false} {
		port := st.HTTP
		if tls {
			port = st.HTTPS
		}
		if err := apachetest.SiteRoundTrip(port, tls, demo.CustomSite, "/echo/"); err != nil {
			t.Errorf("%s on %d after add for that site: %v", demo.CustomSite, port, err)
		}
		if err := apachetest.SiteRoundTrip(port, tls, "127.0.0.1", "/echo/"); err == nil {
			t.Errorf("the default host on %d echoes a route added for %s alone", port, demo.CustomSite)
		}
	}
}

func sorted(ports ...int) []int {
	slices.Sort(ports)
	return ports
}
