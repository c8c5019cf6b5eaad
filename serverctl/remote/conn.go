package remote

import (
	"bufio"
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

// readyMarker is what the master's session prints once logged in. The
// session then runs cat, which reads the master's standard input (a pipe
// only this process holds) and so ends, with the master, when this
// process closes it or dies: a Socketbar killed by SIGKILL leaves no
// master behind, and nothing stays on the Server.
const readyMarker = "socketbar-ssh-master-ready"

// masterCommand runs in the account's login shell, which may be sh, bash,
// zsh, or even csh: echo, ";" and exec mean the same in all of them.
const masterCommand = "echo " + readyMarker + "; exec cat"

// Config says how to run ssh.
type Config struct {
	// SSH is the ssh program and the arguments to put before the host;
	// nil means the SOCKETBAR_SSH environment variable, or "ssh" from PATH.
	SSH []string
	// MaxOutput bounds what Run keeps of each of stdout and stderr; a
	// command that prints more is stopped with an OutputLimitError. 0 means
	// DefaultMaxOutput.
	MaxOutput int64
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

	master    *exec.Cmd
	masterIn  io.Closer
	masterErr *tailBuffer
	done      chan struct{} // closed when the master has exited
	closeOnce sync.Once
	closeErr  error
}

// Open logs in to h and keeps the connection for Run and Dial until Close.
// ctx bounds the log-in only.
//
// ssh runs with BatchMode, so it never prompts: a key the agent or the
// config names must let it in, and an unknown host key is refused
// (StrictHostKeyChecking=yes). Errors are typed: *HostError,
// *SSHCommandError, *HostKeyError, *HostKeyChangedError, *AuthError,
// *DialError, or *SSHError for anything else ssh reports.
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
	if err := c.startMaster(ctx); err != nil {
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

func (c *Conn) startMaster(ctx context.Context) error {
	cmd := c.command(nil, c.options(true), masterCommand)
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
	ready := make(chan struct{})
	go func() {
		defer outR.Close()
		// Login scripts may print before the marker; at most 64 KiB of it.
		sc := bufio.NewScanner(io.LimitReader(outR, 64<<10))
		for sc.Scan() {
			if sc.Text() == readyMarker {
				close(ready)
				io.Copy(io.Discard, outR) // cat echoes nothing: nothing is written to it
				return
			}
		}
	}()
	select {
	case <-ready:
		return nil
	case <-c.done:
	case <-ctx.Done():
		cmd.Process.Kill()
		<-c.done
		return fmt.Errorf("remote: log in to %s: %w", c.host, ctx.Err())
	}
	stderr := c.masterErr.Bytes()
	err = classify(c.host, stderr)
	if errors.Is(err, errUnknownHostKey) {
		return c.hostKeyError(ctx)
	}
	if err != nil {
		return err
	}
	return &SSHError{Host: c.host, Stderr: fmt.Sprintf("%s (%v)", tail(stderr, 2000), cmd.ProcessState)}
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
	rc.cmd.Stdout = stdout
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
	stop   func()
}

// prepare checks argv, wraps it (see runWrapper) and sets up its ssh,
// which ends the remote process group on cancel (see stopOnCancel).
func (c *Conn) prepare(ctx context.Context, argv []string, stdin io.Reader) (*remoteCmd, error) {
	userLine, err := CommandLine(argv)
	if err != nil {
		return nil, err
	}
	line, _ := CommandLine(append([]string{"exec", "/bin/sh", "-c", runWrapper, "sh"}, argv...))
	if c.closed() {
		return nil, ErrClosed
	}
	rc := &remoteCmd{what: describe(userLine), pid: &pidSniffer{}}
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

// Stream runs argv as Run does, but hands its standard output to consume
// as it arrives instead of keeping it: for output too large to hold in
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
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return Output{}, fmt.Errorf("remote: %s: %w", what, err)
	}
	if err := cmd.Start(); err != nil {
		return Output{}, fmt.Errorf("remote: %s: %w", what, err)
	}
	// A consumer that fails because the command was stopped for another
	// reason (ctx, too much on stderr) does not hide that reason.
	cerr := consume(stdout)
	stopped := cerr != nil && ctx.Err() == nil
	if stopped {
		cancel(cerr)
	}
	// Once ssh has been stopped, or has ended, the pipe reaches its end at
	// once; Wait may only run after the last read.
	io.Copy(io.Discard, stdout)
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
		if errors.As(cause, &limit) {
			return out, limit
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
// number on standard error and execs argv in place. killRemote signals
// the group, reaching whatever argv started too.
const runWrapper = `printf 'socketbar-pid %s\n' "$$" >&2; exec "$@"`

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
		return fmt.Errorf("%w: %s", ErrClosed, s)
	}
	return ErrClosed
}

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
