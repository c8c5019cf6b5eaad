package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/socketbar/socketbar/serverctl/action"
	"github.com/socketbar/socketbar/serverctl/apachetest"
	"github.com/socketbar/socketbar/serverctl/demo"
	"github.com/socketbar/socketbar/serverctl/servertest"
)

func TestTheAppShowsAndOffersTheDemosEchoApp(t *testing.T) {
	root := servertest.Copy(t, "5.7.1")
	// The state file is what makes a tree a demo's.
	if err := os.WriteFile(filepath.Join(root, demo.StateFile), []byte(`{"http": 20080, "https": 20443, "echo_port": 20555}`), 0o644); err != nil {
		t.Fatal(err)
	}
	u := newTestUI(test.NewTempApp(t), Options{Root: root, Actions: newFake(), Tray: noTray})
	u.showRoutes()
	if got := canvasText(u.windows[winRoutes].Content()); !strings.Contains(got, "echo app: http://127.0.0.1:20555/echo/") {
		t.Errorf("the routes window does not show the echo app:\n%s", got)
	}
	u.showAddRoute("", "")
	f := u.addForm
	if !f.useEcho.Visible() {
		t.Fatal("Add Route does not offer the echo app")
	}
	test.Tap(f.useEcho)
	settle(t, f)
	if f.path.Text != "/echo/" || f.backend.Text != "http://127.0.0.1:20555/echo/" || f.apply.Disabled() {
		t.Errorf("after %q: path %q backend %q, apply disabled %v: %s", useEchoLabel, f.path.Text, f.backend.Text, f.apply.Disabled(), f.applyMsg.Text)
	}

	plain := newTestUI(test.NewTempApp(t), Options{Root: servertest.Copy(t, "5.7.1"), Actions: newFake(), Tray: noTray})
	plain.showAddRoute("", "")
	if plain.addForm.useEcho.Visible() {
		t.Error("a real Server's Add Route offers a demo echo app")
	}
}

func TestTheAppAndTheCLIShareOneDemo(t *testing.T) {
	apachetest.Require(t)
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	ctx := context.Background()
	// The CLI's socketbar demo.
	cli, err := (&action.Local{}).StartDemo(ctx, action.DemoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Stop(ctx)

	u := newTestUI(test.NewTempApp(t), Options{Actions: &action.Local{}, Tray: noTray})
	if s := u.current(); s.Root != cli.Root || !s.Service.Running {
		t.Fatalf("the app did not find the CLI's demo: root %q running %v (%v)", s.Root, s.Service.Running, s.Err)
	}
	// A second start, from either side, says the demo runs.
	_, err = (&action.Local{}).StartDemo(ctx, action.DemoOptions{})
	var running *action.DemoRunningError
	if !errors.As(err, &running) {
		t.Errorf("second start: %v, want a DemoRunningError", err)
	}
	u.showRoutes()
	u.startDemo(u.windows[winRoutes])
	servertest.Eventually(t, "the app's start to end", func() bool { return len(u.windows[winRoutes].Canvas().Overlays().List()) == 0 })
	if u.demo != nil {
		t.Error("the app took over the CLI's demo: quitting would stop it")
	}

	// A stopped demo is not restarted half (a Service Proxy without the
	// Websites tier) by a change.
	if err := cli.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	p, err := u.actions.ProposeAdd(ctx, action.AddOptions{Target: action.Target{Root: cli.Root}, Path: "/echo/", Backend: cli.EchoURL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = u.actions.Apply(ctx, p, action.ApplyOptions{})
	var stopped *action.DemoStoppedError
	if !errors.As(err, &stopped) || !strings.Contains(errorMessage(err), "The demo Server is stopped") {
		t.Fatalf("apply to a stopped demo: %v", err)
	}
	if s := load(ctx, &action.Local{}, cli.Root); s.Service.Running {
		t.Error("the apply started the demo's Service Proxy")
	}
}
