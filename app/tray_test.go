package app

import (
	"context"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/socketbar/socketbar/serverctl/servertest"
)

func withTray(context.Context) bool { return true }

func noTray(context.Context) bool { return false }

func TestWithoutATrayTheRoutesWindowOffersEveryTrayAction(t *testing.T) {
	for _, tc := range []struct {
		name    string
		root    func(t *testing.T) string
		tray    func(context.Context) bool
		notice  bool
		actions []string
	}{
		{"a Server, no tray", func(t *testing.T) string { return servertest.Copy(t, "5.7.1") }, noTray, true,
			[]string{itemAdd, itemTest, itemProxyStart, itemRestart, itemUndo, itemLog, itemOpenConfig, itemAbout, itemQuit}},
		{"no Server, no tray", func(t *testing.T) string { return t.TempDir() }, noTray, true,
			[]string{itemDemo, itemTest, itemAbout, itemQuit}},
		{"a tray", func(t *testing.T) string { return servertest.Copy(t, "5.7.1") }, withTray, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := newTestUI(test.NewTempApp(t), Options{Root: tc.root(t), Actions: newFake(), Tray: tc.tray})
			u.showRoutes()
			w := u.windows[winRoutes]
			if got := strings.Contains(canvasText(w.Content()), noTrayText); got != tc.notice {
				t.Errorf("the no-tray notice shows: %v, want %v", got, tc.notice)
			}
			mm := w.MainMenu()
			if mm == nil || len(mm.Items) == 0 {
				t.Fatal("the routes window has no menu bar")
			}
			// Every tray action but the routes submenu (this window is the
			// routes) is in the menu bar, enabled alike.
			bar := map[string]bool{}
			for _, it := range mm.Items[0].Items {
				if !it.IsSeparator {
					bar[it.Label] = it.Disabled
				}
			}
			for _, it := range u.menu.Items[2:] {
				if it.IsSeparator || it.Label == itemRoutes {
					continue
				}
				disabled, ok := bar[it.Label]
				if !ok || disabled != it.Disabled {
					t.Errorf("menu bar item %q: present %v disabled %v; tray's disabled %v", it.Label, ok, disabled, it.Disabled)
				}
			}
			for _, l := range tc.actions {
				if _, ok := bar[l]; !ok {
					t.Errorf("the menu bar lacks %q", l)
				}
			}
			if last := mm.Items[0].Items[len(mm.Items[0].Items)-1]; last.Label != itemQuit || !last.IsQuit {
				t.Errorf("last item %q IsQuit %v: Fyne would add a second Quit", last.Label, last.IsQuit)
			}
		})
	}
}

func TestMenuBarActionsOpenTheirWindows(t *testing.T) {
	fake := newFake()
	u := newTestUI(test.NewTempApp(t), Options{Root: servertest.Copy(t, "5.7.1"), Actions: fake, Tray: noTray})
	u.showRoutes()
	for label, window := range map[string]windowID{itemAdd: winAdd, itemTest: winTest, itemLog: winLog, itemAbout: winAbout} {
		menuItem(t, u.windows[winRoutes].MainMenu().Items[0], label).Action()
		if _, ok := u.windows[window]; !ok {
			t.Errorf("%q did not open the %s window", label, window)
		}
	}
	menuItem(t, u.windows[winRoutes].MainMenu().Items[0], itemRestart).Action()
	servertest.Eventually(t, "the restart to be asked for", func() bool { return len(fake.Calls("Restart")) == 1 })
}

func TestClosingTheLastWindow(t *testing.T) {
	for _, tc := range []struct {
		name     string
		tray     func(context.Context) bool
		wantQuit bool
	}{
		{"without a tray the app quits and stops its demo", noTray, true},
		{"with a tray the app stays in the menu bar", withTray, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFake()
			fake.DemoRoot = servertest.Copy(t, "5.7.1")
			u := newTestUI(test.NewTempApp(t), Options{Root: t.TempDir(), Actions: fake, Tray: tc.tray})
			u.showRoutes()
			u.startDemo(u.windows[winRoutes])
			servertest.Eventually(t, "the demo to start", func() bool { return u.demo != nil })
			u.showAbout()
			u.windows[winAbout].Close()
			if u.ctx.Err() != nil {
				t.Fatal("the app quit while a window was still open")
			}
			u.windows[winRoutes].Close()
			if quit := u.ctx.Err() != nil; quit != tc.wantQuit {
				t.Errorf("quit = %v, want %v", quit, tc.wantQuit)
			}
			if stopped := u.demo == nil; stopped != tc.wantQuit {
				t.Errorf("demo stopped = %v, want %v", stopped, tc.wantQuit)
			}
		})
	}
}
