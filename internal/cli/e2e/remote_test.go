package e2e

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
}

// serveOverSSH copies the fixture of version into a folder every account
// may read (the sshd's login is not root when the test runs as root, as an
// admin's is not) and starts an sshd in front of it.
func serveOverSSH(t *testing.T, version string) *overSSH {
	t.Helper()
	root := servertest.ServeTree(t, version)
	s := sshtest.Start(t)
	cfg := s.ConfigFile
	if os.Geteuid() == 0 {
		cfg = s.NewSudoUser(t).ConfigFile
	}
	return &overSSH{Root: root, Conf: filepath.Join(root, servertest.ConfigPath), SSHD: s, Config: cfg,
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

// withoutService drops the lines about the Service Proxy's process, the
// one thing that differs: a pid file here, launchctl on the Server (which
// the tests' Linux sshd has not: unknown, and why).
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
	// The status over SSH says why the service's state is unknown.
	st := run(t, o.Env, "status", "--root", o.Root, "--host", sshtest.Alias)
	if !strings.Contains(st.stdout, "no /bin/launchctl") {
		t.Errorf("status over SSH does not say why the service's state is unknown:\n%s", st.stdout)
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

// A hostile host is refused before anything runs; the changing commands
// refuse --host and change nothing.
func TestHostileHostAndChangesOverSSHAreRefused(t *testing.T) {
	o := serveOverSSH(t, "5.3.1-sites")
	marker := filepath.Join(t.TempDir(), "x")
	for _, host := range []string{"-oProxyCommand=touch " + marker, "a;touch " + marker, "$(touch " + marker + ")"} {
		r := run(t, o.Env, "status", "--root", o.Root, "--host", host)
		if r.code != 2 || !strings.Contains(r.stderr, "--host") {
			t.Errorf("--host %q: exit %d, want 2 naming --host:\n%s", host, r.code, r.stderr)
		}
		if _, err := os.Stat(marker); err == nil {
			t.Fatalf("--host %q ran a command", host)
		}
	}
	before := readFile(t, o.Conf)
	for _, args := range [][]string{
		{"add", "/chat/", "ws://127.0.0.1:8000/chat/"}, {"add", "--dry-run", "/chat/", "ws://127.0.0.1:8000/chat/"},
		{"remove", "/chat/"}, {"undo"}, {"reapply"}, {"restart"}, {"test", "--route", "/chat/"},
	} {
		r := run(t, o.Env, append(args, "--root", o.Root, "--host", sshtest.Alias)...)
		if r.code != 2 || !strings.Contains(r.stderr, "not available yet") || !strings.Contains(r.stderr, "Nothing was run on the Server or changed") {
			t.Errorf("%v --host: exit %d, want 2 saying it is not available yet:\n%s", args, r.code, r.stderr)
		}
	}
	if after := readFile(t, o.Conf); after != before {
		t.Error("a refused change changed the config")
	}
	if strings.Contains(o.SSHD.Log(), "Accepted") {
		t.Errorf("a refused command logged in:\n%s", o.SSHD.Log())
	}
}
