package wstest

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/socketbar/socketbar/internal/validate"
	"github.com/socketbar/socketbar/proxy/internal/headcap"
)

// DefaultTimeout bounds a test whose Options.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Options tune a test.
type Options struct {
	// Origin is sent as the Origin header (default: the URL's own origin, as
	// a page served from the same host would send).
	Origin string
	// Header holds extra request headers.
	Header http.Header
	// Insecure skips certificate verification (the result is still reported).
	Insecure bool
	// RootCAs verifies the server's certificate (default: the system's).
	RootCAs *x509.CertPool
	// Timeout bounds the whole test (default 10 s).
	Timeout time.Duration
	// Message is sent for the echo step (default: a random token).
	Message string
	// ExpectEcho fails the test unless Message comes back.
	ExpectEcho bool
	// Direct says the URL is the app itself, with no proxy in between (a
	// route check's backend tier): a refusal is then the app's own, and the
	// diagnosis and its fix name the app, not a proxy or its routes.
	Direct bool
	// Connect, when set, is the HOST:PORT to dial instead of the URL's
	// host and port, while the URL's host still goes in TLS SNI and the
	// Host header (curl's --connect-to): it tests a name-based VirtualHost
	// before DNS points the name at its server, or one server of several
	// behind a name. validate.Dial checks it; an IPv6 address is in brackets.
	Connect string
	// Dial, when set, makes the test's TCP connection instead of a
	// net.Dialer on this machine: through SSH from a Server (ssh -W), so
	// that the same test runs from the Server's side. TLS, the upgrade and
	// the frames then run over the connection it returns as over any
	// other. A connection that learns only when data flows whether the far
	// side could connect (as ssh -W does) reports that failure from its
	// first Read or Write as a *DialError, which the test words as the
	// DNS or TCP step's failure, not the step that happened to read.
	Dial DialFunc
	// From names the machine Dial connects from ("the Server
	// admin@server.example.com"), "" for this one. That machine resolves
	// the URL's name itself, so the DNS step is left to it, and the
	// diagnosis says where the connection failed.
	From string
}

// DialFunc connects to addr ("host:port") for a test, as
// net.Dialer.DialContext does for "tcp"; ctx bounds the connect.
type DialFunc func(ctx context.Context, addr string) (net.Conn, error)

// run carries one test's state.
type run struct {
	ctx    context.Context
	opts   Options
	u      *url.URL
	report *Report
	conn   net.Conn
	// cr caps what is read from conn as the answer's head (see headcap); br
	// buffers it.
	cr *headcap.Reader
	br *bufio.Reader
	// got keeps the start of the answer to the upgrade, to show one that
	// was cut short.
	got *received
	// partial is a data message whose last fragment has not come yet.
	partial message
	// dialStart is when the TCP step began, for a connect that fails
	// later (DialError).
	dialStart time.Time
	// stopWatch ends the watch that wakes blocked reads and writes when
	// ctx is cancelled.
	stopWatch func() bool
}

// Run tests the WebSocket at rawURL (ws:// or wss://; http and https are
// taken as their WebSocket twins).
func Run(ctx context.Context, rawURL string, opts Options) *Report {
	r := &run{opts: opts, report: &Report{URL: rawURL, From: opts.From}}
	if r.opts.Timeout <= 0 {
		r.opts.Timeout = DefaultTimeout
	}
	if r.opts.Message == "" {
		b := make([]byte, 8)
		rand.Read(b)
		r.opts.Message = "socketbar-" + hex.EncodeToString(b)
	}
	var cancel context.CancelFunc
	r.ctx, cancel = context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	if !r.checkInput(rawURL) {
		return r.report
	}
	defer func() {
		if r.conn != nil {
			r.stopWatch()
			r.conn.Close()
		}
	}()
	for _, stage := range []func() bool{r.dns, r.tcp, r.tls, r.upgrade, r.echo, r.ping, r.close} {
		if !stage() {
			return r.report
		}
	}
	r.report.OK = true
	r.diagnose(CauseOK, "The WebSocket works: the handshake, an echo of your message, ping/pong and a clean close all succeeded.", "")
	return r.report
}

// checkInput refuses, before anything is sent, what package validate
// refuses: the URL, the Origin, the extra headers and the address to
// connect to, the same rules by which the front ends refuse them. It
// sets the URL to test and the address to dial.
func (r *run) checkInput(rawURL string) bool {
	u, err := validate.WebSocketURL(rawURL)
	if err != nil {
		return r.refuse(CauseBadURL, err, "Give a URL such as wss://server.example.com/ws/.")
	}
	r.u = u
	if err := validate.Origin(r.opts.Origin); err != nil {
		return r.refuse(CauseBadOption, err, "Give the Origin on one line, without control characters.")
	}
	if err := validate.Header(r.opts.Header); err != nil {
		return r.refuse(CauseBadOption, err, "Give each extra header as Name: value on one line, and leave out the handshake's own headers.")
	}
	if r.opts.Connect != "" {
		addr, err := validate.Dial(validate.FieldConnect, r.opts.Connect)
		if err != nil {
			return r.refuse(CauseBadOption, err, "Give the address to connect to as HOST:PORT, such as 127.0.0.1:443 ([::1]:443 for IPv6), or leave it empty to connect where the URL's name points.")
		}
		r.opts.Connect, r.report.Connect = addr, addr
	}
	return true
}

// refuse diagnoses input that was refused before anything was sent.
func (r *run) refuse(cause string, err error, fix string) bool {
	msg := err.Error()
	var in *validate.InputError
	if errors.As(err, &in) {
		msg = in.Msg
	}
	r.diagnose(cause, msg, fix)
	return false
}

func (r *run) secure() bool { return r.u.Scheme == "wss" }

// addr is where the test dials: the override, else the URL's host and port.
func (r *run) addr() string {
	if r.opts.Connect != "" {
		return r.opts.Connect
	}
	if p := r.u.Port(); p != "" {
		return r.u.Host
	}
	port := "80"
	if r.secure() {
		port = "443"
	}
	return net.JoinHostPort(r.u.Hostname(), port)
}

// step records a stage; it returns ok for chaining.
func (r *run) step(name string, start time.Time, ok bool, detail string) bool {
	r.report.Steps = append(r.report.Steps, Step{Name: name, OK: ok, MS: float64(time.Since(start).Microseconds()) / 1000, Detail: detail})
	return ok
}

func (r *run) diagnose(cause, msg, fix string) {
	r.report.Diagnosis = Diagnosis{Cause: cause, Message: msg, Fix: fix}
}

// timedOut reports whether err comes from the test's time running out.
func (r *run) timedOut(err error) bool {
	var ne net.Error
	return r.ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.ErrNoProgress) || (errors.As(err, &ne) && ne.Timeout())
}

func (r *run) timeout(where string) bool {
	r.diagnose(CauseTimeout, fmt.Sprintf("Nothing came back %s within %s.", where, r.opts.Timeout), r.timeoutFix())
	return false
}

// timeoutFix is what to check when the test's time ran out.
func (r *run) timeoutFix() string {
	if r.opts.Direct {
		return "Check that the app is running and not stuck (its log), and that nothing else holds this port. Allow the test more time if the app is slow to answer."
	}
	return "Check that the server and the route are up; a firewall or a proxy that holds the connection can also cause silence. Allow the test more time if the network is slow."
}
