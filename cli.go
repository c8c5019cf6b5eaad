package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/socketbar/socketbar/serverctl"
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
// run commands in-process with their own streams and environment.
type cli struct {
	ctx    context.Context
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

type command struct {
	name    string
	args    string
	summary string
	run     func(c *cli, args []string) int
	hidden  bool // not listed by help: used by socketbar itself
}

func commands() []command {
	return []command{
		{"status", "[--json]", "Show the Server, its Apache and the Service Proxy config.", (*cli).status, false},
		{"routes", "[--json]", "List the Service Proxy's proxy routes in the order Apache matches them.", (*cli).routes, false},
		{"add", "PATH BACKEND [--vhost PORT]… [--strategy auto|tunnel|upgrade] [--dry-run]", "Add a WebSocket route to the Service Proxy.", (*cli).add, false},
		{"remove", "PATH [--vhost PORT]… [--dry-run]", "Remove a route that Socketbar added.", (*cli).remove, false},
		{"undo", "[--to ID]", "Put back the config as it was before Socketbar's last change.", (*cli).undo, false},
		{"history", "[--json]", "List Socketbar's changes and their backups.", (*cli).history, false},
		{"restart", "", "Restart the Service Proxy and check that it came back.", (*cli).restart, false},
		{"reapply", "", "Put back Socketbar routes that vanished from the config.", (*cli).reapply, false},
		{"test", "URL | --route PATH", "Test a WebSocket step by step and say what is wrong and where.", (*cli).wstest, false},
		{"serve", "[--addr 127.0.0.1:8443] [--route PATH=BACKEND]…", "Run a test proxy for WebSocket routes, without touching the Server.", (*cli).serve, false},
		{"demo", "[--dir DIR]", "Run a stand-in macOS Server on this machine to try Socketbar on.", (*cli).demo, false},
		{"lint", "[--file CONF] [--json]", "Find mistakes that stop WebSockets in the Service Proxy config.", (*cli).lint, false},
		{"version", "", "Print Socketbar's version.", (*cli).printVersion, false},
		{"help", "[COMMAND]", "Explain a command.", (*cli).help, false},
		{"apply-plan", "PLAN", "", (*cli).applyPlan, true},
	}
}

// run dispatches args (without the program name) and returns the exit code.
func (c *cli) run(args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		c.usage(c.stdout)
		return exitOK
	}
	for _, cmd := range commands() {
		if cmd.name == args[0] {
			return cmd.run(c, args[1:])
		}
	}
	fmt.Fprintf(c.stderr, "socketbar: unknown command %q.\n\n", args[0])
	c.usage(c.stderr)
	return exitUsage
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

func (c *cli) help(args []string) int {
	if len(args) == 0 {
		c.usage(c.stdout)
		return exitOK
	}
	for _, cmd := range commands() {
		if cmd.name == args[0] {
			return cmd.run(&cli{ctx: c.ctx, stdout: c.stdout, stderr: c.stdout, getenv: c.getenv}, []string{"-h"})
		}
	}
	fmt.Fprintf(c.stderr, "socketbar: unknown command %q; run 'socketbar help' for the list.\n", args[0])
	return exitUsage
}

func (c *cli) printVersion(args []string) int {
	fs := c.flags("version", "", "Print Socketbar's version.")
	if _, code, done := c.parse(fs, args, 0, 0); done {
		return code
	}
	fmt.Fprintf(c.stdout, "socketbar %s\n", version)
	return exitOK
}

// flags makes a command's flag set whose -h prints the command's synopsis.
func (c *cli) flags(name, synopsis, summary string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: socketbar %s %s\n\n%s\n\nFlags:\n", name, synopsis, summary)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags that may stand before, between or after the positional
// arguments, and checks their count. done is true when the command must
// stop with code (help shown, or a usage error reported).
func (c *cli) parse(fs *flag.FlagSet, args []string, minPos, maxPos int) (pos []string, code int, done bool) {
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, exitOK, true
			}
			return nil, exitUsage, true // flag already printed the error and usage
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if len(pos) < minPos || len(pos) > maxPos {
		want := fmt.Sprintf("%d argument(s)", minPos)
		if minPos != maxPos {
			want = fmt.Sprintf("%d to %d arguments", minPos, maxPos)
		}
		fmt.Fprintf(c.stderr, "socketbar %s: expected %s, got %d: %s\n", fs.Name(), want, len(pos), strings.Join(pos, " "))
		fs.Usage()
		return nil, exitUsage, true
	}
	return pos, exitOK, false
}

// serverFlags are the flags of every command that looks at a Server.
type serverFlags struct {
	root          string
	apacheVersion string
	httpd         string
}

func (c *cli) addServerFlags(fs *flag.FlagSet) *serverFlags {
	sf := &serverFlags{}
	root := c.getenv("SOCKETBAR_ROOT")
	if root == "" {
		root = "/"
	}
	fs.StringVar(&sf.root, "root", root, "directory that stands for / when looking for the Server (env SOCKETBAR_ROOT)")
	fs.StringVar(&sf.apacheVersion, "apache-version", "", "Apache version X.Y.Z to assume instead of asking httpd -v")
	fs.StringVar(&sf.httpd, "httpd", "", "httpd to ask for its version and to run the config test with (default: the launchd job's program, then ROOT/usr/sbin/httpd)")
	return sf
}

// discover finds the Server; on failure it reports and returns the exit code.
func (c *cli) discover(sf *serverFlags) (*serverctl.Server, int) {
	if sf.apacheVersion != "" {
		if _, err := serverctl.ParseVersion(sf.apacheVersion); err != nil {
			fmt.Fprintf(c.stderr, "socketbar: --apache-version: %v.\n", err)
			return nil, exitUsage
		}
	}
	srv, err := serverctl.Discover(c.ctx, serverctl.Options{Root: sf.root, ApacheVersion: sf.apacheVersion, HTTPD: sf.httpd})
	if err != nil {
		var nf *serverctl.NotFoundError
		if errors.As(err, &nf) {
			fmt.Fprintf(c.stderr, "socketbar: no macOS Server found under %s. Looked for:\n  %s\nOn a Mac with Server 5 installed, run without --root; to try Socketbar elsewhere, point --root at a copy of a Server's files.\n", nf.Root, strings.Join(nf.Looked, "\n  "))
			return nil, exitFailure
		}
		fmt.Fprintf(c.stderr, "socketbar: %v\n", err)
		return nil, exitFailure
	}
	return srv, exitOK
}

// loadConfig discovers the Server and reads its Service Proxy config.
func (c *cli) loadConfig(sf *serverFlags) (*serverctl.Server, *serverctl.Config, int) {
	srv, code := c.discover(sf)
	if srv == nil {
		return nil, nil, code
	}
	cfg, err := serverctl.ReadConfig(srv.HostPath(srv.ConfigPath))
	if err != nil {
		fmt.Fprintf(c.stderr, "socketbar: %v\n", err)
		return srv, nil, exitFailure
	}
	return srv, cfg, exitOK
}

func (c *cli) writeJSON(v any) int {
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		fmt.Fprintf(c.stderr, "socketbar: write JSON: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// portList is a repeatable --vhost flag; "443", ":443" and "*:443" all mean port 443.
type portList []string

func (p *portList) String() string { return strings.Join(*p, ",") }

func (p *portList) Set(s string) error {
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if i := strings.LastIndexByte(part, ':'); i >= 0 {
			part = part[i+1:]
		}
		if part == "" {
			return fmt.Errorf("give a port such as 443")
		}
		*p = append(*p, part)
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
