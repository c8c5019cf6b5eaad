package wstest

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/socketbar/socketbar/serverctl/apachetest"
)

func echoHandler() http.Handler {
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return // gorilla has answered 400 with its reason
		}
		defer c.Close()
		for {
			kind, msg, err := c.ReadMessage()
			if err != nil || c.WriteMessage(kind, msg) != nil {
				return
			}
		}
	})
}

func wsURL(httpURL, path string) string {
	return "ws" + strings.TrimPrefix(httpURL, "http") + path
}

func stepNames(r *Report) string {
	var names []string
	for _, s := range r.Steps {
		mark := "ok"
		if !s.OK {
			mark = "FAIL"
		}
		names = append(names, s.Name+":"+mark)
	}
	return strings.Join(names, " ")
}

func TestHealthyEcho(t *testing.T) {
	srv := httptest.NewServer(echoHandler())
	defer srv.Close()
	r := Run(context.Background(), wsURL(srv.URL, "/ws"), Options{ExpectEcho: true, Timeout: 5 * time.Second})
	if !r.OK || r.Diagnosis.Cause != CauseOK {
		t.Fatalf("report: %+v", r)
	}
	if got := stepNames(r); got != "dns:ok tcp:ok upgrade:ok echo:ok ping:ok close:ok" {
		t.Errorf("steps = %s", got)
	}
	for _, s := range r.Steps {
		if s.MS < 0 || s.Detail == "" {
			t.Errorf("step %+v lacks timing or detail", s)
		}
	}
	if !strings.Contains(r.Steps[len(r.Steps)-1].Detail, "1000") {
		t.Errorf("close detail = %q", r.Steps[len(r.Steps)-1].Detail)
	}
}

// diagnosisCase is a real server on loopback and the cause it must produce.
func TestDiagnoses(t *testing.T) {
	otherName := tlsServer(t, "other.example", echoHandler())
	tests := []struct {
		name  string
		url   func(t *testing.T) string
		opts  Options
		cause string
		words string
	}{
		{"nothing listening", func(t *testing.T) string { return "ws://" + closedPort(t) + "/ws" }, Options{}, CauseRefused, "Nothing is listening"},
		{"silence", func(t *testing.T) string { return "ws://" + silentServer(t) + "/ws" }, Options{Timeout: 500 * time.Millisecond}, CauseTimeout, "Nothing came back"},
		{"certificate for another name", func(t *testing.T) string { return "wss://" + otherName.addr + "/ws" }, Options{RootCAs: otherName.pool}, CauseTLS, "it is for other.example, not 127.0.0.1"},
		{"untrusted certificate", func(t *testing.T) string { return "wss://" + otherName.addr + "/ws" }, Options{}, CauseTLS, "self-signed"},
		{"plain HTTP on a wss URL", func(t *testing.T) string {
			s := httptest.NewServer(echoHandler())
			t.Cleanup(s.Close)
			return "wss://" + strings.TrimPrefix(s.URL, "http://") + "/ws"
		}, Options{}, CauseTLS, "plain HTTP"},
		{"backend got no upgrade", func(t *testing.T) string { return "ws://" + stripUpgrade(t) + "/ws" }, Options{}, CauseUpgradeDropped, "dropped"},
		{"app closes after the handshake", func(t *testing.T) string {
			s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
				if err == nil {
					c.Close() // no close frame: the client sees 1006
				}
			}))
			t.Cleanup(s.Close)
			return wsURL(s.URL, "/ws")
		}, Options{}, CauseAppRejected, "1006"},
		{"app closes with 1008", func(t *testing.T) string {
			s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
				if err == nil {
					c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(1008, "not allowed"))
					c.ReadMessage()
					c.Close()
				}
			}))
			t.Cleanup(s.Close)
			return wsURL(s.URL, "/ws")
		}, Options{}, CauseAppRejected, "1008 (policy violation)"},
		{"answer cut off in its status line", func(t *testing.T) string { return "ws://" + cutOffServer(t, "HTTP/1.1 1") + "/ws" }, Options{}, CauseRefused, "after 10 bytes came (“HTTP/1.1 1”)"},
		{"wrong Sec-WebSocket-Accept", func(t *testing.T) string { return "ws://" + badAccept(t) + "/ws" }, Options{}, CauseBadHandshake, "Sec-WebSocket-Accept"},
		{"app refuses the Origin", func(t *testing.T) string {
			s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "Forbidden", http.StatusForbidden)
			}))
			t.Cleanup(s.Close)
			return wsURL(s.URL, "/ws")
		}, Options{}, CauseAppRejected, "403"},
		{"no such route", func(t *testing.T) string {
			s := httptest.NewServer(http.NotFoundHandler())
			t.Cleanup(s.Close)
			return wsURL(s.URL, "/ws")
		}, Options{}, CauseRouteMissing, "404"},
		{"bad URL", func(t *testing.T) string { return "ftp://x/" }, Options{}, CauseBadURL, "ws://"},
		{"ws:// to a TLS port", func(t *testing.T) string {
			// What Apache answers plain HTTP on its TLS port.
			s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "Bad Request\nYour browser sent a request that this server could not understand.\nReason: You're speaking plain HTTP to an SSL-enabled server port.", http.StatusBadRequest)
			}))
			t.Cleanup(s.Close)
			return wsURL(s.URL, "/echo/")
		}, Options{}, CauseTLS, "wss://"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.opts.Timeout == 0 {
				tt.opts.Timeout = 5 * time.Second
			}
			r := Run(context.Background(), tt.url(t), tt.opts)
			if r.OK || r.Diagnosis.Cause != tt.cause || !strings.Contains(r.Diagnosis.Message+r.stepsText(), tt.words) {
				t.Errorf("cause %q, message %q, steps %s; want %q mentioning %q", r.Diagnosis.Cause, r.Diagnosis.Message, stepNames(r), tt.cause, tt.words)
			}
			if tt.cause != CauseBadURL && r.Diagnosis.Fix == "" {
				t.Error("no fix given")
			}
		})
	}
}

func (r *Report) stepsText() string {
	var b strings.Builder
	for _, s := range r.Steps {
		b.WriteString(" " + s.Detail)
	}
	return b.String()
}

// A Host given as a header replaces the URL's: one Host line goes out, so
// a name-based VirtualHost can be reached by address.
func TestHostHeaderReplacesTheURLs(t *testing.T) {
	var hosts []string
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hosts = append(hosts, r.Host)
		hosts = append(hosts, r.Header.Values("Host")...) // Go moves Host out of Header; a second one stays
		http.NotFound(w, r)
	}))
	defer s.Close()
	Run(context.Background(), wsURL(s.URL, "/ws"), Options{Header: http.Header{"Host": {"chat.example.com"}}, Timeout: 5 * time.Second})
	if len(hosts) != 1 || hosts[0] != "chat.example.com" {
		t.Errorf("the server saw Host %q, want only chat.example.com", hosts)
	}
}

func TestInsecureReportsButContinues(t *testing.T) {
	s := tlsServer(t, "other.example", echoHandler())
	r := Run(context.Background(), "wss://"+s.addr+"/ws", Options{Insecure: true, Timeout: 5 * time.Second})
	if !r.OK || !strings.Contains(r.Steps[2].Detail, "accepted although not trusted") || !strings.Contains(r.Steps[2].Detail, "TLS 1.3") {
		t.Errorf("report: ok=%v steps=%+v", r.OK, r.Steps)
	}
}

// closedPort is an address nothing listens on. It is reserved for the test,
// so no test package running at the same time can start listening there.
func closedPort(t *testing.T) string {
	return fmt.Sprintf("127.0.0.1:%d", apachetest.FreePort(t))
}

// silentServer accepts connections and never answers.
func silentServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// cutOffServer reads a request, answers it with head and hangs up.
func cutOffServer(t *testing.T, head string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.SetDeadline(time.Now().Add(5 * time.Second))
			http.ReadRequest(bufio.NewReader(c))
			io.WriteString(c, head)
			c.Close()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	return ln.Addr().String()
}

// stripUpgrade is a proxy that forwards the handshake to a real WebSocket
// app without its Upgrade and Connection headers, as Apache's plain
// ProxyPass http:// does.
func stripUpgrade(t *testing.T) string {
	app := httptest.NewServer(echoHandler())
	t.Cleanup(app.Close)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequest(r.Method, app.URL+r.URL.Path, nil)
		for k, v := range r.Header {
			if k != "Upgrade" && k != "Connection" {
				req.Header[k] = v
			}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), 502)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		buf := make([]byte, 4096)
		n, _ := resp.Body.Read(buf)
		w.Write(buf[:n])
	}))
	t.Cleanup(front.Close)
	return strings.TrimPrefix(front.URL, "http://")
}

// badAccept answers every upgrade with 101 and a wrong accept key.
func badAccept(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
					return
				}
				fmt.Fprint(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: bm90IHRoZSByaWdodCBrZXk=\r\n\r\n")
			}()
		}
	}()
	return ln.Addr().String()
}

type tlsSite struct {
	addr string
	pool *x509.CertPool
}

// tlsServer serves h over TLS with a self-signed certificate for name only.
func tlsServer(t *testing.T, name string, h http.Handler) tlsSite {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	s := httptest.NewUnstartedServer(h)
	s.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	s.StartTLS()
	t.Cleanup(s.Close)
	return tlsSite{addr: strings.TrimPrefix(s.URL, "https://"), pool: pool}
}
