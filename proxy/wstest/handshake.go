package wstest

import (
	"bufio"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/socketbar/socketbar/proxy/internal/headcap"
	"github.com/socketbar/socketbar/proxy/wsframe"
)

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
	if r.dialFailed(err) {
		return false
	}
	if r.timedOut(err) {
		return r.timeout(when)
	}
	r.diagnose(CauseRefused, fmt.Sprintf("The server closed the connection %s (%v).", when, err), lostFix)
	return false
}

// lostFix is what to check when the server ends the connection.
const lostFix = "If the URL is wss://, check that the port speaks TLS; if ws://, that it speaks plain HTTP."
