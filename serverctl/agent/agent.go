package agent

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/socketbar/socketbar/serverctl/remote"
)

// program is what the Server's perl runs; see agent.pl.
//
//go:embed agent.pl
var program string

// boot is the perl one-liner on the command line: it reads the program's
// length (a decimal line) and the program itself from standard input,
// byte by byte up to the line's end so that nothing past the program is
// read, and runs it. The program never touches the Server's disk, and
// the command line stays short.
const boot = `$0="socketbar-agent";my($n,$c,$p)=("","","");while(sysread(STDIN,$c,1)){last if$c eq"\n";$n.=$c;die"socketbar-agent: a bad start\n"if length$n>9}` +
	`die"socketbar-agent: a bad start\n"unless$n=~/^[0-9]+$/;while(length$p<$n){sysread(STDIN,$p,$n-length$p,length$p)or die"socketbar-agent: the program is cut short\n"}` +
	`eval$p;die$@if$@;exit 0`

// perlArgv runs boot with the Server's perl.
var perlArgv = []string{"/usr/bin/perl", "-e", boot}

// Timeouts bound what has no context of its own.
type timeouts struct {
	// start bounds Start until the agent says hello: the login, sudo
	// (whose wrong password costs a few seconds per try), perl's start.
	start time.Duration
	// request bounds one Disk request; an agent that does not answer in
	// time is stopped.
	request time.Duration
	// cancel bounds how long a cancelled Run waits for the agent to say
	// the command was killed.
	cancel time.Duration
	// close bounds Close before the agent is stopped from here.
	close time.Duration
}

var defaultTimeouts = timeouts{start: 90 * time.Second, request: 60 * time.Second, cancel: 10 * time.Second, close: 10 * time.Second}

// Conn is what the agent needs of a connection to the Server: streaming a
// command's output while it runs. *remote.Conn is one.
type Conn interface {
	Stream(ctx context.Context, argv []string, stdin io.Reader, consume func(stdout io.Reader) error) (remote.Output, error)
	Host() remote.Host
}

// Agent is one perl program running as root on a Server, serving the
// requests of one change over the standard input and output of one SSH
// channel: every serverctl.Disk method, run.Runner's Run, and Alive.
//
// Requests are answered one at a time, in order; an Agent is safe for use
// by several goroutines, which then wait their turn. Locks it takes are
// held by the agent's process on the Server, and end with it: at Close,
// or when the process or the SSH connection dies.
type Agent struct {
	host     remote.Host
	pid, uid int
	t        timeouts

	in     *io.PipeWriter // the agent's standard input
	cancel context.CancelCauseFunc
	seq    uint64
	mu     sync.Mutex // one request at a time; held by request
	frames chan [][]byte

	hello   chan struct{} // closed once the agent said hello
	done    chan struct{} // closed once the agent has ended
	failMu  sync.Mutex
	failErr error // why this side stopped the agent, if it did
	err     error // why it ended; set before done is closed
}

// ErrClosed is a request to an Agent after Close.
var ErrClosed = errors.New("agent: closed")

// DiedError is an agent that ended while it was wanted: its process was
// killed, the SSH connection was lost, or it did not start (no perl).
// Every request fails with it from then on.
type DiedError struct {
	Host remote.Host
	// Started says whether the agent had said hello.
	Started bool
	// Err is how the command ended (an *remote.ExitError, ErrClosed of
	// package remote, …), or nil.
	Err error
	// Stderr is the end of what it printed on standard error.
	Stderr string
}

func (e *DiedError) Error() string {
	what := "ended"
	if !e.Started {
		what = "did not start"
	}
	msg := fmt.Sprintf("agent: the root agent on %s %s", e.Host, what)
	// Its own long command line says nothing to a person: how it ended does.
	var exit *remote.ExitError
	switch {
	case errors.As(e.Err, &exit) && exit.Code < 0:
		msg += " (killed)"
	case errors.As(e.Err, &exit):
		msg += fmt.Sprintf(" (exit status %d)", exit.Code)
	case errors.Is(e.Err, remote.ErrClosed):
		msg += ": the connection to the Server closed"
	case e.Err != nil:
		msg += ": " + e.Err.Error()
	}
	if e.Stderr != "" {
		msg += "; it said: " + e.Stderr
	}
	return msg
}

func (e *DiedError) Unwrap() error { return e.Err }

// Gone says the agent will not answer again (service.Gone): a check that
// waits for the Service Proxy through it stops waiting.
func (e *DiedError) Gone() bool { return true }

// TimeoutError is an agent that took longer than its bound to start, or
// to answer a request. It was stopped.
type TimeoutError struct {
	// Op is the request ("stat", "start", …).
	Op    string
	After time.Duration
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("agent: no answer to %s within %s; stopped the agent", e.Op, e.After)
}

// Timeout says it is one.
func (e *TimeoutError) Timeout() bool { return true }

// Start runs the agent on the Server behind conn, as root: through sudo
// with sudo.Password (on standard input; see remote.Sudo), or directly
// when the login is root, which then needs no sudo and no password and
// costs no extra round trip (the choice is made on the Server, in the
// one command line). ctx bounds the agent's whole life: when it ends,
// the agent is stopped and every request fails.
//
// A sudo that refuses is a *remote.SudoError, and then nothing ran:
// remote.SudoNeedsPassword when no password was given and one is needed
// (ask the person, and Start again with it), remote.SudoWrongPassword.
func Start(ctx context.Context, conn Conn, sudo remote.Sudo) (*Agent, error) {
	return start(ctx, conn, sudo, defaultTimeouts)
}

// Command is the command line Start sends and the standard input that
// starts it (the password lines, if any, then the program); the agent's
// requests follow that input.
func Command(sudo remote.Sudo) (argv []string, stdin io.Reader, err error) {
	prog := strconv.Itoa(len(program)) + "\n" + program
	asRoot, in, err := sudo.Command(perlArgv, bytes.NewReader([]byte(prog)))
	if err != nil {
		return nil, nil, err
	}
	// sudo's own options end at "--": what follows is the command sudo
	// runs as root (with a password, through the wrapper that reads it
	// off standard input), which a root login runs itself.
	var direct []string
	for i, a := range asRoot {
		if a == "--" {
			direct = asRoot[i+1:]
			break
		}
	}
	if direct == nil {
		return nil, nil, errors.New("agent: sudo's command line has no \"--\"")
	}
	rootLine, err := remote.CommandLine(direct)
	if err != nil {
		return nil, nil, err
	}
	sudoLine, err := remote.CommandLine(asRoot)
	if err != nil {
		return nil, nil, err
	}
	script := `if [ "$(id -u)" -eq 0 ]; then exec ` + rootLine + `; fi; exec ` + sudoLine
	return []string{"/bin/sh", "-c", script}, in, nil
}

func start(ctx context.Context, conn Conn, sudo remote.Sudo, t timeouts) (*Agent, error) {
	argv, head, err := Command(sudo)
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	a := &Agent{
		host:   conn.Host(),
		t:      t,
		in:     pw,
		frames: make(chan [][]byte),
		hello:  make(chan struct{}),
		done:   make(chan struct{}),
	}
	var sctx context.Context
	sctx, a.cancel = context.WithCancelCause(ctx)
	go func() {
		out, err := conn.Stream(sctx, argv, io.MultiReader(head, pr), a.consume)
		a.ended(out, err)
	}()
	timer := time.NewTimer(t.start)
	defer timer.Stop()
	select {
	case <-a.hello:
		return a, nil
	case <-a.done:
	case <-timer.C:
		a.fail(&TimeoutError{Op: "start", After: t.start})
		<-a.done
	}
	return nil, a.err
}

// consume reads the agent's output: the hello, then one answer per
// request, handed to the request waiting for it.
func (a *Agent) consume(stdout io.Reader) error {
	fr := newFrameReader(stdout)
	defer a.in.Close() // the agent is gone: nothing more to send it
	if err := fr.start(); err != nil {
		if err == io.EOF {
			return nil // the command's end says why
		}
		return a.fail(err)
	}
	hello, err := fr.next()
	if err == nil && (len(hello) != 4 || string(hello[0]) != "hello") {
		err = fr.protoErr("the first frame is not a hello")
	}
	var pid, uid int
	if err == nil {
		pid, err = strconv.Atoi(string(hello[1]))
		if err == nil {
			uid, err = strconv.Atoi(string(hello[3]))
		}
		if err != nil {
			err = fr.protoErr("a hello with bad numbers: %q", hello[1:])
		}
	}
	if err != nil {
		if err == io.EOF {
			return nil
		}
		return a.fail(err)
	}
	a.pid, a.uid = pid, uid
	close(a.hello)
	for {
		fields, err := fr.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return a.fail(err)
		}
		select {
		case a.frames <- fields:
		case <-a.done:
			return nil
		}
	}
}

// fail stops the agent for err (the first reason wins) and returns it.
func (a *Agent) fail(err error) error {
	a.failMu.Lock()
	if a.failErr == nil {
		a.failErr = err
	}
	err = a.failErr
	a.failMu.Unlock()
	a.in.CloseWithError(err)
	a.cancel(err)
	return err
}

// ended records why the agent's command ended and fails what waits.
func (a *Agent) ended(out remote.Output, err error) {
	a.failMu.Lock()
	why := a.failErr
	a.failMu.Unlock()
	started := false
	select {
	case <-a.hello:
		started = true
	default:
	}
	switch {
	case why != nil:
	case !started && remote.SudoRefusal(a.host, out.Stderr, err) != nil:
		why = remote.SudoRefusal(a.host, out.Stderr, err)
	default:
		why = &DiedError{Host: a.host, Started: started, Err: err, Stderr: tail(out.Stderr, 2000)}
	}
	a.err = why
	a.cancel(why)
	a.in.CloseWithError(why)
	close(a.done)
}

// tail is the last n bytes of b as trimmed text.
func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(bytes.TrimSpace(b))
}

// Done is closed when the agent has ended: after Close, or when it died.
func (a *Agent) Done() <-chan struct{} { return a.done }

// Err says why the agent ended, once Done is closed: ErrClosed after
// Close, a *DiedError, *TimeoutError or *ProtocolError otherwise.
func (a *Agent) Err() error {
	select {
	case <-a.done:
		return a.err
	default:
		return nil
	}
}

// PID is the agent's process on the Server.
func (a *Agent) PID() int { return a.pid }

// Close ends the agent: the end of its standard input makes it exit,
// which releases its locks. Closing twice is harmless.
func (a *Agent) Close() error {
	a.failMu.Lock()
	if a.failErr == nil {
		a.failErr = ErrClosed
	}
	a.failMu.Unlock()
	a.in.Close()
	timer := time.NewTimer(a.t.close)
	defer timer.Stop()
	select {
	case <-a.done:
	case <-timer.C:
		a.cancel(ErrClosed)
		<-a.done
	}
	return nil
}

// request sends op with args and waits for its answer, at most the
// request timeout when bounded; an agent that does not answer in time,
// or answers out of turn, is stopped.
func (a *Agent) request(op string, args ...[]byte) ([][]byte, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.exchange(nil, op, args...)
}

// exchange sends a request and waits for its answer; a.mu is held. With
// ctx (Run), the end of ctx sends a cancel and waits for the answer at
// most the cancel timeout; without, the request timeout bounds the wait.
func (a *Agent) exchange(ctx context.Context, op string, args ...[]byte) ([][]byte, error) {
	if err := a.Err(); err != nil {
		return nil, err
	}
	a.seq++
	seq := []byte(strconv.FormatUint(a.seq, 10))
	if ctx == nil {
		t := time.AfterFunc(a.t.request, func() { a.fail(&TimeoutError{Op: op, After: a.t.request}) })
		defer t.Stop()
	}
	if _, err := a.in.Write(encode(append([][]byte{seq, []byte(op)}, args...)...)); err != nil {
		return nil, a.failure()
	}
	var cancelled <-chan struct{}
	if ctx != nil {
		cancelled = ctx.Done()
	}
	for {
		select {
		case f := <-a.frames:
			if len(f) < 2 || !bytes.Equal(f[0], seq) {
				return nil, a.fail(&ProtocolError{Problem: fmt.Sprintf("an answer out of turn (to %s, request %s)", op, seq)})
			}
			return f[1:], nil
		case <-a.done:
			return nil, a.err
		case <-cancelled:
			cancelled = nil
			t := time.AfterFunc(a.t.cancel, func() { a.fail(&TimeoutError{Op: "cancel of " + op, After: a.t.cancel}) })
			defer t.Stop()
			if _, err := a.in.Write(encode(seq, []byte("cancel"))); err != nil {
				return nil, a.failure()
			}
		}
	}
}

// failure is why a request could not be sent: the agent is ending, and
// says why once it has.
func (a *Agent) failure() error {
	<-a.done
	return a.err
}
