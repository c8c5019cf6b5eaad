package app

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

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

// uiQueue is what a ui's fyne.Do would have run on the UI goroutine.
type uiQueue struct {
	mu  sync.Mutex
	fns []func()
}

func (q *uiQueue) add(fn func()) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.fns = append(q.fns, fn)
}

// take returns the functions queued so far and empties the queue.
func (q *uiQueue) take() []func() {
	q.mu.Lock()
	defer q.mu.Unlock()
	fns := q.fns
	q.fns = nil
	return fns
}

// uiQueues holds the queue of each ui made by newTestUI.
var uiQueues sync.Map // *ui → *uiQueue

// newTestUI is newUI whose background work lands, as it would on the UI
// goroutine, when drain runs it on the test's goroutine: Fyne's test
// driver would run it at once on the goroutine that did the work, beside
// the test's own input.
func newTestUI(a fyne.App, opts Options) *ui {
	u := newUI(a, opts)
	q := &uiQueue{}
	u.do = q.add
	uiQueues.Store(u, q)
	u.followServers() // as Run does, landing through q
	return u
}

// settle waits until the work the form's ui started in the background
// (the proposal for the form's input) has ended, and lands it, as the UI
// goroutine would.
func settle(t *testing.T, f *addRouteForm) {
	t.Helper()
	drain(t, f.u)
}

// drain waits until no work u started in the background is under way, and
// runs what it lands on the test's goroutine, as the UI goroutine would.
func drain(t *testing.T, u *ui) {
	t.Helper()
	v, _ := uiQueues.Load(u)
	q := v.(*uiQueue)
	servertest.Eventually(t, "the work in the background", func() bool {
		idle := u.pending.Load() == 0 // before take: what ended is queued by now
		fns := q.take()
		for _, fn := range fns {
			fn() // may start more, such as the proposal for newer input
		}
		return idle && len(fns) == 0
	})
}

func TestAddRouteMessagesFollowTheApply(t *testing.T) {
	fake := &slowApply{written: make(chan struct{}), release: make(chan struct{})}
	u := newTestUI(test.NewTempApp(t), Options{Root: servertest.Copy(t, "5.7.1"), Actions: fake, Tray: noTray})
	u.showAddRoute(actiontest.SameAddPath, actiontest.SameAddBackend)
	f := u.addForm
	settle(t, f)
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
	until(t, u, "the apply to end", func() bool { return strings.HasPrefix(f.applyMsg.Text, "✓ Added") })
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

// A field's message shows right under it, and only while there is one: a
// form without messages has no gaps between its fields (Add Route on a
// real Server kept two empty lines under Path and Backend), and the Apply
// button stays where it is whatever the messages say.
func TestAddRouteMessagesAreInPlaceAndRight(t *testing.T) {
	u := newTestUI(test.NewTempApp(t), Options{Root: servertest.Copy(t, "5.7.1"), Actions: newFake(), Tray: noTray})
	u.showAddRoute("", "")
	f := u.addForm
	w := u.windows[winAdd]
	layout := func() {
		// A resize lays the whole window out as the screen would.
		w.Resize(fyne.NewSize(860, 641))
		w.Resize(fyne.NewSize(860, 640))
	}
	top := func(o fyne.CanvasObject) float32 { return fyne.CurrentApp().Driver().AbsolutePositionForObject(o).Y }
	// gap is the empty room between above's bottom and below's top.
	gap := func(above, below fyne.CanvasObject) float32 { return top(below) - top(above) - above.Size().Height }
	// Two of the form's rows are apart by its padding, a field and its
	// message by the padding of the box that holds them.
	most := 2*theme.Padding() + 0.5
	layout()
	applyY := top(f.apply)
	if g := gap(f.path, f.backend); g > most {
		t.Errorf("with no message, %.0f between Path and Backend; want at most %.0f", g, most)
	}

	for _, tc := range []struct {
		name, path, backend string
		msg                 *widget.Label // the field's message, nil for none
		want                string
	}{
		{"bad path", "ws", "", f.pathMsg, "Fix what is marked ⚠"},
		{"bad backend", "/ws/", "ftp://x/", f.backendMsg, "Fix what is marked ⚠"},
		// Valid each on its own; the action layer finds the mismatch.
		{"slash mismatch", "/ws/", "http://127.0.0.1:8000/ws", f.backendMsg, "Fix what is marked ⚠"},
		{"nothing yet", "/ws/", "", nil, "Fill in a path and a backend"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.path.SetText("")
			f.backend.SetText("")
			test.Type(f.path, tc.path)
			test.Type(f.backend, tc.backend)
			settle(t, f)
			layout()
			if !strings.HasPrefix(f.applyMsg.Text, tc.want) {
				t.Errorf("message %q, want %q…", f.applyMsg.Text, tc.want)
			}
			for _, m := range []*widget.Label{f.pathMsg, f.backendMsg} {
				if shown := m.Visible() && m.Text != ""; shown != (m == tc.msg) {
					t.Errorf("message %q shown %v", m.Text, shown)
				}
			}
			above := map[*widget.Label]fyne.CanvasObject{f.pathMsg: f.path, f.backendMsg: f.backend}
			below := map[*widget.Label]fyne.CanvasObject{f.pathMsg: f.backend, f.backendMsg: f.hostBox}
			if tc.msg != nil {
				if g := gap(above[tc.msg], tc.msg); g > most {
					t.Errorf("%.0f between the field and its message %q", g, tc.msg.Text)
				}
				if g := gap(tc.msg, below[tc.msg]); g > most {
					t.Errorf("%.0f under the message %q", g, tc.msg.Text)
				}
			} else if g := gap(f.path, f.backend); g > most {
				t.Errorf("%.0f between Path and Backend without a message", g)
			}
			if a := top(f.apply); a != applyY {
				t.Errorf("the messages moved Apply: %v→%v", applyY, a)
			}
		})
	}
}
