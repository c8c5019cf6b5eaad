package wstest

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"time"
)

// errConnRefused is what a dial to a port nobody listens on fails with.
var errConnRefused = syscall.ECONNREFUSED

// dns looks up the host to dial: the URL's, or the one of the address to
// connect to instead. An IP address needs no lookup.
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
	if r.opts.From != "" {
		return r.step(StepDNS, start, true, "left to "+r.opts.From+", which looks up "+host+" when it connects"+instead)
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

// tcp connects to the address to dial, and makes a cancelled ctx wake any
// read or write blocked on the connection.
func (r *run) tcp() bool {
	start := time.Now()
	dial := r.opts.Dial
	if dial == nil {
		dial = func(ctx context.Context, addr string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		}
	}
	conn, err := dial(r.ctx, r.addr())
	if err != nil {
		if r.dialFailed(err) {
			return false
		}
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
	r.dialStart = start
	if r.opts.From != "" {
		return r.step(StepTCP, start, true, fmt.Sprintf("%s connects to %s (whether it could shows when the answer comes)", r.opts.From, conn.RemoteAddr()))
	}
	return r.step(StepTCP, start, true, "connected to "+conn.RemoteAddr().String())
}

// DialFailure is what went wrong in a connect made by a DialFunc.
type DialFailure int

const (
	// DialFailed is a connect that failed for another reason (Reason).
	DialFailed DialFailure = iota
	// DialNotResolved is a name the dialling machine could not look up.
	DialNotResolved
	// DialRefused is a connection refused: nothing listens there.
	DialRefused
	// DialTimedOut is a connect that got no answer in time.
	DialTimedOut
)

// DialError is a connect made by a DialFunc that failed, returned by the
// DialFunc or, for a connection that learns it only when data flows, by
// the connection's first Read or Write.
type DialError struct {
	Addr    string
	Failure DialFailure
	// Reason is the dialling side's own words ("Connection refused").
	Reason string
}

func (e *DialError) Error() string {
	return fmt.Sprintf("connect to %s: %s", e.Addr, e.Reason)
}

// dialFailed diagnoses err when it is a *DialError: the DNS or TCP step
// failed, whichever step read or wrote first. The steps recorded after it
// are dropped, since they never ran on a connection.
func (r *run) dialFailed(err error) bool {
	var de *DialError
	if !errors.As(err, &de) {
		return false
	}
	name := StepTCP
	if de.Failure == DialNotResolved {
		name = StepDNS
	}
	r.failStep(name, de.Reason)
	from := ""
	if r.opts.From != "" {
		from = " from " + r.opts.From
	}
	addr := r.addr()
	switch de.Failure {
	case DialNotResolved:
		host, _, _ := net.SplitHostPort(addr)
		r.diagnose(CauseDNS, fmt.Sprintf("The name %s could not be resolved%s: %s.", host, from, de.Reason),
			"Check the spelling, or add the name to the DNS (or /etc/hosts) of the machine that connects.")
	case DialRefused:
		r.diagnose(CauseRefused, fmt.Sprintf("Nothing is listening on %s as seen%s: the connection was refused.", addr, orWord(from, " from here")), r.refusedFix())
	case DialTimedOut:
		r.diagnose(CauseTimeout, fmt.Sprintf("The TCP connection to %s%s got no answer (%s).", addr, from, de.Reason), r.timeoutFix())
	default:
		r.diagnose(CauseRefused, fmt.Sprintf("Could not connect to %s%s: %s.", addr, from, de.Reason),
			"Check the address, and that the machine that connects may reach it.")
	}
	return true
}

// failStep marks the step name failed with detail, and drops the steps
// after it; a step not yet recorded is added.
func (r *run) failStep(name, detail string) {
	start := r.dialStart
	if start.IsZero() {
		start = time.Now()
	}
	for i, s := range r.report.Steps {
		if s.Name == name {
			r.report.Steps = r.report.Steps[:i]
			break
		}
	}
	r.step(name, start, false, detail)
}

// refusedFix is what to do when nothing listens where the test dialled.
func (r *run) refusedFix() string {
	if r.opts.Connect != "" {
		return "Start the server (on macOS Server: the Service Proxy), or check the address and port connected to instead of the URL's (443 for wss://, 80 for ws://)."
	}
	return "Start the server (on macOS Server: the Service Proxy, `socketbar restart`), or check the port in the URL (443 for wss://, 80 for ws://)."
}

var tlsVersions = map[uint16]string{tls.VersionTLS10: "TLS 1.0", tls.VersionTLS11: "TLS 1.1", tls.VersionTLS12: "TLS 1.2", tls.VersionTLS13: "TLS 1.3"}

// tls runs the TLS handshake for wss://. Verification is done by hand after
// the handshake so that its result is reported even with --insecure.
func (r *run) tls() bool {
	if !r.secure() {
		return true
	}
	start := time.Now()
	tc := tls.Client(r.conn, &tls.Config{ServerName: r.u.Hostname(), InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
	if err := tc.HandshakeContext(r.ctx); err != nil {
		if r.dialFailed(err) {
			return false
		}
		r.step(StepTLS, start, false, err.Error())
		if r.timedOut(err) {
			return r.timeout("to the TLS handshake")
		}
		why := err.Error()
		if strings.Contains(why, "first record does not look like a TLS handshake") {
			why = "the port answered in plain HTTP, not TLS (use ws:// for it, or the TLS port)"
		}
		r.diagnose(CauseTLS, "The TLS handshake failed: "+why+".", "Check that the port serves HTTPS and that client and server share a TLS version.")
		return false
	}
	r.conn = tc
	st := tc.ConnectionState()
	leaf := st.PeerCertificates[0]
	sum := sha256.Sum256(leaf.Raw)
	r.report.Certificate = "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
	detail := fmt.Sprintf("%s, certificate %q", tlsVersions[st.Version], leaf.Subject.CommonName)
	if names := certNames(leaf); names != "" {
		detail += " for " + names
	}
	detail += ", valid until " + leaf.NotAfter.Format("2006-01-02")
	inter := x509.NewCertPool()
	for _, c := range st.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	words := certProblems(leaf, inter, r.opts.RootCAs, r.u.Hostname())
	if words == "" {
		return r.step(StepTLS, start, true, detail+", trusted")
	}
	if r.opts.Insecure {
		return r.step(StepTLS, start, true, detail+"; accepted although not trusted (insecure mode): "+words)
	}
	r.step(StepTLS, start, false, detail+"; "+words)
	r.diagnose(CauseTLS, "The server's certificate is not accepted: "+words+".",
		"Give the Service Proxy a certificate for this name (Server.app → Certificates), connect with the name the certificate has, or for a test accept an untrusted certificate.")
	return false
}

func certNames(c *x509.Certificate) string {
	names := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	return strings.Join(names, ", ")
}

// certProblems says in words why a certificate is not accepted for host,
// naming each problem: the name, the trust chain, the dates. "" means none.
func certProblems(leaf *x509.Certificate, inter, roots *x509.CertPool, host string) string {
	var problems []string
	if err := leaf.VerifyHostname(host); err != nil {
		problems = append(problems, fmt.Sprintf("it is for %s, not %s", orWord(certNames(leaf), leaf.Subject.CommonName), host))
	}
	_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
	var authErr x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	switch {
	case err == nil:
	case errors.As(err, &authErr) && leaf.Issuer.String() == leaf.Subject.String():
		problems = append(problems, "it is self-signed and not trusted by this machine")
	case errors.As(err, &authErr):
		problems = append(problems, fmt.Sprintf("it is signed by %q, which this machine does not trust", leaf.Issuer.CommonName))
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		problems = append(problems, fmt.Sprintf("it is outside its validity (until %s)", leaf.NotAfter.Format("2006-01-02")))
	default:
		problems = append(problems, err.Error())
	}
	return strings.Join(problems, ", and ")
}

func orWord(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
