package proxy

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestSelfSignedCertReplacesLooseKey(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	if _, _, _, err := SelfSignedCert(dir, now); err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "serve-key.pem")
	// A key someone (or an older version) left readable by everyone.
	if err := os.Chmod(keyFile, 0o644); err != nil {
		t.Fatal(err)
	}
	old, _ := os.ReadFile(keyFile)
	_, _, created, err := SelfSignedCert(dir, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key mode = %v, want 0600", fi.Mode().Perm())
	}
	now2, _ := os.ReadFile(keyFile)
	if !created || string(now2) == string(old) {
		t.Error("a key others could read was reused instead of replaced")
	}
}

func TestSelfSignedCertModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "socketbar")
	if _, _, _, err := SelfSignedCert(dir, time.Now()); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, "serve-key.pem"): 0o600, filepath.Join(dir, "serve-cert.pem"): 0o644} {
		fi, err := os.Stat(name)
		if err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v %v, want %v", name, fi.Mode().Perm(), err, want)
		}
	}
}

func TestSelfSignedCertDoesNotWriteThroughLinks(t *testing.T) {
	for _, name := range []string{"serve-key.pem", "serve-cert.pem"} {
		t.Run(name, func(t *testing.T) {
			dir, elsewhere := t.TempDir(), t.TempDir()
			victim := filepath.Join(elsewhere, "victim")
			if err := os.WriteFile(victim, []byte("precious"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(victim, filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
			_, _, _, err := SelfSignedCert(dir, time.Now())
			if err == nil {
				t.Error("a planted link was accepted")
			}
			if b, _ := os.ReadFile(victim); string(b) != "precious" {
				t.Errorf("the link's target was overwritten: %.40q", b)
			}
			if fi, err := os.Lstat(filepath.Join(dir, name)); err != nil || fi.Mode()&os.ModeSymlink == 0 {
				t.Errorf("the link was removed or replaced: %v", err)
			}
		})
	}
}
