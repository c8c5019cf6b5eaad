package proxy

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/socketbar/socketbar/proxy/wsframe"
)

// session is one proxied WebSocket: the client's and the backend's
// connections, relayed frame by frame in both directions.
type session struct {
	route   Route
	client  net.Conn
	backend net.Conn
	started time.Time
	idle    time.Duration

	// stopping ends both relays at their next frame boundary; shutdown
	// additionally sends both peers a 1001 close frame.
	stopping, shutdown atomic.Bool
	lastSeen           atomic.Int64 // unix nanoseconds of the last frame either way
	// finished is closed when run has closed both connections.
	finished chan struct{}

	// up is client → backend, down is backend → client.
	up, down direction
	// closeCode is the code of the first close frame seen, or 0.
	closeCode atomic.Int32
}

type direction struct {
	bytes, frames atomic.Int64
	// atBoundary is true while the relay waits for the next frame, so a
	// close frame may be written into this stream.
	atBoundary atomic.Bool
}

var errStopping = errors.New("proxy: shutting down")

// copyBuffers serve frames too large for a connection's read buffer.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// relay copies frames from src to dst until either side closes, an idle
// timeout passes, or the session is stopped between two frames.
//
// Frames that are already whole in src's buffer are written on in one call,
// straight from the buffer: one write (one TLS record) for a burst of small
// messages, and no copying. A frame larger than the buffer goes header
// first, then its payload through a pooled buffer.
func (s *session) relay(dst net.Conn, src *bufio.Reader, srcConn net.Conn, d *direction) error {
	for {
		d.atBoundary.Store(true)
		if s.stopping.Load() {
			return errStopping
		}
		if s.idle > 0 {
			srcConn.SetReadDeadline(time.Unix(0, s.lastSeen.Load()).Add(s.idle))
			// stop() sets its flag before its deadline, so seeing the flag
			// unset here means its deadline comes after ours.
			if s.stopping.Load() {
				return errStopping
			}
		}
		if _, err := src.Peek(1); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				if s.stopping.Load() {
					return errStopping
				}
				if s.idle > 0 && time.Since(time.Unix(0, s.lastSeen.Load())) < s.idle {
					continue // the other direction was busy; wait again
				}
			}
			return err
		}
		d.atBoundary.Store(false)
		buf, _ := src.Peek(src.Buffered())
		span, frames := 0, 0
		for {
			h, n, ok, err := wsframe.ParseHeader(buf[span:])
			if err != nil {
				return err
			}
			end := span + n + int(h.Length)
			if !ok || h.Length > uint64(len(buf)) || end > len(buf) {
				break
			}
			if h.Opcode == wsframe.OpClose {
				s.closeCode.CompareAndSwap(0, int32(wsframe.CloseCode(h, buf[span+n:end])))
			}
			span, frames = end, frames+1
		}
		if frames == 0 {
			if err := s.relayLarge(dst, src, d); err != nil {
				return err
			}
		} else {
			if _, err := dst.Write(buf[:span]); err != nil {
				return err
			}
			src.Discard(span)
			d.bytes.Add(int64(span))
			d.frames.Add(int64(frames))
		}
		if s.idle > 0 {
			s.lastSeen.Store(time.Now().UnixNano())
		}
	}
}

// relayLarge relays one frame that is not whole in the read buffer.
func (s *session) relayLarge(dst net.Conn, src *bufio.Reader, d *direction) error {
	h, err := wsframe.ReadHeader(src)
	if err != nil {
		return err
	}
	if _, err := dst.Write(h.Raw); err != nil {
		return err
	}
	n := int64(len(h.Raw))
	if h.Opcode == wsframe.OpClose {
		payload := make([]byte, h.Length)
		if _, err := io.ReadFull(src, payload); err != nil {
			return err
		}
		s.closeCode.CompareAndSwap(0, int32(wsframe.CloseCode(h, payload)))
		if _, err := dst.Write(payload); err != nil {
			return err
		}
		n += int64(len(payload))
	} else {
		bp := copyBuffers.Get().(*[]byte)
		m, err := io.CopyBuffer(dst, io.LimitReader(src, int64(h.Length)), *bp)
		copyBuffers.Put(bp)
		n += m
		if err == nil && m < int64(h.Length) {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			return err
		}
	}
	d.bytes.Add(n)
	d.frames.Add(1)
	return nil
}

// run relays both ways until the session ends, then closes both
// connections; after a shutdown it first says goodbye with 1001 to each
// peer whose stream stopped at a frame boundary.
func (s *session) run(clientR, backendR *bufio.Reader) {
	defer close(s.finished)
	s.lastSeen.Store(time.Now().UnixNano())
	upDone := make(chan struct{})
	go func() {
		defer close(upDone)
		s.relay(s.backend, clientR, s.client, &s.up)
		s.stop()
	}()
	s.relay(s.client, backendR, s.backend, &s.down)
	s.stop()
	<-upDone
	if s.shutdown.Load() {
		deadline := time.Now().Add(time.Second)
		if s.down.atBoundary.Load() {
			s.client.SetWriteDeadline(deadline)
			s.client.Write(wsframe.CloseFrame(wsframe.CloseGoingAway, "proxy shutting down", false))
			s.closeCode.CompareAndSwap(0, wsframe.CloseGoingAway)
		}
		if s.up.atBoundary.Load() {
			s.backend.SetWriteDeadline(deadline)
			s.backend.Write(wsframe.CloseFrame(wsframe.CloseGoingAway, "proxy shutting down", true))
		}
	}
	s.client.Close()
	s.backend.Close()
}

// stop makes both relays return at their next frame boundary (a relay
// waiting for a frame is woken by the deadline).
func (s *session) stop() {
	s.stopping.Store(true)
	now := time.Now()
	s.client.SetReadDeadline(now)
	s.backend.SetReadDeadline(now)
}

// goAway ends the session for a shutdown and waits until it is closed.
func (s *session) goAway() {
	s.shutdown.Store(true)
	s.stop()
	<-s.finished
}
