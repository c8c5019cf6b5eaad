package agent

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/socketbar/socketbar/serverctl/remote"
	"github.com/socketbar/socketbar/serverctl/run"
)

var _ run.Runner = (*Agent)(nil)

// ExitError is a command the agent ran that did not exit with status 0:
// Code is its exit status, or Signal names the signal that ended it.
// Run wraps it as run.Exec wraps exec's ("PATH: exit status N").
type ExitError struct {
	Code   int
	Signal string
}

func (e *ExitError) Error() string {
	if e.Signal != "" {
		return "signal: " + e.Signal
	}
	return "exit status " + strconv.Itoa(e.Code)
}

// ExitCode is the exit status, or -1 for a signal (as exec's).
func (e *ExitError) ExitCode() int {
	if e.Signal != "" {
		return -1
	}
	return e.Code
}

// Run implements run.Runner on the Server: cmd runs as root, with
// cmd.Env added to the agent's environment, in a process group of its
// own, standard output and error combined. Output over
// remote.DefaultMaxOutput stops the command (*remote.OutputLimitError,
// with what was kept). When ctx ends, the command's group is killed and
// Run returns at once with ctx's error.
func (a *Agent) Run(ctx context.Context, cmd run.Command) ([]byte, error) {
	for _, e := range cmd.Env {
		if !strings.Contains(e, "=") {
			return nil, fmt.Errorf("%s: environment entry %q has no \"=\"", cmd.Path, e)
		}
	}
	// What runs as root is held to the one list of what Socketbar runs on
	// a Server (remote.Commands), as every other command there is.
	if err := remote.CheckCommand(append([]string{cmd.Path}, cmd.Args...)); err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", cmd.Path, err)
	}
	args := [][]byte{num(maxOutput), num(int64(len(cmd.Env)))}
	for _, e := range cmd.Env {
		args = append(args, b(e))
	}
	args = append(args, b(cmd.Path))
	for _, s := range cmd.Args {
		args = append(args, b(s))
	}
	a.mu.Lock()
	f, err := a.exchange(ctx, "run", args...)
	a.mu.Unlock()
	if err == nil {
		f, err = answer(f)
	}
	if err != nil {
		return nil, err
	}
	if len(f) != 5 || int64(len(f[2])) > maxOutput {
		return nil, a.fail(&ProtocolError{Problem: "a command's answer that is not (how, code, output, truncated, cancelled)"})
	}
	how, code, out := string(f[0]), string(f[1]), f[2]
	switch {
	case string(f[4]) == "1" && ctx.Err() != nil:
		return out, fmt.Errorf("%s: %w", cmd.Path, ctx.Err())
	case string(f[3]) == "1":
		return out, &remote.OutputLimitError{Command: cmd.String(), Stream: "stdout and stderr", Limit: maxOutput}
	case how == "exit" && code == "0":
		return out, nil
	case how == "exit":
		n, err := strconv.Atoi(code)
		if err != nil {
			return nil, a.fail(&ProtocolError{Problem: fmt.Sprintf("an exit status %q", code)})
		}
		return out, fmt.Errorf("%s: %w", cmd.Path, &ExitError{Code: n})
	case how == "signal":
		return out, fmt.Errorf("%s: %w", cmd.Path, &ExitError{Signal: code})
	}
	return nil, a.fail(&ProtocolError{Problem: fmt.Sprintf("a command that ended by %q", how)})
}

// Alive reports whether process pid exists on the Server (kill 0).
func (a *Agent) Alive(pid int) (bool, error) {
	if pid <= 0 {
		return false, fmt.Errorf("agent: alive: pid %d", pid)
	}
	f, err := a.call("alive", num(int64(pid)))
	if err != nil {
		return false, err
	}
	if len(f) != 1 || (string(f[0]) != "0" && string(f[0]) != "1") {
		return false, a.fail(&ProtocolError{Problem: "an alive answer that is not 0 or 1"})
	}
	return string(f[0]) == "1", nil
}
