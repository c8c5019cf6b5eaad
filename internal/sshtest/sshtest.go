package sshtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/socketbar/socketbar/internal/loopport"
	"github.com/socketbar/socketbar/serverctl/demo/sshd"
)

// SSHD is where Debian's openssh-server (and macOS) put the daemon.
const SSHD = sshd.Path

// Alias is the name the client config gives the server.
const Alias = "sshtest"

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

	srv *sshd.Server
	log *boundedLog
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
	must(t, os.WriteFile(filepath.Join(dir, "sshd_config"), []byte(s.sshdConfig(t)), 0o644))
	s.WriteClientConfig(t, s.ConfigFile, Client{})
	s.Trust(t)
	s.start(t)
	return s
}

// Keygen writes a new ed25519 key pair at path and path.pub, with no
// passphrase.
func Keygen(t testing.TB, path string) {
	t.Helper()
	if err := sshd.Keygen(context.Background(), path, "sshtest"); err != nil {
		t.Fatalf("sshtest: %v", err)
	}
}

func (s *Server) sshdConfig(t testing.TB) string {
	t.Helper()
	// No AllowUsers: NewSudoUser's accounts log in with the same key.
	conf, err := sshd.Config{Port: s.Port, HostKey: strings.TrimSuffix(s.HostKey, ".pub"),
		AuthorizedKeys: filepath.Join(s.Dir, "authorized_keys"), PidFile: filepath.Join(s.Dir, "sshd.pid"),
		LogLevel: "VERBOSE"}.Text()
	must(t, err)
	return conf
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

func (s *Server) start(t testing.TB) {
	t.Helper()
	srv, err := sshd.Start(context.Background(), SSHD, filepath.Join(s.Dir, "sshd_config"), s.Port, s.log.WriteLine)
	if err != nil {
		t.Fatalf("sshtest: %v", err)
	}
	s.srv = srv
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("sshd's log:\n%s", s.Log())
		}
	})
}

// stop ends sshd and the sessions it forked.
func (s *Server) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s.srv.Stop(ctx)
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
