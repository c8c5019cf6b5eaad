package app

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/gorilla/websocket"

	"github.com/socketbar/socketbar/internal/sshtest"
	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/action"
	"github.com/socketbar/socketbar/serverctl/apachetest"
	"github.com/socketbar/socketbar/serverctl/servertest"
)

// The app changing a Server reached over SSH, end to end: real Apache
// runs a Server tree here, a real sshd serves this machine, and the app
// logs in as an account whose real sudo asks its password, which the app
// asks in its password window and the test types there.

// remoteApp is the app managing such a Server, selected through the Add
// Server window as a person would.
type remoteApp struct {
	u    *ui
	a    *notifyingApp
	site *apachetest.Site
	user sshtest.SudoUser

	mu sync.Mutex
	// asked counts the password windows opened; open is the one open.
	asked int
	open  *passwordView
}

// notifyingApp is the test app, keeping the notifications it was sent.
type notifyingApp struct {
	fyne.App
	mu   sync.Mutex
	sent []*fyne.Notification
}

func (a *notifyingApp) SendNotification(n *fyne.Notification) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sent = append(a.sent, n)
}

// notes are the contents of the notifications titled title, oldest first.
func (a *notifyingApp) notes(title string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, n := range a.sent {
		if n.Title == title {
			out = append(out, n.Content)
		}
	}
	return out
}

// startRemote serves a Server tree with real Apache, its Service Proxy
// running, behind a real sshd with a sudo account, and starts the app with
// the actions main_gui.go gives it (a pool of connections, the password
// asked in the app's window); the Server is added through Add Server and
// shown before it returns.
func startRemote(t *testing.T) *remoteApp {
	t.Helper()
	r := &remoteApp{site: servedTree(t, "5.3.1")}
	ctx := context.Background()
	if _, err := (&action.Local{}).Restart(ctx, action.RestartOptions{Target: action.Target{Root: r.site.Root}}); err != nil {
		t.Fatalf("start the Service Proxy of the served tree: %v", err)
	}
	h := apachetest.Require(t)
	t.Cleanup(func() {
		apachetest.StopHTTPD(t, h, r.site.ConfigPath, r.site.Env, filepath.Join(r.site.Root, "var/run/service_proxy.pid"))
	})
	s := sshtest.Start(t)
	r.user = s.NewSudoUser(t)
	t.Setenv("SOCKETBAR_SSH", "ssh -F "+r.user.ConfigFile)
	pool := &action.Pool{}
	t.Cleanup(func() { pool.Close() })
	r.a = &notifyingApp{App: test.NewTempApp(t)}
	actions := &action.Local{Connect: pool.Connect, Password: func(ctx context.Context, host string) ([]byte, error) {
		r.mu.Lock()
		r.asked++
		r.mu.Unlock()
		// As PasswordPrompt, landing on the test's goroutine as the rest
		// of the UI's work does (r.u is set before any action runs).
		return askPassword(ctx, r.a, r.u.do, host, func(v *passwordView) { r.mu.Lock(); r.open = v; r.mu.Unlock() })
	}}
	r.u = newTestUI(r.a, Options{Root: t.TempDir(), Actions: actions, Tray: noTray})
	t.Cleanup(r.u.stop)

	// Without a tray the app lives in its routes window (Run opens it),
	// and closing its last window quits it.
	r.u.showRoutes()
	r.u.showAddServer("")
	f := r.u.addServerForm
	f.host.SetText(sshtest.Alias)
	f.root.SetText(r.site.Root)
	test.Tap(f.add)
	until(t, r.u, "the Server over SSH to show", func() bool {
		return r.shown()
	})
	return r
}

// servedTree is a Server tree run by real Apache here, which the account
// the sshd logs in as may read, as on a Mac every account may.
func servedTree(t *testing.T, version string) *apachetest.Site {
	t.Helper()
	h := apachetest.Require(t)
	site := apachetest.LocalizeTree(t, h, servertest.Dir(t, version))
	apachetest.StartWebsites(t, h, site)
	servertest.Readable(t, site.Root)
	return site
}

func (r *remoteApp) status() string { return r.u.menu.Items[0].Label }

// shown reports whether the status line shows the Server's config, read
// over SSH, with its Service Proxy running: the tree's httpd, whose pid
// file came with the mirror and whose process the Server was asked about.
func (r *remoteApp) shown() bool {
	s := r.status()
	return strings.Contains(s, sshtest.Alias+": Service Proxy running · Apache 2.4") && strings.Contains(s, " routes, ")
}

func (r *remoteApp) timesAsked() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.asked
}

// passwordWindow waits for the password window and returns it, as the
// next to answer.
func (r *remoteApp) passwordWindow(t *testing.T) *passwordView {
	t.Helper()
	var v *passwordView
	until(t, r.u, "the password window", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		v, r.open = r.open, nil
		return v != nil
	})
	if !v.entry.Password {
		t.Error("the password field is not masked")
	}
	if title := v.w.Title(); title != "Password for sudo on "+sshtest.Alias {
		t.Errorf("password window titled %q", title)
	}
	return v
}

// answer types password into the password window and gives it to sudo.
func (r *remoteApp) answer(t *testing.T, password string) {
	t.Helper()
	v := r.passwordWindow(t)
	test.Type(v.entry, password)
	test.Tap(v.ok)
}

// config is the Server's config file as it is on disk.
func (r *remoteApp) config(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(r.site.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// backups are the names in the Server's folder of backups and history.
func (r *remoteApp) backups() []string {
	entries, _ := os.ReadDir(filepath.Join(filepath.Dir(r.site.ConfigPath), serverctl.BackupDirName))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// routesText is what the routes window shows.
func (r *remoteApp) routesText() string { return canvasText(r.u.windows[winRoutes].Content()) }

// webSockets is the number of WebSocket routes the status line counts.
func webSockets(t *testing.T, status string) int {
	t.Helper()
	m := regexp.MustCompile(`(\d+) WebSocket`).FindStringSubmatch(status)
	if m == nil {
		t.Fatalf("the status line counts no WebSocket routes: %q", status)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// fillAddRoute opens Add WebSocket Route from the menu, fills it in and
// waits for the proposal, computed over SSH, to enable Apply.
func (r *remoteApp) fillAddRoute(t *testing.T, path, backend string) *addRouteForm {
	t.Helper()
	menuItem(t, r.u.menu, itemAdd).Action()
	f := r.u.addForm
	f.path.SetText(path)
	f.backend.SetText(backend)
	// The served tree's VirtualHosts listen on loopback ports, and its
	// Websites tier's site files keep the Server's port names, so no
	// VirtualHost is ticked as a web host: tick the two web hosts'.
	for _, orig := range []int{443, 80} {
		c := f.hosts[strconv.Itoa(r.site.Ports[orig])]
		if c == nil {
			t.Fatalf("the form offers no VirtualHost on %d (for %d): %v", r.site.Ports[orig], orig, f.hosts)
		}
		if !c.Checked {
			test.Tap(c)
		}
	}
	until(t, r.u, "the proposal over SSH", func() bool { return !f.apply.Disabled() || strings.HasPrefix(f.applyMsg.Text, "⚠") })
	if f.apply.Disabled() {
		t.Fatalf("Apply is not offered: %s", f.applyMsg.Text)
	}
	return f
}

// applied waits for the Apply under way to end and what it landed to be
// shown (the reload it starts included), and returns the form's result.
func (r *remoteApp) applied(t *testing.T, f *addRouteForm) string {
	t.Helper()
	until(t, r.u, "the change to end", func() bool { return !f.applying })
	drain(t, r.u)
	return f.applyMsg.Text
}

// wsEcho is a WebSocket echo backend on loopback; it returns its base URL.
func wsEcho(t *testing.T) string {
	t.Helper()
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		c, err := up.Upgrade(w, req, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			mt, msg, err := c.ReadMessage()
			if err != nil || c.WriteMessage(mt, msg) != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// roundTrip sends a message through Apache's Service Proxy at url and
// reads it back, bounded in time.
func roundTrip(url string) error {
	d := websocket.Dialer{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, HandshakeTimeout: 5 * time.Second}
	c, resp, err := d.Dial(url, nil)
	if err != nil {
		if resp != nil {
			return fmt.Errorf("dial %s: %w (HTTP %s)", url, err, resp.Status)
		}
		return fmt.Errorf("dial %s: %w", url, err)
	}
	defer c.Close()
	c.NetConn().SetDeadline(time.Now().Add(5 * time.Second))
	const msg = "through the Service Proxy over SSH"
	if err := c.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	_, got, err := c.ReadMessage()
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	if string(got) != msg {
		return fmt.Errorf("echoed %q, want %q", got, msg)
	}
	return nil
}

// A route added in the app to a Server over SSH: sudo's password is asked
// once, in the app's window; the transaction's steps show as they pass;
// the route is then in the config on disk, in the routes window and the
// status line, and Apache carries WebSockets on it. Undo Last Change and
// Restart Service Proxy from the menu work on that Server too, each
// asking the password once.
func TestTheAppChangesAServerOverSSH(t *testing.T) {
	r := startRemote(t)
	before, statusBefore := r.config(t), r.status()
	url := fmt.Sprintf("wss://127.0.0.1:%d/ws/", r.site.Ports[443])
	if err := roundTrip(url); err == nil {
		t.Fatalf("%s carries WebSockets before the route is added: the test cannot tell", url)
	}

	f := r.fillAddRoute(t, "/ws/", wsEcho(t)+"/ws/")
	test.Tap(f.apply)
	r.answer(t, r.user.Password)
	result := r.applied(t, f)
	if !strings.HasPrefix(result, "✓ Added. Backup ") || !strings.Contains(result, "The Service Proxy runs again (pid ") {
		t.Fatalf("result of the add: %q", result)
	}
	if n := r.timesAsked(); n != 1 {
		t.Errorf("the password was asked %d times for one change", n)
	}
	steps := canvasText(f.steps)
	for _, st := range action.Steps() {
		if !strings.Contains(steps, "✓ "+st.Label()) {
			t.Errorf("step %q is not shown as done:\n%s", st.Label(), steps)
		}
	}
	after := r.config(t)
	if after == before || !strings.Contains(after, "socketbar:begin /ws/") {
		t.Errorf("the config on disk has no route /ws/:\n%s", after)
	}
	if !strings.Contains(r.routesText(), "/ws/") {
		t.Errorf("the routes window does not show /ws/:\n%s", r.routesText())
	}
	if got, was := webSockets(t, r.status()), webSockets(t, statusBefore); got <= was || !r.shown() {
		t.Errorf("status line after the add %q, before %q", r.status(), statusBefore)
	}
	if !slices.ContainsFunc(labels(menuItem(t, r.u.menu, itemRoutes).ChildMenu), func(l string) bool { return strings.HasPrefix(l, "/ws/ → ") }) {
		t.Errorf("the routes menu has no /ws/: %q", labels(menuItem(t, r.u.menu, itemRoutes).ChildMenu))
	}
	if err := roundTrip(url); err != nil {
		t.Errorf("after the add, through Apache: %v", err)
	}

	// Restart Service Proxy: httpd -k restart, which keeps the parent's
	// pid and writes the pid file anew for the new generation.
	pidFile := filepath.Join(r.site.Root, "var/run/service_proxy.pid")
	old, err := os.Stat(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	menuItem(t, r.u.menu, itemRestart).Action()
	r.answer(t, r.user.Password)
	until(t, r.u, "the restart to be told", func() bool { return len(r.a.notes("Restart Service Proxy")) > 0 })
	note := r.a.notes("Restart Service Proxy")[0]
	pid, _ := os.ReadFile(pidFile)
	if !strings.Contains(note, "runs again (pid "+strings.TrimSpace(string(pid))+")") {
		t.Errorf("restart said %q; pid file %s", note, pid)
	}
	if now, err := os.Stat(pidFile); err != nil || now.ModTime().Equal(old.ModTime()) {
		t.Errorf("the pid file was not written again by a restart: %v", err)
	}
	if n := r.timesAsked(); n != 2 {
		t.Errorf("the password was asked %d times for an add and a restart", n)
	}
	if err := roundTrip(url); err != nil {
		t.Errorf("after the restart, through Apache: %v", err)
	}

	// Undo Last Change: asked in a dialog, then the password once more.
	drain(t, r.u)
	undo := menuItem(t, r.u.menu, itemUndo)
	if undo.Disabled {
		t.Fatal("Undo Last Change is not offered after the add")
	}
	undo.Action()
	var confirm *widget.Button
	until(t, r.u, "the undo's question", func() bool {
		confirm = findButton(r.u.windows, "Yes")
		return confirm != nil
	})
	test.Tap(confirm)
	r.answer(t, r.user.Password)
	until(t, r.u, "the undo to be told", func() bool { return len(r.a.notes("Undo")) > 0 })
	drain(t, r.u)
	if note := r.a.notes("Undo")[0]; !strings.HasPrefix(note, "Undid “add /ws/") {
		t.Errorf("undo said %q", note)
	}
	if r.config(t) != before {
		t.Error("after the undo the config on disk is not the original")
	}
	if n := r.timesAsked(); n != 3 {
		t.Errorf("the password was asked %d times for an add, a restart and an undo", n)
	}
	until(t, r.u, "the app to show the route gone", func() bool {
		return webSockets(t, r.status()) == webSockets(t, statusBefore) && !strings.Contains(r.routesText(), "/ws/")
	})
	if err := roundTrip(url); err == nil {
		t.Error("after the undo /ws/ still carries WebSockets")
	}
}

// A wrong password, and Cancel in the password window: nothing is
// written on the Server, the app says why in words, and nothing is shown
// as added or as done.
func TestARefusedPasswordChangesNothingOverSSH(t *testing.T) {
	r := startRemote(t)
	before, backups, statusBefore := r.config(t), r.backups(), r.status()
	nothingChanged := func(t *testing.T, f *addRouteForm) {
		t.Helper()
		if r.config(t) != before {
			t.Error("the config on disk changed")
		}
		if got := r.backups(); !slices.Equal(got, backups) {
			t.Errorf("the Server's backups changed: %q, before %q", got, backups)
		}
		if steps := canvasText(f.steps); strings.Contains(steps, "✓") {
			t.Errorf("steps shown as done:\n%s", steps)
		}
		if r.status() != statusBefore || strings.Contains(r.routesText(), "/ws/") {
			t.Errorf("status line %q (before %q); routes window:\n%s", r.status(), statusBefore, r.routesText())
		}
	}

	t.Run("wrong password", func(t *testing.T) {
		f := r.fillAddRoute(t, "/ws/", wsEcho(t)+"/ws/")
		test.Tap(f.apply)
		r.answer(t, "not-"+r.user.Password)
		result := r.applied(t, f)
		if !strings.HasPrefix(result, "✗ sudo on "+sshtest.Alias+" refused the password") || !strings.Contains(result, "nothing was changed") {
			t.Errorf("result %q", result)
		}
		if n := r.timesAsked(); n != 1 {
			t.Errorf("the password was asked %d times", n)
		}
		if shown := overlayText(f.w); !strings.Contains(shown, "refused the password") {
			t.Errorf("the window's dialog says %q", shown)
		}
		nothingChanged(t, f)
	})

	t.Run("cancel", func(t *testing.T) {
		f := r.u.addForm
		closeOverlays(f.w)
		until(t, r.u, "Apply to be offered again", func() bool { return !f.apply.Disabled() })
		test.Tap(f.apply)
		v := r.passwordWindow(t)
		test.Type(v.entry, "half typed")
		test.Tap(v.cancel)
		result := r.applied(t, f)
		if !strings.HasPrefix(result, "✗ ") || !strings.Contains(result, "cancelled") || !strings.Contains(result, "Nothing was changed") {
			t.Errorf("result %q", result)
		}
		if n := r.timesAsked(); n != 2 {
			t.Errorf("the password was asked %d times in all", n)
		}
		if slices.Contains(r.a.Driver().AllWindows(), v.w) {
			t.Error("the password window is still open")
		}
		nothingChanged(t, f)
	})
}

// findButton is the button labelled label in a dialog over one of windows.
func findButton(windows map[windowID]fyne.Window, label string) *widget.Button {
	for _, w := range windows {
		for _, o := range w.Canvas().Overlays().List() {
			if b := buttonIn(o, label); b != nil {
				return b
			}
		}
	}
	return nil
}

func buttonIn(o fyne.CanvasObject, label string) *widget.Button {
	switch v := o.(type) {
	case *widget.Button:
		if v.Text == label {
			return v
		}
	case *fyne.Container:
		for _, c := range v.Objects {
			if b := buttonIn(c, label); b != nil {
				return b
			}
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(v).Objects() {
			if b := buttonIn(c, label); b != nil {
				return b
			}
		}
	}
	return nil
}

// overlayText is the text of the dialogs over w.
func overlayText(w fyne.Window) string {
	var parts []string
	for _, o := range w.Canvas().Overlays().List() {
		parts = append(parts, canvasText(o))
	}
	return strings.Join(parts, "\n")
}

// closeOverlays dismisses the dialogs over w.
func closeOverlays(w fyne.Window) {
	for _, o := range w.Canvas().Overlays().List() {
		w.Canvas().Overlays().Remove(o)
	}
}
