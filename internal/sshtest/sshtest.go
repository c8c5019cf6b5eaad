package sshtest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/socketbar/socketbar/internal/loopport"
)

// SSHD is where Debian's openssh-server (and macOS) put the daemon.
const SSHD = "/usr/sbin/sshd"

// Alias is the name the client config gives the server.
const Alias = "sshtest"

// startTimeout bounds how long sshd may take to say it listens.
const startTimeout = 20 * time.Second

// Server is a running sshd on 127.0.0.1 and the files to reach it.
type Server struct {
	// Dir holds every file below; it is removed on cleanup.
	Dir string
	// Port is the loopback port sshd listens on.
	Port int
	// ConfigFile is an ssh_config naming the server Alias, for ssh -F:
	// HostName, Port, the login User, IdentityFile and UserKnownHostsFile
	// are set, so the account's ~/.ssh is never read.
	ConfigFile string
	// User is the login name ConfigFile uses: the account running the test.
	User string
	// HostKey is the server's public host key (an OpenSSH .pub file).
	HostKey string
	// ClientKey is the private key authorized_keys lets in.
	ClientKey string
	// KnownHosts is ConfigFile's UserKnownHostsFile. Start writes the host
	// key into it; tests of unknown or changed keys rewrite it.
	KnownHosts string

	cmd      *exec.Cmd
	done     chan struct{}
	log      *boundedLog
	stopOnce sync.Once
}

// Require skips the test when sshd or ssh-keygen is missing, and fails it
// instead under CI, which installs them.
func Require(t testing.TB) {
	t.Helper()
	var missing []string
	if _, err := os.Stat(SSHD); err != nil {
		missing = append(missing, SSHD+" (openssh-server)")
	}
	for _, tool := range []string{"ssh", "ssh-keygen"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool+" (openssh-client)")
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := fmt.Sprintf("sshtest: %s not installed (apt-get install openssh-server openssh-client, or .dev/setup.sh)", strings.Join(missing, " and "))
	if os.Getenv("CI") != "" {
		t.Fatal(msg + "; CI must install them")
	}
	t.Skip(msg)
}

// Start runs a new sshd for the test and stops it, and removes its files,
// when the test ends. The host key is already trusted in KnownHosts.
func Start(t testing.TB) *Server {
	t.Helper()
	Require(t)
	me, err := user.Current()
	if err != nil {
		t.Fatalf("sshtest: %v", err)
	}
	// Not t.TempDir: its parents are 0700, and a second account the test
	// logs in as (NewSudoUser) must read authorized_keys, which sshd opens
	// with that account's rights. os.MkdirTemp's folder is made 0755 here.
	dir, err := os.MkdirTemp("", "sshtest-")
	if err != nil {
		t.Fatalf("sshtest: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	must(t, os.Chmod(dir, 0o755))
	s := &Server{
		Dir:        dir,
		User:       me.Username,
		HostKey:    filepath.Join(dir, "ssh_host_ed25519_key.pub"),
		ClientKey:  filepath.Join(dir, "client_ed25519"),
		KnownHosts: filepath.Join(dir, "known_hosts"),
		ConfigFile: filepath.Join(dir, "ssh_config"),
		done:       make(chan struct{}),
		log:        &boundedLog{max: 256 << 10},
	}
	Keygen(t, strings.TrimSuffix(s.HostKey, ".pub"))
	Keygen(t, s.ClientKey)
	pub, err := os.ReadFile(s.ClientKey + ".pub")
	must(t, err)
	must(t, os.WriteFile(filepath.Join(dir, "authorized_keys"), pub, 0o644))
	if os.Geteuid() == 0 {
		// Debian's sshd refuses to start without its privilege separation
		// folder, which the package's service unit makes at boot.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			t.Fatalf("sshtest: %v", err)
		}
	}
	p, err := loopport.Reserve()
	if err != nil {
		t.Fatalf("sshtest: %v", err)
	}
	defer p.Release()
	s.Port = p.Number
	must(t, os.WriteFile(filepath.Join(dir, "sshd_config"), []byte(s.sshdConfig()), 0o644))
	s.WriteClientConfig(t, s.ConfigFile, Client{})
	s.Trust(t)
	s.start(t)
	return s
}

// Keygen writes a new ed25519 key pair at path and path.pub, with no
// passphrase.
func Keygen(t testing.TB, path string) {
	t.Helper()
	out, err := exec.Command("ssh-keygen", "-q", "-N", "", "-t", "ed25519", "-C", "sshtest", "-f", path).CombinedOutput()
	if err != nil {
		t.Fatalf("sshtest: ssh-keygen: %v: %s", err, out)
	}
}

func (s *Server) sshdConfig() string {
	return strings.Join([]string{
		"ListenAddress 127.0.0.1:" + strconv.Itoa(s.Port),
		"HostKey " + strings.TrimSuffix(s.HostKey, ".pub"),
		"PidFile none",
		"AuthorizedKeysFile " + filepath.Join(s.Dir, "authorized_keys"),
		"PubkeyAuthentication yes",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		// Tests run as root in CI; key login only.
		"PermitRootLogin prohibit-password",
		// The files live in a temporary folder whose owner and modes
		// StrictModes would judge; they are made for this test alone.
		"StrictModes no",
		"UsePAM no",
		"PrintMotd no",
		"PrintLastLog no",
		"AllowTcpForwarding yes",
		"AllowAgentForwarding no",
		"X11Forwarding no",
		"LogLevel VERBOSE",
		"",
	}, "\n")
}

// Client is what WriteClientConfig writes; empty fields take the server's.
type Client struct {
	User         string
	IdentityFile string
	KnownHosts   string
}

// WriteClientConfig writes an ssh_config at path for reaching the server as
// Alias with c's login, key and known_hosts file.
func (s *Server) WriteClientConfig(t testing.TB, path string, c Client) {
	t.Helper()
	if c.User == "" {
		c.User = s.User
	}
	if c.IdentityFile == "" {
		c.IdentityFile = s.ClientKey
	}
	if c.KnownHosts == "" {
		c.KnownHosts = s.KnownHosts
	}
	conf := strings.Join([]string{
		"Host " + Alias,
		"  HostName 127.0.0.1",
		"  Port " + strconv.Itoa(s.Port),
		"  User " + c.User,
		"  IdentityFile " + c.IdentityFile,
		"  IdentitiesOnly yes",
		"  IdentityAgent none",
		"  UserKnownHostsFile " + c.KnownHosts,
		"  GlobalKnownHostsFile /dev/null",
		"  HashKnownHosts no",
		"  PasswordAuthentication no",
		"  KbdInteractiveAuthentication no",
		"",
	}, "\n")
	must(t, os.WriteFile(path, []byte(conf), 0o644))
}

// SSH is the ssh command line that uses ConfigFile, for SOCKETBAR_SSH.
func (s *Server) SSH() []string { return []string{"ssh", "-F", s.ConfigFile} }

// KnownHostsLine is the host key as a known_hosts line for the server's
// address ("[127.0.0.1]:PORT ssh-ed25519 AAAA…").
func (s *Server) KnownHostsLine(t testing.TB) string {
	t.Helper()
	pub, err := os.ReadFile(s.HostKey)
	must(t, err)
	f := strings.Fields(string(pub))
	if len(f) < 2 {
		t.Fatalf("sshtest: %s: not a public key", s.HostKey)
	}
	return fmt.Sprintf("[127.0.0.1]:%d %s %s\n", s.Port, f[0], f[1])
}

// Trust writes KnownHosts with the server's host key alone.
func (s *Server) Trust(t testing.TB) {
	t.Helper()
	must(t, os.WriteFile(s.KnownHosts, []byte(s.KnownHostsLine(t)), 0o600))
}

// Fingerprint is ssh-keygen's SHA256 fingerprint of the host key
// ("SHA256:…").
func (s *Server) Fingerprint(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("ssh-keygen", "-l", "-E", "sha256", "-f", s.HostKey).CombinedOutput()
	if err != nil {
		t.Fatalf("sshtest: ssh-keygen -l: %v: %s", err, out)
	}
	f := strings.Fields(string(out))
	if len(f) < 2 || !strings.HasPrefix(f[1], "SHA256:") {
		t.Fatalf("sshtest: ssh-keygen -l printed %q", out)
	}
	return f[1]
}

// Log is what sshd has logged so far (the last 256 KiB).
func (s *Server) Log() string { return s.log.String() }

// PID is the listening sshd's process id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

func (s *Server) start(t testing.TB) {
	t.Helper()
	cmd := exec.Command(SSHD, "-D", "-e", "-f", filepath.Join(s.Dir, "sshd_config"))
	stderr, err := cmd.StderrPipe()
	must(t, err)
	if err := cmd.Start(); err != nil {
		t.Fatalf("sshtest: start sshd: %v", err)
	}
	s.cmd = cmd
	listening := make(chan struct{})
	go func() {
		defer close(s.done)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 4096), 64<<10)
		said := false
		for sc.Scan() {
			s.log.WriteLine(sc.Text())
			if !said && strings.HasPrefix(sc.Text(), "Server listening on 127.0.0.1 port "+strconv.Itoa(s.Port)) {
				said = true
				close(listening)
			}
		}
		io.Copy(io.Discard, stderr)
		cmd.Wait()
	}()
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("sshd's log:\n%s", s.Log())
		}
	})
	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case <-listening:
	case <-s.done:
		t.Fatalf("sshtest: sshd exited before listening:\n%s", s.Log())
	case <-timer.C:
		t.Fatalf("sshtest: sshd did not listen within %v:\n%s", startTimeout, s.Log())
	}
}

// stop ends the listener and the per-connection sshd processes it forked
// (each calls setsid, so they leave its process group and would outlive it).
func (s *Server) stop() { s.stopOnce.Do(s.stopNow) }

func (s *Server) stopNow() {
	children := childrenOf(s.cmd.Process.Pid)
	s.cmd.Process.Signal(syscall.SIGTERM)
	for _, pid := range children {
		syscall.Kill(pid, syscall.SIGTERM)
	}
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	select {
	case <-s.done:
	case <-timer.C:
		s.cmd.Process.Kill()
		<-s.done
	}
}

// childrenOf lists pid's child processes where /proc tells them (Linux);
// elsewhere it finds none.
func childrenOf(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var kids []int
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			kids = append(kids, n)
		}
	}
	return kids
}

// Connect checks that ssh -F ConfigFile Alias logs in, for tests that want
// to know the harness works before blaming the code under test.
func (s *Server) Connect(ctx context.Context) error {
	cmd := exec.CommandContext(ctx, "ssh", "-F", s.ConfigFile, "-o", "BatchMode=yes", Alias, "true")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("sshtest: ssh %s true: %w: %s", Alias, err, out)
	}
	return nil
}

// Addr is the server's address, 127.0.0.1:PORT.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

// boundedLog keeps the last max bytes of sshd's log lines.
type boundedLog struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (l *boundedLog) WriteLine(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, line...)
	l.buf = append(l.buf, '\n')
	if over := len(l.buf) - l.max; over > 0 {
		l.buf = append(l.buf[:0], l.buf[over:]...)
	}
}

func (l *boundedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.buf)
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("sshtest: %v", err)
	}
}
