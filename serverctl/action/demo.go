package action

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"github.com/socketbar/socketbar/proxy"
	"github.com/socketbar/socketbar/serverctl/demo"
)

// DemoOptions ask for the demo Server.
type DemoOptions struct {
	// Dir holds the demo tree (default: DefaultDemoDir).
	Dir string
	// Reset starts from a fresh tree (the demo's routes are lost).
	Reset bool
}

// DefaultDemoDir is where the demo tree lives unless told otherwise:
// socketbar/demo in the user's config folder.
func DefaultDemoDir() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no user config folder for the demo: %w", err)
	}
	return filepath.Join(dir, "socketbar", "demo"), nil
}

// Demo is a running demo Server: its Service Proxy, Websites tier and
// WebSocket echo app.
type Demo struct {
	DemoInfo
	st   *demo.State
	echo *http.Server
}

// ErrNoHTTPD means the demo tree was made but cannot run without an Apache
// httpd; it can still be browsed, linted and previewed.
var ErrNoHTTPD = demo.ErrNoHTTPD

// StartDemo makes (or reuses) the demo tree and starts it. With
// ErrNoHTTPD the returned Demo has the tree's State and runs nothing; with
// *DemoRunningError it has the State of the demo another Socketbar runs,
// and stopping it stops nothing.
func (l *Local) StartDemo(ctx context.Context, opts DemoOptions) (*Demo, error) {
	dir := opts.Dir
	if dir == "" {
		var err error
		if dir, err = DefaultDemoDir(); err != nil {
			return nil, err
		}
	}
	if opts.Reset {
		if st, err := demo.Load(dir); err == nil {
			st.Stop(ctx)
		}
		if err := demo.Clear(dir); err != nil {
			return nil, err
		}
	}
	if st, err := demo.Load(dir); err == nil {
		// A second start would only fail to bind the ports the first holds.
		if running, _ := st.Running(ctx); running {
			return &Demo{DemoInfo: demoInfo(st), st: st}, &DemoRunningError{Root: dir}
		}
	}
	st, err := demo.Prepare(ctx, dir)
	if err != nil {
		return nil, err
	}
	d := &Demo{DemoInfo: demoInfo(st), st: st}
	if st.HTTPD == nil {
		return d, ErrNoHTTPD
	}
	if d.echo, err = proxy.ServeEcho(fmt.Sprintf("127.0.0.1:%d", st.EchoPort)); err != nil {
		return nil, &DemoPortError{Port: st.EchoPort, Err: err}
	}
	if err := st.Start(ctx); err != nil {
		d.echo.Close()
		return nil, &DemoPortError{Err: err}
	}
	return d, nil
}

// RunningDemo finds a demo that runs in the default demo folder, started
// by socketbar demo or another app: the Server to show when this machine
// has none. Nil when no demo runs there.
func (l *Local) RunningDemo(ctx context.Context) (*DemoInfo, error) {
	dir, err := DefaultDemoDir()
	if err != nil {
		return nil, err
	}
	st, err := demo.Load(dir)
	if err != nil {
		return nil, nil // no demo tree there
	}
	running, err := st.Running(ctx)
	if err != nil || !running {
		return nil, err
	}
	d := demoInfo(st)
	return &d, nil
}

// DemoPortError is a demo that could not start, most often because a port
// it picked earlier is taken now; a reset picks new ones.
type DemoPortError struct {
	// Port is the echo app's port, 0 when the httpds failed.
	Port int
	Err  error
}

func (e *DemoPortError) Error() string {
	if e.Port != 0 {
		return fmt.Sprintf("start the demo's echo app on port %d: %v", e.Port, e.Err)
	}
	return e.Err.Error()
}

func (e *DemoPortError) Unwrap() error { return e.Err }

// Stop stops the demo's httpds and its echo app. A Demo that runs
// nothing (ErrNoHTTPD, or another Socketbar's) stops nothing.
func (d *Demo) Stop(ctx context.Context) error {
	var errs []error
	if d.echo != nil {
		errs = append(errs, d.echo.Close())
	}
	if d.st != nil && d.st.HTTPD != nil {
		errs = append(errs, d.st.Stop(ctx))
	}
	return errors.Join(errs...)
}

// DemoRunningError means the demo already runs, started by another
// Socketbar (the CLI or the app) from the same folder: use that one.
type DemoRunningError struct{ Root string }

func (e *DemoRunningError) Error() string {
	return fmt.Sprintf("the demo already runs in %s (started by another Socketbar); use it with --root %s or SOCKETBAR_ROOT", e.Root, e.Root)
}

// DemoStoppedError means a change was asked of a demo Server that is not
// running: restarting its Service Proxy alone would start it without the
// Websites tier behind it. Nothing was changed.
type DemoStoppedError struct{ Root string }

func (e *DemoStoppedError) Error() string {
	return fmt.Sprintf("the demo Server in %s is stopped; start it (socketbar demo, or Start Demo Server in the app) and try again. Nothing was changed", e.Root)
}

// checkDemoRuns refuses a change that would restart the Service Proxy of
// a stopped demo tree; any other Server passes.
func checkDemoRuns(ctx context.Context, root string, restart bool) error {
	if !restart || root == "" {
		return nil
	}
	st, err := demo.Load(root)
	if err != nil {
		return nil // not a demo tree
	}
	if running, err := st.Running(ctx); err == nil && !running {
		return &DemoStoppedError{Root: root}
	}
	return nil
}
