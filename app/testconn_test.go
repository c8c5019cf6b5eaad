package app

import (
	"crypto/tls"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/socketbar/socketbar/proxy"
	"github.com/socketbar/socketbar/proxy/tlscert"
	"github.com/socketbar/socketbar/serverctl/action"
	"github.com/socketbar/socketbar/serverctl/servertest"
)

// siteOnLoopback is an echo over TLS on loopback with a certificate for
// name, as a custom site's VirtualHost before DNS points at it; sni
// returns the names the clients sent.
func siteOnLoopback(t *testing.T, name string) (addr string, sni func() []string) {
	certPEM, keyPEM, err := tlscert.Generate(tlscert.Spec{Names: []string{name}, NotAfter: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var names []string
	s := httptest.NewUnstartedServer(proxy.EchoHandler())
	s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
		mu.Lock()
		names = append(names, h.ServerName)
		mu.Unlock()
		return nil, nil
	}}
	s.StartTLS()
	t.Cleanup(s.Close)
	return strings.TrimPrefix(s.URL, "https://"), func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), names...)
	}
}

// The Connect to field reaches the action layer with the Server of the
// app, and the test dials it with the URL's name; a bad address is named
// by the field's label.
func TestTestWindowConnectsToTheAddressGiven(t *testing.T) {
	root := servertest.Copy(t, "5.3.1-sites")
	fake := newFake()
	u := newTestUI(test.NewTempApp(t), Options{Root: root, Actions: fake})
	addr, sni := siteOnLoopback(t, "chat.example.com")

	u.showTest("", "")
	v := u.testView
	v.url.SetText("wss://chat.example.com/chat/stream/")
	test.Type(v.connect, "[::1")
	test.Tap(v.run)
	servertest.Eventually(t, "the refusal", func() bool { return strings.HasPrefix(v.verdict.Text, "✗") && !v.copy.Disabled() })
	if !strings.Contains(v.verdict.Text, "Connect to") || !strings.Contains(v.verdict.Text, "HOST:PORT") {
		t.Errorf("verdict for a bad address: %q; want it to name the field and the form", v.verdict.Text)
	}

	v.connect.SetText(addr)
	v.insecure.SetChecked(true) // tlscert's certificate is self-signed
	v.expect.SetChecked(true)
	v.copy.Disable()
	test.Tap(v.run)
	servertest.Eventually(t, "the test", func() bool { return v.verdict.Text != "" && !v.copy.Disabled() && v.report.Connect != "" })
	if !v.report.OK {
		t.Errorf("verdict %q; want the echo through %s", v.verdict.Text, addr)
	}
	calls := fake.Calls("Test")
	if len(calls) != 2 {
		t.Fatalf("%d Test calls, want 2", len(calls))
	}
	got := calls[1].Opts.(action.TestOptions)
	if got.Connect != addr || got.URL != "wss://chat.example.com/chat/stream/" || got.Target != (action.Target{Root: root}) {
		t.Errorf("the window asked for %+v; want Connect %s, the URL, and the app's Server", got, addr)
	}
	if names := sni(); len(names) != 1 || names[0] != "chat.example.com" {
		t.Errorf("SNI sent: %q; want chat.example.com", names)
	}
}
