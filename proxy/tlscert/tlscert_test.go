package tlscert

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	// A loose key file from before must not keep its mode.
	if err := os.WriteFile(keyFile, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Write(certFile, keyFile, Spec{Names: []string{"example.test", "127.0.0.1"}, NotAfter: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(c.Certificate[0])
	if leaf.Subject.CommonName != "example.test" || leaf.VerifyHostname("127.0.0.1") != nil || leaf.VerifyHostname("example.test") != nil {
		t.Errorf("certificate: CN %q, DNS %v, IP %v", leaf.Subject.CommonName, leaf.DNSNames, leaf.IPAddresses)
	}
	for name, want := range map[string]os.FileMode{keyFile: 0o600, certFile: 0o644} {
		if fi, err := os.Stat(name); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v %v, want %v", name, fi.Mode().Perm(), err, want)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestWriteFileRefusesNonRegular(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("precious"), 0o644)
	link := filepath.Join(dir, "key.pem")
	if err := os.Symlink(victim, link); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(link, []byte("KEY"), 0o600); err == nil {
		t.Error("wrote to a symbolic link")
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Errorf("victim = %q", b)
	}
	if err := WriteFile(dir, []byte("KEY"), 0o600); err == nil {
		t.Error("wrote over a directory")
	}
}

func TestGenerateNeedsAName(t *testing.T) {
	if _, _, err := Generate(Spec{NotAfter: time.Now().Add(time.Hour)}); err == nil {
		t.Error("no error for a certificate without names")
	}
}
