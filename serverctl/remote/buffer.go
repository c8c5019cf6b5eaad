package remote

import (
	"bytes"
	"io"
	"strconv"
	"sync"
	"time"
)

// capBuffer keeps the first limit bytes written to it and discards the
// rest, calling over once when the first byte past limit arrives. Writes
// never fail, so the process writing into it is never left blocked on a
// full pipe while over stops it.
type capBuffer struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	limit int64
	over  func()
	full  bool
}

func (b *capBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.full {
		return len(p), nil
	}
	room := b.limit - int64(b.buf.Len())
	if int64(len(p)) > room {
		b.buf.Write(p[:room])
		b.full = true
		if b.over != nil {
			b.over()
		}
		return len(p), nil
	}
	b.buf.Write(p)
	return len(p), nil
}

func (b *capBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

func (b *capBuffer) Full() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.full
}

// tailBuffer keeps the last max bytes written to it: ssh's standard error,
// whose last lines say why it ended however long it ran.
type tailBuffer struct {
	mu    sync.Mutex
	max   int
	buf   []byte
	total int64 // bytes ever written
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.total += int64(len(p))
	if len(p) >= b.max {
		b.buf = append(b.buf[:0], p[len(p)-b.max:]...)
		return len(p), nil
	}
	if over := len(b.buf) + len(p) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *tailBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf)
}

// Total is how many bytes were ever written, for Since.
func (b *tailBuffer) Total() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.total
}

// Since is what was written after Total returned total, as far as it is
// still kept.
func (b *tailBuffer) Since(total int64) []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := b.total - total
	if n <= 0 {
		return nil
	}
	if n > int64(len(b.buf)) {
		n = int64(len(b.buf))
	}
	return bytes.Clone(b.buf[int64(len(b.buf))-n:])
}

// pidMarker starts the line runWrapper prints on standard error.
const pidMarker = "socketbar-pid "

// pidSniffer passes standard error on to w without the wrapper's
// "socketbar-pid N" line, and keeps N. Lines before it (a login script's
// words, even one without a line end) pass through; if no marker comes within the first 4 KiB,
// everything does.
type pidSniffer struct {
	mu      sync.Mutex
	w       io.Writer
	pending []byte
	done    bool
	pid     int
	known   chan struct{} // closed once done: the pid is known, or never will be
}

// settle marks the sniffer done and wakes wait. The caller holds mu.
func (s *pidSniffer) settle() {
	s.done = true
	if s.known == nil {
		s.known = make(chan struct{})
	}
	select {
	case <-s.known:
	default:
		close(s.known)
	}
}

// wait returns the pid once it is known, or 0 when it never will be or
// d passed first.
func (s *pidSniffer) wait(d time.Duration) int {
	s.mu.Lock()
	if s.known == nil {
		s.known = make(chan struct{})
	}
	known := s.known
	s.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-known:
	case <-t.C:
	}
	return s.PID()
}

func (s *pidSniffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return s.w.Write(p)
	}
	s.pending = append(s.pending, p...)
	for {
		i := bytes.IndexByte(s.pending, '\n')
		if i < 0 {
			break
		}
		line := s.pending[:i]
		// A startup file's words without a line end come before it.
		if j := bytes.Index(line, []byte(pidMarker)); j >= 0 {
			if n, err := strconv.Atoi(string(line[j+len(pidMarker):])); err == nil && n > 0 {
				s.pid = n
				s.settle()
				if j > 0 {
					s.w.Write(line[:j])
				}
				after := s.pending[i+1:]
				s.pending = nil
				if len(after) > 0 {
					s.w.Write(after)
				}
				return len(p), nil
			}
		}
		s.w.Write(s.pending[:i+1])
		s.pending = s.pending[i+1:]
	}
	if len(s.pending) > 4096 {
		s.settle()
		s.w.Write(s.pending)
		s.pending = nil
	}
	return len(p), nil
}

// flush passes on what is held back, once the stream has ended.
func (s *pidSniffer) flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.pending) > 0 {
		s.w.Write(s.pending)
		s.pending = nil
	}
	s.settle()
}

// PID is the remote process group's leader, or 0 when not (yet) known.
func (s *pidSniffer) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pid
}
