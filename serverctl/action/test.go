package action

import (
	"context"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/socketbar/socketbar/internal/validate"
	"github.com/socketbar/socketbar/proxy"
	"github.com/socketbar/socketbar/proxy/wstest"
)

// TestOptions ask for a connection test of one WebSocket URL.
type TestOptions struct {
	// Target is the Server whose config explains the answer: which of its
	// VirtualHosts answered and whether that one has the route. It is
	// used when the test reached this Server; CheckRoute uses its own.
	Target Target
	URL    string
	// Connect, when set, is the HOST:PORT to dial instead of the URL's,
	// the URL's host still going in TLS SNI and the Host header: a site
	// tested before DNS points its name at the Server.
	Connect string
	// Origin is sent as the Origin header (default: the URL's own origin).
	Origin string
	// Header holds extra request headers.
	Header http.Header
	// Insecure accepts a certificate that is not trusted or not for the
	// name (the test still reports it).
	Insecure bool
	// Timeout bounds the whole test (default 10 s).
	Timeout time.Duration
	// Message is sent for the echo step (default: a random token).
	Message string
	// ExpectEcho fails the test unless the message comes back.
	ExpectEcho bool
	// Via, when set, is a Server ([USER@]HOST[:PORT] or an alias from
	// ~/.ssh/config, as remote.ParseHost reads it) to make the test from:
	// its sshd resolves the name and makes every TCP connection of the
	// test (ssh -W, through the connection Local.Connect opens), and TLS,
	// the upgrade and the frames run over it as from here. Test then tests
	// from the Server alone; TestBothEnds from here and from there.
	Via string

	// hereDial, in tests only, stands for the network between this
	// machine and a Server, which one machine cannot have: it makes the
	// connections of the test from here (nil: a net.Dialer).
	hereDial wstest.DialFunc
}

func (o TestOptions) wstest() wstest.Options {
	return wstest.Options{Origin: o.Origin, Header: o.Header, Insecure: o.Insecure, Timeout: o.Timeout, Message: o.Message, ExpectEcho: o.ExpectEcho, Connect: o.Connect}
}

// validate refuses what must never reach the wire, by the rules the
// tester applies itself (package validate), and says which input was at
// fault.
func (o TestOptions) validate() error {
	if _, err := validate.WebSocketURL(o.URL); err != nil {
		return err
	}
	return o.validateOptions()
}

// validateOptions refuses an Origin, a header or an address to connect to
// that the test could not send as given.
func (o TestOptions) validateOptions() error {
	if err := validate.Origin(o.Origin); err != nil {
		return err
	}
	if err := validate.Header(o.Header); err != nil {
		return err
	}
	if strings.TrimSpace(o.Connect) == "" {
		return nil
	}
	_, err := validate.Dial(validate.FieldConnect, o.Connect)
	return err
}

// Test connects to a WebSocket as a browser would and reports each step:
// from here, or with opts.Via from that Server's side. The error is only
// for input that was refused before anything was sent, and for a Server
// of opts.Via that could not be reached (remote's kinds: HostError,
// HostKeyError, AuthError, DialError, …).
func (l *Local) Test(ctx context.Context, opts TestOptions) (*wstest.Report, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	opts.Connect = strings.TrimSpace(opts.Connect)
	if opts.Via != "" {
		return l.testFrom(ctx, opts)
	}
	return l.testHere(ctx, opts), nil
}

// testHere runs the test from this machine and explains an answer of
// this machine's Server by its VirtualHosts.
func (l *Local) testHere(ctx context.Context, opts TestOptions) *wstest.Report {
	w := opts.wstest()
	w.Dial = opts.hereDial
	r := wstest.Run(ctx, opts.URL, w)
	l.explainSite(ctx, opts, r)
	return r
}

// isLocal reports whether ip is this machine's: loopback, or one of its
// interfaces' addresses.
func isLocal(ip string) bool {
	a := net.ParseIP(ip)
	if a == nil {
		return false
	}
	if a.IsLoopback() {
		return true
	}
	addrs, _ := net.InterfaceAddrs()
	for _, ad := range addrs {
		if n, ok := ad.(*net.IPNet); ok && n.IP.Equal(a) {
			return true
		}
	}
	return false
}

// explainSite says which of the Server's VirtualHosts answered a test
// and whether it has the route, when the test reached this Server: an
// address of this machine, or a name that is one of its sites (a Server
// behind NAT is reached at an address of the router). A test of another
// machine, or with no Server here, is left as it is.
func (l *Local) explainSite(ctx context.Context, opts TestOptions, r *wstest.Report) {
	if r.Status == 0 || r.Server == proxy.ServerHeader {
		return // no HTTP answer, or socketbar serve's own
	}
	u, err := validate.WebSocketURL(opts.URL)
	if err != nil {
		return
	}
	host := u.Hostname()
	if h := opts.Header.Get("Host"); h != "" {
		host = h
		if hh, _, err := net.SplitHostPort(h); err == nil {
			host = hh
		}
	}
	srv, cfg, err := l.load(ctx, opts.Target)
	if err != nil {
		return
	}
	v := readSiteView(ctx, srv, cfg)
	if v == nil {
		return
	}
	ip, _, _ := net.SplitHostPort(r.Remote)
	if s := v.list.Lookup(host); !isLocal(ip) && (s == nil || s.Default || host == "") {
		return
	}
	if here, ok := v.answer(r, host, u.Path); ok {
		v.explain(r, here, u.Path)
	}
}
