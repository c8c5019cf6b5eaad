package tlscert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/socketbar/socketbar/internal/pkgerr"
)

// Spec describes a certificate to make.
type Spec struct {
	// CommonName is the subject's name (default: the first of Names).
	CommonName string
	// Organization is the subject's organization (default: none).
	Organization string
	// Names are the DNS names and IP addresses the certificate is for;
	// IP addresses go in the IP SANs, the rest in the DNS SANs.
	Names []string
	// NotBefore and NotAfter bound its validity (default for NotBefore:
	// an hour ago, for clocks that differ a little).
	NotBefore, NotAfter time.Time
}

// Generate makes a new ECDSA P-256 key and a self-signed server
// certificate for spec, both PEM-encoded.
func Generate(spec Spec) (certPEM, keyPEM []byte, err error) {
	if len(spec.Names) == 0 {
		return nil, nil, errorf("a certificate needs at least one name")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, errorf("generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	if err != nil {
		return nil, nil, errorf("serial number: %w", err)
	}
	subject := pkix.Name{CommonName: spec.CommonName}
	if subject.CommonName == "" {
		subject.CommonName = spec.Names[0]
	}
	if spec.Organization != "" {
		subject.Organization = []string{spec.Organization}
	}
	notBefore := spec.NotBefore
	if notBefore.IsZero() {
		notBefore = time.Now().Add(-time.Hour)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      subject,
		NotBefore:    notBefore,
		NotAfter:     spec.NotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range spec.Names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, errorf("create certificate: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, errorf("encode key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), nil
}

// Write makes a certificate for spec and saves it to certFile (0644) and
// its key to keyFile (0600); see WriteFile for how.
func Write(certFile, keyFile string, spec Spec) error {
	certPEM, keyPEM, err := Generate(spec)
	if err != nil {
		return err
	}
	if err := WriteFile(keyFile, keyPEM, 0o600); err != nil {
		return err
	}
	return WriteFile(certFile, certPEM, 0o644)
}

// WriteFile replaces the file at name with data and mode perm. It refuses
// a name that is anything but a regular file (a symbolic link planted
// there is not followed), and writes a new file beside it that is renamed
// over the old one, so the old file's mode (say a key left 0644) never
// carries over and a reader never sees half a key.
func WriteFile(name string, data []byte, perm fs.FileMode) error {
	if fi, err := os.Lstat(name); err == nil && !fi.Mode().IsRegular() {
		return errorf("%s is not a regular file (%s); remove it to let a new one be written", name, fi.Mode().Type())
	}
	// CreateTemp opens with O_EXCL and mode 0600, so nothing can be
	// written through a link and nobody else can open the file meanwhile.
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return errorf("write %s: %w", name, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	err = errors.Join(err, f.Chmod(perm), f.Sync(), f.Close())
	if err == nil {
		err = os.Rename(tmp, name)
	}
	if err != nil {
		os.Remove(tmp)
		return errorf("write %s: %w", name, err)
	}
	return nil
}

// LooseMode reports whether a private key file's mode lets users other
// than its owner read or write it.
func LooseMode(m fs.FileMode) bool { return m.Perm()&0o077 != 0 }

// errorf is fmt.Errorf for this package's own errors: their Error() names
// the package for logs, and pkgerr.Text gives people the message without it.
func errorf(format string, args ...any) error { return pkgerr.Errorf("tlscert", format, args...) }
