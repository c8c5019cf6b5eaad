package wstest

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"
	"time"

	"github.com/socketbar/socketbar/proxy/wsframe"
)

var errConnRefused = syscall.ECONNREFUSED

// maxFrame bounds what the tester reads from one frame.
const maxFrame = 1 << 20

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
		"Give the Service Proxy a certificate for this name (Server.app → Certificates), connect with the name the certificate has, or for a test add --insecure.")
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

// readData reads frames until a data frame arrives, answering pings and
// noting a close. It returns the data, or the close code when the peer
// closed (1006 when the connection ended without a close frame).
func (r *run) readData(until time.Time) (data []byte, closed int, err error) {
	r.conn.SetReadDeadline(until)
	for {
		h, p, err := wsframe.ReadFrame(r.br, maxFrame)
		switch {
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || isReset(err):
			return nil, wsframe.CloseAbnormal, nil
		case err != nil:
			return nil, 0, err
		}
		switch h.Opcode {
		case wsframe.OpClose:
			return nil, wsframe.CloseCode(wsframe.Header{}, p), nil
		case wsframe.OpPing:
			r.conn.Write(wsframe.Frame(wsframe.OpPong, p, true))
		case wsframe.OpPong:
		default:
			return p, 0, nil
		}
	}
}

func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

var closeMeanings = map[int]string{
	1000: "normal closure", 1001: "going away", 1002: "protocol error", 1003: "unsupported data",
	1005: "no status code in the close frame", 1006: "closed abnormally, without a close frame",
	1007: "invalid data", 1008: "policy violation", 1009: "message too big", 1011: "server error",
}

func closeWords(code int) string {
	if m, ok := closeMeanings[code]; ok {
		return fmt.Sprintf("%d (%s)", code, m)
	}
	return fmt.Sprint(code)
}

func (r *run) echo() bool {
	start := time.Now()
	if _, err := r.conn.Write(wsframe.Frame(wsframe.OpText, []byte(r.opts.Message), true)); err != nil {
		r.step(StepEcho, start, false, err.Error())
		return r.lost(err, "right after the handshake")
	}
	deadline, _ := r.ctx.Deadline()
	if !r.opts.ExpectEcho {
		// Not every app echoes; wait a little for any answer, not the whole test.
		deadline = minTime(deadline, time.Now().Add(2*time.Second))
	}
	var others int
	for {
		data, closed, err := r.readData(deadline)
		switch {
		case closed != 0:
			r.step(StepEcho, start, false, "the connection was closed with "+closeWords(closed))
			r.diagnose(CauseAppRejected, fmt.Sprintf("The handshake succeeded, then the connection was closed with %s before any message: the app accepted the upgrade but its WebSocket route rejected the connection.", closeWords(closed)),
				"Check the app's log: a consumer or handler that refuses the path, an authentication or Origin check, or an exception on connect (Django Channels: the routing and the consumer's connect()).")
			return false
		case err != nil && r.timedOut(err):
			if !r.opts.ExpectEcho {
				return r.step(StepEcho, start, true, fmt.Sprintf("sent %q; no answer within 2s (fine for apps that do not echo; --expect-echo requires one)", r.opts.Message))
			}
			r.step(StepEcho, start, false, fmt.Sprintf("sent %q; %d other message(s), no echo", r.opts.Message, others))
			return r.timeout("to the echo of your message")
		case err != nil:
			r.step(StepEcho, start, false, err.Error())
			return r.lost(err, "during the echo")
		case string(data) == r.opts.Message:
			return r.step(StepEcho, start, true, fmt.Sprintf("%q came back", r.opts.Message))
		case !r.opts.ExpectEcho:
			return r.step(StepEcho, start, true, fmt.Sprintf("sent %q; the app answered %.60q", r.opts.Message, data))
		}
		others++
	}
}

func minTime(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}

func (r *run) ping() bool {
	start := time.Now()
	payload := []byte("socketbar-ping")
	if _, err := r.conn.Write(wsframe.Frame(wsframe.OpPing, payload, true)); err != nil {
		r.step(StepPing, start, false, err.Error())
		return r.lost(err, "when pinged")
	}
	deadline, _ := r.ctx.Deadline()
	r.conn.SetReadDeadline(deadline)
	for {
		h, p, err := wsframe.ReadFrame(r.br, maxFrame)
		if err != nil {
			r.step(StepPing, start, false, err.Error())
			if r.timedOut(err) {
				return r.timeout("to a ping (no pong)")
			}
			return r.lost(err, "when pinged")
		}
		switch {
		case h.Opcode == wsframe.OpPong && string(p) == string(payload):
			return r.step(StepPing, start, true, "pong received")
		case h.Opcode == wsframe.OpClose:
			code := wsframe.CloseCode(wsframe.Header{}, p)
			r.step(StepPing, start, false, "closed with "+closeWords(code))
			r.diagnose(CauseAppRejected, "The connection was closed with "+closeWords(code)+" instead of answering a ping.", "Check the app's log around the time of the test.")
			return false
		}
	}
}

func (r *run) close() bool {
	start := time.Now()
	if _, err := r.conn.Write(wsframe.CloseFrame(wsframe.CloseNormal, "socketbar test done", true)); err != nil {
		r.step(StepClose, start, false, err.Error())
		return r.lost(err, "when closing")
	}
	deadline, _ := r.ctx.Deadline()
	until := minTime(deadline, time.Now().Add(3*time.Second))
	var closed int
	var err error
	for closed == 0 && err == nil { // skip messages still on their way
		_, closed, err = r.readData(until)
	}
	switch {
	case err != nil:
		r.step(StepClose, start, false, "no close frame came back: "+err.Error())
		return r.timeout("to the closing handshake")
	case closed == wsframe.CloseAbnormal:
		return r.step(StepClose, start, true, "the server closed the connection without a close frame ("+closeWords(closed)+"); tolerated")
	}
	return r.step(StepClose, start, true, "closed cleanly with "+closeWords(closed))
}
