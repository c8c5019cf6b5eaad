package action

import (
	"context"

	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/lint"
)

// LintOptions say what to lint: a config file on its own, or the Server's.
type LintOptions struct {
	Target Target
	// File, when set, is linted instead of the Server's config; no Server
	// is needed, and Target.ApacheVersion (if set) is the Apache assumed.
	File string
}

// LintReport is lint's findings.
type LintReport struct {
	Config   string         `json:"config"`
	Errors   int            `json:"errors"`
	Warnings int            `json:"warnings"`
	Findings []lint.Finding `json:"findings"`
}

// Lint finds what stops WebSockets in a Service Proxy config.
func (l *Local) Lint(ctx context.Context, opts LintOptions) (*LintReport, error) {
	if opts.Target.Host != "" && opts.File == "" {
		return onServer(ctx, l, opts.Target, func(there *Local, ctx context.Context, t Target) (*LintReport, error) {
			return there.Lint(ctx, LintOptions{Target: t})
		})
	}
	var cfg *serverctl.Config
	lo := lint.Options{}
	if opts.File != "" {
		if v := opts.Target.ApacheVersion; v != "" {
			ver, err := serverctl.ParseVersion(v)
			if err != nil {
				return nil, &serverctl.InputError{Field: serverctl.FieldApacheVersion, Msg: err.Error()}
			}
			lo.Apache = ver
		}
		var err error
		if cfg, err = serverctl.ReadConfig(opts.File); err != nil {
			return nil, err
		}
	} else {
		srv, c, err := l.load(ctx, opts.Target)
		if err != nil {
			return nil, err
		}
		cfg, lo = c, lintOptions(ctx, srv, c)
	}
	r := &LintReport{Config: cfg.Path, Findings: lint.Check(cfg, lo)}
	if r.Findings == nil {
		r.Findings = []lint.Finding{}
	}
	for _, f := range r.Findings {
		if f.Severity == lint.SeverityError {
			r.Errors++
		} else {
			r.Warnings++
		}
	}
	return r, nil
}
