package elevate

import (
	"bytes"
	"context"
	"errors"
	"github.com/socketbar/socketbar/serverctl/run"
	"path/filepath"
)

// ErrCancelled means the person dismissed the administrator prompt.
var ErrCancelled = errors.New("the administrator prompt was cancelled; nothing was changed")

// script runs its arguments as one shell command with administrator
// rights. The arguments arrive as argv and each is passed through
// AppleScript's `quoted form of`, so no path or value is ever part of
// AppleScript or shell source: quotes, $(…), backticks and newlines stay inert.
var script = []string{
	"on run argv",
	`set cmd to ""`,
	"repeat with a in argv",
	`set cmd to cmd & quoted form of (a as text) & " "`,
	"end repeat",
	"do shell script cmd with administrator privileges",
	"end run",
}

// OsascriptCommand returns the osascript command line that runs args (the
// program first) as root after one password prompt. Every argument must be
// an absolute path or a word that does not start with '-', so osascript
// cannot mistake it for one of its own options.
func OsascriptCommand(args []string) (run.Command, error) {
	if len(args) == 0 || !filepath.IsAbs(args[0]) {
		return run.Command{}, errorf("the program must be an absolute path, got %q", args)
	}
	for _, a := range args {
		if a == "" || a[0] == '-' {
			return run.Command{}, errorf("argument %q would read as an osascript option", a)
		}
	}
	cmd := run.Command{Path: "/usr/bin/osascript"}
	for _, line := range script {
		cmd.Args = append(cmd.Args, "-e", line)
	}
	cmd.Args = append(cmd.Args, args...)
	return cmd, nil
}

// userCancelled is how osascript reports a dismissed prompt:
// "execution error: User canceled. (-128)". The text before the code is
// localised; the code is not.
var userCancelled = []byte("(-128)")

// Run runs args as root through osascript's administrator prompt and
// returns the command's output. A dismissed prompt gives ErrCancelled; any
// other failure is returned as it is, with the output.
func Run(ctx context.Context, r run.Runner, args []string) ([]byte, error) {
	cmd, err := OsascriptCommand(args)
	if err != nil {
		return nil, err
	}
	out, err := r.Run(ctx, cmd)
	if err != nil && bytes.Contains(out, userCancelled) {
		return out, ErrCancelled
	}
	return out, err
}
