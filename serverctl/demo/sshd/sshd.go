package sshd

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/socketbar/socketbar/internal/pkgerr"
)

// Path is where Debian's openssh-server and macOS put the daemon.
const Path = "/usr/sbin/sshd"

// ErrNotInstalled means sshd, or the ssh-keygen that makes its keys, is
// missing; the error that wraps it names which.
var ErrNotInstalled = errors.New("not installed")

// Installed returns nil when the sshd at path and ssh-keygen are there,
// else an error wrapping ErrNotInstalled that says what to install.
func Installed(path string) error {
	var missing []string
	if fi, err := os.Stat(path); err != nil || fi.IsDir() {
		missing = append(missing, path+" (openssh-server)")
	}
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		missing = append(missing, "ssh-keygen (openssh-client)")
	}
	if len(missing) == 0 {
		return nil
	}
	return errorf("%s %w (Debian: apt-get install openssh-server)", strings.Join(missing, " and "), ErrNotInstalled)
}

// Keygen writes a new ed25519 key pair without a passphrase at path and
// path.pub, commented with comment.
func Keygen(ctx context.Context, path, comment string) error {
	out, err := exec.CommandContext(ctx, "ssh-keygen", "-q", "-N", "", "-t", "ed25519", "-C", comment, "-f", path).CombinedOutput()
	if err != nil {
		return errorf("ssh-keygen -f %s: %w: %s", path, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// StartTimeout bounds how long sshd may take to say it listens.
const StartTimeout = 20 * time.Second

// watchdog runs sshd ("$1" -D -e -f "$2") and stops it, and the sessions
// it forked (each leaves its process group with setsid), once its standard
// input, a pipe only the starting process writes to, reaches EOF. It exits
// with sshd's status when sshd ends first. A background list's input is
// /dev/null unless redirected, hence fd 3. The paths come as arguments,
// never as script text.
const watchdog = `exec 3<&0 </dev/null
"$1" -D -e -f "$2" 3<&- &
sshd=$!
( read -r _ <&3
  command -v pkill >/dev/null 2>&1 && pkill -TERM -P "$sshd"
  kill -TERM "$sshd" ) 2>/dev/null &
reader=$!
exec 3<&-
wait "$sshd"
status=$?
kill -TERM "$reader" 2>/dev/null
exit "$status"
`

// Server is a running sshd and its watchdog.
type Server struct {
	// Port is the loopback port sshd listens on.
	Port int

	cmd     *exec.Cmd
	life    *os.File // the pipe's write end: closing it stops sshd
	done    chan struct{}
	waitErr error
	log     *tailLog
	stop    sync.Once
}

// Start runs the sshd at path with configFile under the watchdog and
// returns once it listens on 127.0.0.1:port, the port configFile gives.
// Each line sshd logs goes to logLine, when not nil, and the last ones
// into errors. ctx bounds the start only; Stop ends the server.
func Start(ctx context.Context, path, configFile string, port int, logLine func(string)) (*Server, error) {
	life, lifeW, err := os.Pipe()
	if err != nil {
		return nil, errorf("%w", err)
	}
	logR, logW, err := os.Pipe()
	if err != nil {
		life.Close()
		lifeW.Close()
		return nil, errorf("%w", err)
	}
	cmd := exec.Command("/bin/sh", "-c", watchdog, "sshd-watchdog", path, configFile)
	// Files, not io.Readers or Writers: Wait then waits for the watchdog
	// alone, not for every session sshd forked to close its stderr.
	cmd.Stdin, cmd.Stderr = life, logW
	setOwnGroup(cmd)
	err = cmd.Start()
	life.Close() // the watchdog's now; this process keeps the write end alone
	logW.Close()
	if err != nil {
		lifeW.Close()
		logR.Close()
		return nil, errorf("start %s: %w", path, err)
	}
	s := &Server{Port: port, cmd: cmd, life: lifeW, done: make(chan struct{}), log: &tailLog{max: 64 << 10}}
	listening, logEnd := make(chan struct{}), make(chan struct{})
	want := "Server listening on 127.0.0.1 port " + strconv.Itoa(port)
	go func() {
		defer close(logEnd)
		sc := bufio.NewScanner(logR)
		sc.Buffer(make([]byte, 4096), 64<<10)
		said := false
		for sc.Scan() {
			line := sc.Text()
			s.log.add(line)
			if logLine != nil {
				logLine(line)
			}
			if !said && strings.HasPrefix(line, want) {
				said = true
				close(listening)
			}
		}
	}()
	go func() {
		s.waitErr = cmd.Wait()
		close(s.done)
		// A session that outlived sshd may hold the log pipe open: stop
		// reading it, once what sshd wrote before it ended has been read
		// or a moment has passed.
		select {
		case <-logEnd:
		case <-time.After(time.Second):
		}
		logR.Close()
	}()
	timer := time.NewTimer(StartTimeout)
	defer timer.Stop()
	select {
	case <-listening:
		return s, nil
	case <-s.done:
		<-logEnd
		return nil, errorf("sshd exited before listening (%v):\n%s", s.waitErr, s.log)
	case <-timer.C:
		err = errorf("sshd did not listen on port %d within %v:\n%s", port, StartTimeout, s.log)
	case <-ctx.Done():
		err = errorf("start sshd: %w", ctx.Err())
	}
	s.Stop(context.Background())
	return nil, err
}

// Done is closed once sshd and its watchdog have ended.
func (s *Server) Done() <-chan struct{} { return s.done }

// Log is the end of what sshd logged (the last 64 KiB).
func (s *Server) Log() string { return s.log.String() }

// Stop stops sshd and its sessions and waits for them until ctx ends;
// then it kills the watchdog's process group. Stopping twice is harmless.
func (s *Server) Stop(ctx context.Context) error {
	s.stop.Do(func() { s.life.Close() })
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
	}
	killGroup(s.cmd)
	<-s.done
	return errorf("sshd did not stop in time: killed it: %w", ctx.Err())
}

// tailLog keeps the last max bytes of sshd's log lines.
type tailLog struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (l *tailLog) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(append(l.buf, line...), '\n')
	if over := len(l.buf) - l.max; over > 0 {
		l.buf = append(l.buf[:0], l.buf[over:]...)
	}
}

func (l *tailLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.buf)
}

// errorf is fmt.Errorf for this package's own errors (see pkgerr).
func errorf(format string, args ...any) error { return pkgerr.Errorf("sshd", format, args...) }
