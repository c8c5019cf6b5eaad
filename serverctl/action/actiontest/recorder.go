package actiontest

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/socketbar/socketbar/proxy/wstest"
	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/action"
)

// Call is one action a front end asked for, with its options.
type Call struct {
	Name string
	Opts any
}

// Recorder is an action.Actions whose reads and proposals are real and
// whose Apply, Restart and StartDemo are recorded and faked.
type Recorder struct {
	action.Local
	// ApplyErr, when set, is what Apply returns.
	ApplyErr error
	// DemoRoot, when set, is the root StartDemo hands back.
	DemoRoot string

	mu      sync.Mutex
	calls   []Call
	applied []*action.Proposal
}

func (r *Recorder) record(name string, opts any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, Call{name, opts})
}

// Calls returns the recorded calls named name, in order (all when name is "").
func (r *Recorder) Calls(name string) []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Call
	for _, c := range r.calls {
		if name == "" || c.Name == name {
			out = append(out, c)
		}
	}
	return out
}

// Applied returns the proposals Apply was given.
func (r *Recorder) Applied() []*action.Proposal {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*action.Proposal(nil), r.applied...)
}

// ProposeAdd records opts and computes the real proposal.
func (r *Recorder) ProposeAdd(ctx context.Context, opts action.AddOptions) (*action.Proposal, error) {
	r.record("ProposeAdd", opts)
	return r.Local.ProposeAdd(ctx, opts)
}

// ProposeRemove records opts and computes the real proposal.
func (r *Recorder) ProposeRemove(ctx context.Context, opts action.RemoveOptions) (*action.Proposal, error) {
	r.record("ProposeRemove", opts)
	return r.Local.ProposeRemove(ctx, opts)
}

// Test records opts and runs the real test.
func (r *Recorder) Test(ctx context.Context, opts action.TestOptions) (*wstest.Report, error) {
	r.record("Test", opts)
	return r.Local.Test(ctx, opts)
}

// TestBothEnds records opts and runs the real tests.
func (r *Recorder) TestBothEnds(ctx context.Context, opts action.TestOptions) (*action.BothEnds, error) {
	r.record("TestBothEnds", opts)
	return r.Local.TestBothEnds(ctx, opts)
}

// Apply reports the steps and records the proposal; nothing is written.
func (r *Recorder) Apply(_ context.Context, p *action.Proposal, opts action.ApplyOptions) (*action.Applied, error) {
	r.record("Apply", opts)
	for _, s := range action.Steps() { // as a real transaction reports them
		if opts.Progress != nil {
			opts.Progress(s)
		}
	}
	if r.ApplyErr != nil {
		return nil, r.ApplyErr
	}
	r.mu.Lock()
	r.applied = append(r.applied, p)
	r.mu.Unlock()
	return &action.Applied{BackupID: "test-backup", Restarted: true, PID: 4711, Took: 1500 * time.Millisecond}, nil
}

// Restart is recorded and pretends the Service Proxy came back.
func (r *Recorder) Restart(_ context.Context, opts action.RestartOptions) (*action.Restarted, error) {
	r.record("Restart", opts)
	return &action.Restarted{Service: "fake", PID: 4711}, nil
}

// StartDemo hands back DemoRoot as a demo that runs nothing.
func (r *Recorder) StartDemo(_ context.Context, opts action.DemoOptions) (*action.Demo, error) {
	r.record("StartDemo", opts)
	if r.DemoRoot == "" {
		return nil, errors.New("no demo in this test")
	}
	return &action.Demo{DemoInfo: action.DemoInfo{Root: r.DemoRoot}}, nil
}

// SameAddInput is the input both front ends' tests type for the same add,
// and WantAdd the options the action layer must receive for it: the CLI's
// `add --root ROOT PATH BACKEND` and the app's Add form with the default
// VirtualHosts ticked.
const (
	SameAddPath    = "/ws/"
	SameAddBackend = "http://127.0.0.1:8000/ws/"
)

// WantAdd is the AddOptions for SameAddPath and SameAddBackend under root.
func WantAdd(root string) action.AddOptions {
	return action.AddOptions{Target: action.Target{Root: root}, Path: SameAddPath, Backend: SameAddBackend, Strategy: serverctl.StrategyAuto}
}
