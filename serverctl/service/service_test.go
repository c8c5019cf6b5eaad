package service

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/socketbar/socketbar/serverctl/run"
)

// fakeRunner records the commands it is asked to run and answers from a table.
type fakeRunner struct {
	out  map[string]string // command line → output
	seen []run.Command
}

func (f *fakeRunner) Run(_ context.Context, cmd run.Command) ([]byte, error) {
	f.seen = append(f.seen, cmd)
	return []byte(f.out[cmd.String()]), nil
}

func TestLaunchdCommandLines(t *testing.T) {
	fr := &fakeRunner{out: map[string]string{
		"/bin/launchctl print system/com.apple.serviceproxy": "system/com.apple.serviceproxy = {\n\tactive count = 1\n\tpath = /Applications/Server.app/Contents/ServerRoot/System/Library/LaunchDaemons/com.apple.serviceproxy.plist\n\tstate = running\n\n\tprogram = /Applications/Server.app/Contents/ServerRoot/usr/sbin/httpd-server-wrapper\n\tpid = 4711\n\tendpoints = {\n\t\tpid = 12\n\t}\n}\n",
	}}
	s := Launchd{Label: "com.apple.serviceproxy", Runner: fr}
	st, err := s.State(context.Background())
	if err != nil || st != (State{Running: true, PID: 4711}) {
		t.Fatalf("State = %+v, %v", st, err)
	}
	if err := s.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []run.Command{
		{Path: "/bin/launchctl", Args: []string{"print", "system/com.apple.serviceproxy"}},
		{Path: "/bin/launchctl", Args: []string{"kickstart", "-kp", "system/com.apple.serviceproxy"}},
	}
	if len(fr.seen) != 2 || fr.seen[0].String() != want[0].String() || fr.seen[1].String() != want[1].String() {
		t.Errorf("ran %v, want %v", fr.seen, want)
	}
}

func TestParseLaunchctlPrint(t *testing.T) {
	tests := []struct {
		out  string
		want State
	}{
		{"\tstate = running\n\tpid = 99\n", State{Running: true, PID: 99}},
		{"\tstate = not running\n\tlast exit code = 1\n", State{}},
		{"\tstate = waiting\n\tpid = 5\n", State{}},
		{"", State{}},
	}
	for _, tt := range tests {
		if got := parseLaunchctlPrint([]byte(tt.out)); got != tt.want {
			t.Errorf("parse %q = %+v, want %+v", tt.out, got, tt.want)
		}
	}
}

func TestLaunchdNotLoaded(t *testing.T) {
	r := runnerFunc(func(context.Context, run.Command) ([]byte, error) {
		return []byte(`Could not find service "com.apple.serviceproxy" in domain for system`), errors.New("exit status 113")
	})
	st, err := Launchd{Label: "com.apple.serviceproxy", Runner: r}.State(context.Background())
	if err != nil || st.Running {
		t.Errorf("State = %+v, %v; want not running and no error", st, err)
	}
}

type runnerFunc func(context.Context, run.Command) ([]byte, error)

func (f runnerFunc) Run(ctx context.Context, c run.Command) ([]byte, error) { return f(ctx, c) }

func TestHTTPDCommandDropsForeground(t *testing.T) {
	s := HTTPD{Binary: "/usr/sbin/httpd", ConfigFile: "/c.conf", ErrorLog: "/e.log", Defines: []string{"FOREGROUND", "PROXY_CALENDAR"}, Env: []string{"A=1"}}
	got := s.Command("start")
	want := []string{"-f", "/c.conf", "-E", "/e.log", "-D", "PROXY_CALENDAR", "-k", "start"}
	if got.Path != "/usr/sbin/httpd" || !slices.Equal(got.Args, want) || !slices.Equal(got.Env, []string{"A=1"}) {
		t.Errorf("run.Command = %+v, want args %q", got, want)
	}
}

func TestHTTPDStateFromPidFile(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "httpd.pid")
	s := HTTPD{PidFile: pidFile}
	for _, tt := range []struct {
		content string
		want    State
	}{
		{"", State{}},
		{"garbage", State{}},
		{strconv.Itoa(os.Getpid()) + "\n", State{Running: true, PID: os.Getpid()}},
		{"999999999", State{}},
	} {
		if tt.content != "" {
			if err := os.WriteFile(pidFile, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		st, err := s.State(context.Background())
		if err != nil || st.Running != tt.want.Running || st.PID != tt.want.PID {
			t.Errorf("pid file %q: State = %+v, %v; want %+v", tt.content, st, err, tt.want)
		}
		if st.Running && st.Generation == "" {
			t.Errorf("pid file %q: no generation", tt.content)
		}
	}
}

// TestHTTPDStateStalePidFile: a pid file whose pid now belongs to another
// program (here: this test) is not a running service, and Start removes it
// so that httpd does not refuse to start.
func TestHTTPDStateStalePidFile(t *testing.T) {
	if _, ok := processArgs(os.Getpid()); !ok {
		t.Skip("this system does not show command lines")
	}
	dir := t.TempDir()
	s := HTTPD{PidFile: filepath.Join(dir, "httpd.pid"), ConfigFile: filepath.Join(dir, "proxy.conf"),
		Runner: runnerFunc(func(context.Context, run.Command) ([]byte, error) { return nil, nil })}
	if err := os.WriteFile(s.PidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if st, err := s.State(context.Background()); err != nil || st.Running {
		t.Fatalf("State = %+v, %v; want not running (pid %d is not an httpd for %s)", st, err, os.Getpid(), s.ConfigFile)
	}
	if err := s.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.PidFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale pid file still there before start: %v", err)
	}
}

// A FIFO planted as the pid file must not hang State, and is no service.
func TestHTTPDStatePidFileIsAFIFO(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "httpd.pid")
	if err := syscall.Mkfifo(pidFile, 0o644); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	done := make(chan struct{})
	var st State
	var err error
	go func() {
		defer close(done)
		st, err = HTTPD{PidFile: pidFile}.State(context.Background())
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("State blocked on a FIFO pid file")
	}
	if err == nil || st.Running {
		t.Errorf("State = %+v, %v; want an error and not running", st, err)
	}
}

// goneDriver is a Driver whose way to the service has died.
type goneDriver struct{ calls int }

type goneError struct{}

func (goneError) Error() string { return "the agent ended" }
func (goneError) Gone() bool    { return true }

func (d *goneDriver) Name() string { return "launchd" }
func (d *goneDriver) State(context.Context) (State, error) {
	d.calls++
	return State{}, goneError{}
}
func (d *goneDriver) Restart(context.Context) error { return nil }

// A driver whose connection died will not answer again: Verify says so at
// once instead of polling it until its time is up.
func TestVerifyStopsWhenTheWayToTheServiceIsGone(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d := &goneDriver{}
	_, err := Verify(ctx, d, State{}, nil)
	if !errors.As(err, new(goneError)) {
		t.Errorf("Verify = %v, want the driver's error", err)
	}
	if d.calls != 1 || ctx.Err() != nil {
		t.Errorf("Verify asked %d times and the context ended: %v; want one ask", d.calls, ctx.Err())
	}
}
