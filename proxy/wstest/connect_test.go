package wstest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/socketbar/socketbar/proxy/tlscert"
)

// seen is what a server saw of a test's connection.
type seen struct {
	mu        sync.Mutex
	sni, host []string
}

func (s *seen) add(sni, host string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sni != "-" {
		s.sni = append(s.sni, sni)
	}
	if host != "-" {
		s.host = append(s.host, host)
	}
}

// namedSite serves the echo over TLS on loopback with a certificate made
// by tlscert for name only, as a custom website's VirtualHost would, and
// records the SNI and the Host of every connection.
func namedSite(t *testing.T, name string) (addr string, roots *x509.CertPool, got *seen) {
	certPEM, keyPEM, err := tlscert.Generate(tlscert.Spec{Names: []string{name}, NotAfter: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	roots = x509.NewCertPool()
	roots.AppendCertsFromPEM(certPEM)
	got = &seen{}
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.add("-", r.Host)
		echoHandler().ServeHTTP(w, r)
	}))
	s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		got.add(hello.ServerName, "-")
		return nil, nil
	}}
	s.StartTLS()
	t.Cleanup(s.Close)
	return strings.TrimPrefix(s.URL, "https://"), roots, got
}

// The URL names a site that DNS does not know; the address given is
// dialled, and the name goes in SNI and Host, so the certificate for the
// name is verified and trusted.
func TestConnectDialsTheAddressAndSendsTheName(t *testing.T) {
	const name = "chat.example.com"
	for _, tt := range []struct {
		name, url, wantHost string
	}{
		{"default port", "wss://" + name + "/chat/stream/", name},
		{"port in the URL", "wss://" + name + ":8443/chat/stream/", name + ":8443"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			addr, roots, got := namedSite(t, name)
			r := Run(context.Background(), tt.url, Options{Connect: addr, RootCAs: roots, ExpectEcho: true, Timeout: 5 * time.Second})
			if !r.OK {
				t.Fatalf("%s: %+v\nsteps: %s", r.Diagnosis.Cause, r.Diagnosis, r.stepsText())
			}
			got.mu.Lock()
			defer got.mu.Unlock()
			if len(got.sni) != 1 || got.sni[0] != name {
				t.Errorf("SNI = %q, want [%s]", got.sni, name)
			}
			if len(got.host) != 1 || got.host[0] != tt.wantHost {
				t.Errorf("Host = %q, want [%s]", got.host, tt.wantHost)
			}
			if r.Connect != addr || r.Remote != addr {
				t.Errorf("report: connect %q, remote %q; want both %q", r.Connect, r.Remote, addr)
			}
			dns := stepNamed(r, StepDNS)
			if !dns.OK || !strings.HasPrefix(dns.Detail, "skipped") || !strings.Contains(dns.Detail, addr) || !strings.Contains(dns.Detail, name) {
				t.Errorf("dns step %+v; want it skipped, naming %s and %s", dns, addr, name)
			}
			b, _ := json.Marshal(r)
			var fields map[string]any
			json.Unmarshal(b, &fields)
			if fields["connect"] != addr {
				t.Errorf("JSON connect = %v, want %q", fields["connect"], addr)
			}
		})
	}
}

// A name given to connect to is looked up in the URL's stead.
func TestConnectToANameLooksThatNameUp(t *testing.T) {
	addr, roots, got := namedSite(t, "chat.example.com")
	_, port, _ := net.SplitHostPort(addr)
	r := Run(context.Background(), "wss://chat.example.com/ws", Options{Connect: "localhost:" + port, RootCAs: roots, Timeout: 5 * time.Second})
	dns := stepNamed(r, StepDNS)
	if !dns.OK || !strings.HasPrefix(dns.Detail, "localhost →") || !strings.Contains(dns.Detail, "chat.example.com") {
		t.Errorf("dns step %+v; want localhost looked up instead of chat.example.com", dns)
	}
	if !r.OK {
		t.Fatalf("%+v", r.Diagnosis)
	}
	got.mu.Lock()
	defer got.mu.Unlock()
	if len(got.sni) != 1 || got.sni[0] != "chat.example.com" {
		t.Errorf("SNI = %q", got.sni)
	}
}

// A bad address to connect to is refused before anything is dialled.
func TestRunRefusesABadConnectAddress(t *testing.T) {
	addr, accepted := countingListener(t)
	r := Run(context.Background(), "ws://"+addr+"/ws", Options{Connect: "::1:" + strings.Split(addr, ":")[1], Timeout: 2 * time.Second})
	if r.Diagnosis.Cause != CauseBadOption || len(r.Steps) != 0 || !strings.Contains(r.Diagnosis.Message, "brackets") {
		t.Errorf("cause %q (%s), steps %s; want %q, no steps", r.Diagnosis.Cause, r.Diagnosis.Message, stepNames(r), CauseBadOption)
	}
	if n := accepted.Load(); n != 0 {
		t.Errorf("%d connection(s) made", n)
	}
}
