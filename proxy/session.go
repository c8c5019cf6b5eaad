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

// relay copies frames from src to dst until either side closes, an idle
// timeout passes, or the session is stopped between two frames.
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
			m, err := io.CopyN(dst, src, int64(h.Length))
			n += m
			if err != nil {
				return err
			}
		}
		d.bytes.Add(n)
		d.frames.Add(1)
		s.lastSeen.Store(time.Now().UnixNano())
	}
}

// run relays both ways until the session ends, then closes both
// connections; after a shutdown it first says goodbye with 1001 to each
// peer whose stream stopped at a frame boundary.
func (s *session) run(clientR, backendR *bufio.Reader) {
	defer close(s.finished)
	s.lastSeen.Store(time.Now().UnixNano())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		s.relay(s.backend, clientR, s.client, &s.up)
		s.stop()
	}()
	go func() {
		defer wg.Done()
		s.relay(s.client, backendR, s.backend, &s.down)
		s.stop()
	}()
	wg.Wait()
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
