package app

import (
	"context"
	"os"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/socketbar/socketbar/serverctl/action"
	"github.com/socketbar/socketbar/serverctl/action/actiontest"
	"github.com/socketbar/socketbar/serverctl/servertest"
)

// slowApply writes the new config as a transaction does, then waits for
// release before it "restarts": the window in which the app reloads.
type slowApply struct {
	actiontest.Recorder
	written, release chan struct{}
}

func (s *slowApply) Apply(ctx context.Context, p *action.Proposal, opts action.ApplyOptions) (*action.Applied, error) {
	if err := os.WriteFile(p.Config, p.New, 0o644); err != nil {
		return nil, err
	}
	close(s.written)
	<-s.release
	return s.Recorder.Apply(ctx, p, opts)
}

func TestAddRouteMessagesFollowTheApply(t *testing.T) {
	fake := &slowApply{written: make(chan struct{}), release: make(chan struct{})}
	u := newUI(test.NewTempApp(t), Options{Root: servertest.Copy(t, "5.7.1"), Actions: fake, Tray: noTray})
	u.showAddRoute(actiontest.SameAddPath, actiontest.SameAddBackend)
	f := u.addForm
	if f.apply.Disabled() {
		t.Fatalf("apply disabled: %s", f.applyMsg.Text)
	}
	test.Tap(f.apply)
	<-fake.written
	// The watcher or a Reload sees the written config mid-transaction.
	u.setSnapshot(load(u.ctx, fake, u.current().Root))
	if f.applyMsg.Text != "Applying…" {
		t.Errorf("during the apply the message is %q", f.applyMsg.Text)
	}
	close(fake.release)
	servertest.Eventually(t, "the apply to end", func() bool { return strings.HasPrefix(f.applyMsg.Text, "✓ Added") })
	u.setSnapshot(load(u.ctx, fake, u.current().Root))
	if !strings.HasPrefix(f.applyMsg.Text, "✓ Added") || len(f.steps.Objects) == 0 {
		t.Errorf("after a reload the result is gone: %q, %d steps", f.applyMsg.Text, len(f.steps.Objects))
	}

	// New input: the old result and its checkmarks go.
	test.Type(f.path, "x")
	if len(f.steps.Objects) != 0 || strings.HasPrefix(f.applyMsg.Text, "✓") {
		t.Errorf("after typing: %d steps shown, message %q", len(f.steps.Objects), f.applyMsg.Text)
	}
}

func TestAddRouteMessagesAreInPlaceAndRight(t *testing.T) {
	u := newUI(test.NewTempApp(t), Options{Root: servertest.Copy(t, "5.7.1"), Actions: newFake(), Tray: noTray})
	u.showAddRoute("", "")
	f := u.addForm
	w := u.windows[winAdd]
	at := func() (float32, float32) {
		// A resize lays the whole window out as the screen would.
		w.Resize(fyne.NewSize(860, 641))
		w.Resize(fyne.NewSize(860, 640))
		return fyne.CurrentApp().Driver().AbsolutePositionForObject(f.backend).Y,
			fyne.CurrentApp().Driver().AbsolutePositionForObject(f.apply).Y
	}
	backendY, applyY := at()

	for _, tc := range []struct {
		name, path, backend string
		field               func() string
		want                string
	}{
		{"bad path", "ws", "", func() string { return f.pathMsg.Text }, "Fix what is marked ⚠"},
		{"bad backend", "/ws/", "ftp://x/", func() string { return f.backendMsg.Text }, "Fix what is marked ⚠"},
		// Valid each on its own; the action layer finds the mismatch.
		{"slash mismatch", "/ws/", "http://127.0.0.1:8000/ws", func() string { return f.backendMsg.Text }, "Fix what is marked ⚠"},
		{"nothing yet", "/ws/", "", func() string { return "set" }, "Fill in a path and a backend"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.path.SetText("")
			f.backend.SetText("")
			test.Type(f.path, tc.path)
			test.Type(f.backend, tc.backend)
			if tc.field() == "" {
				t.Error("no message at the field")
			}
			if !strings.HasPrefix(f.applyMsg.Text, tc.want) {
				t.Errorf("message %q, want %q…", f.applyMsg.Text, tc.want)
			}
			if b, a := at(); b != backendY || a != applyY {
				t.Errorf("the warning moved the fields: backend %v→%v, apply %v→%v", backendY, b, applyY, a)
			}
		})
	}
}
