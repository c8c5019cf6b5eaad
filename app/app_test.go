package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/socketbar/socketbar/proxy"
	"github.com/socketbar/socketbar/proxy/wstest"
	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/action"
	"github.com/socketbar/socketbar/serverctl/action/actiontest"
	"github.com/socketbar/socketbar/serverctl/apachetest"
	"github.com/socketbar/socketbar/serverctl/demo"
	"github.com/socketbar/socketbar/serverctl/servertest"
)

func newFake() *actiontest.Recorder { return &actiontest.Recorder{} }

func menuItem(t *testing.T, m *fyne.Menu, label string) *fyne.MenuItem {
	t.Helper()
	for _, it := range m.Items {
		if it.Label == label {
			return it
		}
	}
	t.Fatalf("menu has no %q item", label)
	return nil
}

func labels(m *fyne.Menu) []string {
	var l []string
	for _, it := range m.Items {
		if it.IsSeparator {
			l = append(l, "---")
		} else {
			l = append(l, it.Label)
		}
	}
	return l
}

func TestTrayMenu(t *testing.T) {
	root := servertest.Copy(t, "5.3.1")
	conf := filepath.Join(root, serverctl.DefaultConfigPath)
	cfg, err := serverctl.ReadConfig(conf)
	if err != nil {
		t.Fatal(err)
	}
	edit, err := cfg.AddRoute(serverctl.AddRequest{Path: "/ws/", Backend: "http://127.0.0.1:8000/ws/"})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, edit.New, 0o644); err != nil {
		t.Fatal(err)
	}
	u := newTestUI(test.NewTempApp(t), Options{Root: root, Actions: newFake()})

	want := []string{"", itemServer + thisMac, "---", itemRoutes, itemAdd, itemTest, itemProxyStart, "---", itemRestart, itemUndo, itemLog, itemOpenConfig, "---", itemAbout, itemQuit}
	got := labels(u.menu)
	got[0] = ""
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("menu = %q\nwant   %q", got, want)
	}
	status := u.menu.Items[0]
	if !status.Disabled || !strings.Contains(status.Label, "Apache unknown") || !strings.Contains(status.Label, "11 routes, 1 WebSocket") || !strings.HasPrefix(status.Label, "⚠") {
		// the fixture's Websites tier holds a WebSocket rule: a lint error;
		// the tunnel route's ws:// rule and its http:// ProxyPass count once
		t.Errorf("status line = %q", status.Label)
	}
	sub := menuItem(t, u.menu, itemRoutes).ChildMenu
	if sub == nil || sub.Items[0].Label != "/ws/ → ws://127.0.0.1:8000/ws/" {
		t.Fatalf("routes submenu = %v", labels(sub))
	}
	if !menuItem(t, u.menu, itemUndo).Disabled {
		t.Error("Undo is enabled without history")
	}
	for label, window := range map[string]windowID{itemAdd: winAdd, itemTest: winTest, itemLog: winLog, itemAbout: winAbout} {
		menuItem(t, u.menu, label).Action()
		if _, ok := u.windows[window]; !ok {
			t.Errorf("%q did not open the %s window", label, window)
		}
	}
	sub.Items[0].Action()
	if _, ok := u.windows[winRoutes]; !ok {
		t.Error("the route's entry did not open the routes window")
	}
	menuItem(t, u.menu, itemRestart).Action() // fake: must not block or panic
}

func TestMenuWithoutServerOffersTheDemo(t *testing.T) {
	u := newTestUI(test.NewTempApp(t), Options{Root: t.TempDir(), Actions: newFake()})
	if got := u.menu.Items[0].Label; got != "No macOS Server found" {
		t.Errorf("status = %q", got)
	}
	if u.menu.Items[3].Label != itemDemo || u.menu.Items[3].Disabled {
		t.Errorf("first action = %q", u.menu.Items[3].Label)
	}
	for _, l := range []string{itemAdd, itemRestart, itemLog} {
		if !menuItem(t, u.menu, l).Disabled {
			t.Errorf("%q is enabled without a Server", l)
		}
	}
}

func TestStartingTheDemoSwitchesTheApp(t *testing.T) {
	fake := newFake()
	fake.DemoRoot = servertest.Copy(t, "5.7.1")
	u := newTestUI(test.NewTempApp(t), Options{Root: t.TempDir(), Actions: fake})
	u.showRoutes()
	if !strings.Contains(canvasText(u.windows[winRoutes].Content()), "No macOS Server was found") {
		t.Fatal("the routes window does not offer the demo")
	}
	menuItem(t, u.menu, itemDemo).Action()
	servertest.Eventually(t, "the app to switch to the demo", func() bool { return u.current().Config != "" })
	servertest.Eventually(t, "the routes window to show its routes", func() bool {
		return strings.Contains(canvasText(u.windows[winRoutes].Content()), "/devicemanagement")
	})
	if u.menu.Items[3].Label == itemDemo {
		t.Error("the menu still offers the demo")
	}
}

func TestStatusLineAfterDrift(t *testing.T) {
	root := servertest.Copy(t, "5.7.1")
	conf := filepath.Join(root, serverctl.DefaultConfigPath)
	src, _ := os.ReadFile(conf)
	// A change Socketbar recorded, whose route Server.app's rewrite dropped.
	store := serverctl.BackupStoreFor(conf)
	if _, err := store.Save(serverctl.BackupEntry{Time: time.Now(), Description: "add /ws/",
		Routes: []serverctl.ManagedRoute{{VHost: "*:443", Path: "/ws/", Backend: "http://127.0.0.1:8000/ws/", Strategy: serverctl.StrategyTunnel}}}, serverctl.FileEdit{Old: src}); err != nil {
		t.Fatal(err)
	}
	u := newTestUI(test.NewTempApp(t), Options{Root: root, Actions: newFake()})
	s := u.current()
	if s.Drift == nil || !strings.HasPrefix(u.menu.Items[0].Label, "⚠") {
		t.Errorf("drift %+v, status %q", s.Drift, u.menu.Items[0].Label)
	}
	if menuItem(t, u.menu, itemUndo).Disabled {
		t.Error("Undo is disabled although there is history")
	}
	u.showRoutes()
	if !strings.Contains(canvasText(u.windows[winRoutes].Content()), "vanished when the config was rewritten") {
		t.Error("the routes window does not show the drift")
	}
}

func TestAddRouteFormValidatesAndApplies(t *testing.T) {
	root := servertest.Copy(t, "5.3.1")
	fake := newFake()
	u := newTestUI(test.NewTempApp(t), Options{Root: root, Actions: fake})
	u.showAddRoute("", "")
	f := u.addForm

	test.Type(f.path, "ws")
	if !f.pathMsg.Visible() || !strings.Contains(f.pathMsg.Text, "Path") || !strings.Contains(f.pathMsg.Text, "must start with /") || !f.apply.Disabled() {
		t.Errorf("bad path: message %q, apply disabled %v", f.pathMsg.Text, f.apply.Disabled())
	}
	f.path.SetText("/ws/")
	test.Type(f.backend, "ftp://x/")
	if !strings.Contains(f.backendMsg.Text, "Backend") || !f.apply.Disabled() {
		t.Errorf("bad backend: %q", f.backendMsg.Text)
	}
	f.backend.SetText("http://127.0.0.1:8000/ws")
	settle(t, f)
	if !strings.Contains(f.backendMsg.Text, "http://127.0.0.1:8000/ws/") {
		t.Errorf("slash mismatch: %q", f.backendMsg.Text)
	}
	f.backend.SetText("http://127.0.0.1:8000/ws/")
	settle(t, f)
	if f.pathMsg.Visible() || f.backendMsg.Visible() || f.apply.Disabled() {
		t.Fatalf("valid input: path %q backend %q apply %v: %s", f.pathMsg.Text, f.backendMsg.Text, f.apply.Disabled(), f.applyMsg.Text)
	}
	if !strings.Contains(f.strategyWhy.Text, "tunnel") || !strings.Contains(f.strategyWhy.Text, "unknown") {
		t.Errorf("auto strategy explanation = %q", f.strategyWhy.Text)
	}
	if !strings.Contains(f.preview.Text(), "+\t# socketbar:begin /ws/") {
		t.Errorf("preview:\n%s", f.preview.Text())
	}
	f.strategy.SetSelected(choiceUpgrade)
	if !strings.Contains(f.strategyWhy.Text, "Strategy upgrade needs Apache 2.4.47") || !f.apply.Disabled() {
		t.Errorf("upgrade on unknown Apache: %q", f.strategyWhy.Text)
	}
	f.strategy.SetSelected(choiceAuto)
	settle(t, f)

	test.Tap(f.apply)
	until(t, u, "the apply to finish", func() bool { return strings.HasPrefix(f.applyMsg.Text, "✓ Added") })
	changes := fake.Applied()
	if len(changes) != 1 || !strings.Contains(string(changes[0].New), "socketbar:begin /ws/") || changes[0].Description != "add /ws/ → http://127.0.0.1:8000/ws/ (tunnel)" {
		t.Fatalf("applied %+v", changes)
	}
	adds := fake.Calls("ProposeAdd")
	if got, want := adds[len(adds)-1].Opts, actiontest.WantAdd(root); !reflect.DeepEqual(got, want) {
		t.Errorf("the form asked for %+v\nwant (what socketbar add asks for) %+v", got, want)
	}
	if got := canvasText(f.steps); !strings.Contains(got, "✓ testing config") || !strings.Contains(got, "✓ verifying") {
		t.Errorf("steps shown: %q", got)
	}

	fake.ApplyErr = errors.New("Apache's config test failed for the new config (nothing was written)")
	f.path.SetText("/other/")
	f.backend.SetText("http://127.0.0.1:8000/other/")
	settle(t, f)
	test.Tap(f.apply)
	until(t, u, "the failure to show", func() bool { return strings.HasPrefix(f.applyMsg.Text, "✗") })
	if !strings.Contains(f.applyMsg.Text, "config test failed") {
		t.Errorf("failure message = %q", f.applyMsg.Text)
	}
}

func TestAddRouteWithTheDemoServer(t *testing.T) {
	apachetest.Require(t)
	ctx := context.Background()
	st, err := demo.Prepare(ctx, filepath.Join(t.TempDir(), "demo"))
	if err != nil {
		t.Fatal(err)
	}
	echo, err := proxy.ServeEcho(fmt.Sprintf("127.0.0.1:%d", st.EchoPort))
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	if err := st.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer st.Stop(context.Background())

	u := newTestUI(test.NewTempApp(t), Options{Root: st.Root, Actions: &action.Local{}})
	u.showAddRoute("", "")
	f := u.addForm
	f.path.SetText("/echo/")
	f.backend.SetText(st.EchoURL())
	settle(t, f)
	if f.apply.Disabled() {
		t.Fatalf("apply disabled: %s", f.applyMsg.Text)
	}
	test.Tap(f.apply)
	until(t, u, "the transaction to finish", func() bool {
		return strings.HasPrefix(f.applyMsg.Text, "✓") || strings.HasPrefix(f.applyMsg.Text, "✗")
	})
	if !strings.Contains(f.applyMsg.Text, "The Service Proxy runs again") {
		t.Fatalf("result: %s", f.applyMsg.Text)
	}
	r := wstest.Run(ctx, fmt.Sprintf("wss://127.0.0.1:%d/echo/", st.HTTPS), wstest.Options{Insecure: true, ExpectEcho: true})
	if !r.OK {
		t.Errorf("after Apply in the app: %+v", r.Diagnosis)
	}
}

func TestConnectionTestWindowShowsFailureAndSuccess(t *testing.T) {
	app := test.NewTempApp(t)
	u := newTestUI(app, Options{Root: t.TempDir(), Actions: newFake()})
	echo := httptest.NewServer(proxy.EchoHandler())
	defer echo.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := "ws" + strings.TrimPrefix(closed.URL, "http") + "/ws"
	closed.Close()

	u.showTest(closedURL, "")
	v := u.testView
	// The report is whole once Copy is enabled, the last thing show does.
	servertest.Eventually(t, "the failing test", func() bool { return strings.HasPrefix(v.verdict.Text, "✗") && !v.copy.Disabled() })
	if !strings.Contains(v.verdict.Text, "(refused)") || !strings.Contains(v.fix.Text, "Fix:") {
		t.Errorf("failing verdict %q fix %q", v.verdict.Text, v.fix.Text)
	}
	test.Tap(v.copy)
	if clip := app.Clipboard().Content(); !strings.Contains(clip, "FAIL tcp") || !strings.Contains(clip, "Result (refused)") {
		t.Errorf("copied report:\n%s", clip)
	}

	v.url.SetText("ws" + strings.TrimPrefix(echo.URL, "http") + "/echo/")
	v.expect.SetChecked(true)
	test.Tap(v.run)
	servertest.Eventually(t, "the passing test", func() bool { return strings.HasPrefix(v.verdict.Text, "✓") })
	if n := len(v.steps.Objects); n != 6 {
		t.Errorf("%d steps shown, want 6 (dns, tcp, upgrade, echo, ping, close)", n)
	}
}

// canvasText collects the text of the labels in o.
func canvasText(o fyne.CanvasObject) string {
	var parts []string
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch v := o.(type) {
		case *widget.Label:
			parts = append(parts, v.Text)
		case *fyne.Container:
			for _, c := range v.Objects {
				walk(c)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(v).Objects() {
				walk(c)
			}
		}
	}
	walk(o)
	return strings.Join(parts, "\n")
}

func TestQuittingStopsTheDemoTheAppStarted(t *testing.T) {
	apachetest.Require(t)
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	a := test.NewTempApp(t)
	u := newTestUI(a, Options{Root: t.TempDir(), Actions: &action.Local{}})
	u.startDemo(nil)
	servertest.Eventually(t, "the demo to run", func() bool { return u.current().Config != "" && u.current().Service.Running })
	root := u.current().Root
	u.stop()
	if s := load(context.Background(), &action.Local{}, root); s.Service.Running {
		t.Error("the demo's Service Proxy still runs after the app stopped")
	}
}
