package cli

import (
	"flag"
	"fmt"
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

// Which of the Server flags a command takes: only those that change what
// it does.
const (
	withRoot = 1 << iota
	withHTTPD
	withApacheVersion
	// withHost: the command reads or changes a Server reached over SSH.
	withHost
)

// targetFlags declares the Server flags of a command into t, with the
// root from SOCKETBAR_ROOT (else /) when --root is not given.
func targetFlags(e *Env, fs *flag.FlagSet, t *action.Target, which int) {
	t.Root = e.getenv("SOCKETBAR_ROOT")
	if t.Root == "" {
		t.Root = "/"
	}
	if which&withHost != 0 {
		t.Host = e.getenv("SOCKETBAR_HOST")
		fs.StringVar(&t.Host, "host", t.Host, "`[USER@]HOST[:PORT]` (or an alias from ~/.ssh/config) of a Server to reach over SSH, with --root and --httpd on its side (env SOCKETBAR_HOST)")
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
}

// ChangeOptions are the options of every command that changes the config.
type ChangeOptions struct {
	// DryRun prints the change as a diff and writes nothing.
	DryRun bool
	// NoRestart writes the config but leaves the Service Proxy running
	// on the old one.
	NoRestart bool
	// Timeout is how long the Service Proxy may take to come back.
	Timeout time.Duration
	// PasswordStdin reads the password for sudo on a Server reached over
	// SSH from standard input.
	PasswordStdin bool
}

// changeFlags declares the flags of ChangeOptions into o.
func changeFlags(fs *flag.FlagSet, o *ChangeOptions) {
	fs.BoolVar(&o.DryRun, "dry-run", false, "print the change as a unified diff and write nothing")
	fs.BoolVar(&o.NoRestart, "no-restart", false, "write the file (after Apache's config test) but do not restart the Service Proxy")
	durationVar(fs, &o.Timeout, "timeout", 15*time.Second, false, "how long the Service Proxy may take to come back after a restart (`DURATION`)")
	passwordStdinFlag(fs, &o.PasswordStdin)
}

// passwordStdinFlag declares --password-stdin into p: the commands that
// may run sudo on a Server reached over SSH take it.
func passwordStdinFlag(fs *flag.FlagSet, p *bool) {
	fs.BoolVar(p, "password-stdin", false, "with --host: read the password for sudo on the Server from the first line of standard input (else it is asked on the terminal without echo)")
}

func jsonFlag(fs *flag.FlagSet, p *bool) { fs.BoolVar(p, "json", false, "print JSON") }
