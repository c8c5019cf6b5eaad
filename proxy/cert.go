package proxy

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"time"

	"github.com/socketbar/socketbar/proxy/tlscert"
)

// SelfSignedCert returns the test proxy's certificate from dir
// (serve-cert.pem, serve-key.pem), creating it on first use and again when
// it has expired or cannot be read. It names localhost, 127.0.0.1, ::1 and
// this machine's host name, and lasts a year; created reports a new one, so
// the caller can tell the person to trust it once.
//
// A key file other users could read is not reused: the key may have
// leaked, so a new one is made (0600, in a folder created 0700). A key or
// certificate path that is not a regular file, such as a symbolic link
// someone planted, is refused rather than written through.
func SelfSignedCert(dir string, now time.Time) (cert tls.Certificate, certFile string, created bool, err error) {
	certFile, keyFile := filepath.Join(dir, "serve-cert.pem"), filepath.Join(dir, "serve-key.pem")
	if fi, err := os.Lstat(keyFile); err == nil && fi.Mode().IsRegular() && !tlscert.LooseMode(fi.Mode()) {
		if c, err := tls.LoadX509KeyPair(certFile, keyFile); err == nil {
			if leaf, err := x509.ParseCertificate(c.Certificate[0]); err == nil && now.Before(leaf.NotAfter.Add(-24*time.Hour)) {
				return c, certFile, false, nil
			}
		}
	}
	names := []string{"localhost"}
	if h, err := os.Hostname(); err == nil && h != "" && h != "localhost" {
		names = append(names, h)
	}
	names = append(names, "127.0.0.1", "::1")
	certPEM, keyPEM, err := tlscert.Generate(tlscert.Spec{
		CommonName:   "Socketbar test proxy",
		Organization: "Socketbar",
		Names:        names,
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(1, 0, 0),
	})
	if err != nil {
		return cert, "", false, errorf("%w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return cert, "", false, errorf("create %s: %w", dir, err)
	}
	if err := tlscert.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		return cert, "", false, errorf("save the certificate's key: %w", err)
	}
	if err := tlscert.WriteFile(certFile, certPEM, 0o644); err != nil {
		return cert, "", false, errorf("save the certificate: %w", err)
	}
	cert, err = tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return cert, "", false, errorf("load the new certificate: %w", err)
	}
	return cert, certFile, true, nil
}
