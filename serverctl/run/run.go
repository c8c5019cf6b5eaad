package run

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// Command is one program run: the binary, its arguments and extra
// environment ("NAME=value"), kept apart so nothing is ever spliced into a
// shell line.
type Command struct {
	Path string
	Args []string
	Env  []string
}

func (c Command) String() string {
	return strings.Join(append([]string{c.Path}, c.Args...), " ")
}

// Runner runs commands. Tests substitute a fake for what cannot run on Linux
// (launchctl, osascript) and check the exact command lines it receives.
type Runner interface {
	Run(ctx context.Context, cmd Command) (output []byte, err error)
}

// Exec runs commands with os/exec and returns stdout and stderr combined.
type Exec struct{}

// Run runs cmd and waits for it or for ctx.
func (Exec) Run(ctx context.Context, cmd Command) ([]byte, error) {
	c := exec.CommandContext(ctx, cmd.Path, cmd.Args...)
	if len(cmd.Env) > 0 {
		c.Env = append(c.Environ(), cmd.Env...)
	}
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	if err := c.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("%s: %w", cmd.Path, err)
	}
	return out.Bytes(), nil
}
