package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
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

// version is the Socketbar release, set at build time with
// -ldflags "-X main.version=…".
var version = "0.1.0-dev"

// cli holds what every command needs from the outside world, so tests can
// run commands in-process with their own streams, environment and actions.
type cli struct {
	ctx     context.Context
	stdout  io.Writer
	stderr  io.Writer
	getenv  func(string) string
	actions action.Actions
	// terminal, when set, says whether stdout is a terminal (tests);
	// nil means ask stdout itself.
	terminal func() bool
}

// command is one row of the command table: its usage, flags, help and
// code all come from here.
type command struct {
	name    string
	args    []string // positional arguments, in order; "[NAME]" is optional
	summary string   // one line, for the command list
	help    string   // what `socketbar help NAME` adds under the usage line
	hidden  bool     // not listed: used by socketbar itself
	// flags declares the command's flags on fs and returns the code that
	// runs it with the positional arguments.
	flags func(c *cli, fs *flag.FlagSet) func(pos []string) error
}

func commands() []command {
	return []command{
		statusCommand, routesCommand, addCommand, removeCommand, undoCommand, historyCommand,
		restartCommand, reapplyCommand, testCommand, serveCommand, demoCommand, lintCommand,
		versionCommand, helpCommand(), applyPlanCommand,
	}
}

func findCommand(name string) (command, bool) {
	for _, cmd := range commands() {
		if cmd.name == name {
			return cmd, true
		}
	}
	return command{}, false
}

// run dispatches args (without the program name) and returns the exit code.
func (c *cli) run(args []string) int {
	global, args := splitGlobal(args)
	if len(args) == 0 {
		if len(global) == 1 && (global[0] == "--version" || global[0] == "-version") {
			args = []string{"version"}
			global = nil
		} else if len(global) > 0 {
			return c.fail("", usageErrorf("give a command after %s; run 'socketbar help' for the list", strings.Join(global, " ")))
		} else {
			c.usage(c.stdout)
			return exitOK
		}
	}
	if args[0] == "-h" || args[0] == "--help" {
		if len(args) == 1 {
			c.usage(c.stdout)
			return exitOK
		}
		args[0] = "help" // socketbar -h status: the status help
	}
	cmd, ok := findCommand(args[0])
	if !ok {
		return c.fail("", unknownCommand(args[0]))
	}
	if cmd.name == "help" {
		// socketbar --root DIR help status: the flags written before the
		// command change nothing about the help, so they are not its.
		global = nil
	}
	return c.fail(cmd.name, c.runCommand(cmd, append(global, args[1:]...)))
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
func (c *cli) runCommand(cmd command, args []string) error {
	fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	run := cmd.flags(c, fs)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				c.commandHelp(c.stdout, cmd, fs)
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
	return run(pos)
}

func (c *cli) usage(w io.Writer) {
	fmt.Fprint(w, `Socketbar puts WebSocket routes where macOS Server 5 needs them: in the
Service Proxy, the Apache in front of every website, written the way the
installed Apache tunnels them.

Usage:
  socketbar                 open the menu-bar app
  socketbar COMMAND [ARGS]  run a command

Commands:
`)
	for _, cmd := range commands() {
		if !cmd.hidden {
			fmt.Fprintf(w, "  %-8s %s\n", cmd.name, cmd.summary)
		}
	}
	fmt.Fprint(w, "\nRun 'socketbar help COMMAND' or 'socketbar COMMAND -h' for its flags.\n")
}

// unknownCommand says a command does not exist and suggests the nearest.
func unknownCommand(name string) error {
	if near := nearest(name); near != "" {
		return usageErrorf("unknown command %q; did you mean %s? Run 'socketbar help' for the list.", name, near)
	}
	return usageErrorf("unknown command %q. Run 'socketbar help' for the list.", name)
}

// nearest is the command name closest to a mistyped one, or "".
func nearest(name string) string {
	best, bestD := "", 3
	for _, cmd := range commands() {
		if cmd.hidden {
			continue
		}
		d := editDistance(name, cmd.name)
		if strings.HasPrefix(cmd.name, name) && len(name) >= 2 {
			d = 1
		}
		if d < bestD {
			best, bestD = cmd.name, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

func (c *cli) writeJSON(v any) error {
	enc := json.NewEncoder(c.stdout)
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
