package action

import (
	"context"
	"errors"
	"fmt"

	"github.com/socketbar/socketbar/serverctl/run"

	"github.com/socketbar/socketbar/serverctl"

	"github.com/socketbar/socketbar/internal/pkgerr"
)

// Target says which Server an action works on.
type Target struct {
	// Root is the directory that stands for "/" ("" means "/").
	Root string
	// HTTPD overrides the httpd that is asked for its version and runs the
	// config test (default: the launchd job's program, then ROOT/usr/sbin/httpd).
	// The elevated half never takes it: as root, only the Server's own runs.
	HTTPD string
	// ApacheVersion (X.Y.Z) is assumed instead of asking httpd -v.
	ApacheVersion string
	// Host, when set, is the Server to reach over SSH ([USER@]HOST[:PORT]
	// or an alias from ~/.ssh/config, as remote.ParseHost reads it); Root
	// and HTTPD are then paths on that Server. Status, Routes, Lint and
	// History read it (see onServer); every other action refuses it with
	// *RemoteUnavailableError.
	Host string
}

// Local carries out actions on this machine. The zero value runs commands
// for real and never elevates; New sets up elevation where the platform
// has it.
type Local struct {
	// Runner runs httpd, launchctl and the like (nil: run.Exec).
	Runner run.Runner
	// Elevator makes a change as root when this user may not write the
	// config. Nil: such a change fails with *NeedsRootError.
	Elevator Elevator
	// AfterStep, when set, hears each finished step of a transaction run
	// here (tests use it to kill the process between steps).
	AfterStep func(serverctl.Step)
	// Connect opens the connection to a Target's Host for one action (nil:
	// a new one through the system's ssh, closed after the action).
	Connect Connector
	// Password asks for the password of the account Socketbar logs in as
	// on a Server reached over SSH, for sudo there: the Service Proxy's
	// config belongs to root. It is asked at most once per action, and
	// only when sudo needs one (a root login or a NOPASSWD rule needs
	// none). Nil: such an action fails with a *remote.SudoError whose
	// Reason is remote.SudoNeedsPassword. The front ends ask without echo
	// (terminal), in a masked field (app) or read standard input
	// (--password-stdin), and never keep it.
	Password func(ctx context.Context, host string) ([]byte, error)

	// startRoot starts root on a Server reached over SSH (nil:
	// defaultRootStarter); tests give their own.
	startRoot RootStarter

	// remote says the Local reads a mirror of a Server reached over SSH,
	// and Runner runs commands there (see onServer).
	remote *serverctl.Remote

	// mem keeps what the last Status of each Target read, for Pulse.
	mem memory
}

// New returns the Local for this platform: on macOS a change to a root
// config goes through the administrator prompt, running the binary at self.
func New(self string) *Local {
	return &Local{Elevator: platformElevator(self)}
}

func (l *Local) runner() run.Runner {
	if l.Runner == nil {
		return run.Exec{}
	}
	return l.Runner
}

// discover finds the Server of t.
func (l *Local) discover(ctx context.Context, t Target) (*serverctl.Server, error) {
	if t.Host != "" {
		// Never this machine's Server in place of the one named.
		return nil, &RemoteUnavailableError{Host: t.Host}
	}
	if t.ApacheVersion != "" {
		if _, err := serverctl.ParseVersion(t.ApacheVersion); err != nil {
			return nil, &serverctl.InputError{Field: serverctl.FieldApacheVersion, Msg: err.Error()}
		}
	}
	return serverctl.Discover(ctx, serverctl.Options{Root: t.Root, ApacheVersion: t.ApacheVersion, HTTPD: t.HTTPD, Runner: l.Runner, Remote: l.remote})
}

// load finds the Server of t and reads its Service Proxy config.
func (l *Local) load(ctx context.Context, t Target) (*serverctl.Server, *serverctl.Config, error) {
	srv, err := l.discover(ctx, t)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := serverctl.ReadConfig(srv.HostPath(srv.ConfigPath))
	if err != nil {
		return srv, nil, err
	}
	return srv, cfg, nil
}

// IsNoServer reports whether err says no Server was found.
func IsNoServer(err error) bool {
	var nf *serverctl.NotFoundError
	return errors.As(err, &nf)
}

// NeedsRootError is a change this user may not write, with no way to ask
// for an administrator here. Nothing was changed.
type NeedsRootError struct {
	// Path is the config (or the folder of its backups) that is not writable.
	Path string
	// ReadOnly is set when the file system itself is read-only, which no
	// administrator can change.
	ReadOnly bool
}

func (e *NeedsRootError) Error() string {
	if e.ReadOnly {
		return fmt.Sprintf("%s is on a read-only file system; nothing was changed", e.Path)
	}
	return fmt.Sprintf("this user may not write %s; nothing was changed", e.Path)
}

// errorf is fmt.Errorf for this package's own errors: their Error() names
// the package for logs, and pkgerr.Text gives people the message without it.
func errorf(format string, args ...any) error { return pkgerr.Errorf("action", format, args...) }
