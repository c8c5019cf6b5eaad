package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"github.com/socketbar/socketbar/internal/buildinfo"
)

// usage prints the command list.
func usage(w io.Writer) {
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

// flagSyntax is "--name PLACEHOLDER" ("-H 'Name: value'" for one-letter
// flags), as the usage line and help show it.
func flagSyntax(f *flag.Flag) string {
	dashes := "--"
	if len(f.Name) == 1 {
		dashes = "-"
	}
	placeholder, _ := flag.UnquoteUsage(f)
	if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
		placeholder = ""
	}
	s := dashes + f.Name
	if placeholder != "" {
		s += " " + placeholder
	}
	return s
}

// usageLine lists the command's arguments and every flag.
func usageLine(cmd command, fs *flag.FlagSet) string {
	parts := []string{"socketbar", cmd.name}
	parts = append(parts, cmd.args...)
	fs.VisitAll(func(f *flag.Flag) {
		s := "[" + flagSyntax(f) + "]"
		if _, ok := f.Value.(interface{ repeatable() }); ok {
			s += "…"
		}
		parts = append(parts, s)
	})
	return strings.Join(parts, " ")
}

// commandHelp prints the usage line, the help text and each flag.
func commandHelp(w io.Writer, cmd command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: %s\n\n%s\n", usageLine(cmd, fs), cmd.summary)
	if cmd.help != "" {
		fmt.Fprintf(w, "\n%s\n", cmd.help)
	}
	first := true
	fs.VisitAll(func(f *flag.Flag) {
		if first {
			fmt.Fprint(w, "\nFlags:\n")
			first = false
		}
		_, usage := flag.UnquoteUsage(f)
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "[]" && f.DefValue != "0s" {
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "  %s\n        %s\n", flagSyntax(f), usage)
	})
}

// bindHelp binds help's argument: the command to explain, if any.
func bindHelp(e *Env, fs *flag.FlagSet) runFunc {
	return func(_ context.Context, pos []string) error {
		name := ""
		if len(pos) > 0 {
			name = pos[0]
		}
		return helpRun(e, name)
	}
}

// helpRun explains the command name, or lists the commands when name is "".
func helpRun(e *Env, name string) error {
	if name == "" {
		usage(e.Stdout)
		return nil
	}
	cmd, ok := findCommand(name)
	if !ok {
		return unknownCommand(name)
	}
	fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
	cmd.bind(e, fs)
	commandHelp(e.Stdout, cmd, fs)
	return nil
}

func bindVersion(e *Env, fs *flag.FlagSet) runFunc {
	return func(context.Context, []string) error {
		fmt.Fprintf(e.Stdout, "socketbar %s\n", e.Version)
		self, _ := os.Executable()
		fmt.Fprintln(e.Stdout, buildinfo.Requirement(runtime.GOOS, runtime.Version(), self))
		return nil
	}
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
