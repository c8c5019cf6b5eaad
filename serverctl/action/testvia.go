package action

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/socketbar/socketbar/internal/pkgerr"
	"github.com/socketbar/socketbar/internal/validate"
	"github.com/socketbar/socketbar/proxy/wstest"
	"github.com/socketbar/socketbar/serverctl/remote"
)

// The test from the Server's side (TestOptions.Via): every TCP connection
// of the test is made by the Server's sshd through the SSH connection
// (ssh -W), so the Server resolves the name and connects, and TLS, the
// upgrade and the frames run over that connection as from here. Made
// from both ends (TestBothEnds), the two results tell the network between
// this machine and the Server apart from the Server itself.

// BothEnds is one URL tested from here and from a Server through SSH,
// and what the two results say together.
type BothEnds struct {
	URL string `json:"url"`
	// Via is the Server the second test was made from, as given.
	Via string `json:"via"`
	// OK says the WebSocket works from both ends.
	OK bool `json:"ok"`
	// Diagnosis explains the pair: the network between when only the
	// Server's side works, the usual explanation (and that the Server
	// fails too) when both fail.
	Diagnosis wstest.Diagnosis `json:"diagnosis"`
	// Here is the test from this machine, what clients see.
	Here *wstest.Report `json:"here"`
	// Server is the test made from the Server's side.
	Server *wstest.Report `json:"server"`
}

// forwarder is a connection to a Server that can connect to an address
// from the Server's side, as *remote.Conn does.
type forwarder interface {
	Dial(ctx context.Context, addr string) (net.Conn, error)
}

// viaServer opens the connection to the Server opts.Via names and returns
// the DialFunc that connects from there, the words that name the Server,
// and what ends the connection. Every error is one of remote's kinds
// (HostError first, before anything runs).
func (l *Local) viaServer(ctx context.Context, opts TestOptions) (wstest.DialFunc, string, func(), error) {
	h, err := remote.ParseHost(opts.Via)
	if err != nil {
		return nil, "", nil, err
	}
	connect := l.Connect
	if connect == nil {
		connect = openSSH
	}
	// The log-in is bounded as the test is: a Server that does not
	// answer must not hold the command.
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = wstest.DefaultTimeout
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, release, err := connect(cctx, h)
	if err != nil {
		return nil, "", nil, err
	}
	fw, ok := conn.(forwarder)
	if !ok {
		release()
		// A Connector of the front end's that cannot forward: a mistake
		// in the program, not the Server's.
		return nil, "", nil, errorf("the connection to %s cannot make connections from the Server's side; nothing was tested", h)
	}
	dial := func(ctx context.Context, addr string) (net.Conn, error) {
		c, err := fw.Dial(ctx, addr)
		if err != nil {
			return nil, err
		}
		return &forwarded{Conn: c, addr: addr}, nil
	}
	return dial, "the Server " + h.String(), release, nil
}

// testFrom runs the test with every connection made from the Server
// opts.Via names.
func (l *Local) testFrom(ctx context.Context, opts TestOptions) (*wstest.Report, error) {
	dial, from, release, err := l.viaServer(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer release()
	return l.testOver(ctx, opts, dial, from), nil
}

// testOver runs the test through dial; from names where dial connects
// from. Which VirtualHost answered is not worked out: that needs the
// Server's config, read there.
func (l *Local) testOver(ctx context.Context, opts TestOptions, dial wstest.DialFunc, from string) *wstest.Report {
	w := opts.wstest()
	w.Dial, w.From = dial, from
	return wstest.Run(ctx, opts.URL, w)
}

// TestBothEnds tests the URL from here and from the Server opts.Via names
// (through SSH, see Test) at once, and says what the pair means: when it
// works from the Server but not from here, what is between (DNS, a
// firewall or NAT, another proxy); when both fail, the usual explanation,
// and that it is not the network. The error is for input refused and a
// Server that could not be reached (remote's kinds), before anything was
// tested.
func (l *Local) TestBothEnds(ctx context.Context, opts TestOptions) (*BothEnds, error) {
	if _, err := remote.ParseHost(opts.Via); err != nil {
		return nil, err // an empty Via too: a HostError, before anything runs
	}
	if err := opts.validate(); err != nil {
		return nil, err
	}
	opts.Connect = strings.TrimSpace(opts.Connect)
	dial, from, release, err := l.viaServer(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer release()
	here := opts
	here.Via = ""
	var b BothEnds
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		b.Server = l.testOver(ctx, opts, dial, from)
	}()
	b.Here = l.testHere(ctx, here)
	wg.Wait()
	b.URL, b.Via = opts.URL, opts.Via
	b.OK, b.Diagnosis = compareEnds(b.Here, b.Server, from)
	return &b, nil
}

// forwarded is a connection made from the Server: it reports a connect
// the Server could not make, which ssh -W says only when data would flow,
// as the *wstest.DialError the test words as the DNS or TCP step's.
type forwarded struct {
	net.Conn
	addr string
	// flowed says data came: a later failure is not the connect's.
	mu     sync.Mutex
	flowed bool
}

func (f *forwarded) Read(p []byte) (int, error) {
	n, err := f.Conn.Read(p)
	f.mu.Lock()
	defer f.mu.Unlock()
	if n > 0 {
		f.flowed = true
	}
	if err != nil && !f.flowed {
		err = f.dialError(err)
	}
	return n, err
}

func (f *forwarded) Write(p []byte) (int, error) {
	n, err := f.Conn.Write(p)
	if err != nil {
		f.mu.Lock()
		defer f.mu.Unlock()
		if !f.flowed {
			err = f.dialError(err)
		}
	}
	return n, err
}

// dialError turns the failure of the Server's connect into a
// *wstest.DialError; other errors are left as they are.
func (f *forwarded) dialError(err error) error {
	var fe *remote.ForwardError
	if errors.As(err, &fe) {
		return &wstest.DialError{Addr: f.addr, Failure: forwardFailure(fe.Reason), Reason: forwardReason(fe.Reason)}
	}
	var se *remote.SSHError
	if errors.As(err, &se) {
		return &wstest.DialError{Addr: f.addr, Failure: wstest.DialFailed, Reason: "the SSH connection failed: " + pkgerr.Text(err)}
	}
	return err
}

// forwardFailure reads what sshd said of a connect it could not make
// ("connect failed: Connection refused"): the words of the C library's
// strerror and gai_strerror on Linux, the BSDs and macOS.
func forwardFailure(reason string) wstest.DialFailure {
	l := strings.ToLower(reason)
	switch {
	case strings.Contains(l, "connection refused"):
		return wstest.DialRefused
	case mentionsAny(l, "name or service not known", "nodename nor servname", "no address associated", "name resolution",
		"name does not resolve", "unknown host", "hostname nor servname", "non-recoverable failure in name"):
		return wstest.DialNotResolved
	case strings.Contains(l, "timed out"):
		return wstest.DialTimedOut
	}
	return wstest.DialFailed
}

// forwardReason is sshd's reason in words a person acts on: a Server that
// forbids forwarding says only "administratively prohibited".
func forwardReason(reason string) string {
	if strings.Contains(strings.ToLower(reason), "administratively prohibited") {
		return "the Server's sshd does not allow connections through SSH (AllowTcpForwarding no in its sshd_config; set it to yes, or local for this, to test from the Server): " + reason
	}
	return strings.TrimPrefix(reason, "connect failed: ")
}

func mentionsAny(lower string, words ...string) bool {
	for _, w := range words {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// compareEnds says what a test from here and the same test from the
// Server (from names it) mean together, and whether both worked.
func compareEnds(here, there *wstest.Report, from string) (bool, wstest.Diagnosis) {
	sameAsServer := fmt.Sprintf(" It fails the same way from %s (through SSH), so the network between this machine and the Server is not the cause.", from)
	switch {
	case here.OK && there.OK:
		msg := fmt.Sprintf("The WebSocket works from here and from %s (through SSH).", from)
		if differentCertificates(here, there) {
			msg += fmt.Sprintf(" The TLS handshakes met different certificates (here %s, from the Server %s): something between this machine and the Server answers TLS itself.", here.Certificate, there.Certificate)
		}
		return true, wstest.Diagnosis{Cause: wstest.CauseOK, Message: msg}
	case there.OK:
		return false, between(here, there, from)
	case here.OK:
		return false, wstest.Diagnosis{Cause: wstest.CauseServerSide,
			Message: fmt.Sprintf("The WebSocket works from here, but not from %s (through SSH): %s Clients are not affected: the Server itself cannot reach this URL, most often because it resolves the name to an address it cannot reach from inside (its public address, behind NAT).", from, there.Diagnosis.Message),
			Fix:     "Nothing to fix for clients. To test the Server's Service Proxy from its own side, connect to its loopback address (127.0.0.1 and the URL's port) instead of the address of the URL's name."}
	case here.Diagnosis.Cause == there.Diagnosis.Cause:
		d := here.Diagnosis
		d.Message += sameAsServer
		return false, d
	default:
		d := there.Diagnosis
		d.Message = fmt.Sprintf("From %s (through SSH): %s From here it fails differently (%s): %s", from, there.Diagnosis.Message, here.Diagnosis.Cause, here.Diagnosis.Message)
		return false, d
	}
}

// between explains a test that works from the Server but not from here:
// what is between this machine and the Server.
func between(here, there *wstest.Report, from string) wstest.Diagnosis {
	works := fmt.Sprintf("The WebSocket works from %s (through SSH), but not from here: ", from)
	name, port, addr := target(here)
	resolved := ""
	if s := stepOf(here, wstest.StepDNS); s != nil && s.OK && strings.Contains(s.Detail, "→") {
		resolved = fmt.Sprintf(" Here %s; if that is not the Server's address, the name leads somewhere else from here (DNS).", s.Detail)
	}
	failed := failedStep(here)
	proxyFix := "Find what answers in between (a reverse proxy or load balancer, a router's or firewall's web filter) and let it pass WebSocket upgrades (the Upgrade and Connection headers) to the Server, or have the name lead past it."
	switch {
	case failed == wstest.StepDNS:
		detail := ""
		if s := stepOf(here, wstest.StepDNS); s != nil {
			detail = " (" + s.Detail + ")"
		}
		return wstest.Diagnosis{Cause: wstest.CauseBetweenDNS,
			Message: works + fmt.Sprintf("this machine cannot resolve %s%s, while the Server can. The DNS this machine uses does not have the name; clients that use the same DNS fail alike.", name, detail),
			Fix:     fmt.Sprintf("Add %s to the DNS your clients use (a public record, or the local DNS for clients inside), or to /etc/hosts on this machine for a test.", name)}
	case failed == wstest.StepTCP:
		what := "was refused here"
		if here.Diagnosis.Cause == wstest.CauseTimeout {
			what = "got no answer here"
		}
		detail := ""
		if s := stepOf(here, wstest.StepTCP); s != nil {
			detail = " (" + s.Detail + ")"
		}
		return wstest.Diagnosis{Cause: wstest.CauseBetweenFirewall,
			Message: works + fmt.Sprintf("the connection to %s %s%s. A firewall or NAT between this machine and the Server blocks port %s.%s", addr, what, detail, port, resolved),
			Fix:     fmt.Sprintf("Open port %s to the Server in the firewall between (on a router with NAT, forward port %s to the Server), and check the Server's own firewall for connections from other machines.", port, port)}
	case here.Status != 0:
		answer := fmt.Sprintf("HTTP %d", here.Status)
		if here.Server != "" {
			answer += " (Server: " + here.Server + ")"
		}
		if there.Server != "" && there.Server != here.Server {
			answer += fmt.Sprintf(", where the Server's side got 101 from %s", there.Server)
		} else {
			answer += ", where the Server's side got 101"
		}
		return wstest.Diagnosis{Cause: wstest.CauseBetweenProxy,
			Message: works + fmt.Sprintf("from here %s. That answer is not the Server's Service Proxy's: another proxy between this machine and the Server answers.%s", answer, resolved),
			Fix:     proxyFix}
	case differentCertificates(here, there):
		return wstest.Diagnosis{Cause: wstest.CauseBetweenProxy,
			Message: works + fmt.Sprintf("the TLS certificate met from here (%s) is not the one the Server's side met (%s): something between this machine and the Server answers TLS itself. %s%s", here.Certificate, there.Certificate, here.Diagnosis.Message, resolved),
			Fix:     proxyFix}
	}
	return wstest.Diagnosis{Cause: wstest.CauseBetween,
		Message: works + here.Diagnosis.Message + " Something between this machine and the Server (a proxy or firewall that holds or cuts the connection) is in the way." + resolved,
		Fix:     "Check the proxies and firewalls between this machine and the Server; the Server's own side is fine."}
}

// target is the host name of a test's URL, the port and the address it
// dialled.
func target(r *wstest.Report) (name, port, addr string) {
	u, err := validate.WebSocketURL(r.URL)
	if err != nil {
		return "", "", r.Connect
	}
	name, port = u.Hostname(), u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "wss" {
			port = "443"
		}
	}
	addr = net.JoinHostPort(name, port)
	if r.Connect != "" {
		addr = r.Connect
		if _, p, err := net.SplitHostPort(r.Connect); err == nil {
			port = p
		}
	}
	return name, port, addr
}

func stepOf(r *wstest.Report, name string) *wstest.Step {
	for i := range r.Steps {
		if r.Steps[i].Name == name {
			return &r.Steps[i]
		}
	}
	return nil
}

// failedStep is the name of the step that failed, "" when none did.
func failedStep(r *wstest.Report) string {
	for _, s := range r.Steps {
		if !s.OK {
			return s.Name
		}
	}
	return ""
}

func differentCertificates(a, b *wstest.Report) bool {
	return a.Certificate != "" && b.Certificate != "" && a.Certificate != b.Certificate
}
