package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// DefaultMaxOutput is how much of each of a command's standard output and
// standard error Run keeps when Config.MaxOutput is 0: far more than any
// config file or status Socketbar reads, far less than a flood can cost.
const DefaultMaxOutput = 16 << 20

// stderrKeep is how much of ssh's own standard error is kept (its end).
const stderrKeep = 64 << 10

// waitDelay bounds how long a finished ssh's pipes may stay open (held by
// something it started) before they are closed under it.
const waitDelay = 5 * time.Second

// closeTimeout bounds Close: ssh -O exit, then the master's exit.
const closeTimeout = 10 * time.Second

// masterCommand is the master's session: it prints its ready marker (see
// newMarker) once logged in and past the shell's startup files, then runs
// cat, which reads the master's standard input (a pipe only this process
// holds) and so ends, with the master, when this process closes it or
// dies: a Socketbar killed by SIGKILL leaves no master behind, and nothing
// stays on the Server. It runs in the account's login shell, which may be
// sh, bash, zsh, or even csh: echo, ";" and exec mean the same in all of
// them, and the marker is letters, digits and "-".
func masterCommand(marker string) string { return "echo " + marker + "; exec cat" }

// Config says how to run ssh.
type Config struct {
	// SSH is the ssh program and the arguments to put before the host;
	// nil means the SOCKETBAR_SSH environment variable, or "ssh" from PATH.
	SSH []string
	// MaxOutput bounds what Run keeps of each of stdout and stderr; a
	// command that prints more is stopped with an OutputLimitError. 0 means
	// DefaultMaxOutput.
	MaxOutput int64
	// LoginTimeout bounds Open's log-in, whatever its context says: the
	// connection, ssh's handshake and log-in, and the account's shell
	// startup. 0 means DefaultLoginTimeout.
	LoginTimeout time.Duration
}

// Conn is one logged-in connection to a Server: an ssh master process
// holding the SSH connection, and a control socket in a private folder
// through which every Run and Dial is a new channel on that connection
// (a round trip) instead of a new connection (a handshake and a login).
//
// A Conn is safe for use by several goroutines; the Server's sshd limits
// how many channels one connection may have open at once (MaxSessions,
// 10 by default, one of which the master's own session holds).
type Conn struct {
	host      Host
	ssh       []string // program and the user's arguments
	dir, sock string   // the private control folder and its socket
	maxOutput int64

	// connectOpt is ssh's ConnectTimeout option for the master, unless the
	// user's config sets one; connect is the timeout either way, and login
	// the bound on the whole log-in (see loginTimeouts).
	connectOpt     []string
	connect, login time.Duration

	master    *exec.Cmd
	masterIn  io.Closer
	masterErr *tailBuffer
	done      chan struct{} // closed when the master has exited
	closeOnce sync.Once
	closeErr  error
}

// Open logs in to h and keeps the connection for Run and Dial until Close.
// ctx bounds the log-in only, and so does Config.LoginTimeout, whatever
// ctx says: a Server that accepts the connection but never speaks SSH, or
// an account whose ~/.bashrc waits, is a *LoginTimeoutError, not a hang.
//
// ssh runs with BatchMode, so it never prompts: a key the agent or the
// config names must let it in, and an unknown host key is refused
// (StrictHostKeyChecking=yes). Errors are typed: *HostError,
// *SSHCommandError, *HostKeyError, *HostKeyChangedError, *AuthError,
// *DialError, *LoginTimeoutError, *StartupOutputError, or *SSHError for
// anything else ssh reports.
func Open(ctx context.Context, h Host, cfg Config) (*Conn, error) {
	if err := h.validate(); err != nil {
		return nil, err
	}
	ssh := cfg.SSH
	if ssh == nil {
		var err error
		if ssh, err = SSHFromEnv(); err != nil {
			return nil, err
		}
	}
	if len(ssh) == 0 {
		return nil, &SSHCommandError{Problem: "is empty"}
	}
	dir, err := os.MkdirTemp(controlBase(), "sb-")
	if err != nil {
		return nil, fmt.Errorf("remote: control folder: %w", err)
	}
	c := &Conn{
		host:      h,
		ssh:       append([]string(nil), ssh...),
		dir:       dir,
		sock:      filepath.Join(dir, "s"),
		maxOutput: cfg.MaxOutput,
		masterErr: &tailBuffer{max: stderrKeep},
		done:      make(chan struct{}),
	}
	if c.maxOutput <= 0 {
		c.maxOutput = DefaultMaxOutput
	}
	if err := c.startMaster(ctx, cfg.LoginTimeout); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return c, nil
}

// controlBase is where control folders go: /tmp, short enough on every
// system for a Unix socket path (104 bytes on macOS, whose $TMPDIR alone
// is about 50), and private through the folder's 0700 mode.
func controlBase() string {
	if fi, err := os.Stat("/tmp"); err == nil && fi.IsDir() {
		return "/tmp"
	}
	return os.TempDir()
}

// Host is the Server this Conn reaches.
func (c *Conn) Host() Host { return c.host }

// options are Socketbar's own ssh options. They come before the user's
// arguments because ssh keeps the first value it reads for each option, so
// neither SOCKETBAR_SSH nor ~/.ssh/config can turn off what makes ssh safe
// to drive from a program: never prompt (BatchMode), never accept an
// unknown host key (StrictHostKeyChecking), forward nothing, run no local
// command, and use this Conn's control socket and nothing else.
func (c *Conn) options(master bool) []string {
	o := []string{
		"-o", "BatchMode=yes",
		"-o", "StrictHostKeyChecking=yes",
		"-o", "ControlPath=" + c.sock,
		"-o", "ClearAllForwardings=yes",
		"-o", "PermitLocalCommand=no",
		"-o", "RemoteCommand=none",
		"-a", "-x", "-T",
	}
	if master {
		o = append(o, c.connectOpt...)
		return append(o,
			"-o", "ControlMaster=yes",
			"-o", "ControlPersist=no",
			// A Server that vanishes (sleep, cable) ends the master within
			// 45 s instead of leaving every later Run hanging.
			"-o", "ServerAliveInterval=15",
			"-o", "ServerAliveCountMax=3")
	}
	// ssh falls back to a connection of its own when the control socket
	// does not answer; a ProxyCommand that fails makes that fallback fail
	// at once, so every command runs over the master or not at all.
	return append(o, "-o", "ControlMaster=no", "-o", "ProxyCommand=false")
}

// command builds an ssh command line: the program, Socketbar's options,
// extra options, the user's arguments, the host, and the remote command
// line if any.
func (c *Conn) command(ctx context.Context, opts []string, remote string) *exec.Cmd {
	args := append([]string(nil), opts...)
	args = append(args, c.ssh[1:]...)
	args = append(args, c.host.args()...)
	if remote != "" {
		args = append(args, remote)
	}
	var cmd *exec.Cmd
	if ctx != nil {
		cmd = exec.CommandContext(ctx, c.ssh[0], args...)
	} else {
		cmd = exec.Command(c.ssh[0], args...)
	}
	cmd.WaitDelay = waitDelay
	return cmd
}

// errLoginTimeout is the cause of a log-in's context that ran out of
// Config.LoginTimeout (rather than the caller's own deadline).
var errLoginTimeout = errors.New("remote: log-in timed out")

// startMaster starts the master and waits for its ready marker, for at
// most the login bound. On any failure the master has been killed and
// waited for.
func (c *Conn) startMaster(ctx context.Context, login time.Duration) error {
	c.connectOpt, c.connect, c.login = loginTimeouts(ctx, c.ssh, c.host, login)
	// The bound covers the host key probe too, which meets the same peer.
	ctx, cancel := context.WithTimeoutCause(ctx, c.login, errLoginTimeout)
	defer cancel()

	marker := newMarker("ready")
	cmd := c.command(nil, c.options(true), masterCommand(marker))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("remote: %w", err)
	}
	// Our own pipe rather than StdoutPipe: Wait closes StdoutPipe's end
	// when ssh exits, which would race with reading the marker.
	outR, outW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("remote: %w", err)
	}
	cmd.Stdout = outW
	cmd.Stderr = c.masterErr
	if err := cmd.Start(); err != nil {
		outR.Close()
		outW.Close()
		return fmt.Errorf("remote: start %s: %w", c.ssh[0], err)
	}
	outW.Close()
	c.master, c.masterIn = cmd, stdin
	go func() {
		cmd.Wait()
		close(c.done)
	}()
	// ready says the marker came (nil), or that the account's shell
	// startup printed too much before it; nothing when ssh ended first.
	ready := make(chan error, 1)
	go func() {
		defer outR.Close()
		sk := newSkipper(marker)
		buf := make([]byte, 32<<10)
		for {
			n, err := outR.Read(buf)
			if _, over := sk.feed(buf[:n]); over {
				ready <- &StartupOutputError{Host: c.host, Limit: sk.limit}
				return
			}
			if sk.found {
				ready <- nil
				io.Copy(io.Discard, outR) // cat echoes nothing: nothing is written to it
				return
			}
			if err != nil {
				return
			}
		}
	}()
	select {
	case err := <-ready:
		if err == nil {
			return nil
		}
		c.kill()
		return err
	case <-c.done:
	case <-ctx.Done():
		// The control socket is made once ssh has logged in, before the
		// session starts: its presence says which side stalled.
		_, statErr := os.Stat(c.sock)
		c.kill()
		if errors.Is(context.Cause(ctx), errLoginTimeout) {
			return &LoginTimeoutError{Host: c.host, LoggedIn: statErr == nil, After: c.login}
		}
		return fmt.Errorf("remote: log in to %s: %w", c.host, ctx.Err())
	}
	stderr := c.masterErr.Bytes()
	err = classify(c.host, stderr)
	if errors.Is(err, errUnknownHostKey) {
		return c.hostKeyError(ctx)
	}
	var lt *LoginTimeoutError
	if errors.As(err, &lt) {
		lt.After = c.connect // ssh's own ConnectTimeout ended it
	}
	if err != nil {
		return err
	}
	return &SSHError{Host: c.host, Stderr: fmt.Sprintf("%s (%v)", tail(stderr, 2000), cmd.ProcessState)}
}

// kill ends a master that has not logged in, and waits for it. Killing
// the local ssh drops the TCP connection, and sshd then ends the session;
// what the account's startup files started on the Server (a sleep) runs
// on until it ends by itself, and the shell with it, as no one reads or
// writes its pipes any more.
func (c *Conn) kill() {
	c.master.Process.Kill()
	<-c.done
}

// Output is what a remote command printed.
type Output struct {
	Stdout, Stderr []byte
}

// Run runs argv on the Server and waits for it. Each argument is quoted
// for the login shell there (see CommandLine), so the remote program gets
// exactly argv. stdin, when not nil, is the command's standard input: a
// script streamed to "/bin/sh -s" runs without being written to disk.
//
// ctx bounds the whole run: when it ends, the local ssh is killed, which
// closes the channel. sshd sends no signal to a command without a
// terminal, so a remote command that neither reads nor writes runs on
// until it ends by itself; scripts bound their own waits.
//
// A status other than 0 is an *ExitError (with the output so far); output
// over Config.MaxOutput is an *OutputLimitError; a lost connection is
// ErrClosed.
func (c *Conn) Run(ctx context.Context, argv []string, stdin io.Reader) (Output, error) {
	rc, err := c.prepare(ctx, argv, stdin)
	if err != nil {
		return Output{}, err
	}
	defer rc.cancel(nil)
	defer rc.end()
	stdout := &capBuffer{limit: c.maxOutput, over: func() {
		rc.cancel(&OutputLimitError{Command: rc.what, Stream: "stdout", Limit: c.maxOutput})
	}}
	rc.cmd.Stdout = &skipWriter{s: rc.skip, w: stdout, over: func() {
		rc.cancel(&StartupOutputError{Host: c.host, Limit: rc.skip.limit})
	}}
	err = rc.cmd.Run()
	rc.end()
	return c.result(rc.ctx, rc.what, err, Output{Stdout: stdout.Bytes(), Stderr: rc.stderr.Bytes()})
}

// remoteCmd is a command of Run or Stream on its way: the local ssh, the
// context its caller cancels (with the cause), and its standard error,
// with the wrapper's report of the remote process group taken out.
type remoteCmd struct {
	cmd    *exec.Cmd
	ctx    context.Context
	cancel context.CancelCauseFunc
	what   string
	stderr *capBuffer
	pid    *pidSniffer
	skip   *skipper // standard output up to the wrapper's marker
	stop   func()
}

// prepare checks argv, wraps it (see runWrapper) with a new marker, and
// sets up its ssh, which ends the remote process group on cancel (see
// stopOnCancel). Its caller skips standard output up to the marker.
func (c *Conn) prepare(ctx context.Context, argv []string, stdin io.Reader) (*remoteCmd, error) {
	userLine, err := CommandLine(argv)
	if err != nil {
		return nil, err
	}
	marker := newMarker("out")
	line, _ := CommandLine(append([]string{"exec", "/bin/sh", "-c", runWrapper(marker), "sh"}, argv...))
	if c.closed() {
		return nil, ErrClosed
	}
	rc := &remoteCmd{what: describe(userLine), pid: &pidSniffer{}, skip: newSkipper(marker)}
	rc.ctx, rc.cancel = context.WithCancelCause(ctx)
	sshCtx, stop := c.stopOnCancel(rc.ctx, rc.pid)
	rc.stop = stop
	rc.cmd = c.command(sshCtx, c.options(false), line)
	rc.cmd.Stdin = stdin
	rc.stderr = &capBuffer{limit: c.maxOutput, over: func() {
		rc.cancel(&OutputLimitError{Command: rc.what, Stream: "stderr", Limit: c.maxOutput})
	}}
	rc.pid.w = rc.stderr
	rc.cmd.Stderr = rc.pid
	return rc, nil
}

// end is called once the local ssh has ended (and again, harmlessly, on
// the way out): it passes on what stderr held back and lets the cancel
// watcher go.
func (rc *remoteCmd) end() {
	rc.pid.flush()
	rc.stop()
}

// Stream runs argv as Run does, but hands its standard output (the
// command's own, without what the account's shell startup printed) to
// consume as it arrives instead of keeping it: for output too large to hold in
// memory at once (a copy of the Server's config files), which consume
// reads and checks piece by piece. consume must read to the end of the
// stream. When it returns an error, the command is stopped as a cancelled
// one is, and Stream returns that error; a consume that returns nil leaves
// the outcome to the command's exit status, as in Run. Standard error is
// kept as Run keeps it (Output.Stdout is nil).
func (c *Conn) Stream(ctx context.Context, argv []string, stdin io.Reader, consume func(stdout io.Reader) error) (Output, error) {
	rc, err := c.prepare(ctx, argv, stdin)
	if err != nil {
		return Output{}, err
	}
	defer rc.cancel(nil)
	defer rc.end()
	cmd, what, cancel := rc.cmd, rc.what, rc.cancel
	ctx = rc.ctx
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		return Output{}, fmt.Errorf("remote: %s: %w", what, err)
	}
	stdout := &skipReader{r: pipe, s: rc.skip, err: &StartupOutputError{Host: c.host, Limit: rc.skip.limit}}
	if err := cmd.Start(); err != nil {
		return Output{}, fmt.Errorf("remote: %s: %w", what, err)
	}
	// A consumer that fails because the command was stopped for another
	// reason (ctx, too much on stderr) does not hide that reason.
	cerr := consume(stdout)
	if startup := stdout.failed(); startup != nil {
		cerr = startup // whatever the consumer made of it
	}
	stopped := cerr != nil && ctx.Err() == nil
	if stopped {
		cancel(cerr)
	}
	// Once ssh has been stopped, or has ended, the pipe reaches its end at
	// once; Wait may only run after the last read.
	io.Copy(io.Discard, pipe)
	err = cmd.Wait()
	rc.end()
	out := Output{Stderr: rc.stderr.Bytes()}
	if stopped {
		return out, cerr
	}
	return c.result(ctx, what, err, out)
}

// result turns the end of a remote command into Run's errors: the cause
// the command was stopped for (stopOnCancel ended its remote process
// group), ErrClosed, a typed ssh error, or an *ExitError.
func (c *Conn) result(ctx context.Context, what string, err error, out Output) (Output, error) {
	if cause := context.Cause(ctx); cause != nil {
		var limit *OutputLimitError
		var startup *StartupOutputError
		if errors.As(cause, &limit) || errors.As(cause, &startup) {
			return out, cause
		}
		return out, fmt.Errorf("remote: %s: %w", what, cause)
	}
	var exit *exec.ExitError
	switch {
	case err == nil:
		return out, nil
	case !errors.As(err, &exit):
		return out, fmt.Errorf("remote: %s: %w", what, err)
	case exit.ExitCode() == 255:
		if c.closed() {
			return out, fmt.Errorf("remote: %s: %w", what, ErrClosed)
		}
		if typed := classify(c.host, out.Stderr); typed != nil && !errors.Is(typed, errUnknownHostKey) {
			return out, typed
		}
	}
	return out, &ExitError{Command: what, Code: exit.ExitCode(), Stderr: tail(out.Stderr, 2000)}
}

// runWrapper starts every command Run sends. The login shell execs it, so
// its $$ is the process sshd started for the channel, which sshd made the
// leader of a new session and process group (setsid); it reports that
// number on standard error, prints marker on standard output (after
// whatever the shell's startup files printed), and execs argv in place.
// killRemote signals the group, reaching whatever argv started too.
func runWrapper(marker string) string {
	return `printf 'socketbar-pid %s\n' "$$" >&2; printf '%s\n' ` + marker + `; exec "$@"`
}

// pidWait bounds how long a cancelled command waits for the wrapper's
// report of its process group, which may still be on its way.
const pidWait = 3 * time.Second

// stopOnCancel returns the context the local ssh of a command runs under,
// and a function to call once the command has ended. When ctx ends first,
// it ends the remote process group before the local ssh: sshd signals no
// command that has no terminal, and killing the local ssh first would cut
// off the wrapper's report of the group if it were still on its way.
func (c *Conn) stopOnCancel(ctx context.Context, pid *pidSniffer) (context.Context, func()) {
	sshCtx, kill := context.WithCancel(context.Background())
	finished, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		select {
		case <-ctx.Done():
			c.killRemote(pid.wait(pidWait))
			kill()
		case <-finished:
		}
	}()
	var once sync.Once
	return sshCtx, func() {
		once.Do(func() { close(finished) })
		<-stopped
		kill()
	}
}

// killTimeout bounds the kill of a cancelled command's process group.
const killTimeout = 5 * time.Second

// killRemote sends SIGTERM to the remote process group pid leads, if the
// wrapper reported one and the connection is up.
func (c *Conn) killRemote(pid int) {
	if pid <= 1 || c.closed() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), killTimeout)
	defer cancel()
	line, _ := CommandLine([]string{"kill", "-s", "TERM", "--", "-" + strconv.Itoa(pid)})
	c.command(ctx, c.options(false), line).Run()
}

// describe is a command line short enough for an error message.
func describe(line string) string {
	const max = 120
	if len(line) > max {
		return line[:max] + "…"
	}
	return line
}

// closed reports whether the master has exited.
func (c *Conn) closed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// Done is closed when the connection has ended: after Close, or when the
// master ssh exited by itself (the Server went away). Err then says why.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err says why the connection ended, once Done is closed: ssh's last words.
func (c *Conn) Err() error {
	if !c.closed() {
		return nil
	}
	stderr := c.masterErr.Bytes()
	if typed := classify(c.host, stderr); typed != nil && !errors.Is(typed, errUnknownHostKey) {
		return fmt.Errorf("%w: %w", ErrClosed, typed)
	}
	if s := tail(stderr, 2000); s != "" {
		return &ClosedError{Said: s}
	}
	return ErrClosed
}

// ClosedError is a connection that ended (it is ErrClosed), with ssh's
// last words about why, for a front end to quote.
type ClosedError struct {
	// Said is the end of what ssh printed.
	Said string
}

func (e *ClosedError) Error() string   { return ErrClosed.Error() + ": " + e.Said }
func (e *ClosedError) Is(t error) bool { return t == ErrClosed }

// Close ends the connection: it asks the master to exit (ssh -O exit),
// which closes every channel still open, waits for it, and removes the
// control folder. Closing twice is harmless.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() { c.closeErr = c.close() })
	return c.closeErr
}

func (c *Conn) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	if !c.closed() {
		// Its failure needs no report: closing the master's standard input
		// below ends its session's cat, and with it the master, and a kill
		// follows if even that hangs.
		c.command(ctx, append(c.options(false), "-O", "exit"), "").Run()
	}
	c.masterIn.Close()
	select {
	case <-c.done:
	case <-ctx.Done():
		c.master.Process.Kill()
		<-c.done
	}
	if err := os.RemoveAll(c.dir); err != nil {
		return fmt.Errorf("remote: remove control folder: %w", err)
	}
	return nil
}
