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
	"github.com/socketbar/socketbar/serverctl/demo/sshd"
	"github.com/socketbar/socketbar/serverctl/remote"
)

// DemoOptions ask for the demo Server.
type DemoOptions struct {
	// Dir holds the demo tree (default: DefaultDemoDir).
	Dir string
	// Reset starts from a fresh tree (the demo's routes are lost).
	Reset bool
	// SSHD is the sshd to run in front of the demo tree (DefaultSSHD),
	// so that the remote path can be tried on this machine; "" runs none.
	SSHD string
}

// DefaultSSHD is where OpenSSH's sshd is installed (Debian's
// openssh-server, macOS).
const DefaultSSHD = sshd.Path

// ErrNoSSHD means the demo runs without its sshd because sshd (or
// ssh-keygen) is not installed; the error that wraps it says what to
// install.
var ErrNoSSHD = sshd.ErrNotInstalled

// DemoSSH is the sshd a demo runs in front of its tree: log in to it as
// SSHAlias with ConfigFile (ssh -F), or with HostBlock in ~/.ssh/config,
// and --root Root keeps its meaning there.
type DemoSSH struct {
	// Alias is the Host name of HostBlock.
	Alias string
	// Port is the loopback port sshd listens on; it changes from one
	// start of the demo to the next.
	Port int
	// ConfigFile is an ssh_config holding HostBlock, for ssh -F.
	ConfigFile string
	// HostBlock is the Host block to paste into ~/.ssh/config.
	HostBlock string
	// Try is the command line, for a POSIX shell, that reads the demo's
	// status over SSH once HostBlock is in ~/.ssh/config.
	Try string
	// TryWithoutConfig is Try with SOCKETBAR_SSH naming ConfigFile, for
	// trying it without editing ~/.ssh/config; "" when ConfigFile's path
	// cannot be written in SOCKETBAR_SSH (a space, a quote: see
	// remote.ParseSSHCommand).
	TryWithoutConfig string
}

// demoSSH describes the running sshd s of the demo tree root.
func demoSSH(s *demo.SSH, root string) *DemoSSH {
	d := &DemoSSH{Alias: demo.SSHAlias, Port: s.Port, ConfigFile: s.ConfigFile, HostBlock: s.HostBlock,
		Try: "socketbar --host " + demo.SSHAlias + " --root " + remote.Quote(root) + " status"}
	env := "ssh -F " + s.ConfigFile
	if argv, err := remote.ParseSSHCommand(env); err == nil && len(argv) == 3 && argv[2] == s.ConfigFile {
		d.TryWithoutConfig = remote.EnvSSH + "=" + remote.Quote(env) + " " + d.Try
	}
	return d
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
	// SSH is the demo's sshd, nil when none runs; SSHErr says why not
	// (wrapping ErrNoSSHD when sshd is not installed).
	SSH    *DemoSSH
	SSHErr error

	st   *demo.State
	echo *http.Server
	sshd *demo.SSH
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
	if opts.SSHD != "" {
		// Without its sshd the demo still runs: SSHErr says why.
		if d.sshd, d.SSHErr = st.StartSSH(ctx, opts.SSHD); d.SSHErr == nil {
			d.SSH = demoSSH(d.sshd, st.Root)
		}
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

// Stop stops the demo's sshd, httpds and echo app. A Demo that runs
// nothing (ErrNoHTTPD, or another Socketbar's) stops nothing.
func (d *Demo) Stop(ctx context.Context) error {
	var errs []error
	if d.sshd != nil {
		errs = append(errs, d.sshd.Stop(ctx))
	}
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
