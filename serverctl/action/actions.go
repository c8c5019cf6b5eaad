package action

import (
	"context"

	"github.com/socketbar/socketbar/proxy/wstest"
)

// Actions is every action a front end offers. *Local carries them out on
// this machine; tests of the CLI and the app substitute a recorder, which
// is how they prove that both front ends ask for the same thing.
type Actions interface {
	Status(ctx context.Context, t Target) (*Status, error)
	Routes(ctx context.Context, t Target) (*RouteList, error)
	Lint(ctx context.Context, opts LintOptions) (*LintReport, error)
	History(ctx context.Context, t Target) (*History, error)
	// Pulse and ErrorLog are cheap reads for a window that follows the
	// Server: the config's modification time and the service's state, and
	// the end of the error log.
	Pulse(ctx context.Context, t Target) (*Pulse, error)
	ErrorLog(ctx context.Context, t Target, lines int) (*ErrorLog, error)

	ProposeAdd(ctx context.Context, opts AddOptions) (*Proposal, error)
	ProposeRemove(ctx context.Context, opts RemoveOptions) (*Proposal, error)
	ProposeUndo(ctx context.Context, opts UndoOptions) (*Proposal, error)
	ProposeReapply(ctx context.Context, t Target) (*Proposal, error)
	Apply(ctx context.Context, p *Proposal, opts ApplyOptions) (*Applied, error)
	Restart(ctx context.Context, opts RestartOptions) (*Restarted, error)

	Test(ctx context.Context, opts TestOptions) (*wstest.Report, error)
	TestBothEnds(ctx context.Context, opts TestOptions) (*BothEnds, error)
	CheckRoute(ctx context.Context, opts CheckRouteOptions) (*TierReport, error)
	StartTestProxy(ctx context.Context, opts ServeOptions) (*TestProxy, error)
	TestProxyRoutes(ctx context.Context, t Target) ([]ProxyRoute, error)
	StartDemo(ctx context.Context, opts DemoOptions) (*Demo, error)
	RunningDemo(ctx context.Context) (*DemoInfo, error)
}

var _ Actions = (*Local)(nil)
