package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"sync"
	"time"
)

// ForwardError is returned by a Dial connection's Read when the Server
// could not connect to the address (ssh: "open failed: connect failed:
// Connection refused"), or its sshd forbids forwarding
// (AllowTcpForwarding no: "administratively prohibited").
type ForwardError struct {
	Addr   string
	Reason string
}

func (e *ForwardError) Error() string {
	return fmt.Sprintf("remote: the Server could not connect to %s: %s", e.Addr, e.Reason)
}

var openFailed = regexp.MustCompile(`(?m)open failed: (.+?)\s*$`)

// eofWait bounds how long a Read that met the end of the stream waits for
// ssh to exit and say whether the channel failed; ssh exits as soon as it
// closes its output, so this is only a bound.
const eofWait = 2 * time.Second

// Dial connects to addr ("host:port") from the Server's side: the
// Server's sshd makes the TCP connection (ssh -W, over the master), so
// "127.0.0.1:443" is the Server's own loopback, and no firewall between
// this machine and the Server is in the way. ctx bounds starting the
// forward only, as for net.Dialer.DialContext.
//
// The connection is ssh's standard input and output. Its deadlines work
// (they are the pipes' own), and Close unblocks a pending Read or Write.
// ssh cannot tell whether the Server's connect succeeded until data would
// flow, so a refused connection shows as a *ForwardError from the first
// Read.
func (c *Conn) Dial(ctx context.Context, addr string) (net.Conn, error) {
	target, err := forwardTarget(addr)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("remote: dial %s: %w", addr, err)
	}
	if c.closed() {
		return nil, ErrClosed
	}
	cmd := c.command(nil, append(c.options(false), "-W", target), "")
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("remote: dial %s: %w", addr, err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, fmt.Errorf("remote: dial %s: %w", addr, err)
	}
	sc := &stdioConn{
		addr:   addr,
		local:  sshAddr("ssh:" + c.host.String()),
		remote: sshAddr(target),
		r:      outR,
		w:      inW,
		stderr: &tailBuffer{max: stderrKeep},
		done:   make(chan struct{}),
		host:   c.host,
		master: c.masterErr,
		mark:   c.masterErr.Total(),
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, sc.stderr
	err = cmd.Start()
	inR.Close()
	outW.Close()
	if err != nil {
		outR.Close()
		inW.Close()
		return nil, fmt.Errorf("remote: dial %s: start %s: %w", addr, c.ssh[0], err)
	}
	sc.cmd = cmd
	go func() {
		cmd.Wait()
		close(sc.done)
	}()
	return sc, nil
}

// forwardTarget checks addr and writes it as ssh -W takes it.
func forwardTarget(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("remote: dial %q: %w", addr, err)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("remote: dial %q: the port must be a number from 1 to 65535", addr)
	}
	if isIPv6(host) {
		return "[" + host + "]:" + strconv.Itoa(n), nil
	}
	if problem := badName(host, false); problem != "" {
		return "", fmt.Errorf("remote: dial %q: the host %s", addr, problem)
	}
	return host + ":" + strconv.Itoa(n), nil
}

// stdioConn is a net.Conn over an ssh -W process's standard input and
// output.
type stdioConn struct {
	addr          string
	local, remote sshAddr
	host          Host
	cmd           *exec.Cmd
	r             *os.File // ssh's standard output
	w             *os.File // ssh's standard input
	stderr        *tailBuffer
	// master is the master's standard error, where the reason a channel
	// failed is printed ("open failed: connect failed: …"), after mark.
	master    *tailBuffer
	mark      int64
	done      chan struct{} // closed when ssh has exited
	closeOnce sync.Once
}

func (s *stdioConn) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err == io.EOF {
		if ferr := s.failure(); ferr != nil {
			return n, ferr
		}
	}
	return n, mapClosed(err)
}

func (s *stdioConn) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	if err != nil {
		if ferr := s.failure(); ferr != nil {
			return n, ferr
		}
	}
	return n, mapClosed(err)
}

// failure waits (briefly) for ssh to exit and says why the forward ended,
// or nil when it ended normally.
func (s *stdioConn) failure() error {
	t := time.NewTimer(eofWait)
	defer t.Stop()
	select {
	case <-s.done:
	case <-t.C:
		return nil
	}
	if s.cmd.ProcessState == nil || s.cmd.ProcessState.Success() {
		return nil
	}
	stderr := s.stderr.Bytes()
	// Over the master, the client only learns "Session open refused by
	// peer"; the master prints why. Another channel failing at the same
	// moment could lend its reason, which is why the client's words follow.
	for _, text := range [][]byte{stderr, s.master.Since(s.mark)} {
		if m := openFailed.FindSubmatch(text); m != nil {
			return &ForwardError{Addr: s.addr, Reason: string(bytes.TrimSpace(m[1]))}
		}
	}
	if bytes.Contains(stderr, []byte("forwarding request failed")) {
		return &ForwardError{Addr: s.addr, Reason: tail(stderr, 500)}
	}
	if typed := classify(s.host, stderr); typed != nil && !errors.Is(typed, errUnknownHostKey) {
		return typed
	}
	if s.cmd.ProcessState.ExitCode() == 255 {
		return &SSHError{Host: s.host, Stderr: tail(stderr, 2000)}
	}
	return nil
}

// mapClosed turns the error of a pipe closed under a Read into
// net.ErrClosed, as a closed net.Conn reports.
func mapClosed(err error) error {
	if errors.Is(err, os.ErrClosed) {
		return net.ErrClosed
	}
	return err
}

// CloseWrite closes the sending half: the Server's side reads the end of
// the stream, and replies can still be read.
func (s *stdioConn) CloseWrite() error { return s.w.Close() }

// Close closes both halves and stops ssh, which closes the channel.
func (s *stdioConn) Close() error {
	s.closeOnce.Do(func() {
		s.w.Close()
		s.r.Close()
		s.cmd.Process.Kill()
		<-s.done
	})
	return nil
}

func (s *stdioConn) LocalAddr() net.Addr  { return s.local }
func (s *stdioConn) RemoteAddr() net.Addr { return s.remote }

func (s *stdioConn) SetDeadline(t time.Time) error {
	return errors.Join(s.r.SetReadDeadline(t), s.w.SetWriteDeadline(t))
}
func (s *stdioConn) SetReadDeadline(t time.Time) error  { return s.r.SetReadDeadline(t) }
func (s *stdioConn) SetWriteDeadline(t time.Time) error { return s.w.SetWriteDeadline(t) }

// sshAddr is an address of a connection made through ssh.
type sshAddr string

func (a sshAddr) Network() string { return "ssh" }
func (a sshAddr) String() string  { return string(a) }
