package sshtest

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// SudoUser is an account made for one test: it logs in with the server's
// client key and may run anything as root through sudo with Password, as
// an admin on a Mac does.
type SudoUser struct {
	Name, Password string
	// Home is the account's home folder, below the server's Dir.
	Home string
	// ConfigFile is an ssh_config like the server's, logging in as Name.
	ConfigFile string
}

// sudoGroup is the group Debian's /etc/sudoers lets run anything with a
// password ("%sudo ALL=(ALL:ALL) ALL").
const sudoGroup = "sudo"

// NewSudoUser adds a system account with a random name and password in
// the sudo group, and deletes it when the test ends. It needs root,
// useradd, chpasswd and sudo; without them the test is skipped, and fails
// under CI, which runs as root and installs sudo.
func (s *Server) NewSudoUser(t testing.TB) SudoUser {
	t.Helper()
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root (to add a user)")
	}
	for _, tool := range []string{"useradd", "usermod", "userdel", "chpasswd", "sudo"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if _, err := user.LookupGroup(sudoGroup); err != nil {
		missing = append(missing, "the "+sudoGroup+" group")
	}
	if len(missing) > 0 {
		msg := "sshtest: a sudo user needs " + strings.Join(missing, ", ") + " (apt-get install sudo passwd)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg + "; CI runs as root and must install them")
		}
		t.Skip(msg)
	}
	u := SudoUser{Name: "sbt" + randomHex(t, 5), Password: randomHex(t, 12)}
	home := filepath.Join(s.Dir, "home-"+u.Name)
	u.Home = home
	run(t, nil, "useradd", "--no-create-home", "--home-dir", home, "--shell", "/bin/sh", "--groups", sudoGroup, u.Name)
	t.Cleanup(func() {
		// sudo's time stamps are per user; a later account of the same
		// name must not inherit them.
		os.RemoveAll(filepath.Join("/run/sudo/ts", u.Name))
		// The account's sessions end with sshd; -f deletes it even if one
		// of their processes has not yet exited.
		s.stop()
		if out, err := exec.Command("userdel", "-f", u.Name).CombinedOutput(); err != nil {
			t.Errorf("sshtest: userdel %s: %v: %s", u.Name, err, out)
		}
	})
	run(t, strings.NewReader(u.Name+":"+u.Password+"\n"), "chpasswd")
	acct, err := user.Lookup(u.Name)
	must(t, err)
	uid, _ := strconv.Atoi(acct.Uid)
	gid, _ := strconv.Atoi(acct.Gid)
	must(t, os.Mkdir(home, 0o755))
	must(t, os.Chown(home, uid, gid))
	// The test's ssh runs as root and logs in as the account with the
	// server's client key, which authorized_keys lets in for every account.
	u.ConfigFile = filepath.Join(s.Dir, "ssh_config-"+u.Name)
	s.WriteClientConfig(t, u.ConfigFile, Client{User: u.Name})
	return u
}

// WriteBashrc makes bash the account's login shell and text its
// ~/.bashrc, which bash runs for every command sshd starts (Debian's and
// Apple's bash alike read it when started by sshd), as an admin's
// greeting or a slow command there would run before Socketbar's.
func (u SudoUser) WriteBashrc(t testing.TB, text string) {
	t.Helper()
	run(t, nil, "usermod", "--shell", "/bin/bash", u.Name)
	u.WriteFile(t, ".bashrc", text, 0o644)
}

// WriteFile writes a file of the account's at name below its home folder,
// owned by the account.
func (u SudoUser) WriteFile(t testing.TB, name, text string, perm os.FileMode) {
	t.Helper()
	acct, err := user.Lookup(u.Name)
	must(t, err)
	uid, _ := strconv.Atoi(acct.Uid)
	gid, _ := strconv.Atoi(acct.Gid)
	p := filepath.Join(u.Home, name)
	must(t, os.WriteFile(p, []byte(text), perm))
	must(t, os.Chown(p, uid, gid))
}

func run(t testing.TB, stdin *strings.Reader, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	if stdin != nil {
		cmd.Stdin = stdin
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sshtest: %s: %v: %s", name, err, out)
	}
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("sshtest: %v", err)
	}
	return hex.EncodeToString(b)
}
