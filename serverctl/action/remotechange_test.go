package action

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/socketbar/socketbar/internal/sshtest"
	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/apachetest"
	"github.com/socketbar/socketbar/serverctl/mirror"
	"github.com/socketbar/socketbar/serverctl/remote"
	"github.com/socketbar/socketbar/serverctl/run"
	"github.com/socketbar/socketbar/serverctl/servertest"
)

// thisMachineAsRoot is a RootSession on this machine, which the tests'
// sshd serves: the Server's files and commands, as the agent would reach
// them as root there.
type thisMachineAsRoot struct {
	serverctl.Disk
	run.Exec
	closed bool
}

func (thisMachineAsRoot) Alive(pid int) (bool, error) {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM), nil
}

func (r *thisMachineAsRoot) Close() error { r.closed = true; return nil }

// servedTwoTier is a Server tree run by real Apache here, readable by the
// account the tests' sshd logs in as.
func servedTwoTier(t testing.TB, version string) *apachetest.Site {
	t.Helper()
	h := apachetest.Require(t)
	site := apachetest.LocalizeTree(t, h, servertest.Dir(t, version))
	apachetest.StartWebsites(t, h, site)
	t.Cleanup(func() {
		apachetest.StopHTTPD(t, h, site.ConfigPath, site.Env, filepath.Join(site.Root, "var/run/service_proxy.pid"))
	})
	servertest.Readable(t, site.Root)
	return site
}

// A change to a Server over SSH is proposed on a mirror and put in place
// on the Server: the tree's own config changes and Apache serves it, the
// history records the Server's paths (never the mirror's), and the
// session's root is closed.
//
// It runs twice: with the root agent (serverctl/agent) logged in as an
// admin whose sudo asks a password, asked once per change; and with this
// machine standing in for root there, which proves the mapping of paths
// apart from the agent.
func TestChangesOverSSHReachTheServer(t *testing.T) {
	t.Run("agent", func(t *testing.T) {
		s := sshtest.Start(t)
		u := s.NewSudoUser(t)
		asked := 0
		l := &Local{Password: func(_ context.Context, host string) ([]byte, error) {
			asked++
			return []byte(u.Password), nil
		}}
		changesOverSSH(t, l, []string{"ssh", "-F", u.ConfigFile}, func() bool { return asked > 0 })
		// Once for the add, once for the undo; the change refused because
		// the config changed on the Server is refused before sudo.
		if asked != 2 {
			t.Errorf("the password was asked %d times, want once for each of the 2 changes that ran", asked)
		}
	})
	t.Run("this machine as root", func(t *testing.T) {
		root := &thisMachineAsRoot{Disk: serverctl.ThisMachine()}
		l := &Local{startRoot: func(context.Context, mirror.Conn, remote.Sudo) (RootSession, error) { return root, nil }}
		changesOverSSH(t, l, sshCommand(t), func() bool { return root.closed })
	})
}

func changesOverSSH(t *testing.T, l *Local, ssh []string, rootUsed func() bool) {
	site := servedTwoTier(t, "5.3.1-sites")
	conn := login(t, ssh)
	connect, counter := counting(conn)
	l.Connect = connect
	t0 := Target{Host: "socketbar-test", Root: site.Root}
	ctx := context.Background()

	if _, err := (&Local{}).Restart(ctx, RestartOptions{Target: Target{Root: site.Root}}); err != nil {
		t.Fatalf("start the Service Proxy here: %v", err)
	}
	before := counter.RoundTrips()
	backend := echoWS(t)
	p, err := l.ProposeAdd(ctx, AddOptions{Target: t0, Path: "/ws/", Backend: backend + "/ws/",
		Ports: []string{fmt.Sprint(site.Ports[443]), fmt.Sprint(site.Ports[80])}})
	if err != nil {
		t.Fatalf("ProposeAdd over SSH: %v", err)
	}
	if strings.Contains(p.Config, "socketbar-mirror-") || p.Config != site.ConfigPath {
		t.Errorf("proposal names %s, want the Server's %s", p.Config, site.ConfigPath)
	}
	applied, err := l.Apply(ctx, p, ApplyOptions{})
	if err != nil {
		t.Fatalf("Apply over SSH: %v", err)
	}
	t.Logf("add over SSH: %d round trips, restarted %v, took %v", counter.RoundTrips()-before, applied.Restarted, applied.Took)
	if !applied.Restarted {
		t.Error("the Service Proxy was not restarted")
	}
	if !rootUsed() {
		t.Error("the change did not go through the root session")
	}
	got, err := os.ReadFile(site.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(p.New) {
		t.Errorf("the Server's config is not the proposal's new text")
	}
	backups := filepath.Join(filepath.Dir(site.ConfigPath), serverctl.BackupDirName)
	entries, _ := os.ReadDir(backups)
	if len(entries) == 0 {
		t.Fatal("no history on the Server")
	}
	for _, e := range entries {
		data, _ := os.ReadFile(filepath.Join(backups, e.Name()))
		if strings.Contains(string(data), "socketbar-mirror-") {
			t.Errorf("%s names the mirror:\n%s", e.Name(), data)
		}
	}
	// test --route over SSH: the backend and the Service Proxy are
	// tested from the Server's side.
	rep, err := l.CheckRoute(ctx, CheckRouteOptions{Target: t0, Path: "/ws/", ProxyAddr: "127.0.0.1:1"})
	if err != nil {
		t.Fatalf("CheckRoute over SSH: %v", err)
	}
	if !rep.OK {
		t.Errorf("CheckRoute over SSH breaks at %s: %+v", rep.BreaksAt, rep.Tiers)
	}
	for _, tier := range rep.Tiers {
		if tier.Report != nil && tier.Tier != TierServe && !strings.Contains(tier.Report.From, "the Server") {
			t.Errorf("tier %s tested from %q, want the Server's side", tier.Tier, tier.Report.From)
		}
	}

	h, err := (&Local{}).History(ctx, Target{Root: site.Root})
	if err != nil || len(h.Entries) != 1 {
		t.Fatalf("history here after the change over SSH: %v, %+v", err, h)
	}

	// The same change again is refused with the route there; undo over
	// SSH puts the original back.
	u, err := l.ProposeUndo(ctx, UndoOptions{Target: t0})
	if err != nil {
		t.Fatalf("ProposeUndo over SSH: %v", err)
	}
	if _, err := l.Apply(ctx, u, ApplyOptions{}); err != nil {
		t.Fatalf("undo over SSH: %v", err)
	}
	if got, _ := os.ReadFile(site.ConfigPath); string(got) != string(p.Old) {
		t.Error("after undo over SSH the config is not the original")
	}

	// A proposal whose config changed on the Server since is refused and
	// writes nothing.
	p2, err := l.ProposeAdd(ctx, AddOptions{Target: t0, Path: "/ws2/", Backend: "http://127.0.0.1:8000/ws2/",
		Ports: []string{fmt.Sprint(site.Ports[443])}})
	if err != nil {
		t.Fatal(err)
	}
	edited := append([]byte("# an admin's edit\n"), p.Old...)
	if err := os.WriteFile(site.ConfigPath, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Apply(ctx, p2, ApplyOptions{}); !errors.Is(err, ErrChangedOnDisk) {
		t.Errorf("apply after an edit on the Server: %v, want ErrChangedOnDisk", err)
	}
	if got, _ := os.ReadFile(site.ConfigPath); string(got) != string(edited) {
		t.Error("the admin's edit was lost")
	}
}

// echoWS is a WebSocket echo backend on loopback; it returns its base
// URL (http://127.0.0.1:PORT).
func echoWS(t *testing.T) string {
	t.Helper()
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			mt, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			if c.WriteMessage(mt, msg) != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// A tree over SSH (the demo, a copy of a Server) has no launchd: its
// status reads the Service Proxy's state from the pid file fetched with
// the mirror and asks the Server whether that process runs, and says the
// same as its status read here.
func TestStatusOverSSHOfATreeSaysWhetherItsHTTPDRuns(t *testing.T) {
	site := servedTwoTier(t, "5.3.1-sites")
	ctx := context.Background()
	if _, err := (&Local{}).Restart(ctx, RestartOptions{Target: Target{Root: site.Root}}); err != nil {
		t.Fatalf("start the Service Proxy here: %v", err)
	}
	here, err := (&Local{}).Status(ctx, Target{Root: site.Root})
	if err != nil || !here.Service.Running {
		t.Fatalf("status here: %v, %+v", err, here)
	}
	connect, _ := counting(login(t, sshCommand(t)))
	l := &Local{Connect: connect}
	there, err := l.Status(ctx, Target{Root: site.Root, Host: sshtest.Alias})
	if err != nil {
		t.Fatal(err)
	}
	if there.ServiceErr != nil || !there.Service.Running || there.Service.PID != here.Service.PID {
		t.Errorf("status over SSH: %+v, %v; want running as pid %d, as here", there.Service, there.ServiceErr, here.Service.PID)
	}
	apachetest.StopHTTPD(t, apachetest.Require(t), site.ConfigPath, site.Env, filepath.Join(site.Root, "var/run/service_proxy.pid"))
	there, err = l.Status(ctx, Target{Root: site.Root, Host: sshtest.Alias})
	if err != nil || there.Service.Running {
		t.Errorf("status over SSH after a stop: %+v, %v; want not running", there.Service, err)
	}
}
