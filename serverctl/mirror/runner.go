package mirror

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/socketbar/socketbar/serverctl/remote"
	"github.com/socketbar/socketbar/serverctl/run"
)

// Runner is the run.Runner of a mirror: it runs each command on the
// Server, over Conn, for the readers that work on the mirror (httpd -v,
// launchctl print, the config test). The readers name the Server's files
// by their place in the mirror; Runner maps a program or argument that is
// such a path back to the path on the Server, and rewrites nothing else:
// not an option with a path glued to it ("-fPATH"), not the environment
// (whose values come from the Server's own launchd job).
type Runner struct {
	Conn Conn
	// Dir is the mirror folder; RemoteRoot the Server's folder for "/".
	Dir, RemoteRoot string
}

// Runner returns the Runner that runs commands for m's readers over conn.
func (m *Mirror) Runner(conn Conn) *Runner {
	return &Runner{Conn: conn, Dir: m.Dir, RemoteRoot: m.RemoteRoot}
}

// envName is what a variable's name may be in the shell that sets it.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Argv is the command line Run runs on the Server for cmd: through /bin/sh,
// which sets cmd.Env and sends standard error where standard output goes
// (a run.Runner returns both in order, as run.Exec does), with the mirror
// paths mapped.
func (r *Runner) Argv(cmd run.Command) ([]string, error) {
	var script strings.Builder
	for _, kv := range cmd.Env {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || !envName.MatchString(name) {
			return nil, fmt.Errorf("mirror: environment entry %q is not NAME=value with a shell variable's name", kv)
		}
		fmt.Fprintf(&script, "export %s=%s; ", name, remote.Quote(val))
	}
	script.WriteString(`exec "$@" 2>&1`)
	argv := []string{"/bin/sh", "-c", script.String(), "sh", r.remote(cmd.Path)}
	for _, a := range cmd.Args {
		argv = append(argv, r.remote(a))
	}
	return argv, nil
}

// remote maps a path in the mirror to the Server's path; anything else
// stays as it is.
func (r *Runner) remote(a string) string {
	if !strings.HasPrefix(a, r.Dir) {
		return a
	}
	mac, ok := macPath(r.Dir, a)
	if !ok {
		return a
	}
	return remotePath(r.RemoteRoot, mac)
}

// Run implements run.Runner: it runs cmd on the Server and returns its
// standard output and error. Only what remote.Commands lists runs; the
// rest is refused before anything is sent.
func (r *Runner) Run(ctx context.Context, cmd run.Command) ([]byte, error) {
	argv, err := r.Argv(cmd)
	if err != nil {
		return nil, err
	}
	if err := remote.CheckCommand(argv); err != nil {
		return nil, fmt.Errorf("mirror: %w", err)
	}
	out, err := r.Conn.Run(ctx, argv, nil)
	combined := append(out.Stdout, out.Stderr...)
	if err != nil {
		return combined, fmt.Errorf("%s: %w", argv[4], err)
	}
	return combined, nil
}
