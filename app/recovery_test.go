package app

import (
	"context"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/action"
	"github.com/socketbar/socketbar/serverctl/action/actiontest"
	"github.com/socketbar/socketbar/serverctl/servertest"
)

// noRestartApply runs the real transaction without the restart: the
// stand-in httpd of servertest.CopyWithHTTPD tests a config but runs none.
type noRestartApply struct{ actiontest.Recorder }

func (n *noRestartApply) Apply(ctx context.Context, p *action.Proposal, opts action.ApplyOptions) (*action.Applied, error) {
	opts.NoRestart = true
	return n.Recorder.Local.Apply(ctx, p, opts)
}

// killed stands for the process dying at a step.
type killed struct{}

// interrupt runs an add on the Server at root and stops it as a SIGKILL
// would right after step, and returns the ID of its history entry.
func interrupt(t *testing.T, root string, step serverctl.Step) string {
	t.Helper()
	ctx := context.Background()
	l := &action.Local{AfterStep: func(s serverctl.Step) {
		if s == step {
			panic(killed{})
		}
	}}
	p, err := l.ProposeAdd(ctx, action.AddOptions{Target: action.Target{Root: root}, Path: "/kill/", Backend: "http://127.0.0.1:1/kill/"})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Files()) != 2 {
		t.Fatalf("the add writes %v; want the main config and the customsites file", p.Files())
	}
	func() {
		defer func() {
			if r := recover(); r != (killed{}) {
				t.Fatalf("the add was not killed after %s: %v", step, r)
			}
		}()
		l.Apply(ctx, p, action.ApplyOptions{NoRestart: true})
	}()
	entries, err := serverctl.BackupStoreFor(p.Config).List()
	if err != nil || len(entries) == 0 {
		t.Fatalf("history: %v, %v", entries, err)
	}
	return entries[0].ID
}

// TestAddRouteSaysWhatRecoveryDid: a change a killed Socketbar left
// half-done is settled by the next one, and the Add form says so, whether
// the add then fails (it was worked out from the half-written files the
// recovery put back, which is not "something else" writing) or goes
// through.
func TestAddRouteSaysWhatRecoveryDid(t *testing.T) {
	for _, tt := range []struct {
		name   string
		killed serverctl.Step
		result string
		said   string
	}{
		{"the add then fails", serverctl.StepWrite, "✗ ", "put the previous config back in all of them"},
		{"the add goes through", serverctl.StepBackup, "✓ Added", "the new config had not been written"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			root, conf := servertest.CopyWithHTTPD(t, "5.1.7-sites")
			id := interrupt(t, root, tt.killed)
			u := newTestUI(test.NewTempApp(t), Options{Root: root, Actions: &noRestartApply{}, Tray: noTray})
			u.showAddRoute(actiontest.SameAddPath, actiontest.SameAddBackend)
			f := u.addForm
			settle(t, f)
			if f.apply.Disabled() {
				t.Fatalf("apply disabled: %s", f.applyMsg.Text)
			}
			test.Tap(f.apply)
			until(t, u, "the apply to end", func() bool { return strings.ContainsAny(f.applyMsg.Text, "✓✗") })
			msg := f.applyMsg.Text
			if !strings.Contains(msg, tt.result) || !strings.Contains(msg, "was interrupted") || !strings.Contains(msg, id) || !strings.Contains(msg, tt.said) {
				t.Errorf("the form says %q; want %q, then what settling change %s did (%q)", msg, tt.result, id, tt.said)
			}
			if strings.Contains(msg, "Something else") {
				t.Errorf("the form blames another program for the recovery's write: %q", msg)
			}
			if serverctl.BackupStoreFor(conf).Interrupted() {
				t.Error("the journal is still there")
			}
		})
	}
}
