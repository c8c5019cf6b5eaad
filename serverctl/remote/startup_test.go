package remote

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/socketbar/socketbar/internal/sshtest"
)

// The skipper finds its marker wherever the stream is cut, after noise
// with or without a line end, and hands on exactly what follows it.
func TestSkipperHandsOnExactlyWhatFollowsTheMarker(t *testing.T) {
	const marker = "socketbar-out-0123456789abcdef01234567"
	body := "the command's own output\nwith the marker's words: " + marker + "\n"
	for _, noise := range []string{"", "Welcome, admin\n", "no line end", "\n\n", strings.Repeat("banner ", 9000), marker[:10], "socketbar-out-"} {
		stream := noise + marker + "\n" + body
		for cut := 0; cut <= len(stream); cut += 1 + len(stream)/97 {
			s := newSkipper(marker)
			var got []byte
			for _, part := range [][]byte{[]byte(stream[:cut]), []byte(stream[cut:])} {
				after, over := s.feed(part)
				if over {
					t.Fatalf("noise %.20q cut at %d: over the limit", noise, cut)
				}
				got = append(got, after...)
			}
			if string(got) != body {
				t.Fatalf("noise %.20q cut at %d: got %q, want %q", noise, cut, got, body)
			}
		}
	}
}

func TestSkipperGivesUpAfterTheLimitWithBoundedMemory(t *testing.T) {
	s := newSkipper("socketbar-out-x")
	chunk := bytes.Repeat([]byte("noise "), 1<<10)
	for i := 0; ; i++ {
		_, over := s.feed(chunk)
		if len(s.held) >= len(s.marker) {
			t.Fatalf("holds %d bytes of noise", len(s.held))
		}
		if over {
			if seen := int64(i+1) * int64(len(chunk)); seen <= maxStartupOutput {
				t.Errorf("over after %d bytes, within the limit of %d", seen, maxStartupOutput)
			}
			return
		}
		if i > 2*maxStartupOutput/len(chunk) {
			t.Fatal("never over the limit")
		}
	}
}

// noisyUser is a new account on a new sshd whose login shell is bash and
// whose ~/.bashrc is bashrc.
func noisyUser(t *testing.T, bashrc string) []string {
	t.Helper()
	s := sshtest.Start(t)
	u := s.NewSudoUser(t)
	u.WriteBashrc(t, bashrc)
	return []string{"ssh", "-F", u.ConfigFile}
}

// A login shell that prints on standard output (bash runs ~/.bashrc for
// sshd's commands) changes nothing Run and Stream return.
func TestShellStartupOutputIsSkipped(t *testing.T) {
	for _, tc := range []struct{ name, bashrc string }{
		{"greeting", `echo "Welcome, $USER"` + "\n"},
		{"no line end", `printf 'Last login: never'` + "\n"},
		{"both streams", `echo "to stdout"; echo "to stderr" >&2; printf 'half a line' >&2` + "\n"},
		{"40 KiB banner", `i=0; while [ $i -lt 1000 ]; do echo "banner line $i ............................"; i=$((i+1)); done` + "\n"},
		{"the marker's prefix", `printf 'socketbar-out-'; printf 'socketbar-ready-\n'` + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := open(t, noisyUser(t, tc.bashrc), Config{})
			ctx := testContext(t)
			out, err := c.Run(ctx, append([]string{"printf", `%s\000`}, hostile...), nil)
			if err != nil {
				t.Fatal(err)
			}
			want := strings.Join(hostile, "\x00") + "\x00"
			if string(out.Stdout) != want {
				t.Errorf("Run: stdout %.200q, want %.200q", out.Stdout, want)
			}
			// Standard input still reaches the command whole.
			out, err = c.Run(ctx, []string{"wc", "-c"}, strings.NewReader("12345"))
			if err != nil || strings.TrimSpace(string(out.Stdout)) != "5" {
				t.Errorf("wc -c: %q, %v", out.Stdout, err)
			}
			data := bytes.Repeat([]byte("0123456789abcdef"), 1<<14) // 256 KiB
			// Not t.TempDir, whose parents the account may not enter.
			dir, err := os.MkdirTemp("", "startup-")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(dir) })
			src := filepath.Join(dir, "data")
			if err := os.WriteFile(src, data, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			var got []byte
			_, err = c.Stream(ctx, []string{"cat", src}, nil, func(r io.Reader) error {
				var err error
				got, err = io.ReadAll(r)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if sha256.Sum256(got) != sha256.Sum256(data) {
				t.Errorf("Stream: the consumer got %d bytes starting %.40q, want the %d of the file", len(got), got, len(data))
			}
		})
	}
}

// A ~/.bashrc that floods standard output is a StartupOutputError: for the
// log-in when it floods there, for a command when it floods only there.
func TestShellStartupFloodIsAClearError(t *testing.T) {
	const flood = "yes 'Welcome to the Server, have a nice day'\n"
	t.Run("log-in", func(t *testing.T) {
		_, err := Open(testContext(t), Host{Name: sshtest.Alias}, Config{SSH: noisyUser(t, flood)})
		var se *StartupOutputError
		if !errors.As(err, &se) || se.Limit != maxStartupOutput || !strings.Contains(se.Remedy(), "~/.bashrc") {
			t.Fatalf("Open: %v, want a *StartupOutputError naming ~/.bashrc", err)
		}
		noSSHLeft(t)
	})
	// The master's session runs "echo socketbar-ready-…", bash's
	// $BASH_EXECUTION_STRING: it logs in quietly, and commands flood.
	c := open(t, noisyUser(t, `case $BASH_EXECUTION_STRING in *socketbar-ready-*) ;; *) `+strings.TrimSpace(flood)+`;; esac`+"\n"), Config{})
	t.Run("Run", func(t *testing.T) {
		_, err := c.Run(testContext(t), []string{"printf", "x"}, nil)
		var se *StartupOutputError
		if !errors.As(err, &se) {
			t.Fatalf("Run: %v, want a *StartupOutputError", err)
		}
	})
	t.Run("Stream", func(t *testing.T) {
		var got int64
		_, err := c.Stream(testContext(t), []string{"printf", "x"}, nil, func(r io.Reader) error {
			var err error
			got, err = io.Copy(io.Discard, r)
			return errors.Join(errors.New("the consumer's own words"), err)
		})
		var se *StartupOutputError
		if !errors.As(err, &se) || got != 0 {
			t.Fatalf("Stream: %v after %d bytes, want a *StartupOutputError before any", err, got)
		}
	})
}

// loginBound is the tests' Config.LoginTimeout: short, so that a test of
// a stall takes seconds; the tests' contexts allow far more.
const loginBound = 4 * time.Second

// A peer that accepts the connection and never speaks, one that sends
// SSH's greeting and then nothing, and a ~/.bashrc that waits all end
// Open with a LoginTimeoutError, however long the caller's context is.
func TestAStalledLogInIsALoginTimeoutError(t *testing.T) {
	s := sshtest.Start(t)
	t.Run("silent peer", func(t *testing.T) {
		port := stalledPeer(t, "")
		err := openStalled(t, s.SSH(), Host{Name: sshtest.Alias, Port: port})
		var lt *LoginTimeoutError
		if !errors.As(err, &lt) || lt.LoggedIn || lt.After != loginBound/2 || !strings.Contains(lt.Error(), "never answered") {
			t.Fatalf("Open: %v, want a *LoginTimeoutError before the log-in, after ssh's ConnectTimeout", err)
		}
	})
	t.Run("greeting then silence", func(t *testing.T) {
		// ssh's ConnectTimeout ends at the greeting; the bound ends this.
		port := stalledPeer(t, "SSH-2.0-OpenSSH_9.9\r\n")
		err := openStalled(t, s.SSH(), Host{Name: sshtest.Alias, Port: port})
		var lt *LoginTimeoutError
		if !errors.As(err, &lt) || lt.LoggedIn || lt.After != loginBound {
			t.Fatalf("Open: %v, want a *LoginTimeoutError before the log-in, after the bound", err)
		}
	})
	t.Run("bashrc waits", func(t *testing.T) {
		u := s.NewSudoUser(t)
		// The wait is on a FIFO the test opens afterwards, so that the
		// account's shell ends with the test rather than a sleep's end.
		fifo := filepath.Join(u.Home, "wait")
		if err := syscall.Mkfifo(fifo, 0o666); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				f.Close()
			}
		})
		u.WriteBashrc(t, "read line < ~/wait\n")
		err := openStalled(t, []string{"ssh", "-F", u.ConfigFile}, Host{Name: sshtest.Alias})
		var lt *LoginTimeoutError
		if !errors.As(err, &lt) || !lt.LoggedIn || lt.After != loginBound || !strings.Contains(lt.Remedy(), "~/.bashrc") {
			t.Fatalf("Open: %v, want a *LoginTimeoutError after the log-in naming ~/.bashrc", err)
		}
	})
	t.Run("the user's ConnectTimeout", func(t *testing.T) {
		// The user's own, shorter, value is the one ssh keeps.
		port := stalledPeer(t, "")
		err := openStalled(t, append(s.SSH(), "-o", "ConnectTimeout=1"), Host{Name: sshtest.Alias, Port: port})
		var lt *LoginTimeoutError
		if !errors.As(err, &lt) || lt.LoggedIn || lt.After != time.Second {
			t.Fatalf("Open: %v, want a *LoginTimeoutError after the user's ConnectTimeout of 1 s", err)
		}
	})
}

// openStalled opens h under a context far longer than the bound, and
// checks that no ssh of the test's is left running.
func openStalled(t *testing.T, ssh []string, h Host) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*loginBound)
	defer cancel()
	c, err := Open(ctx, h, Config{SSH: ssh, LoginTimeout: loginBound})
	if err == nil {
		c.Close()
		t.Fatal("Open logged in")
	}
	if ctx.Err() != nil {
		t.Fatalf("Open ran past the test's context: %v", err)
	}
	noSSHLeft(t)
	return err
}

// stalledPeer listens on a loopback port, accepts connections, sends
// greeting and then nothing, until the test ends.
func stalledPeer(t *testing.T, greeting string) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
			io.WriteString(c, greeting)
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// noSSHLeft fails the test if an ssh this process started still runs
// (Linux's /proc tells; elsewhere it checks nothing).
func noSSHLeft(t *testing.T) {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	me := strconv.Itoa(os.Getpid())
	for _, e := range entries {
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 || !bytes.HasPrefix(stat, []byte(e.Name()+" (ssh)")) {
			continue
		}
		if f := strings.Fields(string(stat[i+1:])); len(f) > 1 && f[1] == me {
			t.Errorf("an ssh of the test's still runs: pid %s", e.Name())
		}
	}
}
