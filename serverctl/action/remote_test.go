package action

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/socketbar/socketbar/internal/sshtest"
	"github.com/socketbar/socketbar/serverctl/mirror"
	"github.com/socketbar/socketbar/serverctl/remote"
	"github.com/socketbar/socketbar/serverctl/servertest"
)

// sshTimeout bounds each test's SSH work; a regression fails, never hangs.
const sshTimeout = 90 * time.Second

// sshCommand starts a real sshd on loopback and returns the ssh command
// line that logs in to it: as a new account that is not root when the
// test may add one, else as the account running the test.
func sshCommand(t testing.TB) []string {
	t.Helper()
	s := sshtest.Start(t)
	if os.Geteuid() == 0 {
		return []string{"ssh", "-F", s.NewSudoUser(t).ConfigFile}
	}
	return s.SSH()
}

// counting is a Connector over one connection that the test holds, which
// counts the round trips of each action through it.
func counting(conn *remote.Conn) (Connector, *mirror.Counter) {
	c := &mirror.Counter{Conn: conn}
	return func(context.Context, remote.Host) (mirror.Conn, func(), error) { return c, func() {}, nil }, c
}

// statusView is what status shows, comparable between two reads: errors
// as text, without the service's state (a pid file here, launchctl on the
// Server) and with the config's time compared apart.
type statusView struct {
	Status
	ConfigErr, SitesErr, DriftErr, HistoryErr string
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func viewStatus(st *Status) statusView {
	v := statusView{Status: *st, ConfigErr: errText(st.ConfigErr), SitesErr: errText(st.SitesErr),
		DriftErr: errText(st.DriftErr), HistoryErr: errText(st.HistoryErr)}
	v.Status.ConfigErr, v.Status.SitesErr, v.Status.DriftErr, v.Status.HistoryErr = nil, nil, nil, nil
	v.Status.Service, v.Status.ServiceErr = ServiceState{}, nil
	v.Status.Target = Target{}
	v.Status.ModTime = time.Time{} // compared apart: the Server's perl keeps microseconds
	return v
}

// same compares two results as JSON: exactly, paths included, since the
// Server's folder for "/" is the folder read here.
func same(t *testing.T, what string, here, there any) {
	t.Helper()
	a, err := json.MarshalIndent(here, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(there, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if string(a) != string(b) {
		t.Errorf("%s differs between the Server read here and over SSH:\nhere:\n%s\nover SSH:\n%s", what, a, b)
	}
}

// The read actions give the same answers for a Server over SSH (its files
// fetched into a mirror, its commands run there) as for its files read
// here, with the Server's paths, never the mirror's: the tests' sshd
// serves the very folder that is read here, so the paths must be equal.
func TestReadActionsOverSSHMatchTheServerReadHere(t *testing.T) {
	conn := login(t, sshCommand(t))
	for _, version := range []string{"5.3.1-sites", "5.1.7-sites"} {
		t.Run(version, func(t *testing.T) {
			root := servertest.ServeTree(t, version)
			connect, c := counting(conn)
			ctx, cancel := context.WithTimeout(context.Background(), sshTimeout)
			defer cancel()
			local := &Local{}
			viaSSH := &Local{Connect: connect}
			here, there := Target{Root: root}, Target{Root: root, Host: sshtest.Alias}

			st1, err := local.Status(ctx, here)
			if err != nil {
				t.Fatal(err)
			}
			st2, err := viaSSH.Status(ctx, there)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: status over SSH took %d round trips", version, c.RoundTrips())
			// What the comparison stands on: a Server with routes, sites
			// and an Apache version that httpd -v told over SSH.
			if len(st2.Routes) == 0 || len(st2.Sites) < 3 || st2.Server.Apache.String() != "2.4.23" {
				t.Fatalf("over SSH: %d routes, sites %v (%v), Apache %v (%s)", len(st2.Routes), st2.Sites, st2.SitesErr, st2.Server.Apache, st2.Server.ApacheError)
			}
			if st2.Target != there {
				t.Errorf("Status.Target = %+v, want the Target asked for, %+v", st2.Target, there)
			}
			same(t, "status", viewStatus(st1), viewStatus(st2))
			if d := st1.ModTime.Sub(st2.ModTime); d >= time.Microsecond || d <= -time.Microsecond {
				t.Errorf("the config's time: %v here, %v over SSH", st1.ModTime, st2.ModTime)
			}
			// A tree over SSH reads its httpd's state as here: its pid file
			// (none: not running) and the Server's processes.
			if st2.Service != st1.Service || (st2.ServiceErr == nil) != (st1.ServiceErr == nil) {
				t.Errorf("service over SSH: %+v, %v; here %+v, %v", st2.Service, st2.ServiceErr, st1.Service, st1.ServiceErr)
			}

			r1, err1 := local.Routes(ctx, here)
			r2, err2 := viaSSH.Routes(ctx, there)
			if err1 != nil || err2 != nil {
				t.Fatalf("Routes: %v / %v", err1, err2)
			}
			same(t, "routes", r1, r2)

			l1, err1 := local.Lint(ctx, LintOptions{Target: here})
			l2, err2 := viaSSH.Lint(ctx, LintOptions{Target: there})
			if err1 != nil || err2 != nil {
				t.Fatalf("Lint: %v / %v", err1, err2)
			}
			same(t, "lint", l1, l2)

			h1, err1 := local.History(ctx, here)
			h2, err2 := viaSSH.History(ctx, there)
			if err1 != nil || err2 != nil {
				t.Fatalf("History: %v / %v", err1, err2)
			}
			same(t, "history", h1, h2)
		})
	}
}

// Every mirror made for an action is gone when it returns, and an error
// about the Server's files names the Server's paths.
func TestReadOverSSHLeavesNoMirrorAndNamesTheServersPaths(t *testing.T) {
	conn := login(t, sshCommand(t))
	connect, _ := counting(conn)
	empty := servertest.ServeTree(t, "5.3.1-sites")
	// Neither the launchd job nor the config: no Server there.
	os.RemoveAll(filepath.Join(empty, "Library"))
	os.RemoveAll(filepath.Join(empty, "Applications"))
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	ctx, cancel := context.WithTimeout(context.Background(), sshTimeout)
	defer cancel()
	_, err := (&Local{Connect: connect}).Routes(ctx, Target{Root: empty, Host: sshtest.Alias})
	var nf *NotFoundError
	if !errors.As(err, &nf) || nf.Root != empty || len(nf.Looked) == 0 || !strings.HasPrefix(nf.Looked[len(nf.Looked)-1], empty+"/Library/") || !strings.Contains(err.Error(), empty+"/Library/") {
		t.Errorf("Routes of a folder with no Server over SSH: %v (%+v); want a NotFoundError naming %s", err, nf, empty)
	}
	if strings.Contains(err.Error(), tmp) {
		t.Errorf("the error names the mirror: %v", err)
	}
	if nf != nil && nf.Host != sshtest.Alias {
		t.Errorf("the NotFoundError names host %q, want %s: the words must say which Server", nf.Host, sshtest.Alias)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("left behind in TMPDIR: %v", entries)
	}
}

// A Host is never read as this machine: the actions that do not work over
// SSH refuse it before anything runs.
func TestActionsThatDoNotWorkOverSSHRefuseAHost(t *testing.T) {
	ctx := context.Background()
	root := servertest.Copy(t, "5.3.1-sites")
	tg := Target{Root: root, Host: "server.example.com"}
	l := &Local{Connect: func(context.Context, remote.Host) (mirror.Conn, func(), error) {
		t.Fatal("connected for an action that does not work over SSH")
		return nil, nil, nil
	}}
	for name, call := range map[string]func() error{
		"Pulse": func() error { _, err := l.Pulse(ctx, tg); return err },
	} {
		var ru *RemoteUnavailableError
		if err := call(); !errors.As(err, &ru) || ru.Host != tg.Host {
			t.Errorf("%s with a Host: %v; want a RemoteUnavailableError", name, err)
		}
	}
}

// A hostile host is refused before any connection.
func TestAHostileHostIsRefusedBeforeAnythingRuns(t *testing.T) {
	l := &Local{Connect: func(context.Context, remote.Host) (mirror.Conn, func(), error) {
		t.Fatal("connected to a hostile host")
		return nil, nil, nil
	}}
	for _, h := range []string{"-oProxyCommand=touch /tmp/x", "a;b", "$(id)", "a b", "`id`", "a\nb"} {
		_, err := l.Status(context.Background(), Target{Root: "/", Host: h})
		var he *HostError
		if !errors.As(err, &he) {
			t.Errorf("host %q: %v; want a HostError", h, err)
		}
	}
}

func TestPathMapRewritesOnlyTheMirrorsPaths(t *testing.T) {
	for _, tt := range []struct{ to, in, want string }{
		{"/", "/tmp/m/root/Library/x.conf", "/Library/x.conf"},
		{"/", "/tmp/m/root", "/"},
		{"/", "no Server under /tmp/m/root; looked for /tmp/m/root/a and /tmp/m/root/b.", "no Server under /; looked for /a and /b."},
		{"/srv", "/tmp/m/root/Library", "/srv/Library"},
		{"/srv", "/tmp/m/root:3", "/srv:3"},
		{"/", "/tmp/m/rootless/x", "/tmp/m/rootless/x"},
		{"/", "/Library/x", "/Library/x"},
	} {
		if got := (pathMap{from: "/tmp/m/root", to: tt.to}).text(tt.in); got != tt.want {
			t.Errorf("map %q to %q: %q, want %q", tt.in, tt.to, got, tt.want)
		}
	}
}

func login(t testing.TB, ssh []string) *remote.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), sshTimeout)
	defer cancel()
	c, err := remote.Open(ctx, remote.Host{Name: sshtest.Alias}, remote.Config{SSH: ssh})
	if err != nil {
		t.Fatalf("remote.Open: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
