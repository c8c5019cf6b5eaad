package cli

import (
	"context"
	"flag"
	"fmt"

	"github.com/socketbar/socketbar/serverctl/action"
)

const lintHelp = "Missing modules, shadowed routes, rules that turn upgrades into plain HTTP, and\nWebSocket rules put in the Websites tier. Exits 1 when there are errors."

// LintOptions are the options of socketbar lint.
type LintOptions struct {
	Target action.Target
	// File is a config file to lint instead of the Server's.
	File string
	JSON bool
}

func bindLint(e *Env, fs *flag.FlagSet) runFunc {
	opts := &LintOptions{}
	targetFlags(e, fs, &opts.Target, withRoot|withApacheVersion|withHost)
	fs.StringVar(&opts.File, "file", "", "lint this config `FILE` instead of the Server's (no Server needed)")
	jsonFlag(fs, &opts.JSON)
	return func(ctx context.Context, _ []string) error {
		if opts.File != "" && flagGiven(fs, "host") {
			return usageErrorf("--file lints a file on this machine: leave out --host, or leave out --file to lint the config of the Server on %s", opts.Target.Host)
		}
		return lintRun(ctx, e, opts)
	}
}

// lintRun prints the findings; it returns errReported, for exit 1, when
// any is an error.
func lintRun(ctx context.Context, e *Env, opts *LintOptions) error {
	r, err := e.Actions.Lint(ctx, action.LintOptions{Target: opts.Target, File: opts.File})
	if err != nil {
		return err
	}
	if opts.JSON {
		if err := e.writeJSON(r); err != nil {
			return err
		}
	} else {
		for _, f := range r.Findings {
			loc := f.File
			if f.Line > 0 {
				loc = fmt.Sprintf("%s:%d", f.File, f.Line)
			}
			fmt.Fprintf(e.Stdout, "%s: %s: %s\n    fix: %s\n", loc, f.Severity, f.Message, f.Fix)
		}
		fmt.Fprintf(e.Stdout, "%s: %d error(s), %d warning(s)\n", r.Config, r.Errors, r.Warnings)
	}
	if r.Errors > 0 {
		return errReported
	}
	return nil
}
