package wstest

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/socketbar/socketbar/proxy/wsframe"
)

// maxMessage bounds what the tester reads from one frame and one message
// (fragments together): an echo test needs little, and a peer must not
// make it hold more.
const maxMessage = 1 << 20

// protocolError is a server's breach of RFC 6455 after the handshake;
// code is the close code to fail the connection with.
type protocolError struct {
	code int
	msg  string
}

func (e *protocolError) Error() string { return e.msg }

// message is a whole data message, or a control frame.
type message struct {
	op   byte
	data []byte
	// frames counts the fragments of a message being read.
	frames int
}

// nextMessage reads frames until it has a control frame or a whole data
// message, checking what RFC 6455 asks of a server's frames: no RSV bits
// (the tester agrees no extension, section 5.2), no reserved opcode, no
// mask (section 5.1), control frames final and at most 125 bytes (5.5),
// fragments in order (5.4), and at most maxMessage bytes. A breach is a
// *protocolError. A message in fragments is kept in r.partial across
// control frames sent between its fragments.
func (r *run) nextMessage() (message, error) {
	msg := &r.partial
	for {
		h, err := wsframe.ReadHeader(r.br)
		switch {
		case errors.Is(err, wsframe.ErrProtocol):
			return message{}, &protocolError{wsframe.CloseProtocolError, fmt.Sprintf("an invalid frame header (%v)", err)}
		case err != nil:
			return message{}, err
		}
		// Checked before reading the payload: a peer's garbage read as a
		// header announces a length that may never come.
		var breach string
		switch {
		case h.Rsv != 0:
			breach = fmt.Sprintf("a frame with RSV bits set, though no extension was agreed (the first byte was %#02x)", h.Raw[0])
		case h.Opcode > wsframe.OpBinary && h.Opcode < wsframe.OpClose || h.Opcode > wsframe.OpPong:
			breach = fmt.Sprintf("a frame with the reserved opcode %#x (the first byte was %#02x)", h.Opcode, h.Raw[0])
		case h.Masked:
			breach = "a masked frame (a server must not mask its frames)"
		case h.Opcode >= wsframe.OpClose && !h.Fin:
			breach = "a fragmented control frame"
		case h.Opcode == 0 && msg.op == 0:
			breach = "a continuation frame with no message to continue"
		case h.Opcode != 0 && h.Opcode < wsframe.OpClose && msg.op != 0:
			breach = "a new message before the previous one's last fragment"
		}
		if breach != "" {
			return message{}, &protocolError{wsframe.CloseProtocolError, breach}
		}
		if h.Length > maxMessage-uint64(len(msg.data)) {
			// The frame may be small: what is over is the message its
			// fragments add up to.
			what := fmt.Sprintf("a frame of %d bytes", h.Length)
			if h.Opcode == 0 {
				what = fmt.Sprintf("a message that reached %d bytes in %d fragments", uint64(len(msg.data))+h.Length, msg.frames+1)
			}
			return message{}, &protocolError{wsframe.CloseTooBig, fmt.Sprintf("%s, over the tester's %d-byte limit for a message", what, maxMessage)}
		}
		p := make([]byte, h.Length)
		if _, err := io.ReadFull(r.br, p); err != nil {
			return message{}, err
		}
		if h.Opcode >= wsframe.OpClose {
			return message{op: h.Opcode, data: p}, nil
		}
		if h.Opcode != 0 {
			msg.op = h.Opcode
		}
		msg.data = append(msg.data, p...)
		msg.frames++
		if h.Fin {
			whole := *msg
			*msg = message{}
			return whole, nil
		}
	}
}

// setReadDeadline sets the read deadline, or an expired one when ctx has
// ended: the watch set in tcp may have fired before this call.
func (r *run) setReadDeadline(t time.Time) {
	r.conn.SetReadDeadline(t)
	if r.ctx.Err() != nil {
		r.conn.SetReadDeadline(time.Now())
	}
}

// closing is how the peer ended the connection: the code of its close
// frame (1006 when the connection ended without one) and the reason it
// gave (RFC 6455 section 7.1.6).
type closing struct {
	code   int
	reason string
}

// String is the code, its meaning and the reason, as the steps show them.
func (c closing) String() string {
	s := closeWords(c.code)
	if c.reason != "" {
		s += ", reason " + quoteText([]byte(c.reason), maxShown)
	}
	return s
}

// closeOf reads a close frame's payload; r.report keeps what the peer sent.
func (r *run) closeOf(payload []byte) closing {
	c := closing{code: wsframe.CloseCode(wsframe.Header{}, payload)}
	if len(payload) > 2 {
		c.reason = string(payload[2:])
	}
	r.report.CloseCode, r.report.CloseReason = c.code, shownText(c.reason, maxShown)
	return c
}

// readData reads until a data message arrives, answering pings and noting
// a close. It returns the message, or how the peer closed (code 1006
// when the connection ended without a close frame).
func (r *run) readData(until time.Time) (data message, closed closing, err error) {
	r.setReadDeadline(until)
	for {
		m, err := r.nextMessage()
		switch {
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || isReset(err):
			r.report.CloseCode = wsframe.CloseAbnormal
			return message{}, closing{code: wsframe.CloseAbnormal}, nil
		case err != nil:
			return message{}, closing{}, err
		}
		switch m.op {
		case wsframe.OpClose:
			return message{}, r.closeOf(m.data), nil
		case wsframe.OpPing:
			r.conn.Write(wsframe.Frame(wsframe.OpPong, m.data, true))
		case wsframe.OpPong:
		default:
			return m, closing{}, nil
		}
	}
}

// failProtocol ends a stage on a frame that breaks RFC 6455.
func (r *run) failProtocol(step string, start time.Time, pe *protocolError) bool {
	r.step(step, start, false, pe.msg)
	return r.protocol(fmt.Sprintf("After the handshake the server sent %s; a browser closes the connection on that.", pe.msg), pe.code)
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

// echoWait is how long the echo step waits for an answer when the echo is
// not required: not every app echoes, so not the whole test.
const echoWait = 2 * time.Second

func (r *run) echo() bool {
	start := time.Now()
	sent := quoteText([]byte(r.opts.Message), maxShown)
	if _, err := r.conn.Write(wsframe.Frame(wsframe.OpText, []byte(r.opts.Message), true)); err != nil {
		r.step(StepEcho, start, false, err.Error())
		return r.lost(err, "right after the handshake")
	}
	deadline, _ := r.ctx.Deadline()
	if !r.opts.ExpectEcho {
		// Wait a little for any answer, and leave the ping and the close
		// at least as long.
		deadline = minTime(deadline, time.Now().Add(min(echoWait, time.Until(deadline)/2)))
	}
	var others int
	for {
		data, closed, err := r.readData(deadline)
		var pe *protocolError
		switch {
		case errors.As(err, &pe):
			return r.failProtocol(StepEcho, start, pe)
		case closed.code != 0:
			r.step(StepEcho, start, false, "the connection was closed with "+closed.String())
			r.diagnose(CauseAppRejected, fmt.Sprintf("The handshake succeeded, then the connection was closed with %s before any message: the app accepted the upgrade but its WebSocket route rejected the connection.", closed),
				"Check the app's log: a consumer or handler that refuses the path, an authentication or Origin check, or an exception on connect (Django Channels: the routing and the consumer's connect()).")
			return false
		case err != nil && r.timedOut(err):
			waited := time.Since(start).Round(100 * time.Millisecond)
			if !r.opts.ExpectEcho {
				return r.step(StepEcho, start, true, fmt.Sprintf("sent %s; no answer in %s (fine for apps that do not echo, unless the test requires the echo)", sent, waited))
			}
			r.step(StepEcho, start, false, fmt.Sprintf("sent %s; %d other message(s) in %s, no echo", sent, others, waited))
			return r.timeout("to the echo of your message")
		case err != nil:
			r.step(StepEcho, start, false, err.Error())
			return r.lost(err, "during the echo")
		case string(data.data) == r.opts.Message:
			r.report.Answer = shownText(string(data.data), maxShown)
			return r.step(StepEcho, start, true, sent+" came back")
		case !r.opts.ExpectEcho:
			r.report.Answer = shownMessage(data)
			return r.step(StepEcho, start, true, fmt.Sprintf("sent %s; the app answered: %s", sent, r.report.Answer))
		}
		if others == 0 {
			r.report.Answer = shownMessage(data)
		}
		others++
	}
}

// maxShown bounds, in characters, a message or a close reason shown in a
// step: enough to recognise an answer, not enough to flood a terminal.
const maxShown = 200

// shownText is s as a step shows it: at most max characters (then "…"),
// control characters escaped so that the peer cannot move a terminal's
// cursor or start a line of its own; quotes and other characters as
// they are. Invalid UTF-8 is escaped byte by byte.
func shownText(s string, max int) string {
	var b strings.Builder
	n := 0
	for i, w := 0, 0; i < len(s); i += w {
		rn, size := utf8.DecodeRuneInString(s[i:])
		w = size
		if n == max {
			b.WriteString("…")
			break
		}
		n++
		switch {
		case rn == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, "\\x%02x", s[i])
		case unicode.IsControl(rn) || unicode.Is(unicode.Cf, rn) || rn == '\u2028' || rn == '\u2029':
			q := strconv.QuoteRune(rn)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(rn)
		}
	}
	return b.String()
}

// quoteText is shownText between typographic quotes, for text in a
// sentence.
func quoteText(b []byte, max int) string { return "“" + shownText(string(b), max) + "”" }

// shownMessage is an answer as a step shows it: a text message as text
// (an app's JSON reads as JSON), a binary one by its size and first bytes.
func shownMessage(m message) string {
	if m.op == wsframe.OpBinary {
		return fmt.Sprintf("%d bytes of binary data (% x…)", len(m.data), m.data[:min(len(m.data), 16)])
	}
	return shownText(string(m.data), maxShown)
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
	r.setReadDeadline(deadline)
	for {
		m, err := r.nextMessage()
		var pe *protocolError
		switch {
		case errors.As(err, &pe):
			return r.failProtocol(StepPing, start, pe)
		case err != nil:
			r.step(StepPing, start, false, err.Error())
			if r.timedOut(err) {
				return r.timeout("to a ping (no pong)")
			}
			return r.lost(err, "when pinged")
		}
		switch {
		case m.op == wsframe.OpPong && string(m.data) == string(payload):
			return r.step(StepPing, start, true, "pong received")
		case m.op == wsframe.OpPing:
			r.conn.Write(wsframe.Frame(wsframe.OpPong, m.data, true))
		case m.op == wsframe.OpClose:
			closed := r.closeOf(m.data)
			r.step(StepPing, start, false, "closed with "+closed.String())
			r.diagnose(CauseAppRejected, fmt.Sprintf("The connection was closed with %s instead of answering a ping.", closed), "Check the app's log around the time of the test.")
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
	var closed closing
	var err error
	for closed.code == 0 && err == nil { // skip messages still on their way
		_, closed, err = r.readData(until)
	}
	var pe *protocolError
	switch {
	case errors.As(err, &pe):
		return r.failProtocol(StepClose, start, pe)
	case err != nil:
		r.step(StepClose, start, false, "no close frame came back: "+err.Error())
		return r.timeout("to the closing handshake")
	case closed.code == wsframe.CloseAbnormal:
		return r.step(StepClose, start, true, "the server closed the connection without a close frame ("+closed.String()+"); tolerated")
	}
	return r.step(StepClose, start, true, "closed cleanly with "+closed.String())
}
