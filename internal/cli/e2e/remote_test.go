package e2e

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/socketbar/socketbar/internal/sshtest"
	"github.com/socketbar/socketbar/serverctl/servertest"
)

// overSSH is a Server tree served by a real sshd on loopback: Root is the
// tree (the same folder read here with --root and over SSH with --host),
// Env what makes the binary's ssh reach the sshd (SOCKETBAR_SSH with the
// sshd's ssh_config).
type overSSH struct {
	Root, Conf string
	SSHD       *sshtest.Server
	Config     string // the ssh_config that logs in
	Env        []string
	// User is the account the sshd logs in as when the test runs as root:
	// not root, with a sudo that asks its Password. Zero otherwise.
	User sshtest.SudoUser
}

// serveOverSSH copies the fixture of version into a folder every account
// may read (the sshd's login is not root when the test runs as root, as an
// admin's is not) and starts an sshd in front of it.
func serveOverSSH(t *testing.T, version string) *overSSH {
	t.Helper()
	root := servertest.ServeTree(t, version)
	s := sshtest.Start(t)
	cfg := s.ConfigFile
	var u sshtest.SudoUser
	if os.Geteuid() == 0 {
		u = s.NewSudoUser(t)
		cfg = u.ConfigFile
	}
	return &overSSH{Root: root, Conf: filepath.Join(root, servertest.ConfigPath), SSHD: s, Config: cfg, User: u,
		Env: []string{"SOCKETBAR_SSH=ssh -F " + cfg, "SOCKETBAR_HOST="}}
}

// readable makes the tree readable by every account, as a Server's config
// is (Socketbar's backups made as root here are 0700).
func (o *overSSH) readable(t *testing.T) {
	filepath.WalkDir(o.Root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			os.Chmod(p, 0o755)
		} else if fi, err := d.Info(); err == nil {
			os.Chmod(p, fi.Mode().Perm()|0o444)
		}
		return nil
	})
}

// withoutService drops the lines about the Service Proxy's process, which
// the other commands' comparisons leave to the status check below.
func withoutService(out string) string {
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "launchctl") || strings.HasPrefix(strings.TrimSpace(l), "Service") || strings.Contains(l, `"service`) {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}

// The read commands say the same over SSH as here, with the Server's
// paths: the sshd serves the very folder read here with --root.
func TestReadCommandsOverSSHSayWhatTheySayHere(t *testing.T) {
	o := serveOverSSH(t, "5.3.1-sites")
	// A change made here, for history to show.
	if r := run(t, nil, "add", "--root", o.Root, "--no-restart", "/chat/", "ws://127.0.0.1:8000/chat/"); r.code != 0 {
		t.Fatalf("add: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	o.readable(t)
	for _, args := range [][]string{
		{"status"}, {"status", "--json"}, {"routes"}, {"routes", "--json"}, {"lint"}, {"lint", "--json"}, {"history"}, {"history", "--json"},
	} {
		here := run(t, nil, append(args, "--root", o.Root)...)
		there := run(t, o.Env, append(args, "--root", o.Root, "--host", sshtest.Alias)...)
		name := strings.Join(args, " ")
		if there.code != here.code {
			t.Errorf("%s: exit %d over SSH, %d here\n%s", name, there.code, here.code, there.stderr)
		}
		if strings.Contains(there.stdout+there.stderr, "socketbar-mirror-") {
			t.Errorf("%s over SSH names the mirror:\n%s%s", name, there.stdout, there.stderr)
		}
		if a, b := withoutService(here.stdout), withoutService(there.stdout); a != b {
			t.Errorf("%s over SSH differs from here:\nhere:\n%s\nover SSH:\n%s", name, a, b)
		}
		if !strings.Contains(there.stdout, o.Root) && !strings.HasPrefix(name, "lint") {
			t.Errorf("%s over SSH does not name the Server's folder %s:\n%s", name, o.Root, there.stdout)
		}
	}
	// SOCKETBAR_HOST stands for --host.
	env := append(append([]string(nil), o.Env...), "SOCKETBAR_HOST="+sshtest.Alias)
	here := run(t, nil, "routes", "--json", "--root", o.Root)
	there := run(t, env, "routes", "--json", "--root", o.Root)
	if there.code != 0 || there.stdout != here.stdout {
		t.Errorf("routes with SOCKETBAR_HOST: exit %d\n%s%s", there.code, there.stdout, there.stderr)
	}
	// A tree over SSH has no launchd: the Service Proxy's state comes from
	// its pid file and the Server's processes, and reads as it does here.
	st := run(t, o.Env, "status", "--root", o.Root, "--host", sshtest.Alias)
	if hereSt := run(t, nil, "status", "--root", o.Root); st.stdout != hereSt.stdout {
		t.Errorf("status over SSH differs from here, service included:\nhere:\n%s\nover SSH:\n%s", hereSt.stdout, st.stdout)
	}
}

// An unknown host key: exit 1, the fingerprint and how to accept it, and
// known_hosts untouched.
func TestUnknownHostKeyIsShownNotAccepted(t *testing.T) {
	o := serveOverSSH(t, "5.3.1-sites")
	dir := t.TempDir()
	known := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(known, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "ssh_config")
	o.SSHD.WriteClientConfig(t, cfg, sshtest.Client{KnownHosts: known})
	r := run(t, []string{"SOCKETBAR_SSH=ssh -F " + cfg}, "status", "--root", o.Root, "--host", sshtest.Alias)
	if r.code != 1 || !strings.Contains(r.stderr, o.SSHD.Fingerprint(t)) || !strings.Contains(r.stderr, "answer yes") {
		t.Errorf("unknown host key: exit %d, want 1 with the fingerprint %s and how to accept it:\n%s", r.code, o.SSHD.Fingerprint(t), r.stderr)
	}
	if b, _ := os.ReadFile(known); len(b) != 0 {
		t.Errorf("known_hosts was written:\n%s", b)
	}
}

// A hostile host is refused before anything runs, and nothing logs in.
func TestHostileHostIsRefused(t *testing.T) {
	o := serveOverSSH(t, "5.3.1-sites")
	marker := filepath.Join(t.TempDir(), "x")
	for _, host := range []string{"-oProxyCommand=touch " + marker, "a;touch " + marker, "$(touch " + marker + ")"} {
		for _, args := range [][]string{{"status"}, {"add", "/chat/", "ws://127.0.0.1:8000/chat/"}, {"restart"}} {
			r := run(t, o.Env, append(args, "--root", o.Root, "--host", host)...)
			if r.code != 2 || !strings.Contains(r.stderr, "--host") {
				t.Errorf("%v --host %q: exit %d, want 2 naming --host:\n%s", args, host, r.code, r.stderr)
			}
			if _, err := os.Stat(marker); err == nil {
				t.Fatalf("--host %q ran a command", host)
			}
		}
	}
	if strings.Contains(o.SSHD.Log(), "Accepted") {
		t.Errorf("a refused command logged in:\n%s", o.SSHD.Log())
	}
}

// The changes over SSH with the real binary, on real Apache behind a real
// sshd, logged in as an admin whose sudo asks a password: a wrong password
// changes nothing and says so; add, history, undo and restart go through
// with the password on standard input, which is in no output; without a
// terminal or --password-stdin sudo's refusal says how to give it.
func TestChangesOverSSHWithTheBinary(t *testing.T) {
	tt := startTwoTier(t, "5.3.1")
	servertest.Readable(t, tt.site.Root)
	s := sshtest.Start(t)
	u := s.NewSudoUser(t)
	env := []string{"SOCKETBAR_SSH=ssh -F " + u.ConfigFile, "SOCKETBAR_HOST="}
	on := []string{"--root", tt.site.Root, "--host", sshtest.Alias}
	add := append(append([]string{"add", "/ws/", tt.backend.URL + "/ws/"}, tt.vhostFlags()...), on...)

	r := runWithInput(t, env, "not-the-password\n", append(add, "--password-stdin")...)
	if r.code != 1 || !strings.Contains(r.stderr, "refused the password") || !strings.Contains(r.stderr, "nothing was changed") {
		t.Errorf("wrong password: exit %d, want 1 saying so and that nothing changed:\n%s%s", r.code, r.stdout, r.stderr)
	}
	if readFile(t, tt.site.ConfigPath) != tt.original {
		t.Fatal("a wrong password changed the config")
	}
	r = runWithInput(t, env, "", add...)
	if r.code != 1 || !strings.Contains(r.stderr, "--password-stdin") {
		t.Errorf("no password to give: exit %d, want 1 saying how to give one:\n%s", r.code, r.stderr)
	}

	start := time.Now()
	r = runWithInput(t, env, u.Password+"\n", append(add, "--password-stdin")...)
	if r.code != 0 || !strings.Contains(r.stdout, "Restarted the Service Proxy") {
		t.Fatalf("add over SSH: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	t.Logf("socketbar add --host (new connection, proposal, sudo, transaction, restart, verify) took %v", time.Since(start).Round(time.Millisecond))
	tlsURL, plainURL := tt.urls("/ws/")
	for _, u := range []string{tlsURL, plainURL} {
		if err := wsRoundTrip(t, u); err != nil {
			t.Errorf("%s after add over SSH: %v", u, err)
		}
	}
	h := run(t, env, append([]string{"history"}, on...)...)
	if h.code != 0 || !strings.Contains(h.stdout, "add /ws/") || strings.Contains(h.stdout, "socketbar-mirror-") {
		t.Errorf("history over SSH: exit %d\n%s%s", h.code, h.stdout, h.stderr)
	}
	r = runWithInput(t, env, u.Password+"\n", append([]string{"restart", "--password-stdin"}, on...)...)
	if r.code != 0 {
		t.Errorf("restart over SSH: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runWithInput(t, env, u.Password+"\r\n", append([]string{"undo", "--password-stdin"}, on...)...)
	if r.code != 0 {
		t.Fatalf("undo over SSH: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if readFile(t, tt.site.ConfigPath) != tt.original {
		t.Error("after add and undo over SSH the config differs from the original")
	}
	if err := wsRoundTrip(t, tlsURL); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("after undo over SSH: %v; want the route gone", err)
	}
	for _, out := range []string{r.stdout, r.stderr, h.stdout, h.stderr} {
		if strings.Contains(out, u.Password) {
			t.Errorf("the password is in the output:\n%s", out)
		}
	}
}

// --password-stdin is for sudo on a Server over SSH: without --host, with
// a line that cannot be a password, or with nothing to read, the command
// stops with exit 2 naming the flag before anything runs, and the line
// read is in no output.
func TestPasswordStdinIsRefusedBeforeAnythingRuns(t *testing.T) {
	root, conf := serverCopy(t, "5.3.1")
	before := readFile(t, conf)
	const secret = "hunter2-e2e-secret"
	for _, tt := range []struct {
		name  string
		args  []string
		stdin string
		want  string
	}{
		{"add without --host", []string{"add", "/chat/", "ws://127.0.0.1:8000/chat/"}, secret + "\n", "there is no --host (or SOCKETBAR_HOST)"},
		{"remove without --host", []string{"remove", "/chat/"}, secret + "\n", "there is no --host"},
		{"undo without --host", []string{"undo"}, secret + "\n", "there is no --host"},
		{"reapply without --host", []string{"reapply"}, secret + "\n", "there is no --host"},
		{"restart without --host", []string{"restart"}, secret + "\n", "there is no --host"},
		{"an empty line", []string{"add", "--host", "server.invalid", "/chat/", "ws://127.0.0.1:8000/chat/"}, "\n", "the line read from standard input is empty"},
		{"nothing to read", []string{"restart", "--host", "server.invalid"}, "", "the line read from standard input is empty"},
		{"too long", []string{"reapply", "--host", "server.invalid"}, strings.Repeat(secret, 100) + "\n", "longer than 1024 bytes"},
		{"a NUL", []string{"undo", "--host", "server.invalid"}, secret + "\x00\n", "NUL"},
	} {
		r := runWithInput(t, nil, tt.stdin, append(tt.args, "--root", root, "--password-stdin")...)
		if r.code != 2 || !strings.Contains(r.stderr, "--password-stdin") || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%s: exit %d, want 2 naming --password-stdin and %q:\n%s", tt.name, r.code, tt.want, r.stderr)
		}
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Errorf("%s: the password is in the output:\n%s%s", tt.name, r.stdout, r.stderr)
		}
	}
	if readFile(t, conf) != before {
		t.Error("a refused command changed the config")
	}
	// Commands that never run sudo do not take it.
	if r := run(t, nil, "status", "--root", root, "--password-stdin"); r.code != 2 || !strings.Contains(r.stderr, "password-stdin") {
		t.Errorf("status --password-stdin: exit %d\n%s", r.code, r.stderr)
	}
}
