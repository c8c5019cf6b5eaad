package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/socketbar/socketbar/serverctl/action"
)

// listFlag is a repeatable flag; each use adds one value.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }
func (l *listFlag) repeatable()        {}

// durationFlag is a duration that must be above zero (or, with zero set,
// may also be 0, which then means "never").
type durationFlag struct {
	d    *time.Duration
	zero bool
}

func (f durationFlag) String() string {
	if f.d == nil {
		return ""
	}
	return f.d.String()
}

func (f durationFlag) Set(s string) error {
	v, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return fmt.Errorf("write a duration such as 15s or 2m")
	case v < 0 || v == 0 && !f.zero:
		return fmt.Errorf("must be more than 0, such as 15s")
	}
	*f.d = v
	return nil
}

// durationVar declares a duration flag into p that refuses negative
// values, and 0 unless zero is allowed.
func durationVar(fs *flag.FlagSet, p *time.Duration, name string, def time.Duration, zero bool, usage string) {
	*p = def
	fs.Var(durationFlag{p, zero}, name, usage)
}

// addrFlag is a HOST:PORT to listen on or connect to. It is checked when
// the flag is parsed, so a typo is a usage error (exit 2), not a failure
// to listen or to connect.
// Port 0 (any free port) is only for an address to listen on.
type addrFlag struct {
	p      *string
	listen bool
}

func (f addrFlag) String() string {
	if f.p == nil {
		return ""
	}
	return *f.p
}

func (f addrFlag) Set(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("write HOST:PORT, such as 127.0.0.1:18443 ([::1]:18443 for IPv6)")
	}
	low := 1
	if f.listen {
		low = 0
	}
	if n, err := strconv.Atoi(port); err != nil || n < low || n > 65535 {
		return fmt.Errorf("the port %q is not a number from %d to 65535", port, low)
	}
	if strings.ContainsAny(host, " /\t\r\n") {
		return fmt.Errorf("the host %q is not an address or a name", host)
	}
	*f.p = s
	return nil
}

// addrVar declares a HOST:PORT flag into p; listen allows port 0.
func addrVar(fs *flag.FlagSet, p *string, name, def string, listen bool, usage string) {
	*p = def
	fs.Var(addrFlag{p, listen}, name, usage)
}

// headerFlag is the repeatable -H 'Name: value'.
type headerFlag struct{ h http.Header }

func (f *headerFlag) String() string { return "" }
func (f *headerFlag) repeatable()    {}

func (f *headerFlag) Set(s string) error {
	name, value, ok := strings.Cut(s, ":")
	name = strings.TrimSpace(name)
	if !ok || name == "" || strings.ContainsAny(name, " \t\r\n") || strings.ContainsAny(value, "\r\n") {
		return fmt.Errorf("write a header as 'Name: value' on one line")
	}
	if f.h == nil {
		f.h = http.Header{}
	}
	f.h.Add(name, strings.TrimSpace(value))
	return nil
}

// Which of the Server flags a command takes: only those that change what
// it does.
const (
	withRoot = 1 << iota
	withHTTPD
	withApacheVersion
)

// targetFlags declares the Server flags of a command and returns the
// Target they fill in.
func (c *cli) targetFlags(fs *flag.FlagSet, which int) *action.Target {
	t := &action.Target{Root: c.getenv("SOCKETBAR_ROOT")}
	if t.Root == "" {
		t.Root = "/"
	}
	if which&withRoot != 0 {
		fs.StringVar(&t.Root, "root", t.Root, "`DIR` that stands for / when looking for the Server (env SOCKETBAR_ROOT)")
	}
	if which&withApacheVersion != 0 {
		fs.StringVar(&t.ApacheVersion, "apache-version", "", "Apache `X.Y.Z` to assume instead of asking httpd -v")
	}
	if which&withHTTPD != 0 {
		fs.StringVar(&t.HTTPD, "httpd", "", "`PATH` of the httpd to run the config test with (default: the launchd job's program, then ROOT/usr/sbin/httpd)")
	}
	return t
}

// applyFlags are the flags of every command that changes the config.
type applyFlags struct {
	dryRun    bool
	noRestart bool
	timeout   time.Duration
}

func addApplyFlags(fs *flag.FlagSet) *applyFlags {
	af := &applyFlags{}
	fs.BoolVar(&af.dryRun, "dry-run", false, "print the change as a unified diff and write nothing")
	fs.BoolVar(&af.noRestart, "no-restart", false, "write the file (after Apache's config test) but do not restart the Service Proxy")
	durationVar(fs, &af.timeout, "timeout", 15*time.Second, false, "how long the Service Proxy may take to come back after a restart (`DURATION`)")
	return af
}

func jsonFlag(fs *flag.FlagSet) *bool { return fs.Bool("json", false, "print JSON") }

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
func (c *cli) commandHelp(w io.Writer, cmd command, fs *flag.FlagSet) {
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

var versionCommand = command{
	name: "version", summary: "Print Socketbar's version.",
	flags: func(c *cli, fs *flag.FlagSet) func([]string) error {
		return func([]string) error {
			fmt.Fprintf(c.stdout, "socketbar %s\n", version)
			return nil
		}
	},
}

// helpCommand is a function, not a variable: it looks the table up.
func helpCommand() command {
	return command{
		name: "help", args: []string{"[COMMAND]"}, summary: "Explain a command.",
		flags: func(c *cli, fs *flag.FlagSet) func([]string) error {
			return func(pos []string) error {
				if len(pos) == 0 {
					c.usage(c.stdout)
					return nil
				}
				cmd, ok := findCommand(pos[0])
				if !ok {
					return unknownCommand(pos[0])
				}
				cfs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
				cmd.flags(c, cfs)
				c.commandHelp(c.stdout, cmd, cfs)
				return nil
			}
		},
	}
}
