package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/socketbar/socketbar/internal/sshtest"
	"github.com/socketbar/socketbar/serverctl/action"
	"github.com/socketbar/socketbar/serverctl/action/actiontest"
	"github.com/socketbar/socketbar/serverctl/servertest"
)

// hostFake answers Status for a Server over SSH with a tree read here
// (trees, by Host) or an error (errs), so that the menus can be tested
// without a network; everything else is the Recorder's.
type hostFake struct {
	actiontest.Recorder
	mu    sync.Mutex
	trees map[string]string
	errs  map[string]error
}

func (f *hostFake) Status(ctx context.Context, t action.Target) (*action.Status, error) {
	if t.Host == "" {
		return f.Recorder.Status(ctx, t)
	}
	f.mu.Lock()
	root, err := f.trees[t.Host], f.errs[t.Host]
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	st, err := f.Recorder.Status(ctx, action.Target{Root: root})
	if st != nil {
		st.Target = t
	}
	return st, err
}

// fast is the watchers' timing for tests: the real one, scaled down.
var fast = timing{every: 200 * time.Millisecond, retryFirst: 100 * time.Millisecond, retryMax: 400 * time.Millisecond}

// until waits (bounded) for cond, running meanwhile what u's background
// work and watchers landed, as the UI goroutine would.
func until(t *testing.T, u *ui, what string, cond func() bool) {
	t.Helper()
	v, _ := uiQueues.Load(u)
	q := v.(*uiQueue)
	servertest.Eventually(t, what, func() bool {
		for _, fn := range q.take() {
			fn()
		}
		return cond()
	})
}

// serversItem is the tray menu's submenu of Servers.
func serversItem(t *testing.T, u *ui) *fyne.MenuItem {
	t.Helper()
	for _, it := range u.menu.Items {
		if strings.HasPrefix(it.Label, itemServer) {
			return it
		}
	}
	t.Fatalf("the menu has no Servers item: %q", labels(u.menu))
	return nil
}

func TestAddServerRefusesABadHostNamingTheField(t *testing.T) {
	fake := &hostFake{trees: map[string]string{"admin@mini": servertest.Copy(t, "5.7.1")}}
	u := newTestUI(test.NewTempApp(t), Options{Root: servertest.Copy(t, "5.3.1"), Actions: fake})
	t.Cleanup(u.stop)
	u.timing = fast
	menuItem(t, serversItem(t, u).ChildMenu, itemAddServer).Action()
	f := u.addServerForm
	if f == nil {
		t.Fatal("Add Server… opened no form")
	}
	for _, tt := range []struct{ host, root, want string }{
		{"-oProxyCommand=touch /tmp/x", "", `Host: The host "-oProxyCommand=touch /tmp/x" cannot be used: the host`},
		{"ad min@mini", "", `the user "ad min" contains white space`},
		{"mini:99999", "", `the port "99999" is outside 1-65535`},
		{"mini;reboot", "", `the host "mini;reboot" contains ';'`},
		{"admin@mini", "Volumes/Copy", fieldRoot + " must be a folder on the Server written from its /"},
	} {
		f.root.SetText(tt.root)
		test.Type(f.host, "x") // typing, then the whole text
		f.host.SetText(tt.host)
		if !f.hostMsg.Visible() || !strings.Contains(f.hostMsg.Text, tt.want) || !f.add.Disabled() || !f.test.Disabled() {
			t.Errorf("host %q root %q: message %q (shown %v), add disabled %v; want %q", tt.host, tt.root, f.hostMsg.Text, f.hostMsg.Visible(), f.add.Disabled(), tt.want)
		}
		f.submit()
		if len(u.servers) != 0 {
			t.Fatalf("host %q was added: %+v", tt.host, u.servers)
		}
	}
	f.root.SetText("")
	f.host.SetText("admin@mini")
	if f.hostMsg.Visible() || f.add.Disabled() {
		t.Fatalf("a good host refused: %q", f.hostMsg.Text)
	}
	test.Tap(f.add)
	if len(u.servers) != 1 || u.servers[0].Host != "admin@mini" || u.selected.Host != "admin@mini" {
		t.Fatalf("after Add: servers %+v, selected %+v", u.servers, u.selected)
	}
	if _, open := u.windows[winAddServer]; open {
		t.Error("the Add Server window stayed open after Add")
	}
	u.showAddServer("admin@mini")
	if !strings.Contains(u.addServerForm.hostMsg.Text, "is in the Servers menu already") || !u.addServerForm.add.Disabled() {
		t.Errorf("a second admin@mini: %q", u.addServerForm.hostMsg.Text)
	}
}

// The selected Server is remembered, the status line, the routes window
// and the actions follow it, and the list comes back at the next start.
func TestTheSelectedServerIsRememberedAndEverythingFollowsIt(t *testing.T) {
	local := servertest.Copy(t, "5.3.1")
	fake := &hostFake{trees: map[string]string{"admin@mini": servertest.Copy(t, "5.7.1")}}
	a := test.NewTempApp(t)
	u := newTestUI(a, Options{Root: local, Actions: fake})
	t.Cleanup(u.stop)
	u.timing = fast
	u.showRoutes()
	routes := func() string { return canvasText(u.windows[winRoutes].Content()) }
	if !strings.Contains(routes(), "/webcal") || strings.Contains(u.menu.Items[0].Label, "admin@mini") {
		t.Fatalf("before: status %q", u.menu.Items[0].Label)
	}

	u.addServer(server{Host: "admin@mini"})
	if l := u.menu.Items[0].Label; l != "admin@mini: Connecting…" || !menuItem(t, u.menu, itemAdd).Disabled {
		t.Errorf("while connecting: status %q, Add Route enabled %v", l, !menuItem(t, u.menu, itemAdd).Disabled)
	}
	// The count of admin@mini's tree, read here, and not This Mac's.
	want := fmt.Sprintf("%d routes", load(context.Background(), &action.Local{}, fake.trees["admin@mini"]).Counts().Routes)
	if here := fmt.Sprintf("%d routes", load(context.Background(), &action.Local{}, local).Counts().Routes); here == want {
		t.Fatalf("the trees both have %s: the test cannot tell them apart", want)
	}
	until(t, u, "the status line to show admin@mini's Server", func() bool {
		return strings.HasPrefix(u.menu.Items[0].Label, "admin@mini: Service Proxy") && strings.Contains(u.menu.Items[0].Label, want)
	})
	if routes := routes(); strings.Contains(routes, "/webcal") || !strings.Contains(routes, "/devicemanagement") {
		t.Errorf("the routes window still shows This Mac's routes:\n%s", routes)
	}
	if got := serversItem(t, u).Label; got != itemServer+"admin@mini" {
		t.Errorf("Servers item = %q", got)
	}
	sub := serversItem(t, u).ChildMenu
	if mini := menuItem(t, sub, "admin@mini"); !mini.Checked || menuItem(t, sub, thisMac).Checked {
		t.Error("the check mark is not on admin@mini alone")
	}
	// An action started now is about admin@mini.
	u.showAddRoute("/chat/", "http://127.0.0.1:9000/chat/")
	until(t, u, "the add form's proposal", func() bool { return len(fake.Calls("ProposeAdd")) > 0 })
	adds := fake.Calls("ProposeAdd")
	if adds[len(adds)-1].Opts.(action.AddOptions).Target.Host != "admin@mini" {
		t.Fatalf("the add form proposed for %+v", adds)
	}

	// The next start restores the list and the selection.
	u2 := newTestUI(a, Options{Root: local, Actions: fake})
	t.Cleanup(u2.stop)
	if len(u2.servers) != 1 || u2.servers[0].Host != "admin@mini" || u2.selected.Host != "admin@mini" {
		t.Fatalf("restored servers %+v, selected %+v", u2.servers, u2.selected)
	}
	until(t, u2, "the restored app to show admin@mini", func() bool {
		return strings.HasPrefix(u2.menu.Items[0].Label, "admin@mini: Service Proxy")
	})

	menuItem(t, serversItem(t, u).ChildMenu, thisMac).Action()
	until(t, u, "This Mac's Server to show again", func() bool {
		return !strings.Contains(u.menu.Items[0].Label, "admin@mini") && strings.Contains(routes(), "/webcal")
	})
	if u3 := newTestUI(a, Options{Root: local, Actions: fake}); u3.selected.remote() || len(u3.servers) != 1 {
		t.Errorf("after choosing This Mac the next start selects %+v with %+v", u3.selected, u3.servers)
	} else {
		u3.stop()
	}

	rm := menuItem(t, serversItem(t, u).ChildMenu, itemRemoveServer)
	menuItem(t, rm.ChildMenu, "admin@mini").Action()
	if len(u.servers) != 0 || len(u.links) != 0 {
		t.Errorf("after Remove: servers %+v, watchers %d", u.servers, len(u.links))
	}
	if u4 := newTestUI(a, Options{Root: local, Actions: fake}); len(u4.servers) != 0 {
		t.Errorf("a removed Server comes back at the next start: %+v", u4.servers)
	} else {
		u4.stop()
	}
}

// sshServer starts a real sshd serving a copy of a Server's tree, reached
// through SOCKETBAR_SSH, and the app's actions with a connection pool. As
// root it logs in as a new account whose shell is /bin/sh, as the action
// layer's tests do: root's own shell startup here is not the test's.
func sshServer(t *testing.T) (s *sshtest.Server, tree string, actions *action.Local, pool *action.Pool) {
	t.Helper()
	s = sshtest.Start(t)
	config := s.ConfigFile
	if os.Geteuid() == 0 {
		config = s.NewSudoUser(t).ConfigFile
	}
	t.Setenv("SOCKETBAR_SSH", "ssh -F "+config)
	tree = readableTree(t, "5.3.1")
	pool = &action.Pool{}
	t.Cleanup(func() { pool.Close() })
	return s, tree, &action.Local{Connect: pool.Connect}, pool
}

// readableTree is a copy of a stored Server tree, with servertest's fake
// httpd, in a folder every account may read.
func readableTree(t testing.TB, version string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "app-served-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	copied, _ := servertest.CopyWithHTTPD(t, version)
	if err := os.CopyFS(dir, os.DirFS(copied)); err != nil {
		t.Fatal(err)
	}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o755)
		}
		return nil
	})
	os.Chmod(filepath.Join(dir, "usr", "sbin", "httpd"), 0o755)
	return dir
}

// A Server whose key no known_hosts holds: Test Connection shows the
// key's real fingerprint and asks; nothing is trusted before Yes, and
// after it the test (a Status over SSH) succeeds.
func TestHostKeyQuestionShowsTheRealFingerprint(t *testing.T) {
	s, tree, actions, _ := sshServer(t)
	if err := os.WriteFile(s.KnownHosts, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	u := newTestUI(test.NewTempApp(t), Options{Root: t.TempDir(), Actions: actions})
	t.Cleanup(u.stop)
	u.showAddServer(sshtest.Alias)
	f := u.addServerForm
	f.root.SetText(tree)
	test.Tap(f.test)
	until(t, u, "the host key question", func() bool { return u.hostKeys[sshtest.Alias] != nil })
	v := u.hostKeys[sshtest.Alias]
	if fp := s.Fingerprint(t); !strings.Contains(v.text.Text, fp) || !strings.Contains(v.text.Text, hostKeyQuestion) {
		t.Errorf("the question does not show the key's fingerprint %s:\n%s", fp, v.text.Text)
	}
	if known, _ := os.ReadFile(s.KnownHosts); len(known) != 0 {
		t.Fatalf("the key was recorded before the question was answered: %q", known)
	}
	test.Tap(v.yes)
	until(t, u, "the test to pass after trusting the key", func() bool { return strings.HasPrefix(f.result.Text, "✓") || strings.HasPrefix(f.result.Text, "✗") })
	want := fmt.Sprintf("%d routes", load(context.Background(), &action.Local{}, tree).Counts().Routes)
	if !strings.HasPrefix(f.result.Text, "✓ Reached "+sshtest.Alias+": macOS Server 5.3.1, Apache 2.4.") || !strings.Contains(f.result.Text, want) {
		t.Errorf("after Yes: %q", f.result.Text)
	}
	known, _ := os.ReadFile(s.KnownHosts)
	if key := strings.Fields(s.KnownHostsLine(t)); !strings.Contains(string(known), key[2]) {
		t.Errorf("known_hosts after Yes = %q; want the Server's key %s", known, key[2])
	}
	if _, open := u.windows[hostKeyWindow(sshtest.Alias)]; open {
		t.Error("the question stayed open after Yes")
	}
}

// A Server that goes away shows as unreachable, in the menu and the
// status line, with nothing offered as if it were there; when it comes
// back, the app shows it again over a new connection, one at a time.
func TestALostConnectionShowsAndRecovers(t *testing.T) {
	s, tree, actions, pool := sshServer(t)
	u := newTestUI(test.NewTempApp(t), Options{Root: t.TempDir(), Actions: actions})
	t.Cleanup(u.stop)
	u.timing = fast
	u.addServer(server{Host: sshtest.Alias, Root: tree})
	up := func() bool {
		return strings.Contains(u.menu.Items[0].Label, sshtest.Alias+": Service Proxy") && !menuItem(t, u.menu, itemAdd).Disabled
	}
	until(t, u, "the Server to show", up)

	s.Stop()
	until(t, u, "the Servers menu to show the Server as unreachable", func() bool {
		return slices.Contains(labels(serversItem(t, u).ChildMenu), sshtest.Alias+" — unreachable — retrying")
	})
	if l := u.menu.Items[0].Label; l != sshtest.Alias+": unreachable — retrying" {
		t.Errorf("status line while unreachable = %q", l)
	}
	for _, it := range []string{itemAdd, itemRestart, itemUndo, itemRoutes} {
		if !menuItem(t, u.menu, it).Disabled {
			t.Errorf("%q is offered for an unreachable Server", it)
		}
	}

	s.Restart(t)
	until(t, u, "the Server to show again", up)
	for _, it := range serversItem(t, u).ChildMenu.Items {
		if strings.Contains(it.Label, "unreachable") {
			t.Errorf("the Servers menu still says %q", it.Label)
		}
	}
	if n := pool.Open(); n != 1 {
		t.Errorf("%d connections open to one Server", n)
	}
}

func TestThePasswordWindowReturnsWhatWasTypedAndCancelErrs(t *testing.T) {
	a := test.NewTempApp(t)
	q := &uiQueue{}
	ask := func(ctx context.Context) (<-chan []byte, <-chan error, *passwordView) {
		t.Helper()
		pw, errc := make(chan []byte, 1), make(chan error, 1)
		var (
			mu   sync.Mutex
			view *passwordView
		)
		go func() {
			p, err := askPassword(ctx, a, q.add, "admin@mini", func(v *passwordView) { mu.Lock(); view = v; mu.Unlock() })
			pw <- p
			errc <- err
		}()
		var v *passwordView
		servertest.Eventually(t, "the password window", func() bool {
			for _, fn := range q.take() {
				fn()
			}
			mu.Lock()
			defer mu.Unlock()
			v = view
			return v != nil
		})
		return pw, errc, v
	}

	pw, errc, v := ask(context.Background())
	if text := canvasText(v.w.Content()); !strings.Contains(text, "To change the Service Proxy config on admin@mini, Socketbar runs sudo there") {
		t.Errorf("the window does not say why:\n%s", text)
	}
	if !v.entry.Password {
		t.Error("the password field is not masked")
	}
	test.Type(v.entry, "s3cret pass")
	test.Tap(v.ok)
	if p, err := <-pw, <-errc; string(p) != "s3cret pass" || err != nil {
		t.Errorf("answered: %q, %v", p, err)
	}
	if v.entry.Text != "" {
		t.Error("the field still holds the password")
	}

	pw, errc, v = ask(context.Background())
	test.Type(v.entry, "half")
	test.Tap(v.cancel)
	if p, err := <-pw, <-errc; p != nil || !errors.Is(err, action.ErrCancelled) || !strings.Contains(errorMessage(err), "Nothing was changed") {
		t.Errorf("cancelled: %q, %v (%q)", p, err, errorMessage(err))
	}

	ctx, cancel := context.WithCancel(context.Background())
	pw, errc, v = ask(ctx)
	cancel()
	if p, err := <-pw, <-errc; p != nil || !errors.Is(err, context.Canceled) {
		t.Errorf("after the action ended: %q, %v", p, err)
	}
	for _, fn := range q.take() {
		fn()
	}
	for _, w := range a.Driver().AllWindows() {
		if w == v.w {
			t.Error("the window stays open after the action ended")
		}
	}
}
