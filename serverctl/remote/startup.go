package remote

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"strconv"
	"sync"
	"time"
)

// The account's login shell on the Server runs its startup files before
// any command Socketbar sends: bash runs ~/.bashrc even for sshd's
// non-interactive commands, and an admin's ~/.bashrc may greet, print a
// banner, or wait for something. What they print on standard output would
// be read as the command's answer, and what they wait for would hold the
// log-in forever. So every command, and the master's session, prints a
// random marker line just before it starts, standard output is skipped up
// to it, and the log-in is bounded in time whatever the caller's context.

// DefaultLoginTimeout bounds Open from the start of ssh to the master's
// ready marker when Config.LoginTimeout is 0: a connection, a handshake, a
// log-in and the account's shell startup take a few seconds on the slowest
// link; a Server that has taken 30 s will not answer.
const DefaultLoginTimeout = 30 * time.Second

// DefaultConnectTimeout is ssh's ConnectTimeout when neither the user's
// ssh config nor SOCKETBAR_SSH sets one (then theirs applies): ssh gives up
// on a TCP connect, and on a peer that accepts but never sends SSH's
// banner, after this long, and says which it was.
const DefaultConnectTimeout = 15 * time.Second

// maxStartupOutput bounds what the account's shell startup may print on
// standard output before a command's marker: greetings and banners are
// skipped, more than this is a StartupOutputError.
const maxStartupOutput = 64 << 10

// newMarker is a line no startup file prints by chance: "socketbar-" kind
// and 96 random bits.
func newMarker(kind string) string {
	b := make([]byte, 12)
	rand.Read(b) // never fails (crypto/rand)
	return "socketbar-" + kind + "-" + hex.EncodeToString(b)
}

// loginTimeouts chooses the ssh options and bounds of a log-in: ssh's
// ConnectTimeout when the user set none (ssh -G reports what ssh would
// use after SOCKETBAR_SSH's options and the config files), and the bound
// on the whole log-in, twice the ConnectTimeout at least so that a user's
// longer one (a slow link) is not cut short.
func loginTimeouts(ctx context.Context, ssh []string, h Host, login time.Duration) (opts []string, connect, bound time.Duration) {
	if login <= 0 {
		login = DefaultLoginTimeout
	}
	connect = min(DefaultConnectTimeout, login/2).Round(time.Second)
	if connect < time.Second {
		connect = time.Second
	}
	// ssh -G reads files and connects nowhere, but a config's Match exec
	// runs a command: bounded as the log-in is.
	ctx, cancel := context.WithTimeout(ctx, login)
	defer cancel()
	if g, err := sshConfig(ctx, ssh, h); err == nil {
		if n, err := strconv.Atoi(g["connecttimeout"]); err == nil && n > 0 {
			connect = time.Duration(n) * time.Second
			return nil, connect, max(login, 2*connect)
		}
	}
	// When ssh -G fails, the log-in fails the same way and says why.
	return []string{"-o", "ConnectTimeout=" + strconv.Itoa(int(connect/time.Second))}, connect, login
}

// skipper finds the marker line in a stream of standard output and hands
// on only what follows it, holding no more than a marker's length of what
// comes before.
type skipper struct {
	marker []byte // the marker and "\n"
	limit  int64  // how much may come before it
	held   []byte // the end of what came so far: a marker cut in two
	seen   int64
	found  bool
}

func newSkipper(marker string) *skipper {
	return &skipper{marker: []byte(marker + "\n"), limit: maxStartupOutput}
}

// feed takes the next bytes of the stream and returns those that follow
// the marker (none before it). over is true once more than limit bytes
// came without the marker; the stream should be given up then.
func (s *skipper) feed(p []byte) (after []byte, over bool) {
	if s.found {
		return p, false
	}
	s.seen += int64(len(p))
	buf := append(s.held, p...)
	if i := bytes.Index(buf, s.marker); i >= 0 {
		s.found, s.held = true, nil
		return buf[i+len(s.marker):], false
	}
	if keep := len(s.marker) - 1; len(buf) > keep {
		buf = append(buf[:0], buf[len(buf)-keep:]...)
	}
	s.held = buf
	return nil, s.seen > s.limit+int64(len(s.marker))
}

// skipWriter is a command's standard output for Run: it writes to w what
// follows the marker, and calls over once when the shell startup printed
// too much. Its writes never fail (see capBuffer).
type skipWriter struct {
	mu   sync.Mutex
	s    *skipper
	w    io.Writer
	over func()
	gone bool
}

func (sw *skipWriter) Write(p []byte) (int, error) {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if sw.gone {
		return len(p), nil
	}
	after, over := sw.s.feed(p)
	if over {
		sw.gone = true
		sw.over()
		return len(p), nil
	}
	if len(after) > 0 {
		sw.w.Write(after)
	}
	return len(p), nil
}

// skipReader is a command's standard output for Stream's consumer: it
// reads what follows the marker, and fails with err when the shell
// startup printed too much. A stream that ends before the marker is empty.
type skipReader struct {
	r   io.Reader
	s   *skipper
	err error // what to fail with; set once it happened, in failed
	mu  sync.Mutex
	bad bool
}

func (sr *skipReader) Read(p []byte) (int, error) {
	if sr.s.found {
		return sr.r.Read(p)
	}
	if sr.failed() != nil {
		return 0, sr.err
	}
	for len(p) > 0 {
		n, err := sr.r.Read(p)
		after, over := sr.s.feed(p[:n])
		if over {
			sr.mu.Lock()
			sr.bad = true
			sr.mu.Unlock()
			return 0, sr.err
		}
		if len(after) > 0 || err != nil {
			return copy(p, after), err
		}
	}
	return 0, nil
}

// failed is the StartupOutputError once the startup printed too much.
func (sr *skipReader) failed() error {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	if sr.bad {
		return sr.err
	}
	return nil
}
