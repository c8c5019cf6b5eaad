package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// newPTY opens a real pseudo-terminal: the master, which a test types on
// and reads the screen from, and the slave, the terminal Socketbar asks on.
// It needs /dev/ptmx (and devpts); without them the test is skipped,
// except under CI.
func newPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	fail := func(err error) {
		t.Helper()
		if os.Getenv("CI") != "" {
			t.Fatalf("pseudo-terminal: %v", err)
		}
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		fail(err)
	}
	t.Cleanup(func() { m.Close() })
	var n uint32
	rc, _ := m.SyscallConn()
	var ierr error
	rc.Control(func(fd uintptr) {
		var unlock int32
		if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
			ierr = e
			return
		}
		if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
			ierr = e
		}
	})
	if ierr != nil {
		fail(ierr)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		fail(err)
	}
	t.Cleanup(func() { s.Close() })
	return m, s
}

// echoing reads the terminal's ECHO flag with the kernel's own ioctl, not
// with the stty the code under test runs.
func echoing(t *testing.T, tty *os.File) bool {
	t.Helper()
	var tio syscall.Termios
	rc, _ := tty.SyscallConn()
	var ierr error
	rc.Control(func(fd uintptr) {
		if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TCGETS, uintptr(unsafe.Pointer(&tio))); e != 0 {
			ierr = e
		}
	})
	if ierr != nil {
		t.Fatalf("TCGETS: %v", ierr)
	}
	return tio.Lflag&syscall.ECHO != 0
}

// screen collects what the master reads: what the terminal shows.
type screen struct {
	mu   chan struct{} // a one-slot lock
	buf  bytes.Buffer
	more chan struct{} // signalled after each read
	done chan struct{}
}

func watch(master *os.File) *screen {
	s := &screen{mu: make(chan struct{}, 1), more: make(chan struct{}, 1), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		b := make([]byte, 256)
		for {
			n, err := master.Read(b)
			s.mu <- struct{}{}
			s.buf.Write(b[:n])
			<-s.mu
			select {
			case s.more <- struct{}{}:
			default:
			}
			if err != nil {
				return
			}
		}
	}()
	return s
}

func (s *screen) String() string {
	s.mu <- struct{}{}
	defer func() { <-s.mu }()
	return s.buf.String()
}

// waitFor returns once the terminal shows text; it fails the test after
// a bound, which only a broken prompt reaches.
func (s *screen) waitFor(t *testing.T, text string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for !strings.Contains(s.String(), text) {
		select {
		case <-s.more:
		case <-s.done:
			if !strings.Contains(s.String(), text) {
				t.Fatalf("the terminal closed without showing %q:\n%q", text, s.String())
			}
		case <-deadline:
			t.Fatalf("the terminal does not show %q:\n%q", text, s.String())
		}
	}
}

func TestIsTerminal(t *testing.T) {
	_, slave := newPTY(t)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	file, err := os.CreateTemp(t.TempDir(), "f")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	for _, tt := range []struct {
		name string
		f    *os.File
		want bool
	}{{"pseudo-terminal", slave, true}, {"pipe", pr, false}, {"/dev/null", null, false}, {"file", file, false}} {
		if got := isTerminal(tt.f); got != tt.want {
			t.Errorf("isTerminal(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// The prompt turns echo off before it shows, reads the line typed, and
// turns echo back on; what was typed never shows on the terminal.
func TestPromptTurnsEchoOffAndBackOn(t *testing.T) {
	master, slave := newPTY(t)
	if !echoing(t, slave) {
		t.Fatal("a new pseudo-terminal does not echo")
	}
	scr := watch(master)
	const password = "s3cret-typed"
	type answer struct {
		pw  []byte
		err error
	}
	got := make(chan answer, 1)
	// SudoPassword closes the terminal it opens: hand it a duplicate.
	fd, err := syscall.Dup(int(slave.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	e := &Env{TTY: func() (*os.File, error) { return os.NewFile(uintptr(fd), slave.Name()), nil }}
	go func() {
		pw, err := e.SudoPassword(context.Background(), "admin@server")
		got <- answer{pw, err}
	}()
	scr.waitFor(t, "Password for sudo on admin@server: ")
	if echoing(t, slave) {
		t.Error("echo is on while the prompt waits")
	}
	if _, err := io.WriteString(master, password+"\n"); err != nil {
		t.Fatal(err)
	}
	a := <-got
	if a.err != nil || string(a.pw) != password {
		t.Fatalf("SudoPassword = %q, %v; want %q", a.pw, a.err, password)
	}
	if !echoing(t, slave) {
		t.Error("echo is still off after the prompt")
	}
	// The prompt ends its line, as the Enter typed was not echoed.
	scr.waitFor(t, "admin@server: \r\n")
	// Once the terminal is gone, everything it showed has been read.
	slave.Close()
	<-scr.done
	if strings.Contains(scr.String(), password) {
		t.Errorf("the password shows on the terminal:\n%q", scr.String())
	}
}

// An interrupt while the prompt waits (main cancels the context on
// Ctrl-C) ends the prompt with echo back on.
func TestInterruptedPromptTurnsEchoBackOn(t *testing.T) {
	master, slave := newPTY(t)
	scr := watch(master)
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan error, 1)
	go func() {
		_, err := askPassword(ctx, slave, "Password for sudo on server: ")
		got <- err
	}()
	scr.waitFor(t, "Password for sudo on server: ")
	if echoing(t, slave) {
		t.Error("echo is on while the prompt waits")
	}
	cancel()
	if err := <-got; !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if !echoing(t, slave) {
		t.Error("echo is still off after the interrupt")
	}
}

// A line the prompt refuses (empty) is an error naming the password
// typed, and echo is back on.
func TestPromptRefusesAnEmptyLine(t *testing.T) {
	master, slave := newPTY(t)
	scr := watch(master)
	fd, err := syscall.Dup(int(slave.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	e := &Env{TTY: func() (*os.File, error) { return os.NewFile(uintptr(fd), slave.Name()), nil }}
	got := make(chan error, 1)
	go func() {
		_, err := e.SudoPassword(context.Background(), "server")
		got <- err
	}()
	scr.waitFor(t, "Password for sudo on server: ")
	io.WriteString(master, "\n")
	err = <-got
	if w := describe(err); w.code != exitUsage || !strings.Contains(w.msg, "the password typed for sudo on server is empty") {
		t.Errorf("exit %d: %s", w.code, w.msg)
	}
	if !echoing(t, slave) {
		t.Error("echo is still off after a refused line")
	}
}
