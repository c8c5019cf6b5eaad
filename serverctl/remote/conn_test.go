package remote

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/socketbar/socketbar/internal/loopport"
	"github.com/socketbar/socketbar/internal/sshtest"
)

// testTimeout bounds each test's SSH work; a regression fails, never hangs.
const testTimeout = 60 * time.Second

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// open logs in to the harness's server as its alias.
func open(t *testing.T, ssh []string, cfg Config) *Conn {
	t.Helper()
	cfg.SSH = ssh
	c, err := Open(testContext(t), Host{Name: sshtest.Alias}, cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestRunReturnsEachArgumentByteForByte(t *testing.T) {
	s := sshtest.Start(t)
	c := open(t, s.SSH(), Config{})
	out, err := c.Run(testContext(t), append([]string{"printf", `%s\000`}, hostile...), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(string(out.Stdout), "\x00"), "\x00")
	if len(got) != len(hostile) {
		t.Fatalf("%d arguments came back, want %d: %q", len(got), len(hostile), out.Stdout)
	}
	for i := range hostile {
		if got[i] != hostile[i] {
			t.Errorf("argument %d came back as %q, want %q", i, got[i], hostile[i])
		}
	}
	if len(out.Stderr) != 0 {
		t.Errorf("stderr %q", out.Stderr)
	}
}

func TestRunStreamsAScriptToShOverStdin(t *testing.T) {
	s := sshtest.Start(t)
	c := open(t, s.SSH(), Config{})
	ctx := testContext(t)
	// A script that reads its arguments and a here-document, and exits
	// with a status of its own.
	script := "set -eu\n" +
		"printf '%s|' \"$#\" \"$1\" \"$2\"\n" +
		"cat <<'END'\n" +
		"here $1 `not run`\n" +
		"END\n" +
		"for i in 1 2 3; do printf x; done\n" +
		"exit 7\n"
	out, err := c.Run(ctx, []string{"/bin/sh", "-s", "--", "a b", "it's $x"}, strings.NewReader(script))
	var exit *ExitError
	if !errors.As(err, &exit) || exit.Code != 7 {
		t.Fatalf("err = %v, want exit status 7", err)
	}
	want := "2|a b|it's $x|here $1 `not run`\nxxx"
	if string(out.Stdout) != want {
		t.Errorf("stdout %q, want %q", out.Stdout, want)
	}
	if err := CheckScript(script, nil); err != nil {
		t.Errorf("the script uses a command not listed: %v", err)
	}
	// Megabytes on standard input arrive whole.
	big := strings.Repeat("0123456789abcdef", 1<<18) // 4 MiB
	out, err = c.Run(ctx, []string{"wc", "-c"}, strings.NewReader(big))
	if err != nil || strings.TrimSpace(string(out.Stdout)) != strconv.Itoa(len(big)) {
		t.Errorf("wc -c of 4 MiB: %q, %v", out.Stdout, err)
	}
}

func TestRunStopsAFloodAtTheCapWithBoundedMemory(t *testing.T) {
	s := sshtest.Start(t)
	const limit = 1 << 20
	c := open(t, s.SSH(), Config{MaxOutput: limit})
	for _, stream := range []string{"stdout", "stderr"} {
		t.Run(stream, func(t *testing.T) {
			flood := "yes 'flood flood flood flood flood flood flood'"
			if stream == "stderr" {
				flood += " >&2"
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			out, err := c.Run(testContext(t), []string{"/bin/sh", "-c", flood}, nil)
			runtime.ReadMemStats(&after)
			var le *OutputLimitError
			if !errors.As(err, &le) || le.Stream != stream || le.Limit != limit {
				t.Fatalf("err = %v, want an OutputLimitError on %s", err, stream)
			}
			kept := out.Stdout
			if stream == "stderr" {
				kept = out.Stderr
			}
			if len(kept) != limit {
				t.Errorf("kept %d bytes, want the first %d", len(kept), limit)
			}
			// yes writes without end: whatever it sent, the run allocated a
			// small multiple of the cap.
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16*limit {
				t.Errorf("allocated %d bytes for a %d-byte cap", alloc, limit)
			}
		})
	}
	if _, err := c.Run(testContext(t), []string{"true"}, nil); err != nil {
		t.Errorf("the connection after a flood: %v", err)
	}
}

func TestCancelEndsTheStalledRemoteCommand(t *testing.T) {
	s := sshtest.Start(t)
	c := open(t, s.SSH(), Config{})
	// sshd runs here, so the remote command can reach a FIFO of the test's:
	// it writes its pid and keeps the FIFO open until it dies, which is how
	// the test learns, without polling, that it did.
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(testContext(t))
	done := make(chan error, 1)
	go func() {
		_, err := c.Run(ctx, []string{"/bin/sh", "-c", `exec 3>"$1"; echo $$ >&3; exec sleep 4242`, "sh", fifo}, nil)
		done <- err
	}()
	f, err := os.Open(fifo) // blocks until the remote side opens it
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := bufio.NewReader(f)
	pid, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("read the remote pid: %v", err)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run: %v, want context.Canceled", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("Run did not return after cancel")
	}
	gone := make(chan error, 1)
	go func() { _, err := io.Copy(io.Discard, r); gone <- err }()
	select {
	case err := <-gone:
		if err != nil {
			t.Errorf("FIFO: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Errorf("the remote sleep (pid %s) still runs after cancel", strings.TrimSpace(pid))
	}
	if out, err := c.Run(testContext(t), []string{"printf", "alive"}, nil); err != nil || string(out.Stdout) != "alive" {
		t.Errorf("the connection after a cancel: %q, %v", out.Stdout, err)
	}
}

func TestUnknownHostKeyIsRefusedThenAccepted(t *testing.T) {
	s := sshtest.Start(t)
	if err := os.WriteFile(s.KnownHosts, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	_, err := Open(ctx, Host{Name: sshtest.Alias}, Config{SSH: s.SSH()})
	var hk *HostKeyError
	if !errors.As(err, &hk) {
		t.Fatalf("Open: %v, want a *HostKeyError", err)
	}
	want := s.Fingerprint(t) // ssh-keygen -lf of the server's public key
	if len(hk.Fingerprints) != 1 || hk.Fingerprints[0].SHA256 != want || hk.Fingerprints[0].Type != "ED25519" {
		t.Errorf("fingerprints %v, want %s (ED25519)", hk.Fingerprints, want)
	}
	if hk.Name != "127.0.0.1" || hk.Port != s.Port {
		t.Errorf("address %s:%d, want 127.0.0.1:%d", hk.Name, hk.Port, s.Port)
	}
	if !strings.Contains(hk.Error(), want) || !strings.Contains(hk.Remedy(), "ssh-keygen -lf") {
		t.Errorf("Error %q / Remedy %q", hk.Error(), hk.Remedy())
	}
	if b, _ := os.ReadFile(s.KnownHosts); len(b) != 0 {
		t.Fatalf("known_hosts written before Accept: %q", b)
	}
	if err := hk.Accept(ctx); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(s.KnownHosts)
	if !strings.HasPrefix(string(b), fmt.Sprintf("[127.0.0.1]:%d ssh-ed25519 ", s.Port)) {
		t.Errorf("known_hosts after Accept: %q", b)
	}
	c, err := Open(ctx, Host{Name: sshtest.Alias}, Config{SSH: s.SSH()})
	if err != nil {
		t.Fatalf("Open after Accept: %v", err)
	}
	c.Close()
}

func TestChangedHostKeyIsRefused(t *testing.T) {
	s := sshtest.Start(t)
	other := filepath.Join(t.TempDir(), "other")
	sshtest.Keygen(t, other)
	pub, err := os.ReadFile(other + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(pub))
	old := fmt.Sprintf("[127.0.0.1]:%d %s %s\n", s.Port, f[0], f[1])
	if err := os.WriteFile(s.KnownHosts, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Open(testContext(t), Host{Name: sshtest.Alias}, Config{SSH: s.SSH()})
	var ch *HostKeyChangedError
	if !errors.As(err, &ch) {
		t.Fatalf("Open: %v, want a *HostKeyChangedError", err)
	}
	if ch.Fingerprint != s.Fingerprint(t) || ch.KnownHosts != s.KnownHosts || ch.Line != 1 {
		t.Errorf("%+v, want new key %s at %s:1", ch, s.Fingerprint(t), s.KnownHosts)
	}
	if !strings.Contains(ch.Remedy(), "ssh-keygen") {
		t.Errorf("Remedy %q", ch.Remedy())
	}
	if b, _ := os.ReadFile(s.KnownHosts); string(b) != old {
		t.Errorf("known_hosts changed: %q", b)
	}
}

func TestWrongKeyIsAnAuthError(t *testing.T) {
	s := sshtest.Start(t)
	key := filepath.Join(t.TempDir(), "stranger")
	sshtest.Keygen(t, key)
	cfg := filepath.Join(t.TempDir(), "ssh_config")
	s.WriteClientConfig(t, cfg, sshtest.Client{IdentityFile: key})
	_, err := Open(testContext(t), Host{Name: sshtest.Alias}, Config{SSH: []string{"ssh", "-F", cfg}})
	var ae *AuthError
	if !errors.As(err, &ae) {
		t.Fatalf("Open: %v, want an *AuthError", err)
	}
	if len(ae.Methods) == 0 || ae.Methods[0] != "publickey" || !strings.Contains(ae.Remedy(), "ssh-copy-id") {
		t.Errorf("%+v, remedy %q", ae, ae.Remedy())
	}
}

func TestClosedPortIsADialError(t *testing.T) {
	s := sshtest.Start(t)
	p, err := loopport.Reserve() // reserved, so nothing listens there
	if err != nil {
		t.Fatal(err)
	}
	defer p.Release()
	_, err = Open(testContext(t), Host{Name: sshtest.Alias, Port: p.Number}, Config{SSH: s.SSH()})
	var de *DialError
	if !errors.As(err, &de) || !strings.Contains(de.Reason, "Connection refused") {
		t.Fatalf("Open: %v, want a *DialError saying Connection refused", err)
	}
}

func TestHostileHostRunsNothing(t *testing.T) {
	s := sshtest.Start(t)
	planted := filepath.Join(t.TempDir(), "pwned")
	for _, h := range []Host{
		{Name: "-oProxyCommand=touch " + planted},
		{Name: "-oProxyCommand=touch" + planted},
		{Name: sshtest.Alias, User: "-oProxyCommand=touch" + planted},
		{Name: sshtest.Alias + " -oProxyCommand=touch " + planted},
	} {
		_, err := Open(testContext(t), h, Config{SSH: s.SSH()})
		var he *HostError
		if !errors.As(err, &he) {
			t.Errorf("Open(%+v): %v, want a *HostError", h, err)
		}
	}
	if _, err := os.Stat(planted); !os.IsNotExist(err) {
		t.Errorf("a refused host ran its command: %v", err)
	}
}

func TestSSHCommandComesFromTheEnvironment(t *testing.T) {
	s := sshtest.Start(t)
	t.Setenv(EnvSSH, "ssh -F "+s.ConfigFile)
	c, err := Open(testContext(t), Host{Name: sshtest.Alias}, Config{})
	if err != nil {
		t.Fatalf("Open with %s: %v", EnvSSH, err)
	}
	c.Close()
	t.Setenv(EnvSSH, "ssh -F '"+s.ConfigFile+"'")
	var se *SSHCommandError
	if _, err := Open(testContext(t), Host{Name: sshtest.Alias}, Config{}); !errors.As(err, &se) {
		t.Errorf("Open with quotes in %s: %v, want an *SSHCommandError", EnvSSH, err)
	}
}

func TestCloseRemovesTheControlFolderAndEndsTheMaster(t *testing.T) {
	s := sshtest.Start(t)
	c := open(t, s.SSH(), Config{})
	fi, err := os.Stat(c.dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("control folder %s: %v, mode %v; want 0700", c.dir, err, fi.Mode().Perm())
	}
	if len(c.sock) > 100 {
		t.Errorf("control socket path %q is %d bytes; macOS allows 104", c.sock, len(c.sock))
	}
	if _, err := os.Stat(c.sock); err != nil {
		t.Errorf("control socket: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
	default:
		t.Error("the master still runs after Close")
	}
	if err := c.master.Process.Signal(syscall.Signal(0)); !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("master process: %v, want it gone", err)
	}
	if _, err := os.Stat(c.dir); !os.IsNotExist(err) {
		t.Errorf("control folder after Close: %v", err)
	}
	if _, err := c.Run(testContext(t), []string{"true"}, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Run after Close: %v, want ErrClosed", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestAKilledMasterIsALostConnection(t *testing.T) {
	s := sshtest.Start(t)
	c := open(t, s.SSH(), Config{})
	if err := c.master.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-c.Done()
	if _, err := c.Run(testContext(t), []string{"true"}, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Run: %v, want ErrClosed", err)
	}
	if !errors.Is(c.Err(), ErrClosed) {
		t.Errorf("Err: %v", c.Err())
	}
}

func TestDialReachesAnHTTPServerFromTheServersSide(t *testing.T) {
	s := sshtest.Start(t)
	c := open(t, s.SSH(), Config{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s", r.Method, r.URL.Path)
	}))
	defer srv.Close()
	tr := &http.Transport{DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) { return c.Dial(ctx, addr) }}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: testTimeout}
	for i := range 3 { // the second and third reuse the connection
		resp, err := client.Get(srv.URL + "/path/" + strconv.Itoa(i))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := "GET /path/" + strconv.Itoa(i); string(b) != want {
			t.Errorf("body %q, want %q", b, want)
		}
	}
}

func TestDialToAClosedPortFailsOnRead(t *testing.T) {
	s := sshtest.Start(t)
	c := open(t, s.SSH(), Config{})
	p, err := loopport.Reserve()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Release()
	conn, err := c.Dial(testContext(t), p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(testTimeout))
	_, err = conn.Read(make([]byte, 1))
	var fe *ForwardError
	if !errors.As(err, &fe) || !strings.Contains(fe.Reason, "Connection refused") {
		t.Errorf("Read: %v, want a *ForwardError saying Connection refused", err)
	}
}

func TestDialDeadlinesAndCloseUnblockReads(t *testing.T) {
	s := sshtest.Start(t)
	c := open(t, s.SSH(), Config{})
	// A peer that accepts and never answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- conn
		}
	}()
	dial := func() net.Conn {
		conn, err := c.Dial(testContext(t), ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Write([]byte("hello")); err != nil {
			t.Fatal(err)
		}
		select {
		case peer := <-accepted:
			t.Cleanup(func() { peer.Close() })
		case <-time.After(testTimeout):
			t.Fatal("the Server never connected")
		}
		return conn
	}

	conn := dial()
	conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	_, err = conn.Read(make([]byte, 1))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("Read past the deadline: %v, want a timeout", err)
	}
	conn.Close()

	conn = dial()
	done := make(chan error, 1)
	go func() { _, err := conn.Read(make([]byte, 1)); done <- err }()
	conn.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("Read after Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("Close did not unblock Read")
	}
	if _, err := c.Dial(testContext(t), "-oProxyCommand=x:80"); err == nil {
		t.Error("Dial accepted a host starting with -")
	}
	if _, err := c.Dial(testContext(t), "127.0.0.1:0"); err == nil {
		t.Error("Dial accepted port 0")
	}
}

func TestSudoWithAPasswordAsAnAdminAccount(t *testing.T) {
	s := sshtest.Start(t)
	u := s.NewSudoUser(t)
	c := open(t, []string{"ssh", "-F", u.ConfigFile}, Config{})
	ctx := testContext(t)
	marker := filepath.Join(t.TempDir(), "written") // root-only folder: only root can write it

	// The password, then a script on standard input, run as root.
	script := "id -u; touch " + Quote(marker) + "; printf '%s' done\n"
	out, err := c.RunAsRoot(ctx, Sudo{Password: []byte(u.Password)}, []string{"/bin/sh", "-s"}, strings.NewReader(script))
	if err != nil || string(out.Stdout) != "0\ndone" {
		t.Fatalf("as root with the password: %q %q, %v", out.Stdout, out.Stderr, err)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("the script did not run as root: %v", err)
	}
	os.Remove(marker)

	// A wrong password runs nothing and says so.
	out, err = c.RunAsRoot(ctx, Sudo{Password: []byte("wrong" + u.Password)}, []string{"/bin/sh", "-s"}, strings.NewReader(script))
	var se *SudoError
	if !errors.As(err, &se) || se.Reason != SudoWrongPassword {
		t.Fatalf("wrong password: %v (stderr %q), want SudoWrongPassword", err, out.Stderr)
	}
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		t.Errorf("a wrong password ran the script: %v", err)
	}

	// Without one, sudo -n says it needs one instead of asking.
	_, err = c.RunAsRoot(ctx, Sudo{}, []string{"id", "-u"}, nil)
	if !errors.As(err, &se) || se.Reason != SudoNeedsPassword {
		t.Errorf("no password: %v, want SudoNeedsPassword", err)
	}
	if err != nil && strings.Contains(err.Error(), u.Password) {
		t.Errorf("the password is in an error: %v", err)
	}
}

// When sudo does not read the password (root here; NOPASSWD on a Mac), it
// must not reach the command: a script on sh -s would run it.
func TestSudoPasswordNeverReachesTheCommand(t *testing.T) {
	s := sshtest.Start(t)
	if os.Geteuid() != 0 {
		t.Skip("needs a root login, for which sudo asks no password")
	}
	if _, err := exec.LookPath("sudo"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("sudo is not installed; CI must install it")
		}
		t.Skip("sudo is not installed")
	}
	c := open(t, s.SSH(), Config{})
	const pw = "printf LEAKED"
	out, err := c.RunAsRoot(testContext(t), Sudo{Password: []byte(pw)}, []string{"/bin/sh", "-s"}, strings.NewReader("printf ok\n"))
	if err != nil || string(out.Stdout) != "ok" || strings.Contains(string(out.Stdout)+string(out.Stderr), "LEAKED") {
		t.Errorf("stdout %q stderr %q, %v; want just ok", out.Stdout, out.Stderr, err)
	}
	out, err = c.RunAsRoot(testContext(t), Sudo{}, []string{"id", "-u"}, nil)
	if err != nil || strings.TrimSpace(string(out.Stdout)) != "0" {
		t.Errorf("sudo -n as root: %q, %v", out.Stdout, err)
	}
}
