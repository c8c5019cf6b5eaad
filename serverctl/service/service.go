package service

import (
	"github.com/socketbar/socketbar/serverctl/run"
	"io/fs"

	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/socketbar/socketbar/internal/pkgerr"
)

// State is what a Service reports about the Service Proxy process.
type State struct {
	Running bool
	PID     int
	// Generation changes each time the service rereads its config without
	// a new process, where the driver can tell (httpd: the pid file's
	// modification time, which httpd rewrites on every restart); empty
	// otherwise. Verify takes a new pid or a new generation as restarted.
	Generation string
}

// Driver starts and inspects the Service Proxy. Two drivers exist: launchd
// on a Mac, and httpd, which runs the httpd binary itself (Linux, the demo,
// the tests).
type Driver interface {
	// Name says which driver this is, for messages.
	Name() string
	// State reports whether the service runs, and its pid.
	State(ctx context.Context) (State, error)
	// Restart makes the service reread its config, starting it when it
	// does not run. Drivers do it as one step from the service's point of
	// view where they can, so that a Socketbar killed meanwhile never
	// leaves the service stopped.
	Restart(ctx context.Context) error
}

// Launchd drives com.apple.serviceproxy through launchctl.
//
// kickstart -k kills and restarts the job in one call and, unlike the
// unload -w/load -w recipe, reports failure and leaves no Disabled override
// behind if the second half never runs.
type Launchd struct {
	Label  string
	Runner run.Runner
}

// Name implements Service.
func (s Launchd) Name() string { return "launchd" }

func (s Launchd) target() string { return "system/" + s.Label }

// RestartCommand is the command line Restart runs.
func (s Launchd) RestartCommand() run.Command {
	return run.Command{Path: "/bin/launchctl", Args: []string{"kickstart", "-kp", s.target()}}
}

// StateCommand is the command line State runs (readable without root).
func (s Launchd) StateCommand() run.Command {
	return run.Command{Path: "/bin/launchctl", Args: []string{"print", s.target()}}
}

// Restart implements Service.
func (s Launchd) Restart(ctx context.Context) error {
	out, err := s.Runner.Run(ctx, s.RestartCommand())
	if err != nil {
		return errorf("%s: %w: %s", s.RestartCommand(), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// State implements Service.
func (s Launchd) State(ctx context.Context) (State, error) {
	out, err := s.Runner.Run(ctx, s.StateCommand())
	if err != nil {
		if bytes.Contains(out, []byte("Could not find service")) {
			return State{}, nil
		}
		return State{}, errorf("%s: %w: %s", s.StateCommand(), err, strings.TrimSpace(string(out)))
	}
	return parseLaunchctlPrint(out), nil
}

var (
	launchctlState = regexp.MustCompile(`(?m)^\s*state = (\S+)`)
	launchctlPID   = regexp.MustCompile(`(?m)^\s*pid = (\d+)`)
)

// parseLaunchctlPrint reads "state = running" and "pid = N" from the
// service's top level in `launchctl print` output.
func parseLaunchctlPrint(out []byte) State {
	var st State
	if m := launchctlState.FindSubmatch(out); m != nil {
		st.Running = string(m[1]) == "running"
	}
	if m := launchctlPID.FindSubmatch(out); m != nil {
		st.PID, _ = strconv.Atoi(string(m[1]))
	}
	if !st.Running {
		st.PID = 0
	}
	return st
}

// HTTPD runs the Service Proxy's httpd directly, with the launchd
// job's arguments and environment, as `httpd -k start|stop`.
type HTTPD struct {
	// Binary is the httpd to run.
	Binary string
	// ConfigFile and ErrorLog are passed as -f and -E.
	ConfigFile, ErrorLog string
	// Defines are passed as -D; FOREGROUND is dropped, since -k start
	// must return once httpd has detached.
	Defines []string
	// Env is added to httpd's environment ("NAME=value").
	Env []string
	// PidFile is where httpd writes its pid (the config's PidFile).
	PidFile string
	Runner  run.Runner
	// Machine is where httpd runs when that is not this machine (a test
	// tree on a Server reached over SSH, whose commands Runner runs
	// there); nil is this one.
	Machine Machine
}

// Machine is another machine's pid files and processes.
type Machine interface {
	// ReadFile reads a regular file whole (a pid file), with its info.
	ReadFile(path string, noFollow bool) ([]byte, fs.FileInfo, error)
	Remove(path string) error
	// Alive reports whether a process with pid exists.
	Alive(pid int) (bool, error)
}

// readPid reads the pid file, and when it was written.
func (s HTTPD) readPid() ([]byte, string, error) {
	if s.Machine == nil {
		data, err := readPidFile(s.PidFile)
		if err != nil {
			return nil, "", err
		}
		gen := ""
		if fi, err := os.Stat(s.PidFile); err == nil {
			gen = strconv.FormatInt(fi.ModTime().UnixNano(), 10)
		}
		return data, gen, nil
	}
	data, fi, err := s.Machine.ReadFile(s.PidFile, false)
	if err != nil {
		return nil, "", err
	}
	if len(data) > 64 {
		data = data[:64]
	}
	return data, strconv.FormatInt(fi.ModTime().UnixNano(), 10), nil
}

// alive reports whether process pid runs where httpd does, and is this
// httpd where the system can tell.
func (s HTTPD) alive(pid int) bool {
	if s.Machine == nil {
		return processAlive(pid) && s.isOurs(pid)
	}
	ok, err := s.Machine.Alive(pid)
	return err == nil && ok
}

// Name implements Service.
func (s HTTPD) Name() string { return "httpd" }

// Command returns the command line for httpd -k action.
func (s HTTPD) Command(action string) run.Command {
	args := []string{"-f", s.ConfigFile}
	if s.ErrorLog != "" {
		args = append(args, "-E", s.ErrorLog)
	}
	for _, d := range s.Defines {
		if d != "FOREGROUND" {
			args = append(args, "-D", d)
		}
	}
	return run.Command{Path: s.Binary, Args: append(args, "-k", action), Env: s.Env}
}

// State implements Service: running when the pid file names a live
// process that is this httpd. A pid file left by an httpd that was killed
// (or a machine that rebooted) can name a pid the system has since given
// to another program; where the system shows command lines (/proc), a
// process whose command line does not name ConfigFile is not the service.
func (s HTTPD) State(context.Context) (State, error) {
	data, gen, err := s.readPid()
	if errors.Is(err, os.ErrNotExist) {
		return State{}, nil
	}
	if err != nil {
		return State{}, errorf("read pid file: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return State{}, nil
	}
	if !s.alive(pid) {
		return State{}, nil
	}
	return State{Running: true, PID: pid, Generation: gen}, nil
}

// isOurs reports whether process pid runs this service's config, when the
// system can tell; otherwise it trusts the pid file.
func (s HTTPD) isOurs(pid int) bool {
	args, ok := processArgs(pid)
	if !ok || s.ConfigFile == "" {
		return true
	}
	for i, a := range args {
		if a == s.ConfigFile || (a == "-f" && i+1 < len(args) && args[i+1] == s.ConfigFile) || a == "-f"+s.ConfigFile {
			return true
		}
	}
	return false
}

// Start starts httpd; it returns once httpd has detached or failed. A
// stale pid file (see State) is removed first: httpd would otherwise take
// its pid for a running server and refuse to start.
func (s HTTPD) Start(ctx context.Context) error {
	s.removeStalePidFile(ctx)
	if out, err := s.Runner.Run(ctx, s.Command("start")); err != nil {
		return errorf("start httpd: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

func (s HTTPD) removeStalePidFile(ctx context.Context) {
	if st, err := s.State(ctx); err == nil && !st.Running {
		if s.Machine != nil {
			_ = s.Machine.Remove(s.PidFile)
			return
		}
		os.Remove(s.PidFile)
	}
}

// Stop stops httpd and waits until its process has gone.
func (s HTTPD) Stop(ctx context.Context) error {
	st, err := s.State(ctx)
	if err != nil || !st.Running {
		return err
	}
	if out, err := s.Runner.Run(ctx, s.Command("stop")); err != nil {
		return errorf("stop httpd: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return waitFor(ctx, func() bool { return !s.alive(st.PID) }, "httpd (pid %d) to exit", st.PID)
}

// Restart implements Service with httpd -k restart: the running parent
// rereads every file and replaces its children (like launchctl kickstart
// -k, open connections are closed), keeping its pid; the new generation
// shows in the pid file's time. A stopped httpd is started. Unlike a stop
// followed by a start, there is no moment where a Socketbar killed between
// two commands leaves the service down: the signal is one step. httpd -k
// restart parses the config before it signals, so a config it cannot read
// leaves the old server running.
func (s HTTPD) Restart(ctx context.Context) error {
	st, err := s.State(ctx)
	if err != nil {
		return err
	}
	if !st.Running {
		return s.Start(ctx)
	}
	if out, err := s.Runner.Run(ctx, s.Command("restart")); err != nil {
		return errorf("restart httpd: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// waitFor polls cond every 50 ms until it holds or ctx ends.
func waitFor(ctx context.Context, cond func() bool, what string, args ...any) error {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return errorf("gave up waiting for "+what+": %w", append(args, ctx.Err())...)
		case <-t.C:
		}
	}
	return nil
}

// Endpoint is an address where the Service Proxy must answer HTTP once it
// runs: a Listen of the config, with TLS when a VirtualHost on it uses it.
type Endpoint struct {
	Addr string
	TLS  bool
	// Dial, when set, makes the connection (from a Server reached over
	// SSH: its own side); nil dials from this machine.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error) `json:"-"`
}

func (e Endpoint) String() string {
	if e.TLS {
		return "https://" + e.Addr
	}
	return "http://" + e.Addr
}

// Check connects to the endpoint and reads an HTTP response to GET /; any
// status counts, since it only proves httpd serves on the port.
func (e Endpoint) Check(ctx context.Context) error {
	tr := &http.Transport{
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, // the Server's own certificate, reached by IP
		DisableKeepAlives: true,
		DialContext:       (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
	}
	if e.Dial != nil {
		tr.DialContext = e.Dial
	}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.String()+"/", nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Transport: tr, Timeout: 3 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// Gone is an error that says the way to the service is gone for good: a
// Driver whose commands run on a Server through a connection that died.
// Verify stops waiting at once on it.
type Gone interface {
	error
	Gone() bool
}

// Verify waits until svc runs a new process or a new generation (see
// State.Generation) compared with before, and every endpoint
// answers HTTP, or ctx ends; the error then says what was missing. The
// endpoints are checked only once the new generation is up, so an answer
// from the old one does not count.
func Verify(ctx context.Context, svc Driver, before State, endpoints []Endpoint) (int, error) {
	var last error
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		st, err := svc.State(ctx)
		var g Gone
		switch {
		case errors.As(err, &g) && g.Gone():
			// The way to the service is gone (the connection to a Server
			// over SSH died): waiting cannot make it answer.
			return 0, err
		case err != nil:
			last = err
		case !st.Running:
			last = fmt.Errorf("the %s service is not running", svc.Name())
		case before.Running && st.PID == before.PID && (st.Generation == "" || st.Generation == before.Generation):
			last = fmt.Errorf("the %s service still runs the old process (pid %d) and has not reread its config", svc.Name(), st.PID)
		default:
			last = nil
			for _, e := range endpoints {
				if err := e.Check(ctx); err != nil {
					last = fmt.Errorf("%s does not answer: %w", e, err)
					break
				}
			}
			if last == nil {
				return st.PID, nil
			}
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("%w (gave up: %v)", last, ctx.Err())
		case <-t.C:
		}
	}
}

// errorf is fmt.Errorf for this package's own errors: their Error() names
// the package for logs, and pkgerr.Text gives people the message without it.
func errorf(format string, args ...any) error { return pkgerr.Errorf("service", format, args...) }
