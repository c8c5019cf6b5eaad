package cli

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/socketbar/socketbar/serverctl/action"
	"github.com/socketbar/socketbar/serverctl/action/actiontest"
	"github.com/socketbar/socketbar/serverctl/mirror"
	"github.com/socketbar/socketbar/serverctl/remote"
)

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestPasswordLineIsOneLineWithoutItsEnd(t *testing.T) {
	long := strings.Repeat("p", maxPassword)
	for _, tt := range []struct {
		name, in, want string
		err            error
		rest           string // what must be left unread
	}{
		{"newline", "s3cret\n", "s3cret", nil, ""},
		{"CRLF", "s3cret\r\n", "s3cret", nil, ""},
		{"end of input without a newline", "s3cret", "s3cret", nil, ""},
		{"only the first line is read", "s3cret\nnext line\n", "s3cret", nil, "next line\n"},
		{"spaces and quotes are the password's", " a b'\"$`\\ \n", " a b'\"$`\\ ", nil, ""},
		{"UTF-8", "pässwörd\n", "pässwörd", nil, ""},
		{"the longest", long + "\n", long, nil, ""},
		{"empty line", "\n", "", errPasswordEmpty, ""},
		{"CRLF alone", "\r\n", "", errPasswordEmpty, ""},
		{"no input", "", "", errPasswordEmpty, ""},
		{"one byte too long", long + "x\n", "", errPasswordTooLong, ""},
		{"too long without a newline", long + "xy", "", errPasswordTooLong, ""},
		{"NUL", "s3\x00cret\n", "", errPasswordUnreadable, ""},
		{"CR inside", "s3\rcret\n", "", errPasswordUnreadable, ""},
		{"two CRs before the newline", "s3cret\r\r\n", "", errPasswordUnreadable, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := strings.NewReader(tt.in)
			got, err := readPasswordLine(r)
			if !errors.Is(err, tt.err) || string(got) != tt.want {
				t.Fatalf("readPasswordLine(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.err)
			}
			if rest, _ := io.ReadAll(r); string(rest) != tt.rest {
				t.Errorf("left %q unread, want %q", rest, tt.rest)
			}
		})
	}
}

// A pipe that never sends a newline is read no further than the bound.
func TestPasswordLineReadsABoundedAmount(t *testing.T) {
	r := &countingReader{r: io.LimitReader(zeros{}, 10<<20)}
	if _, err := readPasswordLine(r); !errors.Is(err, errPasswordTooLong) {
		t.Fatalf("err = %v, want too long", err)
	}
	if max := maxPassword + 1 + maxDrain; r.n > max {
		t.Errorf("read %d bytes of an endless line, want at most %d", r.n, max)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// A read error is returned as it is, not taken for the end of the line.
func TestPasswordLineReadErrorIsReturned(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("s3c"), iotestErr{boom})
	if pw, err := readPasswordLine(r); !errors.Is(err, boom) || pw != nil {
		t.Errorf("= %q, %v; want the read error", pw, err)
	}
}

type iotestErr struct{ err error }

func (e iotestErr) Read([]byte) (int, error) { return 0, e.err }

// An interrupt ends a read that has had no line.
func TestPasswordLineStopsWhenTheContextEnds(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := readPasswordLineCtx(ctx, pr)
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// --password-stdin: the line reaches the hook as a copy, is refused with
// words that name the flag, and is zeroed once the command is done.
func TestPasswordStdin(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name, host, in string
		want           []string // words of the usage error; nil: none
	}{
		{"a line", "admin@server", "s3cret\n", nil},
		{"no --host", "", "s3cret\n", []string{"--password-stdin", "no --host (or SOCKETBAR_HOST)"}},
		{"empty", "admin@server", "\n", []string{"--password-stdin: the line read from standard input is empty", "admin@server"}},
		{"too long", "admin@server", strings.Repeat("x", maxPassword+1) + "\n", []string{"--password-stdin", "longer than 1024 bytes"}},
		{"NUL", "admin@server", "a\x00b\n", []string{"--password-stdin", "NUL"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := &Env{Stdin: strings.NewReader(tt.in)}
			forget, err := e.passwordStdin(ctx, true, tt.host)
			if tt.want != nil {
				msg, code := describe(err).msg, describe(err).code
				if code != exitUsage {
					t.Errorf("exit %d, want %d: %v", code, exitUsage, err)
				}
				for _, w := range tt.want {
					if !strings.Contains(msg, w) {
						t.Errorf("words %q lack %q", msg, w)
					}
				}
				if strings.Contains(msg, strings.TrimSpace(tt.in)) && strings.TrimSpace(tt.in) != "" {
					t.Errorf("words show the password: %q", msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			held := e.sudoPassword
			got, err := e.SudoPassword(ctx, tt.host)
			if err != nil || string(got) != "s3cret" {
				t.Fatalf("SudoPassword = %q, %v", got, err)
			}
			clear(got) // the action zeroes its copy: the Env's is its own
			if again, _ := e.SudoPassword(ctx, tt.host); string(again) != "s3cret" {
				t.Errorf("second SudoPassword = %q: the hook handed out the Env's own buffer", again)
			}
			forget()
			if e.sudoPassword != nil || !bytes.Equal(held, make([]byte, len(held))) {
				t.Errorf("after the command the password is still held: %q", held)
			}
		})
	}
	// Without the flag nothing is read: standard input is the command's.
	e := &Env{Stdin: strings.NewReader("s3cret\n")}
	if _, err := e.passwordStdin(ctx, false, "admin@server"); err != nil || e.sudoPassword != nil {
		t.Errorf("without --password-stdin: %v, held %q", err, e.sudoPassword)
	}
}

// Neither --password-stdin nor a terminal: no one to ask, so no password
// and no error (sudo then runs with -n and the action says how to give one).
func TestSudoPasswordWithoutATerminalAsksNoOne(t *testing.T) {
	e := &Env{Stdin: strings.NewReader("not for sudo\n")}
	pw, err := e.SudoPassword(context.Background(), "admin@server")
	if pw != nil || err != nil {
		t.Errorf("= %q, %v; want nothing", pw, err)
	}
	if rest, _ := io.ReadAll(e.Stdin); string(rest) != "not for sudo\n" {
		t.Errorf("standard input was read: %q left", rest)
	}
}

// Every command that changes a Server takes --host (and SOCKETBAR_HOST)
// to the action, and --password-stdin; test --route takes --host.
func TestChangeCommandsTakeTheHostToTheAction(t *testing.T) {
	const host = "admin@server.example.com"
	for _, args := range [][]string{
		{"add", "/ws/", "http://127.0.0.1:8000/ws/"}, {"remove", "/ws/"}, {"undo"}, {"reapply"}, {"restart"},
		{"test", "--route", "/ws/"},
	} {
		for _, how := range []string{"flag", "env", "flag with --password-stdin"} {
			rec := &hostsSeen{Local: action.Local{Connect: unreachable}}
			env := map[string]string{}
			a := args
			switch how {
			case "env":
				env["SOCKETBAR_HOST"] = host
			case "flag with --password-stdin":
				if args[0] == "test" {
					continue
				}
				a = append(append([]string(nil), a...), "--password-stdin")
				fallthrough
			default:
				a = append(append([]string(nil), a...), "--host", host)
			}
			var stdout, stderr bytes.Buffer
			e := &Env{Stdin: strings.NewReader("s3cret\n"), Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return env[k] }, Actions: rec}
			code := Run(context.Background(), e, a)
			name := strings.Join(a, " ") + " (" + how + ")"
			if len(rec.hosts) != 1 || rec.hosts[0] != host {
				t.Errorf("%s: the action got hosts %q, want %s", name, rec.hosts, host)
			}
			if code != exitFailure || !strings.Contains(stderr.String(), "cannot reach "+host+": no route to the test's Server") {
				t.Errorf("%s: exit %d, want %d with the words of the action's connection:\n%s", name, code, exitFailure, stderr.String())
			}
			if strings.Contains(stdout.String()+stderr.String(), "s3cret") {
				t.Errorf("%s: the password is in the output:\n%s%s", name, stdout.String(), stderr.String())
			}
		}
	}
}

// unreachable is a Connector to a Server that cannot be reached, as the
// system's ssh would say it, without a network.
func unreachable(_ context.Context, h remote.Host) (mirror.Conn, func(), error) {
	return nil, nil, &remote.DialError{Host: h, Reason: "no route to the test's Server"}
}

// hostsSeen is the real actions, noting the host each change was asked
// for.
type hostsSeen struct {
	action.Local
	hosts []string
}

func (h *hostsSeen) ProposeAdd(ctx context.Context, o action.AddOptions) (*action.Proposal, error) {
	h.hosts = append(h.hosts, o.Target.Host)
	return h.Local.ProposeAdd(ctx, o)
}

func (h *hostsSeen) ProposeRemove(ctx context.Context, o action.RemoveOptions) (*action.Proposal, error) {
	h.hosts = append(h.hosts, o.Target.Host)
	return h.Local.ProposeRemove(ctx, o)
}

func (h *hostsSeen) ProposeUndo(ctx context.Context, o action.UndoOptions) (*action.Proposal, error) {
	h.hosts = append(h.hosts, o.Target.Host)
	return h.Local.ProposeUndo(ctx, o)
}

func (h *hostsSeen) ProposeReapply(ctx context.Context, t action.Target) (*action.Proposal, error) {
	h.hosts = append(h.hosts, t.Host)
	return h.Local.ProposeReapply(ctx, t)
}

func (h *hostsSeen) Restart(ctx context.Context, o action.RestartOptions) (*action.Restarted, error) {
	h.hosts = append(h.hosts, o.Target.Host)
	return h.Local.Restart(ctx, o)
}

func (h *hostsSeen) CheckRoute(ctx context.Context, o action.CheckRouteOptions) (*action.TierReport, error) {
	h.hosts = append(h.hosts, o.Target.Host)
	return h.Local.CheckRoute(ctx, o)
}

// --host where it cannot mean what it says is refused before any action:
// given empty (a script's unset variable would act on this machine), on a
// URL test (tested from here; --via tests from the Server), and with a
// local --file to lint. SOCKETBAR_HOST set in the environment does not
// refuse a URL test.
func TestHostThatCannotMeanWhatItSaysIsRefused(t *testing.T) {
	for _, c := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"status", "--host", ""}, nil, "--host is empty"},
		{[]string{"add", "/ws/", "http://127.0.0.1:8000/ws/", "--host", " "}, nil, "--host is empty"},
		{[]string{"test", "wss://example.test/ws/", "--host", "server"}, nil, "use --via server"},
		{[]string{"lint", "--file", "/tmp/x.conf", "--host", "server"}, nil, "--file lints a file on this machine"},
	} {
		rec := &actiontest.Recorder{}
		r := runIn(t, rec, c.env, c.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%q: exit %d, want %d saying %q:\n%s", c.args, r.code, exitUsage, c.want, r.stderr)
		}
		if calls := rec.Calls(""); len(calls) != 0 {
			t.Errorf("%q: the action was asked: %+v", c.args, calls)
		}
	}
	rec := &actiontest.Recorder{}
	if r := runIn(t, rec, map[string]string{"SOCKETBAR_HOST": "server"}, "test", "wss://example.test/ws/"); len(rec.Calls("Test")) != 1 {
		t.Errorf("test URL with SOCKETBAR_HOST set: exit %d, the test was not run:\n%s", r.code, r.stderr)
	}
}
