package sites

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/socketbar/socketbar/serverctl/apacheconf/loader"
)

// A site's certificate identity is read from Server.app's path, and from
// the same path below a folder standing for "/", as a demo tree writes it.
func TestCertIDFromTheCertificatePath(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"/etc/certificates/chat.example.com.ABC123.cert.pem", "chat.example.com.ABC123"},
		{"/home/me/.config/socket bar/demo/etc/certificates/chat.socketbar.test.cert.pem", "chat.socketbar.test"},
		{"/etc/ssl/certs/chat.pem", ""},
		{"/etc/certificates/sub/x.key.pem", ""},
	} {
		dir := t.TempDir()
		conf := filepath.Join(dir, "main.conf")
		// Custom sites are in an included file, as Server.app writes them.
		site := "<VirtualHost *:443>\nServerName chat.example.com:443\nSSLCertificateFile \"" + tc.file + "\"\n</VirtualHost>\n"
		if err := os.WriteFile(conf, []byte("<VirtualHost *:443>\n</VirtualHost>\nInclude /site.conf\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "site.conf"), []byte(site), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := loader.Load(context.Background(), conf, loader.Options{Root: dir})
		if err != nil {
			t.Fatal(err)
		}
		s := FromConfig(c).Lookup("chat.example.com")
		if s == nil {
			t.Fatalf("%s: no site chat.example.com", tc.file)
		}
		if s.CertID != tc.want {
			t.Errorf("%s: CertID %q, want %q", tc.file, s.CertID, tc.want)
		}
	}
}
