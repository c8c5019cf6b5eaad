// Package cli is Socketbar's command line.
//
// The command table (commands.go) holds what the usage and help show. Each
// command has an options struct, a bind function that declares its flags
// into a fresh options struct, and a run function that takes only the
// options and the Env: a test fills the struct and calls the run function
// without parsing flags, as gh's pkg/cmd does. Errors become words and
// exit codes in one place (errors.go).
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/socketbar/socketbar/serverctl/action"
)

// Exit codes of the CLI.
const (
	exitOK      = 0
	exitFailure = 1 // the command ran and found a problem
	exitUsage   = 2 // bad arguments or input; nothing was changed
)

// Env is what every command needs from the outside world, so tests can
// run commands in-process with their own streams, environment and actions.
type Env struct {
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads the environment (SOCKETBAR_ROOT); nil reads nothing.
	Getenv  func(string) string
	Actions action.Actions
	// Version is the release `socketbar version` prints.
	Version string
	// Terminal, when set, says whether Stdout is a terminal (tests); nil
	// means ask Stdout itself.
	Terminal func() bool
	// Stdin is standard input: --password-stdin reads the sudo password of
	// a Server reached over SSH from it, and when it is a terminal the
	// password is asked there (see SudoPassword).
	Stdin io.Reader
	// TTY, when set, opens the terminal to ask the sudo password on
	// (tests); nil means /dev/tty when Stdin is a terminal.
	TTY func() (*os.File, error)

	// sudoPassword is what --password-stdin read, for SudoPassword, until
	// the command ends and zeroes it.
	sudoPassword []byte
}

func (e *Env) getenv(key string) string {
	if e.Getenv == nil {
		return ""
	}
	return e.Getenv(key)
}

// Run dispatches args (without the program name) and returns the exit code.
func Run(ctx context.Context, e *Env, args []string) int {
	global, args := splitGlobal(args)
	if len(args) == 0 {
		if len(global) == 1 && (global[0] == "--version" || global[0] == "-version") {
			args = []string{"version"}
			global = nil
		} else if len(global) > 0 {
			return e.fail("", usageErrorf("give a command after %s; run 'socketbar help' for the list", strings.Join(global, " ")))
		} else {
			usage(e.Stdout)
			return exitOK
		}
	}
	if args[0] == "-h" || args[0] == "--help" {
		if len(args) == 1 {
			usage(e.Stdout)
			return exitOK
		}
		args[0] = "help" // socketbar -h status: the status help
	}
	cmd, ok := findCommand(args[0])
	if !ok {
		return e.fail("", unknownCommand(args[0]))
	}
	if cmd.name == "help" {
		// socketbar --root DIR help status: the flags written before the
		// command change nothing about the help, so they are not its.
		global = nil
	}
	return e.fail(cmd.name, runCommand(ctx, e, cmd, append(global, args[1:]...)))
}

// longFlags finds the flags the flag package names with one dash, to
// name them as the usage lines do (-timeout becomes --timeout; -H stays).
var longFlags = regexp.MustCompile(` -([A-Za-z][-A-Za-z]+)`)

// splitGlobal takes the flags written before the command
// (socketbar --root DIR status): they are handed to the command, which
// knows them. Which flags take a value is not known before the command
// is, so a flag's value is the next word unless that word is a command
// (socketbar --json status).
func splitGlobal(args []string) (global, rest []string) {
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && args[0] != "-h" && args[0] != "--help" {
		global = append(global, args[0])
		if next := valueOf(args[1:]); takesNext(args[0], next) {
			global = append(global, args[1])
			args = args[1:]
		}
		args = args[1:]
	}
	return global, args
}

// takesNext says whether flag, written before the command, takes next as
// its value: not with --flag=value, not when next is another flag or a
// command.
func takesNext(flag, next string) bool {
	_, isCommand := findCommand(next)
	return !strings.Contains(flag, "=") && next != "" && !strings.HasPrefix(next, "-") && !isCommand
}

func valueOf(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return args[0]
}

// runCommand parses the command's flags (before, between or after its
// positional arguments) and runs it.
func runCommand(ctx context.Context, e *Env, cmd command, args []string) error {
	fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	run := cmd.bind(e, fs)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				commandHelp(e.Stdout, cmd, fs)
				return nil
			}
			return usageErrorf("%s. Usage: %s", longFlags.ReplaceAllString(err.Error(), " --$1"), usageLine(cmd, fs))
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if err := checkHostFlag(fs); err != nil {
		return err
	}
	required := 0
	for _, a := range cmd.args {
		if !strings.HasPrefix(a, "[") {
			required++
		}
	}
	switch {
	case len(pos) < required:
		return usageErrorf("missing %s. Usage: %s", strings.Join(cmd.args[len(pos):required], " and "), usageLine(cmd, fs))
	case len(pos) > len(cmd.args):
		return usageErrorf("unexpected %s. Usage: %s", strings.Join(pos[len(cmd.args):], " "), usageLine(cmd, fs))
	}
	return run(ctx, pos)
}

func (e *Env) writeJSON(v any) error {
	enc := json.NewEncoder(e.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// checkHostFlag refuses a --host given empty: a script's --host "$UNSET"
// must not act on this machine's Server in place of the one it meant.
func checkHostFlag(fs *flag.FlagSet) error {
	var err error
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "host" && strings.TrimSpace(f.Value.String()) == "" {
			err = usageErrorf("--host is empty: give [USER@]HOST[:PORT] (or an alias from ~/.ssh/config) of the Server, or leave --host out to act on this machine")
		}
	})
	return err
}

// flagGiven reports whether the flag name was on the command line.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}
