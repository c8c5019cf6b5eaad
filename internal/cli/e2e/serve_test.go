package e2e

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestServeProxiesAndStopsCleanly(t *testing.T) {
	backend := echoBackend(t)
	home := t.TempDir()
	cmd := exec.Command(binary, "serve", "--addr", "127.0.0.1:0", "--route", "/ws/="+backend.URL+"/ws/")
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+home, "LANG=C.UTF-8")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := bufio.NewScanner(stdout)
	url := ""
	for url == "" && lines.Scan() {
		if rest, ok := strings.CutPrefix(lines.Text(), "Listening on "); ok {
			url = rest
		}
	}
	if !strings.HasPrefix(url, "https://127.0.0.1:") {
		t.Fatalf("no listening line; stderr:\n%s", stderr.String())
	}
	d := websocket.Dialer{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, HandshakeTimeout: 5 * time.Second}
	c, _, err := d.Dial("wss://"+strings.TrimPrefix(url, "https://")+"/ws/x", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := c.ReadMessage(); err != nil {
		t.Fatal(err)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	_, _, err = c.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 1001 {
		t.Errorf("client got %v, want close 1001", err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("serve exited with %v; stderr:\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "route=/ws/ status=101") {
		t.Errorf("no session log line:\n%s", stderr.String())
	}
}

func TestServePortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	home := t.TempDir()
	r := run(t, []string{"HOME=" + home, "XDG_CONFIG_HOME=" + home}, "serve", "--addr", ln.Addr().String(), "--route", "/ws/=http://127.0.0.1:1/ws/")
	if r.code != 1 || !strings.Contains(r.stderr, ln.Addr().String()+" is already in use") || !strings.Contains(r.stderr, "Service Proxy itself listens on 8443") {
		t.Errorf("exit %d: %s", r.code, r.stderr)
	}
	if r := run(t, []string{"HOME=" + home}, "serve", "--route", "nonsense"); r.code != 2 || !strings.Contains(r.stderr, "PATH=BACKEND") {
		t.Errorf("bad --route: exit %d: %s", r.code, r.stderr)
	}
}

func TestServeTakesRoutesFromTheConfig(t *testing.T) {
	root, _ := serverCopy(t, "5.3.1")
	if r := run(t, nil, "add", "/ws/", "http://127.0.0.1:8000/ws/", "--root", root, "--no-restart"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	home := t.TempDir()
	cmd := exec.Command(binary, "serve", "--addr", "127.0.0.1:0", "--root", root)
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+home)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	sc := bufio.NewScanner(out)
	var listed []string
	for sc.Scan() && sc.Text() != "Press Ctrl-C to stop." {
		if line := sc.Text(); strings.HasPrefix(line, "  /") {
			listed = append(listed, strings.TrimSpace(line))
		}
	}
	want := "/ws/ → ws://127.0.0.1:8000/ws/"
	if len(listed) == 0 || listed[0] != want {
		t.Errorf("served routes = %q, want %q first", listed, want)
	}
	for _, l := range listed {
		if strings.HasPrefix(l, "/ →") {
			t.Errorf("the catch-all to the Websites tier is served: %q", l)
		}
	}
}

// startServe runs socketbar serve until the returned stop is called, and
// waits until it listens.
func startServe(t *testing.T, args ...string) (stop func()) {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command(binary, append([]string{"serve"}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+home)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() && sc.Text() != "Press Ctrl-C to stop." {
	}
	go io.Copy(io.Discard, out)
	return func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}
}
