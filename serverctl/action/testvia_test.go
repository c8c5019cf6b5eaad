package action

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/socketbar/socketbar/internal/loopport"
	"github.com/socketbar/socketbar/internal/sshtest"
	"github.com/socketbar/socketbar/proxy"
	"github.com/socketbar/socketbar/proxy/tlscert"
	"github.com/socketbar/socketbar/proxy/wstest"
	"github.com/socketbar/socketbar/serverctl/mirror"
	"github.com/socketbar/socketbar/serverctl/remote"
)

// viaSSH is a Local whose Connector hands out one connection to a real
// sshd on loopback (the "Server"), and counts how often it was asked.
func viaSSH(t *testing.T) (*Local, *atomic.Int32) {
	t.Helper()
	conn := login(t, sshCommand(t))
	var asked atomic.Int32
	return &Local{Connect: func(context.Context, remote.Host) (mirror.Conn, func(), error) {
		asked.Add(1)
		return conn, func() {}, nil
	}}, &asked
}

// echoServer is a WebSocket app on loopback (plain, or TLS with its own
// certificate).
func echoServer(t *testing.T, useTLS bool) *httptest.Server {
	t.Helper()
	var s *httptest.Server
	if useTLS {
		s = httptest.NewTLSServer(proxy.EchoHandler())
	} else {
		s = httptest.NewServer(proxy.EchoHandler())
	}
	t.Cleanup(s.Close)
	return s
}

func wsURLOf(s *httptest.Server, path string) string {
	return "ws" + strings.TrimPrefix(s.URL, "http") + path
}

// closedAddr is a loopback address nothing listens on: reserved, so no
// other test takes it meanwhile.
func closedAddr(t *testing.T) string {
	t.Helper()
	p, err := loopport.Reserve()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Release() })
	return p.Addr()
}

func bothCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), sshTimeout)
	t.Cleanup(cancel)
	return ctx
}

// Through a real sshd, the test from the Server's side passes as the
// one from here does: by address and by name (looked up on the Server),
// plain and over TLS (the same certificate met from both ends).
func TestBothEndsPassThroughARealSSHD(t *testing.T) {
	l, _ := viaSSH(t)
	plain, secure := echoServer(t, false), echoServer(t, true)
	port := plain.Listener.Addr().(*net.TCPAddr).Port
	for _, url := range []string{wsURLOf(plain, "/ws/"), fmt.Sprintf("ws://localhost:%d/ws/", port), wsURLOf(secure, "/ws/")} {
		t.Run(url, func(t *testing.T) {
			b, err := l.TestBothEnds(bothCtx(t), TestOptions{URL: url, Via: sshtest.Alias, Insecure: true, Timeout: 20 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if !b.OK || !b.Here.OK || !b.Server.OK || b.Diagnosis.Cause != wstest.CauseOK {
				t.Fatalf("ok %v (here %v: %s; Server %v: %s): %s", b.OK, b.Here.OK, b.Here.Diagnosis.Message, b.Server.OK, b.Server.Diagnosis.Message, b.Diagnosis.Message)
			}
			if b.Server.From != "the Server "+sshtest.Alias || b.Here.From != "" {
				t.Errorf("From: here %q, Server %q", b.Here.From, b.Server.From)
			}
			tcp := stepOf(b.Server, wstest.StepTCP)
			if tcp == nil || !strings.Contains(tcp.Detail, "the Server "+sshtest.Alias+" connects to") {
				t.Errorf("the Server's TCP step does not say the Server connects: %+v", tcp)
			}
			if strings.Contains(url, "localhost") && !strings.Contains(stepOf(b.Server, wstest.StepDNS).Detail, "left to the Server") {
				t.Errorf("the Server's DNS step: %+v", stepOf(b.Server, wstest.StepDNS))
			}
			if strings.HasPrefix(url, "wss") && (b.Here.Certificate == "" || b.Here.Certificate != b.Server.Certificate) {
				t.Errorf("certificates: here %q, Server %q", b.Here.Certificate, b.Server.Certificate)
			}
			if b.Server.Answer == "" {
				t.Error("nothing came back from the Server's side")
			}
		})
	}
}

// The network between this machine and a Server cannot exist on one
// machine, so what the test from here meets is a stand-in (hereDial): a
// real closed port, a real stub that answers as another proxy would, a
// dial that never completes (a firewall that drops), a resolver that does
// not know the name. The test from the Server goes through the real sshd
// to the real app, and works.
func TestWorksFromTheServerNotFromHereNamesTheNetworkBetween(t *testing.T) {
	l, _ := viaSSH(t)
	app, appTLS := echoServer(t, false), echoServer(t, true)
	closed := closedAddr(t)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Server", "nginx")
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprint(w, "<html><body>502 Bad Gateway</body></html>")
	}))
	t.Cleanup(other.Close)
	// A TLS endpoint with a certificate of its own that hangs up after
	// the handshake, as a proxy that terminates TLS and then cannot go on.
	hangUp := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if c, _, err := w.(http.Hijacker).Hijack(); err == nil {
			c.Close()
		}
	}))
	certPEM, keyPEM, err := tlscert.Generate(tlscert.Spec{Names: []string{"127.0.0.1"}, NotAfter: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	hangUp.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	hangUp.StartTLS()
	t.Cleanup(hangUp.Close)

	to := func(addr string) wstest.DialFunc {
		return func(ctx context.Context, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		}
	}
	dropped := func(ctx context.Context, _ string) (net.Conn, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	unknownName := func(_ context.Context, addr string) (net.Conn, error) {
		return nil, &wstest.DialError{Addr: addr, Failure: wstest.DialNotResolved, Reason: "no such host"}
	}
	tests := []struct {
		name    string
		url     string
		here    wstest.DialFunc
		timeout time.Duration
		cause   string
		msgHas  []string
	}{
		{"the name does not resolve here", fmt.Sprintf("ws://localhost:%d/ws/", app.Listener.Addr().(*net.TCPAddr).Port), unknownName, 0,
			wstest.CauseBetweenDNS, []string{"this machine cannot resolve localhost", "no such host"}},
		{"refused here", wsURLOf(app, "/ws/"), to(closed), 0,
			wstest.CauseBetweenFirewall, []string{"was refused here", "A firewall or NAT", "port " + fmt.Sprint(app.Listener.Addr().(*net.TCPAddr).Port)}},
		{"dropped here", wsURLOf(app, "/ws/"), dropped, 2 * time.Second,
			wstest.CauseBetweenFirewall, []string{"got no answer here"}},
		{"another proxy answers 502 here", wsURLOf(app, "/ws/"), to(other.Listener.Addr().String()), 0,
			wstest.CauseBetweenProxy, []string{"HTTP 502 (Server: nginx)", "got 101", "another proxy between"}},
		{"another TLS endpoint here", wsURLOf(appTLS, "/ws/"), to(hangUp.Listener.Addr().String()), 0,
			wstest.CauseBetweenProxy, []string{"the TLS certificate met from here", "answers TLS itself"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 15 * time.Second
			}
			b, err := l.TestBothEnds(bothCtx(t), TestOptions{URL: tt.url, Via: sshtest.Alias, Insecure: true, Timeout: timeout, hereDial: tt.here})
			if err != nil {
				t.Fatal(err)
			}
			if !b.Server.OK {
				t.Fatalf("the Server's side failed: %s", b.Server.Diagnosis.Message)
			}
			if b.OK || b.Here.OK {
				t.Fatalf("passed: here %v, both %v", b.Here.OK, b.OK)
			}
			if b.Diagnosis.Cause != tt.cause {
				t.Errorf("cause %q, want %q: %s", b.Diagnosis.Cause, tt.cause, b.Diagnosis.Message)
			}
			for _, w := range tt.msgHas {
				if !strings.Contains(b.Diagnosis.Message, w) {
					t.Errorf("message lacks %q:\n%s", w, b.Diagnosis.Message)
				}
			}
			if !strings.Contains(b.Diagnosis.Message, "works from the Server "+sshtest.Alias) || b.Diagnosis.Fix == "" {
				t.Errorf("diagnosis %+v", b.Diagnosis)
			}
		})
	}
}

// When the Server's own side fails too, the usual explanation stands and
// says so; the failures of the Server's connect, which ssh -W reports only
// when data would flow, are the DNS and TCP steps', in sshd's own words.
func TestFailingOnTheServerTooIsNotTheNetwork(t *testing.T) {
	l, _ := viaSSH(t)
	closed := closedAddr(t)
	tests := []struct {
		name, url  string
		cause      string
		failedStep string
	}{
		{"nothing listens", "ws://" + closed + "/ws/", wstest.CauseRefused, wstest.StepTCP},
		{"nothing listens, TLS", "wss://" + closed + "/ws/", wstest.CauseRefused, wstest.StepTCP},
		{"no such name", "ws://socketbar-no-such-host.invalid:8080/ws/", wstest.CauseDNS, wstest.StepDNS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := l.TestBothEnds(bothCtx(t), TestOptions{URL: tt.url, Via: sshtest.Alias, Timeout: 15 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if b.OK || b.Here.OK || b.Server.OK {
				t.Fatalf("passed: %+v", b)
			}
			t.Logf("from the Server: %+v\n%s", b.Server.Steps, b.Server.Diagnosis.Message)
			for _, r := range []*wstest.Report{b.Here, b.Server} {
				if r.Diagnosis.Cause != tt.cause || failedStep(r) != tt.failedStep {
					t.Errorf("from %q: cause %q at step %q, want %q at %q: %s (steps %+v)", r.From, r.Diagnosis.Cause, failedStep(r), tt.cause, tt.failedStep, r.Diagnosis.Message, r.Steps)
				}
				if last := r.Steps[len(r.Steps)-1]; last.Name != tt.failedStep {
					t.Errorf("from %q: steps after the failed one: %+v", r.From, r.Steps)
				}
			}
			if b.Diagnosis.Cause != tt.cause || !strings.Contains(b.Diagnosis.Message, "fails the same way from the Server "+sshtest.Alias) {
				t.Errorf("diagnosis %+v", b.Diagnosis)
			}
			if !strings.Contains(b.Server.Diagnosis.Message, "from the Server "+sshtest.Alias) {
				t.Errorf("the Server's diagnosis does not say where it failed: %s", b.Server.Diagnosis.Message)
			}
		})
	}
}

// Test with Via alone tests from the Server's side.
func TestTestViaTestsFromTheServer(t *testing.T) {
	l, asked := viaSSH(t)
	app := echoServer(t, false)
	r, err := l.Test(bothCtx(t), TestOptions{URL: wsURLOf(app, "/ws/"), Via: sshtest.Alias, Timeout: 15 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK || r.From != "the Server "+sshtest.Alias || asked.Load() != 1 {
		t.Fatalf("ok %v from %q, connections %d: %s", r.OK, r.From, asked.Load(), r.Diagnosis.Message)
	}
}

// A Via that ssh would read as an option, or that holds what a shell or
// ssh's config would expand, is refused before anything runs: no
// connection is asked for and nothing is tested from here either.
func TestHostileViaIsRefusedBeforeAnythingRuns(t *testing.T) {
	planted := filepath.Join(t.TempDir(), "ran")
	var asked, dialled atomic.Int32
	l := &Local{Connect: func(context.Context, remote.Host) (mirror.Conn, func(), error) {
		asked.Add(1)
		return nil, nil, errors.New("must not connect")
	}}
	here := func(context.Context, string) (net.Conn, error) {
		dialled.Add(1)
		return nil, errors.New("must not dial")
	}
	for _, via := range []string{"-oProxyCommand=touch " + planted, "-J", "a b", "host;touch " + planted, "$(touch " + planted + ")", "`id`", "host\nProxyCommand x", "user@-host", ""} {
		for _, run := range []func(TestOptions) error{
			func(o TestOptions) error { _, err := l.TestBothEnds(context.Background(), o); return err },
			func(o TestOptions) error {
				if o.Via == "" {
					return &HostError{} // Test without Via tests from here
				}
				_, err := l.Test(context.Background(), o)
				return err
			},
		} {
			err := run(TestOptions{URL: "ws://127.0.0.1:1/", Via: via, hereDial: here})
			var he *HostError
			if !errors.As(err, &he) {
				t.Errorf("Via %q: %v, want a *HostError", via, err)
			}
		}
	}
	if asked.Load() != 0 || dialled.Load() != 0 {
		t.Errorf("connections asked %d, dials from here %d; want none", asked.Load(), dialled.Load())
	}
	if _, err := os.Stat(planted); err == nil {
		t.Error("a command in Via ran")
	}
}

// A Server whose forward stalls (the app accepts and never answers), and
// a "Server" whose ssh log-in stalls, hold the test no longer than its
// timeout: the bound here is generous, the point is that it returns.
func TestAStalledServerIsBoundedInTime(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() }) // held open, never answered
		}
	}()
	const timeout = 2 * time.Second
	const bound = 20 * time.Second

	t.Run("the forward", func(t *testing.T) {
		l, _ := viaSSH(t)
		start := time.Now()
		b, err := l.TestBothEnds(bothCtx(t), TestOptions{URL: "ws://" + silent.Addr().String() + "/ws/", Via: sshtest.Alias, Timeout: timeout})
		if err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took > bound {
			t.Errorf("took %v", took)
		}
		if b.OK || b.Server.Diagnosis.Cause != wstest.CauseTimeout || b.Diagnosis.Cause != wstest.CauseTimeout {
			t.Errorf("Server %q, both %q: %s", b.Server.Diagnosis.Cause, b.Diagnosis.Cause, b.Diagnosis.Message)
		}
	})
	t.Run("the log-in", func(t *testing.T) {
		ssh := sshCommand(t)
		_, port, _ := net.SplitHostPort(silent.Addr().String())
		l := &Local{Connect: func(ctx context.Context, h remote.Host) (mirror.Conn, func(), error) {
			c, err := remote.Open(ctx, h, remote.Config{SSH: append(append([]string(nil), ssh...), "-o", "Port="+port)})
			if err != nil {
				return nil, nil, err
			}
			return c, func() { c.Close() }, nil
		}}
		start := time.Now()
		_, err := l.TestBothEnds(bothCtx(t), TestOptions{URL: "ws://127.0.0.1:1/ws/", Via: sshtest.Alias, Timeout: timeout})
		if err == nil {
			t.Fatal("a Server that never answers the log-in was tested")
		}
		if took := time.Since(start); took > bound {
			t.Errorf("took %v: %v", took, err)
		}
	})
}

// compareEnds on its own: the cases one machine cannot make for real,
// from reports as wstest gives them.
func TestCompareEnds(t *testing.T) {
	ok := &wstest.Report{URL: "wss://chat.example.com/ws/", OK: true, Status: 101, Certificate: "SHA256:a", Diagnosis: wstest.Diagnosis{Cause: wstest.CauseOK}}
	refused := &wstest.Report{URL: "wss://chat.example.com/ws/", Steps: []wstest.Step{{Name: wstest.StepDNS, OK: true, Detail: "chat.example.com → 203.0.113.7"}, {Name: wstest.StepTCP, Detail: "connection refused"}},
		Diagnosis: wstest.Diagnosis{Cause: wstest.CauseRefused, Message: "Nothing is listening.", Fix: "Start it."}}
	route404 := &wstest.Report{URL: "wss://chat.example.com/ws/", Status: 404, Server: "Apache", Steps: []wstest.Step{{Name: wstest.StepUpgrade, Detail: "HTTP 404"}},
		Diagnosis: wstest.Diagnosis{Cause: wstest.CauseRouteMissing, Message: "HTTP 404 from Apache.", Fix: "Add the route."}}
	otherCert := *ok
	otherCert.Certificate = "SHA256:b"
	const from = "the Server admin@server"
	tests := []struct {
		name        string
		here, there *wstest.Report
		ok          bool
		cause       string
		msgHas      []string
	}{
		{"both work", ok, ok, true, wstest.CauseOK, []string{"works from here and from the Server admin@server"}},
		{"both work, another certificate here", &otherCert, ok, true, wstest.CauseOK, []string{"different certificates", "SHA256:b", "SHA256:a"}},
		{"refused here only, with the address here", refused, ok, false, wstest.CauseBetweenFirewall, []string{"chat.example.com:443 was refused here", "port 443", "chat.example.com → 203.0.113.7"}},
		{"works here only", ok, refused, false, wstest.CauseServerSide, []string{"works from here, but not from the Server admin@server", "Nothing is listening.", "Clients are not affected"}},
		{"both fail alike", route404, route404, false, wstest.CauseRouteMissing, []string{"HTTP 404 from Apache.", "fails the same way from the Server admin@server"}},
		{"they fail differently: the Server's failure first", refused, route404, false, wstest.CauseRouteMissing, []string{"From the Server admin@server (through SSH): HTTP 404 from Apache.", "From here it fails differently (refused): Nothing is listening."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotOK, d := compareEnds(tt.here, tt.there, from)
			if gotOK != tt.ok || d.Cause != tt.cause {
				t.Errorf("ok %v cause %q, want %v %q: %s", gotOK, d.Cause, tt.ok, tt.cause, d.Message)
			}
			for _, w := range tt.msgHas {
				if !strings.Contains(d.Message, w) {
					t.Errorf("message lacks %q:\n%s", w, d.Message)
				}
			}
			if !tt.ok && d.Fix == "" {
				t.Error("no fix")
			}
		})
	}
}

// forwardFailure reads sshd's words for a connect it could not make, as
// the C libraries of Linux (glibc, musl), the BSDs and macOS put them.
func TestForwardFailureReadsSSHDsWords(t *testing.T) {
	for reason, want := range map[string]wstest.DialFailure{
		"connect failed: Connection refused":                           wstest.DialRefused,
		"connect failed: Name or service not known":                    wstest.DialNotResolved,
		"connect failed: nodename nor servname provided, or not known": wstest.DialNotResolved,
		"connect failed: Temporary failure in name resolution":         wstest.DialNotResolved,
		"connect failed: Name does not resolve":                        wstest.DialNotResolved,
		"connect failed: Connection timed out":                         wstest.DialTimedOut,
		"connect failed: Operation timed out":                          wstest.DialTimedOut,
		"administratively prohibited: open failed":                     wstest.DialFailed,
		"connect failed: No route to host":                             wstest.DialFailed,
	} {
		if got := forwardFailure(reason); got != want {
			t.Errorf("%q: %v, want %v", reason, got, want)
		}
	}
	if r := forwardReason("administratively prohibited: open failed"); !strings.Contains(r, "AllowTcpForwarding") {
		t.Errorf("forwardReason: %q", r)
	}
}
