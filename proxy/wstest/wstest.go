package wstest

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/socketbar/socketbar/internal/validate"
	"github.com/socketbar/socketbar/proxy/internal/headcap"
	"github.com/socketbar/socketbar/proxy/wsframe"
)

// Cause codes of a Diagnosis. They are part of the JSON output and stable.
const (
	CauseOK           = "ok"
	CauseBadURL       = "bad-url"
	CauseDNS          = "dns"
	CauseRefused      = "refused"
	CauseTLS          = "tls"
	CauseRouteMissing = "route-missing"
	// CauseRouteMissingSite means the request reached a name-based
	// VirtualHost (a custom website's) that has no route for the path,
	// while other sites' VirtualHosts have one: the route was added for
	// the wrong sites. Only a caller that knows the server's config can
	// tell this from CauseRouteMissing (see Report.VHost).
	CauseRouteMissingSite = "route-missing-site"
	CauseUpgradeDropped   = "upgrade-dropped"
	CauseModuleMissing    = "module-missing"
	CauseBackendDown      = "backend-down"
	CauseBadHandshake     = "bad-handshake"
	CauseAppRejected      = "app-rejected"
	CauseTimeout          = "timeout"
	// CauseBadOption means an option (Origin, a header) cannot be sent as
	// given; like CauseBadURL, nothing was sent.
	CauseBadOption = "bad-option"
	// CauseProtocolError means the server broke the HTTP or WebSocket
	// protocol (a malformed or oversized answer, an invalid frame); the
	// message says what it sent.
	CauseProtocolError = "protocol-error"
)

// Step names, in order.
const (
	StepDNS     = "dns"
	StepTCP     = "tcp"
	StepTLS     = "tls"
	StepUpgrade = "upgrade"
	StepEcho    = "echo"
	StepPing    = "ping"
	StepClose   = "close"
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
}

// Step is one stage of the test.
type Step struct {
	Name   string  `json:"name"`
	OK     bool    `json:"ok"`
	MS     float64 `json:"ms"`
	Detail string  `json:"detail"`
}

// Diagnosis says what went wrong, in words, and what to do about it.
type Diagnosis struct {
	Cause   string `json:"cause"`
	Message string `json:"message"`
	Fix     string `json:"fix"`
}

// Report is the outcome of a test.
type Report struct {
	URL       string    `json:"url"`
	OK        bool      `json:"ok"`
	Steps     []Step    `json:"steps"`
	Diagnosis Diagnosis `json:"diagnosis"`
	// Status and Server describe the HTTP answer to the upgrade, if any.
	Status int    `json:"status,omitempty"`
	Server string `json:"server,omitempty"`
	// Answer is the first message the app sent after the echo was sent
	// (the echo itself, or what it sent instead), as text of at most 200
	// characters with control characters escaped.
	Answer string `json:"answer,omitempty"`
	// CloseCode and CloseReason are the close frame the server sent (1006:
	// it closed without one), the reason shown as Answer is.
	CloseCode   int    `json:"close_code,omitempty"`
	CloseReason string `json:"close_reason,omitempty"`
	// Connect is the address dialled instead of the URL's (Options.Connect).
	Connect string `json:"connect,omitempty"`
	// Remote is the address the TCP connection reached ("" when none did):
	// with the port, it says which server and VirtualHost address answered.
	Remote string `json:"remote,omitempty"`
	// VHost says which name-based VirtualHost answered and whether it has a
	// route for the path. The wire does not show it: a caller that knows
	// the server's config (Socketbar's action layer) fills it in.
	VHost *VHostAnswer `json:"vhost,omitempty"`
}

// VHostAnswer is the name-based VirtualHost that answered a test, worked
// out from the server's config as Apache picks one: by the port dialled,
// then the request's host name among ServerName and ServerAlias, else the
// first VirtualHost for the address.
type VHostAnswer struct {
	// Site is the answering VirtualHost's ServerName, "" for the default
	// hosts (the VirtualHosts without a site of their own).
	Site string `json:"site"`
	// Port is the port dialled, which picked the VirtualHosts Apache chose among.
	Port int `json:"port"`
	// HasRoute says whether that VirtualHost holds a route for the path.
	HasRoute bool `json:"has_route"`
	// RouteSites are the sites with a route for the path on any port ("" the
	// default hosts), in the config's order.
	RouteSites []string `json:"route_sites"`
}

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
	// stopWatch ends the watch that wakes blocked reads and writes when
	// ctx is cancelled.
	stopWatch func() bool
}

// Run tests the WebSocket at rawURL (ws:// or wss://; http and https are
// taken as their WebSocket twins).
func Run(ctx context.Context, rawURL string, opts Options) *Report {
	r := &run{opts: opts, report: &Report{URL: rawURL}}
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

func (r *run) dns() bool {
	start := time.Now()
	host := r.u.Hostname()
	instead := ""
	if r.opts.Connect != "" {
		// The URL's name is not looked up: the address given replaces it,
		// and the name goes only in TLS SNI and the Host header.
		goesIn := "the Host header"
		if r.u.Scheme == "wss" {
			goesIn = "TLS SNI and the Host header"
		}
		instead = fmt.Sprintf(" (connecting to %s instead of the address of %s, which still goes in %s)", r.opts.Connect, host, goesIn)
		h, _, _ := net.SplitHostPort(r.opts.Connect)
		if ip := net.ParseIP(strings.Split(h, "%")[0]); ip != nil {
			return r.step(StepDNS, start, true, "skipped: "+host+" was not looked up"+instead)
		}
		host = h
	}
	if ip := net.ParseIP(host); ip != nil {
		return r.step(StepDNS, start, true, host+" is an IP address; no lookup needed")
	}
	addrs, err := net.DefaultResolver.LookupIPAddr(r.ctx, host)
	if err != nil {
		r.step(StepDNS, start, false, err.Error())
		if r.timedOut(err) {
			return r.timeout("from DNS for " + host)
		}
		r.diagnose(CauseDNS, fmt.Sprintf("The name %s could not be resolved: %v.", host, err),
			"Check the spelling, or add the name to DNS (or /etc/hosts on the testing machine).")
		return false
	}
	var ips []string
	for _, a := range addrs {
		ips = append(ips, a.IP.String())
	}
	return r.step(StepDNS, start, true, host+" → "+strings.Join(ips, ", ")+instead)
}

func (r *run) tcp() bool {
	start := time.Now()
	conn, err := (&net.Dialer{}).DialContext(r.ctx, "tcp", r.addr())
	if err != nil {
		r.step(StepTCP, start, false, err.Error())
		switch {
		case r.timedOut(err):
			return r.timeout("to the TCP connection to " + r.addr())
		case errors.Is(err, errConnRefused) && r.opts.Direct:
			r.diagnose(CauseRefused, fmt.Sprintf("Nothing is listening on %s: the app is not running there.", r.addr()),
				"Start the app, or correct the route's backend address and port to where the app listens.")
		case errors.Is(err, errConnRefused):
			r.diagnose(CauseRefused, fmt.Sprintf("Nothing is listening on %s: the connection was refused.", r.addr()),
				r.refusedFix())
		default:
			r.diagnose(CauseRefused, fmt.Sprintf("Could not connect to %s: %v.", r.addr(), err), "Check the address and that the server is reachable from here.")
		}
		return false
	}
	r.conn = conn
	r.report.Remote = conn.RemoteAddr().String()
	if dl, ok := r.ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	// A deadline covers the timeout; a cancelled ctx must wake a blocked
	// read or write too.
	r.stopWatch = context.AfterFunc(r.ctx, func() { conn.SetDeadline(time.Now()) })
	return r.step(StepTCP, start, true, "connected to "+conn.RemoteAddr().String())
}

// refusedFix is what to do when nothing listens where the test dialled.
func (r *run) refusedFix() string {
	if r.opts.Connect != "" {
		return "Start the server (on macOS Server: the Service Proxy), or check the address and port connected to instead of the URL's (443 for wss://, 80 for ws://)."
	}
	return "Start the server (on macOS Server: the Service Proxy, `socketbar restart`), or check the port in the URL (443 for wss://, 80 for ws://)."
}

// upgradeRequest writes the opening handshake (RFC 6455 section 4.1).
func (r *run) upgradeRequest(key string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\n", r.u.RequestURI())
	host := r.u.Host
	if h := r.opts.Header.Get("Host"); h != "" {
		host = h // a name-based VirtualHost reached by address
	}
	fmt.Fprintf(&b, "Host: %s\r\n", host)
	b.WriteString("User-Agent: socketbar-test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n")
	fmt.Fprintf(&b, "Sec-WebSocket-Key: %s\r\n", key)
	origin := r.opts.Origin
	if origin == "" {
		scheme := "http"
		if r.secure() {
			scheme = "https"
		}
		origin = scheme + "://" + r.u.Host
	}
	fmt.Fprintf(&b, "Origin: %s\r\n", origin)
	for k, vs := range r.opts.Header {
		if http.CanonicalHeaderKey(k) == "Host" {
			continue // written above, once
		}
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	b.WriteString("\r\n")
	return b.String()
}

// acceptKey is the Sec-WebSocket-Accept a server must answer key with
// (RFC 6455 section 4.2.2).
func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

func (r *run) upgrade() bool {
	start := time.Now()
	raw := make([]byte, 16)
	rand.Read(raw)
	key := base64.StdEncoding.EncodeToString(raw)
	if _, err := io.WriteString(r.conn, r.upgradeRequest(key)); err != nil {
		r.step(StepUpgrade, start, false, err.Error())
		return r.lost(err, "while sending the upgrade request")
	}
	r.got = &received{r: r.conn}
	r.cr = headcap.New(r.got, maxHead)
	r.br = bufio.NewReader(r.cr)
	resp, err := http.ReadResponse(r.br, nil)
	if err != nil {
		switch {
		case errors.Is(err, headcap.ErrTooLong):
			r.step(StepUpgrade, start, false, err.Error())
			return r.protocol(fmt.Sprintf("The server's answer to the upgrade went on for over %d KiB without ending its status line and headers.", maxHead>>10), 0)
		case r.cr.Err == nil:
			// The connection is fine; what came over it is not HTTP.
			r.step(StepUpgrade, start, false, err.Error())
			return r.protocol(fmt.Sprintf("The server's answer to the upgrade is not a valid HTTP response (%v).", err), 0)
		}
		// The connection failed or the time ran out. A line cut short
		// reaches the parser as if it were whole (bufio's ReadLine drops
		// the error that ended it), so the parser's complaint ("malformed
		// HTTP status code") is not what happened: the read's error is.
		return r.cutShort(start, r.cr.Err)
	}
	r.cr.Lift()
	r.report.Status, r.report.Server = resp.StatusCode, resp.Header.Get("Server")
	status := fmt.Sprintf("HTTP %s", resp.Status)
	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<10))
		resp.Body.Close()
		detail := status
		if s := resp.Header.Get("Server"); s != "" {
			detail += ", Server: " + s
		}
		r.step(StepUpgrade, start, false, detail)
		r.diagnoseRefusal(resp, string(body))
		return false
	}
	var problems []string
	if !strings.EqualFold(resp.Header.Get("Upgrade"), "websocket") {
		problems = append(problems, fmt.Sprintf("Upgrade is %q, not websocket", resp.Header.Get("Upgrade")))
	}
	if !headerHasToken(resp.Header, "Connection", "upgrade") {
		problems = append(problems, fmt.Sprintf("Connection is %q, without upgrade", resp.Header.Get("Connection")))
	}
	if got, want := resp.Header.Get("Sec-WebSocket-Accept"), acceptKey(key); got != want {
		problems = append(problems, fmt.Sprintf("Sec-WebSocket-Accept is %q, want %q for our key", got, want))
	}
	if len(problems) > 0 {
		r.step(StepUpgrade, start, false, status+": "+strings.Join(problems, "; "))
		fix := "Something between the client and the app rewrites the handshake; test the route at every tier (Socketbar's route check) to find which one."
		if r.opts.Direct {
			fix = "The app's WebSocket server answers the handshake wrongly: check the WebSocket library it uses, and that the app is what listens on this port."
		}
		r.diagnose(CauseBadHandshake, "The server answered 101 Switching Protocols, but not as RFC 6455 requires: "+strings.Join(problems, "; ")+".", fix)
		return false
	}
	return r.step(StepUpgrade, start, true, status+", Upgrade: websocket, Sec-WebSocket-Accept matches the key")
}

// cutShort reports an answer to the upgrade that ended, or stalled until
// the timeout, before its head was complete, with what had come of it.
func (r *run) cutShort(start time.Time, err error) bool {
	waited := time.Since(start).Round(100 * time.Millisecond)
	if r.got.n == 0 {
		r.step(StepUpgrade, start, false, fmt.Sprintf("%v; nothing came in %s", err, waited))
		return r.lost(err, "to the upgrade request")
	}
	unit := "bytes"
	if r.got.n == 1 {
		unit = "byte"
	}
	came := fmt.Sprintf("%d %s came (%s)", r.got.n, unit, quoteText(r.got.head, maxShown))
	if r.timedOut(err) {
		r.step(StepUpgrade, start, false, fmt.Sprintf("the answer stopped before its status line and headers ended: %s, then nothing more in %s", came, waited))
		r.diagnose(CauseTimeout, fmt.Sprintf("The server began its answer to the upgrade request but did not finish it within %s: %s, then nothing more.", r.opts.Timeout, came), r.timeoutFix())
		return false
	}
	r.step(StepUpgrade, start, false, fmt.Sprintf("the connection ended (%v) after %s, before the status line and headers did", err, came))
	r.diagnose(CauseRefused, fmt.Sprintf("The server closed the connection in the middle of its answer to the upgrade request: %s, then the connection ended (%v).", came, err), lostFix)
	return false
}

// received counts what is read through it and keeps the first maxShown
// bytes.
type received struct {
	r    io.Reader
	n    int64
	head []byte
}

func (c *received) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if room := maxShown - len(c.head); room > 0 {
		c.head = append(c.head, p[:min(n, room)]...)
	}
	return n, err
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// maxHead bounds the status line and headers of the answer to the upgrade,
// as Apache's LimitRequestFieldSize and LimitRequestFields bound a
// request's: a server that never ends them must not fill the memory.
const maxHead = 64 << 10

// protocol diagnoses a server that broke HTTP or RFC 6455. A non-zero
// code is sent in a close frame first, as RFC 6455 section 7.1.7 asks of
// an endpoint that fails the connection; the write is bounded so that a
// peer that does not read cannot hold the test.
func (r *run) protocol(msg string, code int) bool {
	if code != 0 {
		r.conn.SetWriteDeadline(time.Now().Add(250 * time.Millisecond))
		r.conn.Write(wsframe.CloseFrame(code, "", true))
	}
	r.diagnose(CauseProtocolError, msg,
		"The server, or a proxy on the way, does not speak HTTP and WebSocket as RFC 6455 requires; test the route at every tier (Socketbar's route check) to find which one. If the URL is ws://, check that the port does not expect TLS.")
	return false
}

// lost diagnoses a connection that failed after TCP.
func (r *run) lost(err error, when string) bool {
	if r.timedOut(err) {
		return r.timeout(when)
	}
	r.diagnose(CauseRefused, fmt.Sprintf("The server closed the connection %s (%v).", when, err), lostFix)
	return false
}

// lostFix is what to check when the server ends the connection.
const lostFix = "If the URL is wss://, check that the port speaks TLS; if ws://, that it speaks plain HTTP."

// diagnoseRefusal explains a non-101 answer to the upgrade.
func (r *run) diagnoseRefusal(resp *http.Response, body string) {
	code, server := resp.StatusCode, resp.Header.Get("Server")
	lower := strings.ToLower(body)
	from := "the server"
	if server != "" {
		from = server
	}
	path := r.u.Path
	if server == serveServer || strings.HasPrefix(body, "socketbar serve") {
		r.diagnoseServe(code, strings.TrimSpace(body))
		return
	}
	if r.opts.Direct {
		r.diagnoseApp(code, strings.TrimSpace(body))
		return
	}
	switch {
	case code == http.StatusBadRequest && !r.secure() && mentionsAny(lower, "plain http to an ssl-enabled server port", "http request was sent to https port"):
		// Apache's and nginx's answer to plain HTTP on a TLS port.
		r.diagnose(CauseTLS, fmt.Sprintf("HTTP 400 from %s: this port speaks TLS, and the test spoke plain HTTP to it: a ws:// URL for a wss:// port.", from),
			"Use wss:// for this port (ws:// is for the plain HTTP port).")
	case strings.Contains(body, "No protocol handler was valid"):
		r.diagnose(CauseModuleMissing, fmt.Sprintf("HTTP %d from %s: Apache has no module for the route's ws:// target (\"No protocol handler was valid for the URL\").", code, from),
			"Load mod_proxy_wstunnel in the Service Proxy config (Socketbar's lint prints the exact LoadModule line), or on Apache 2.4.47+ add the route again with the upgrade strategy.")
	case code == http.StatusInternalServerError && strings.HasPrefix(server, "Apache"):
		// Apache keeps AH01144's text for its error log and sends a bare 500.
		r.diagnose(CauseModuleMissing, fmt.Sprintf("HTTP 500 from %s on a WebSocket route: most often a proxy module for the route's target is not loaded — the error log then says AH01144 \"No protocol handler was valid for the URL\".", from),
			"Load mod_proxy_wstunnel in the Service Proxy config (Socketbar's lint prints the exact LoadModule line), or on Apache 2.4.47+ add the route again with the upgrade strategy.")
	case code == http.StatusBadRequest && mentionsAny(lower, "origin", "host", "not allowed", "forbidden"):
		r.diagnose(CauseAppRejected, fmt.Sprintf("HTTP %d from %s: the app refused the connection's Origin or Host (%.80q).", code, from, strings.TrimSpace(body)),
			"Allow the public host name in the app (Django's ALLOWED_HOSTS and AllowedHostsOriginValidator, Socket.IO's cors_allowed_origins), or send the Origin the app expects.")
	case code == http.StatusUpgradeRequired || code == http.StatusBadRequest || (code == http.StatusMethodNotAllowed && mentionsAny(lower, "upgrade", "websocket")):
		r.diagnose(CauseUpgradeDropped, fmt.Sprintf("HTTP %d from %s: the app received a plain request without the Upgrade header. A proxy on the way dropped it: an http:// route without upgrade=websocket, or a rule in the Websites tier behind the Service Proxy's plain ProxyPass.", code, from),
			fmt.Sprintf("Add a WebSocket route for %s in the Service Proxy with Socketbar; it writes the form your Apache tunnels. Socketbar's route check shows which tier drops it.", path))
	case code == http.StatusBadGateway || code == http.StatusServiceUnavailable || code == http.StatusGatewayTimeout:
		r.diagnose(CauseBackendDown, fmt.Sprintf("HTTP %d from %s: the proxy could not reach the app behind %s%s.", code, from, path, proxyErrorHint(body)),
			"Start the app, or check the backend address and port of the route (Socketbar lists the routes).")
	case code >= 500:
		r.diagnose(CauseBackendDown, fmt.Sprintf("HTTP %d from %s: the server failed while handling the upgrade%s.", code, from, proxyErrorHint(body)),
			"Read the Service Proxy's error log (Socketbar's status shows where it is) and the app's log.")
	case code == http.StatusForbidden || code == http.StatusUnauthorized:
		r.diagnose(CauseAppRejected, fmt.Sprintf("HTTP %d from %s: the request reached something that refused the WebSocket.", code, from),
			"Apps often refuse an Origin or Host they do not know (Django's ALLOWED_HOSTS and AllowedHostsOriginValidator, Socket.IO's cors_allowed_origins): allow the public host name, or send the Origin the app expects.")
	default:
		tier := "an Apache page"
		if strings.Contains(lower, "websites tier") || (strings.HasPrefix(server, "Apache") && strings.Contains(lower, "not found")) {
			tier = "Apache's own \"Not Found\" — the Websites tier behind the catch-all"
		}
		r.diagnose(CauseRouteMissing, fmt.Sprintf("HTTP %d from %s instead of 101: the request never reached a WebSocket route (%s). The Service Proxy has no WebSocket route for %s, or one that comes after the catch-all ProxyPass /.", code, from, tier, path),
			fmt.Sprintf("Add a WebSocket route for %s in the Service Proxy with Socketbar, then check its order with Socketbar's lint.", path))
	}
}

// diagnoseApp explains a non-101 answer from the app itself, reached with
// no proxy in between: no proxy or route can be at fault.
func (r *run) diagnoseApp(code int, body string) {
	path := r.u.Path
	said := ""
	if body != "" {
		said = " (" + shownText(body, 80) + ")"
	}
	switch {
	case code == http.StatusNotFound:
		r.diagnose(CauseRouteMissing, fmt.Sprintf("HTTP 404 from the app itself%s: it has no WebSocket at %s.", said, path),
			fmt.Sprintf("Correct the route's backend URL to the path where the app serves its WebSocket, or add %s to the app's WebSocket routing (Django Channels: websocket_urlpatterns).", path))
	case code == http.StatusForbidden || code == http.StatusUnauthorized || (code == http.StatusBadRequest && mentionsAny(strings.ToLower(body), "origin", "host", "not allowed", "forbidden")):
		r.diagnose(CauseAppRejected, fmt.Sprintf("HTTP %d from the app itself%s: it refused the WebSocket.", code, said),
			"Allow the public host name and Origin in the app (Django's ALLOWED_HOSTS and AllowedHostsOriginValidator, Socket.IO's cors_allowed_origins), or send the Origin it expects.")
	case code >= 500:
		r.diagnose(CauseBackendDown, fmt.Sprintf("HTTP %d from the app itself%s: it failed while handling the upgrade.", code, said),
			"Read the app's log for the error, and fix the app.")
	default:
		r.diagnose(CauseAppRejected, fmt.Sprintf("HTTP %d from the app itself%s instead of 101: it does not take a WebSocket at %s.", code, said, path),
			fmt.Sprintf("Check that the app serves WebSockets at %s (a WebSocket handler, not a plain HTTP view; Django: an ASGI server such as Daphne or uvicorn), or correct the route's backend URL.", path))
	}
}

// serveServer is the Server header of socketbar serve's own answers
// (proxy.ServerHeader); the backend answers it passes on keep theirs.
const serveServer = "socketbar-serve"

// diagnoseServe explains an answer socketbar serve, the test proxy, gave
// itself: the Service Proxy and its config were not involved, so the fix
// is in how serve was started or in the app behind it.
func (r *run) diagnoseServe(code int, body string) {
	path := r.u.Path
	said := shownText(body, maxShown)
	switch {
	case code == http.StatusNotFound:
		routes := "the routes it printed when it started"
		if _, list, ok := strings.Cut(body, "Its routes: "); ok {
			routes = strings.TrimSuffix(list, ".")
			if routes == "none" {
				routes = "no route at all"
			}
		}
		r.diagnose(CauseRouteMissing, fmt.Sprintf("HTTP 404 from socketbar serve, the test proxy, not from Apache: socketbar serve has no route for this path (%s): it serves only %s.", path, shownText(routes, maxShown)),
			fmt.Sprintf("Test a path that socketbar serve routes, or start it again with a route for %s: it serves the Service Proxy's routes and any given to it by hand.", path))
	case code == http.StatusBadGateway || code == http.StatusServiceUnavailable || code == http.StatusGatewayTimeout:
		r.diagnose(CauseBackendDown, fmt.Sprintf("HTTP %d from socketbar serve, the test proxy: it could not reach the app behind %s (%s).", code, path, said),
			"Start the app, or check the backend address and port of the route socketbar serve uses.")
	case code >= 500:
		r.diagnose(CauseBackendDown, fmt.Sprintf("HTTP %d from socketbar serve, the test proxy: %s.", code, said),
			"socketbar serve logs every request where it runs: read its log there.")
	default:
		r.diagnose(CauseBadURL, fmt.Sprintf("HTTP %d from socketbar serve, the test proxy, which refused the request: %s.", code, said),
			"socketbar serve forwards only the paths of its routes, such as /ws/; test one of them.")
	}
}

func mentionsAny(lower string, words ...string) bool {
	for _, w := range words {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// proxyErrorHint quotes the reason in an Apache or Socketbar proxy error page.
func proxyErrorHint(body string) string {
	for _, marker := range []string{"Reason: <strong>", "Reason: "} {
		if i := strings.Index(body, marker); i >= 0 {
			rest := body[i+len(marker):]
			if j := strings.IndexAny(rest, "<\n"); j >= 0 {
				rest = rest[:j]
			}
			return " (" + strings.TrimSpace(rest) + ")"
		}
	}
	if strings.HasPrefix(body, "socketbar serve:") {
		return " (" + strings.TrimSpace(body) + ")"
	}
	return ""
}
