package sshd_test

import (
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/socketbar/socketbar/internal/loopport"
	"github.com/socketbar/socketbar/internal/sshtest"
	"github.com/socketbar/socketbar/serverctl/demo/sshd"
	"github.com/socketbar/socketbar/serverctl/servertest"
)

// Values ssh or sshd would read as something else are refused, naming
// the field; nothing is quoted wrongly.
func TestConfigRefusesWhatSSHWouldMisread(t *testing.T) {
	good := sshd.Config{Port: 2222, HostKey: "/d/host", AuthorizedKeys: "/d/keys", PidFile: "/d/pid", AllowUsers: []string{"ann"}}
	if _, err := good.Text(); err != nil {
		t.Fatalf("a plain config: %v", err)
	}
	for _, tc := range []struct {
		name, want string
		edit       func(*sshd.Config)
	}{
		{"newline in a path", "host key", func(c *sshd.Config) { c.HostKey = "/d/host\nPermitRootLogin yes" }},
		{"quote in a path", "authorized_keys", func(c *sshd.Config) { c.AuthorizedKeys = `/d/"keys` }},
		{"backslash", "pid file", func(c *sshd.Config) { c.PidFile = `/d/pi\d` }},
		{"token", "authorized_keys", func(c *sshd.Config) { c.AuthorizedKeys = "/home/%u/keys" }},
		{"relative", "host key", func(c *sshd.Config) { c.HostKey = "host" }},
		{"user pattern", "login name", func(c *sshd.Config) { c.AllowUsers = []string{"*"} }},
		{"two users in one", "login name", func(c *sshd.Config) { c.AllowUsers = []string{"ann bob"} }},
		{"user at host", "login name", func(c *sshd.Config) { c.AllowUsers = []string{"ann@10.0.0.1"} }},
	} {
		c := good
		tc.edit(&c)
		if text, err := c.Text(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error naming %q; wrote:\n%s", tc.name, err, tc.want, text)
		}
	}
	client := sshd.Client{Alias: "demo", Port: 2222, User: "ann", IdentityFile: "/d/key", KnownHosts: "/d/known"}
	for _, tc := range []struct {
		name string
		edit func(*sshd.Client)
	}{
		{"alias with a space", func(c *sshd.Client) { c.Alias = "a b" }},
		{"alias pattern", func(c *sshd.Client) { c.Alias = "*" }},
		{"newline in the user", func(c *sshd.Client) { c.User = "ann\nProxyCommand touch x" }},
		{"newline in the key", func(c *sshd.Client) { c.IdentityFile = "/d/key\nProxyCommand touch x" }},
		{"token in known_hosts", func(c *sshd.Client) { c.KnownHosts = "/d/%h" }},
	} {
		c := client
		tc.edit(&c)
		if text, err := c.Text(); err == nil {
			t.Errorf("%s: accepted:\n%s", tc.name, text)
		}
	}
}

// The configs are read back by the real ssh and sshd as written, folders
// with spaces included, and they let in the one account with the key:
// sshd -t checks the server's, ssh -G prints what the client's sets.
func TestConfigsAreReadByTheRealSSHAsWritten(t *testing.T) {
	sshtest.Require(t)
	dir := filepath.Join(t.TempDir(), "Application Support")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	host, client := filepath.Join(dir, "host key"), filepath.Join(dir, "client key")
	for _, k := range []string{host, client} {
		if err := sshd.Keygen(ctx, k, "test"); err != nil {
			t.Fatal(err)
		}
	}
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	srvConf, err := sshd.Config{Port: 2222, HostKey: host, AuthorizedKeys: filepath.Join(dir, "authorized keys"),
		PidFile: filepath.Join(dir, "sshd pid"), AllowUsers: []string{me.Username}}.Text()
	if err != nil {
		t.Fatal(err)
	}
	srvFile := filepath.Join(dir, "sshd config")
	if err := os.WriteFile(srvFile, []byte(srvConf), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(sshd.Path, "-T", "-f", srvFile).CombinedOutput()
	if err != nil {
		t.Fatalf("sshd -T: %v\n%s", err, out)
	}
	for _, want := range []string{"hostkey " + host, "authorizedkeysfile " + filepath.Join(dir, "authorized keys"),
		"allowusers " + me.Username, "passwordauthentication no", "pidfile " + filepath.Join(dir, "sshd pid")} {
		if !strings.Contains(string(out), "\n"+want+"\n") {
			t.Errorf("sshd -T has no %q", want)
		}
	}
	cliConf, err := sshd.Client{Alias: "demo", Port: 2222, User: me.Username, IdentityFile: client, KnownHosts: filepath.Join(dir, "known hosts")}.Text()
	if err != nil {
		t.Fatal(err)
	}
	cliFile := filepath.Join(dir, "ssh config")
	if err := os.WriteFile(cliFile, []byte(cliConf), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command("ssh", "-G", "-F", cliFile, "demo").CombinedOutput()
	if err != nil {
		t.Fatalf("ssh -G: %v\n%s", err, out)
	}
	for _, want := range []string{"hostname 127.0.0.1", "port 2222", "user " + me.Username, "identityfile " + client,
		"userknownhostsfile " + filepath.Join(dir, "known hosts"), "hostkeyalias demo", "stricthostkeychecking true"} {
		if !strings.Contains(string(out), "\n"+want+"\n") {
			t.Errorf("ssh -G has no %q:\n%s", want, out)
		}
	}
}

// Stop ends sshd and the session it runs; the port is closed after.
func TestStopEndsSSHDAndItsSessions(t *testing.T) {
	sshtest.Require(t)
	srv, sshConf, pidFile := start(t)
	sess := exec.Command("ssh", "-F", sshConf, "-o", "BatchMode=yes", "demo", "echo in; exec sleep 600")
	stdout, err := sess.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Start(); err != nil {
		t.Fatal(err)
	}
	defer sess.Process.Kill()
	buf := make([]byte, 3)
	if _, err := io.ReadFull(stdout, buf); err != nil || string(buf) != "in\n" {
		t.Fatalf("the session did not start: %q %v\n%s", buf, err, srv.Log())
	}
	pid := readPid(t, pidFile)
	ended := make(chan error, 1)
	go func() { ended <- sess.Wait() }()
	ctx, cancel := context.WithTimeout(context.Background(), servertest.Within)
	defer cancel()
	if err := srv.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-srv.Done():
	default:
		t.Error("Stop returned before the watchdog ended")
	}
	gone(t, pid, srv.Port)
	select {
	case <-ended:
	case <-time.After(servertest.Within):
		t.Fatal("the session still runs after Stop")
	}
}

// start runs an sshd for the account running the test, and returns it,
// an ssh_config that reaches it as "demo", and its pid file.
func start(t *testing.T) (srv *sshd.Server, sshConf, pidFile string) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	host, client := filepath.Join(dir, "host"), filepath.Join(dir, "client")
	for _, k := range []string{host, client} {
		if err := sshd.Keygen(ctx, k, "test"); err != nil {
			t.Fatal(err)
		}
	}
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	port, err := loopport.Reserve()
	if err != nil {
		t.Fatal(err)
	}
	defer port.Release()
	pidFile = filepath.Join(dir, "sshd.pid")
	conf, err := sshd.Config{Port: port.Number, HostKey: host, AuthorizedKeys: filepath.Join(dir, "authorized_keys"),
		PidFile: pidFile, AllowUsers: []string{me.Username}}.Text()
	if err != nil {
		t.Fatal(err)
	}
	sshConf = filepath.Join(dir, "ssh_config")
	cli, err := sshd.Client{Alias: "demo", Port: port.Number, User: me.Username, IdentityFile: client, KnownHosts: filepath.Join(dir, "known_hosts")}.Text()
	if err != nil {
		t.Fatal(err)
	}
	hostPub, _ := os.ReadFile(host + ".pub")
	known, err := sshd.KnownHostsLine("demo", hostPub)
	if err != nil {
		t.Fatal(err)
	}
	clientPub, _ := os.ReadFile(client + ".pub")
	for name, content := range map[string]string{"sshd_config": conf, "ssh_config": cli, "known_hosts": known, "authorized_keys": string(clientPub)} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if os.Geteuid() == 0 {
		os.MkdirAll("/run/sshd", 0o755)
	}
	srv, err = sshd.Start(ctx, sshd.Path, filepath.Join(dir, "sshd_config"), port.Number, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop(context.Background()) })
	return srv, sshConf, pidFile
}

// readPid reads a pid file sshd wrote.
func readPid(t *testing.T, file string) int {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// gone waits until process pid has ended and nothing listens on port.
func gone(t *testing.T, pid, port int) {
	t.Helper()
	servertest.Eventually(t, "sshd to end and its port to close", func() bool {
		if syscall.Kill(pid, 0) == nil && !zombie(pid) {
			return false
		}
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
		if err == nil {
			c.Close()
			return false
		}
		return true
	})
}

// zombie reports whether pid has ended and awaits its parent's wait.
func zombie(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(stat), ')')
	return i > 0 && strings.HasPrefix(string(stat[i+1:]), " Z")
}
