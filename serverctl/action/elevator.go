package action

import (
	"context"

	"github.com/socketbar/socketbar/serverctl/run"

	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/elevate"
)

// Elevator makes a change as root. The plan names the Server; the
// elevated half finds everything else again itself.
type Elevator interface {
	Apply(ctx context.Context, p elevate.Plan, ch serverctl.Change) (*elevate.Result, error)
}

// PromptElevator asks for an administrator's password through osascript
// (macOS) and runs Self's elevated half with it.
type PromptElevator struct {
	// Runner runs osascript (tests: a stand-in that runs its arguments).
	Runner run.Runner
	// Self is the socketbar binary, an absolute path.
	Self string
}

// Apply implements Elevator.
func (e PromptElevator) Apply(ctx context.Context, p elevate.Plan, ch serverctl.Change) (*elevate.Result, error) {
	return elevate.Apply(ctx, e.Runner, e.Self, p, ch)
}
