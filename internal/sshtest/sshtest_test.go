package sshtest

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestStartLogsInWithTheConfigAlone(t *testing.T) {
	s := Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ssh", "-F", s.ConfigFile, "-o", "BatchMode=yes", Alias, "printf", "%s", "hello").CombinedOutput()
	if err != nil || string(out) != "hello" {
		t.Fatalf("ssh -F %s %s: %v: %q", s.ConfigFile, Alias, err, out)
	}
}

func TestStopRemovesEverything(t *testing.T) {
	var s *Server
	t.Run("inner", func(t *testing.T) {
		s = Start(t)
		if err := s.Connect(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
	if _, err := os.Stat(s.Dir); !os.IsNotExist(err) {
		t.Errorf("%s still there after cleanup: %v", s.Dir, err)
	}
	select {
	case <-s.srv.Done():
	default:
		t.Error("sshd still runs after cleanup")
	}
	if err := s.Connect(context.Background()); err == nil {
		t.Error("ssh still logs in after cleanup")
	}
}

func TestSudoUserLogsInAndSudoAsksForItsPassword(t *testing.T) {
	s := Start(t)
	u := s.NewSudoUser(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ssh := func(stdin string, args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "ssh", append([]string{"-F", u.ConfigFile, "-o", "BatchMode=yes", Alias}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := ssh("", "id", "-un"); err != nil || strings.TrimSpace(out) != u.Name {
		t.Fatalf("id -un as %s: %v: %q", u.Name, err, out)
	}
	if out, err := ssh("", "sudo", "-n", "id", "-u"); err == nil {
		t.Fatalf("sudo -n ran without a password: %q", out)
	}
	if out, err := ssh(u.Password+"\n", "sudo", "-S", "-k", "-p", "''", "id", "-u"); err != nil || strings.TrimSpace(out) != "0" {
		t.Fatalf("sudo -S with the password: %v: %q", err, out)
	}
}
