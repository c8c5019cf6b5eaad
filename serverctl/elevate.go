package serverctl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
)

// ErrCancelled means the person dismissed the administrator prompt.
var ErrCancelled = errors.New("the administrator prompt was cancelled; nothing was changed")

// elevateScript runs its arguments as one shell command with administrator
// rights. The arguments arrive as argv and each is passed through AppleScript's
// `quoted form of`, so no path or value is ever part of AppleScript or shell
// source: quotes, $(…), backticks and newlines stay inert.
var elevateScript = []string{
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
func OsascriptCommand(args []string) (Command, error) {
	if len(args) == 0 || !filepath.IsAbs(args[0]) {
		return Command{}, fmt.Errorf("serverctl: elevate: the program must be an absolute path, got %q", args)
	}
	var cmd Command
	cmd.Path = "/usr/bin/osascript"
	for _, line := range elevateScript {
		cmd.Args = append(cmd.Args, "-e", line)
	}
	for _, a := range args {
		if a == "" || a[0] == '-' {
			return Command{}, fmt.Errorf("serverctl: elevate: argument %q would read as an osascript option", a)
		}
	}
	cmd.Args = append(cmd.Args, args...)
	return cmd, nil
}

// Elevate runs args as root through osascript's administrator prompt and
// returns the command's output. A cancelled prompt gives ErrCancelled.
func Elevate(ctx context.Context, r Runner, args []string) ([]byte, error) {
	cmd, err := OsascriptCommand(args)
	if err != nil {
		return nil, err
	}
	out, err := r.Run(ctx, cmd)
	if err != nil && (bytes.Contains(out, []byte("(-128)")) || bytes.Contains(out, []byte("User canceled"))) {
		return out, ErrCancelled
	}
	return out, err
}
