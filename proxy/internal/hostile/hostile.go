package hostile

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// Behaviour is what a Server does after reading a request.
type Behaviour int

// The behaviours. The endless ones stream until the peer hangs up or
// WriteCap is reached.
const (
	// EndlessHeaderLines answers 101 and then header lines without end.
	EndlessHeaderLines Behaviour = iota
	// EndlessHeader answers 101 and then one header whose value never ends.
	EndlessHeader
	// EndlessStatusLine sends a status line that never ends.
	EndlessStatusLine
	// HugeFrame completes the handshake, then sends a binary frame header
	// announcing 2^62 bytes and streams its payload.
	HugeFrame
	// OversizedControl completes the handshake, then sends a ping of 1000
	// bytes (control frames carry at most 125, RFC 6455 section 5.5).
	OversizedControl
	// GarbageAfter101 completes the handshake, then sends text that is
	// not a WebSocket frame.
	GarbageAfter101
	// FragmentFlood completes the handshake, then sends one text message
	// in 65535-byte fragments that never ends: each frame is small, the
	// message is not.
	FragmentFlood
	// DripStatusLine sends its 101 answer one byte a second: a status
	// line that is never over before the peer's timeout.
	DripStatusLine
)

func (b Behaviour) String() string {
	switch b {
	case EndlessHeaderLines:
		return "endless header lines"
	case EndlessHeader:
		return "one endless header"
	case EndlessStatusLine:
		return "endless status line"
	case HugeFrame:
		return "2^62-byte frame"
	case OversizedControl:
		return "oversized control frame"
	case GarbageAfter101:
		return "garbage after 101"
	case FragmentFlood:
		return "endless fragments"
	case DripStatusLine:
		return "status line dripped"
	}
	return "unknown"
}

// All lists every behaviour, for table tests.
func All() []Behaviour {
	return []Behaviour{EndlessHeaderLines, EndlessHeader, EndlessStatusLine, HugeFrame, OversizedControl, GarbageAfter101, FragmentFlood, DripStatusLine}
}

// Handshake lists the behaviours that break the HTTP answer itself by
// never ending it.
func Handshake() []Behaviour {
	return []Behaviour{EndlessHeaderLines, EndlessHeader, EndlessStatusLine}
}

const (
	// WriteCap is the most a connection writes.
	WriteCap = 32 << 20
	// lifetime bounds how long a connection is kept open.
	lifetime = 15 * time.Second
)

// Conn is what happened on one connection.
type Conn struct {
	// Written is how many bytes the server wrote before the peer hung up
	// (or WriteCap, or lifetime, ran out).
	Written int64
	// Ended is when the server saw the peer hang up.
	Ended time.Time
	// HungUp is false when the server stopped on its own (cap or lifetime).
	HungUp bool
}

// Server is a hostile server on 127.0.0.1.
type Server struct {
	// Addr is host:port.
	Addr string
	// Conns receives one Conn per finished connection.
	Conns <-chan Conn

	b     Behaviour
	ln    net.Listener
	conns chan Conn
	wg    sync.WaitGroup
	mu    sync.Mutex
	open  map[net.Conn]struct{}
}

// Start runs a Server with behaviour b until the test ends.
func Start(t testing.TB, b Behaviour) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns := make(chan Conn, 64)
	s := &Server{Addr: ln.Addr().String(), Conns: conns, b: b, ln: ln, conns: conns, open: map[net.Conn]struct{}{}}
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(s.Close)
	return s
}

// Close stops the server, closes its connections and waits for them.
func (s *Server) Close() {
	s.ln.Close()
	s.mu.Lock()
	for c := range s.open {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// Next waits up to d for the next finished connection.
func (s *Server) Next(d time.Duration) (Conn, bool) {
	select {
	case c := <-s.Conns:
		return c, true
	case <-time.After(d):
		return Conn{}, false
	}
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.open[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			res := s.serve(c)
			c.Close()
			s.mu.Lock()
			delete(s.open, c)
			s.mu.Unlock()
			select {
			case s.conns <- res:
			default:
			}
		}()
	}
}

// counter counts the bytes written to a connection.
type counter struct {
	c net.Conn
	n int64
}

func (w *counter) Write(p []byte) (int, error) {
	n, err := w.c.Write(p)
	w.n += int64(n)
	return n, err
}

func (s *Server) serve(c net.Conn) Conn {
	c.SetDeadline(time.Now().Add(lifetime))
	// A small send buffer keeps what the kernel holds for the peer small,
	// so Written is close to what the peer actually read.
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(16 << 10)
	}
	w := &counter{c: c}
	br := bufio.NewReader(io.LimitReader(c, 64<<10))
	req, err := http.ReadRequest(br)
	if err != nil {
		return Conn{Ended: time.Now()}
	}
	accept := acceptKey(req.Header.Get("Sec-WebSocket-Key"))
	switch s.b {
	case EndlessHeaderLines:
		io.WriteString(w, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n")
		return s.endless(w, []byte("X-Filler: "+strings.Repeat("a", 90)+"\r\n"))
	case EndlessHeader:
		io.WriteString(w, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nX-Endless: ")
		return s.endless(w, []byte(strings.Repeat("a", 4096)))
	case EndlessStatusLine:
		io.WriteString(w, "HTTP/1.1 101 ")
		return s.endless(w, []byte(strings.Repeat("a", 4096)))
	case DripStatusLine:
		return drip(w, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "+accept+"\r\n\r\n")
	}
	io.WriteString(w, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "+accept+"\r\n\r\n")
	switch s.b {
	case HugeFrame:
		w.Write(binary.BigEndian.AppendUint64([]byte{0x82, 127}, 1<<62))
		return s.endless(w, make([]byte, 4096))
	case OversizedControl:
		w.Write(append(binary.BigEndian.AppendUint16([]byte{0x89, 126}, 1000), make([]byte, 1000)...))
	case GarbageAfter101:
		io.WriteString(w, "this is not a WebSocket frame\r\n")
	case FragmentFlood:
		payload := make([]byte, 65535)
		w.Write(append(binary.BigEndian.AppendUint16([]byte{0x01, 126}, 65535), payload...)) // text, not final
		return s.endless(w, append(binary.BigEndian.AppendUint16([]byte{0x00, 126}, 65535), payload...))
	}
	return waitHangUp(w)
}

// drip writes text one byte a second until it is written or the peer
// hangs up (or lifetime runs out), watching for the hang-up meanwhile.
func drip(w *counter, text string) Conn {
	gone := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, w.c)
		gone <- err
	}()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for i := 0; i < len(text); i++ {
		if _, err := w.Write([]byte{text[i]}); err != nil {
			return Conn{Written: w.n, Ended: time.Now(), HungUp: !isTimeout(err)}
		}
		select {
		case err := <-gone:
			return Conn{Written: w.n, Ended: time.Now(), HungUp: !isTimeout(err)}
		case <-tick.C:
		}
	}
	err := <-gone
	return Conn{Written: w.n, Ended: time.Now(), HungUp: !isTimeout(err)}
}

// waitHangUp reads (and drops) what the peer sends until it hangs up.
func waitHangUp(w *counter) Conn {
	_, err := io.Copy(io.Discard, w.c)
	return Conn{Written: w.n, Ended: time.Now(), HungUp: !isTimeout(err)}
}

// endless writes chunk until the peer hangs up, WriteCap or lifetime.
func (s *Server) endless(w *counter, chunk []byte) Conn {
	for w.n < WriteCap {
		if _, err := w.Write(chunk); err != nil {
			return Conn{Written: w.n, Ended: time.Now(), HungUp: !isTimeout(err)}
		}
	}
	// Cap reached: wait for the peer to hang up without sending more.
	return waitHangUp(w)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}
