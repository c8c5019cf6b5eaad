package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/socketbar/socketbar/proxy"
	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/apachetest"
	"github.com/socketbar/socketbar/serverctl/servertest"
)

// echoBackend is the WebSocket app behind the Service Proxy: the demo's
// echo app, which reports the request it saw as its first message (or as
// the whole answer to a plain request), then echoes.
func echoBackend(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(proxy.EchoHandler())
	t.Cleanup(srv.Close)
	return srv
}

type seenRequest struct {
	Host    string              `json:"host"`
	Path    string              `json:"path"`
	Headers map[string][]string `json:"headers"`
}

var clientHeaders = http.Header{
	"Origin":  {"https://server.example.com"},
	"Referer": {"https://server.example.com/app/"},
	"Cookie":  {"sessionid=abc123"},
}

// wsRoundTrip opens a WebSocket to url, checks what the backend saw, and
// echoes one message.
func wsRoundTrip(t *testing.T, url string) error {
	t.Helper()
	d := websocket.Dialer{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, HandshakeTimeout: 5 * time.Second}
	c, resp, err := d.Dial(url, clientHeaders)
	if err != nil {
		if resp != nil {
			body, _ := io.ReadAll(resp.Body)
			return fmt.Errorf("handshake: %v (HTTP %d: %.80s)", err, resp.StatusCode, body)
		}
		return fmt.Errorf("handshake: %w", err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, first, err := c.ReadMessage()
	if err != nil {
		return fmt.Errorf("read the backend's report: %w", err)
	}
	var seen seenRequest
	if err := json.Unmarshal(first, &seen); err != nil {
		return err
	}
	wantHost := strings.TrimPrefix(strings.TrimPrefix(url, "wss://"), "ws://")
	wantHost = wantHost[:strings.IndexByte(wantHost, '/')]
	if seen.Host != wantHost {
		return fmt.Errorf("backend saw Host %q, want the public %q", seen.Host, wantHost)
	}
	for _, h := range []string{"Origin", "Referer", "Cookie"} {
		if got := strings.Join(seen.Headers[h], ","); got != clientHeaders.Get(h) {
			return fmt.Errorf("backend saw %s %q, want %q", h, got, clientHeaders.Get(h))
		}
	}
	if err := c.WriteMessage(websocket.TextMessage, []byte("hello through the Service Proxy")); err != nil {
		return err
	}
	if _, echo, err := c.ReadMessage(); err != nil || string(echo) != "hello through the Service Proxy" {
		return fmt.Errorf("echo = %q, %v", echo, err)
	}
	return nil
}

// rawHandshake sends an upgrade request the way Firefox does
// ("Connection: keep-alive, Upgrade") and returns the status code.
func rawHandshake(t *testing.T, addr string, useTLS bool, path string) int {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if useTLS {
		conn = tls.Client(conn, &tls.Config{InsecureSkipVerify: true})
	}
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: Mozilla/5.0 Firefox/120.0\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: https://server.example.com\r\n\r\n", path, addr)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read handshake response: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func plainGet(t *testing.T, url string) string {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// twoTier is a Server 5 stand-in on loopback: the fixture's Service Proxy
// config run by the real httpd (started by socketbar restart), a second
// httpd as the Websites tier behind its catch-alls, and a WebSocket app.
type twoTier struct {
	site     *apachetest.Site
	h        apachetest.HTTPD
	backend  *httptest.Server
	original string
	apache   serverctl.Version
}

func startTwoTier(t *testing.T, version string) *twoTier {
	h := apachetest.Require(t)
	fixture := servertest.Dir(t, version)
	tt := &twoTier{h: h, site: apachetest.LocalizeTree(t, h, fixture), backend: echoBackend(t)}
	apachetest.StartWebsites(t, h, tt.site)
	t.Cleanup(func() {
		apachetest.StopHTTPD(t, h, tt.site.ConfigPath, tt.site.Env, filepath.Join(tt.site.Root, "var/run/service_proxy.pid"))
	})
	if r := run(t, nil, "restart", "--root", tt.site.Root); r.code != 0 {
		t.Fatalf("start the front: %s%s", r.stdout, r.stderr)
	}
	tt.original = readFile(t, tt.site.ConfigPath)
	var st struct {
		Apache string `json:"apache_version"`
	}
	s := run(t, nil, "status", "--json", "--root", tt.site.Root)
	if err := json.Unmarshal([]byte(s.stdout), &st); err != nil {
		t.Fatal(err)
	}
	v, err := serverctl.ParseVersion(st.Apache)
	if err != nil {
		t.Fatalf("Apache version from status: %v", err)
	}
	tt.apache = v
	return tt
}

func (tt *twoTier) urls(path string) (tlsURL, plainURL string) {
	return fmt.Sprintf("wss://127.0.0.1:%d%s", tt.site.Ports[443], path), fmt.Sprintf("ws://127.0.0.1:%d%s", tt.site.Ports[80], path)
}

func (tt *twoTier) vhostFlags() []string {
	return []string{"--vhost", fmt.Sprint(tt.site.Ports[443]), "--vhost", fmt.Sprint(tt.site.Ports[80])}
}

func TestTwoTierWebSocketRoutes(t *testing.T) {
	tt := startTwoTier(t, "5.3.1")
	tlsURL, plainURL := tt.urls("/ws/")
	backendURL := tt.backend.URL + "/ws/"

	t.Run("before add the upgrade falls through to the Websites tier", func(t *testing.T) {
		for _, u := range []string{tlsURL, plainURL} {
			if err := wsRoundTrip(t, u); err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "websites tier") {
				t.Errorf("%s: %v; want a 404 from the Websites tier", u, err)
			}
		}
	})

	strategies := []string{"tunnel"}
	if tt.apache.HasUpgradeParam() {
		strategies = append(strategies, "upgrade")
	}
	for _, strategy := range strategies {
		t.Run(strategy, func(t *testing.T) {
			start := time.Now()
			add := run(t, nil, append([]string{"add", "/ws/", backendURL, "--root", tt.site.Root, "--strategy", strategy}, tt.vhostFlags()...)...)
			if add.code != 0 {
				t.Fatalf("add: exit %d\n%s%s", add.code, add.stdout, add.stderr)
			}
			t.Logf("socketbar add → test → backup → write → restart → verify with %s took %v", strategy, time.Since(start).Round(time.Millisecond))
			if !strings.Contains(add.stdout, "Restarted the Service Proxy") {
				t.Errorf("add did not restart:\n%s", add.stdout)
			}
			for _, u := range []string{tlsURL, plainURL} {
				if err := wsRoundTrip(t, u); err != nil {
					t.Errorf("%s: %v", u, err)
				}
			}
			for port, useTLS := range map[int]bool{tt.site.Ports[443]: true, tt.site.Ports[80]: false} {
				if code := rawHandshake(t, fmt.Sprintf("127.0.0.1:%d", port), useTLS, "/ws/chat"); code != http.StatusSwitchingProtocols {
					t.Errorf("Firefox-style handshake on port %d: HTTP %d, want 101", port, code)
				}
			}
			body := plainGet(t, fmt.Sprintf("https://127.0.0.1:%d/ws/page", tt.site.Ports[443]))
			if !strings.Contains(body, `"upgrade":false`) || !strings.Contains(body, `"path":"/ws/page"`) {
				t.Errorf("plain GET through the front = %.120q; want the backend's plain answer", body)
			}

			rm := run(t, nil, append([]string{"remove", "/ws/", "--root", tt.site.Root}, tt.vhostFlags()...)...)
			if rm.code != 0 {
				t.Fatalf("remove: exit %d\n%s", rm.code, rm.stderr)
			}
			if err := wsRoundTrip(t, tlsURL); err == nil || !strings.Contains(err.Error(), "404") {
				t.Errorf("after remove: %v; want the handshake to fail again", err)
			}
			if readFile(t, tt.site.ConfigPath) != tt.original {
				t.Error("after add and remove the config differs from the original")
			}
		})
	}
}

func TestTwoTierRollbackAndRefusals(t *testing.T) {
	tt := startTwoTier(t, "5.3.1")
	ctx := context.Background()
	srv, err := serverctl.Discover(ctx, serverctl.Options{Root: tt.site.Root})
	if err != nil {
		t.Fatal(err)
	}
	load := func() (*serverctl.Config, *serverctl.Applier) {
		cfg, err := serverctl.ReadConfig(srv.HostPath(srv.ConfigPath))
		if err != nil {
			t.Fatal(err)
		}
		a, err := srv.Applier(cfg, serverctl.ApplyOptions{VerifyTimeout: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return cfg, a
	}
	pidBefore := func(a *serverctl.Applier) int {
		st, err := a.Service.State(ctx)
		if err != nil || !st.Running {
			t.Fatalf("front not running: %+v %v", st, err)
		}
		return st.PID
	}

	t.Run("a config that fails the test never reaches the file", func(t *testing.T) {
		cfg, a := load()
		pid := pidBefore(a)
		_, err := a.Apply(ctx, serverctl.Change{Old: cfg.Src, New: append(append([]byte{}, cfg.Src...), "ProxyPass /x http://127.0.0.1:1/x bogusparam=1\n"...), Description: "bad"})
		var cte *serverctl.ConfigTestError
		if !errors.As(err, &cte) || !strings.Contains(cte.Output, "ProxyPass unknown Worker parameter") {
			t.Fatalf("err = %v, want Apache's config test failure", err)
		}
		if readFile(t, cfg.Path) != tt.original || pidBefore(a) != pid {
			t.Error("the failed change touched the file or the service")
		}
	})

	t.Run("a config that passes the test but cannot start is rolled back", func(t *testing.T) {
		busy, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer busy.Close()
		cfg, a := load()
		pid := pidBefore(a)
		bad := append(append([]byte{}, cfg.Src...), fmt.Sprintf("Listen %s\n", busy.Addr())...)
		_, err = a.Apply(ctx, serverctl.Change{Old: cfg.Src, New: bad, Description: "listen on a taken port"})
		var rse *serverctl.RestartError
		if !errors.As(err, &rse) {
			t.Fatalf("err = %v, want a RestartError", err)
		}
		if rse.RollbackErr != nil {
			t.Fatalf("rollback failed: %v", rse)
		}
		if !strings.Contains(rse.Error(), "Address already in use") && !strings.Contains(rse.Error(), "could not bind") {
			t.Errorf("the report does not say why httpd failed:\n%v", rse)
		}
		if readFile(t, cfg.Path) != tt.original {
			t.Error("the config was not restored")
		}
		if got := pidBefore(a); got == pid {
			t.Error("the service was not restarted with the restored config")
		}
		if body := plainGet(t, fmt.Sprintf("http://127.0.0.1:%d/", tt.site.Ports[80])); !strings.Contains(body, "websites tier") {
			t.Errorf("the front does not serve after the rollback: %.80q", body)
		}
	})

	t.Run("killed mid-transaction, the config is the old or the new file", func(t *testing.T) {
		for _, step := range []string{"test", "backup", "write", "restart"} {
			r := run(t, []string{"SOCKETBAR_TEST_KILL_AFTER=" + step}, append([]string{"add", "/kill/", tt.backend.URL + "/kill/", "--root", tt.site.Root}, tt.vhostFlags()...)...)
			if r.code != -1 {
				t.Fatalf("kill after %s: exit %d, want killed\n%s%s", step, r.code, r.stdout, r.stderr)
			}
			got := readFile(t, tt.site.ConfigPath)
			if step == "restart" {
				if !strings.Contains(got, "socketbar:begin /kill/") || strings.Count(got, "socketbar:end /kill/") != 4 { // *:443, *:80 and the two custom-site macros
					t.Errorf("killed after restart: the config is not the new file")
				}
				if rm := run(t, nil, append([]string{"remove", "/kill/", "--root", tt.site.Root}, tt.vhostFlags()...)...); rm.code != 0 {
					t.Fatalf("remove after the kill: %s", rm.stderr)
				}
			} else if got != tt.original {
				t.Errorf("killed after %s: the config is not the old file", step)
			}
		}
		leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(tt.site.ConfigPath), ".*socketbar*"))
		if len(leftovers) != 0 {
			t.Errorf("temporary files left after a later transaction: %v", leftovers)
		}
	})
}

func TestCIHasApache(t *testing.T) {
	if os.Getenv("CI") == "" {
		t.Skip("only under CI")
	}
	apachetest.Require(t)
}
