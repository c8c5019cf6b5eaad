package action

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/apacheconf/loader"
	"github.com/socketbar/socketbar/serverctl/lint"
	"github.com/socketbar/socketbar/serverctl/servertest"
)

// TestMacroBombsAreReportedNotExpanded: a customsites file whose macro
// would make lines longer than mod_macro makes (issue 15's 1 MB bomb), or
// more text in all than the loader reads, is refused by every command
// that reads the sites: status says why the sites are unknown, routes
// lists the main config's routes with a warning, lint reports it (an
// error for the line Apache refuses too), and each names the Use line.
func TestMacroBombsAreReportedNotExpanded(t *testing.T) {
	var body strings.Builder
	body.WriteString("<Macro Bomb $a>\n")
	for i := range 100 {
		fmt.Fprintf(&body, "Header set X-%d \"%s\"\n", i, strings.TrimSpace(strings.Repeat("$a ", 10)))
	}
	body.WriteString("</Macro>\n")
	for _, tc := range []struct {
		name, uses string
		line       int // of the Use line refused
		err        error
	}{
		{"a line too long", "Use Bomb " + strings.Repeat("x", 1<<20) + "\n", 107, loader.ErrLineTooLong},
		// Each Use line makes about 800 KB: the 21st passes 16 MiB.
		{"too much text", strings.Repeat("Use Bomb "+strings.Repeat("x", 800)+"\n", 21), 127, loader.ErrTooMuchExpansion},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			root := servertest.Copy(t, "5.3.1-sites")
			main := filepath.Join(root, filepath.FromSlash(serverctl.DefaultConfigPath))
			customsites := filepath.Join(filepath.Dir(main), "apache_serviceproxy_customsites.conf")
			f, err := os.OpenFile(customsites, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteString(body.String() + tc.uses); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			at := fmt.Sprintf("apache_serviceproxy_customsites.conf:%d", tc.line)
			l := &Local{}
			tg := Target{Root: root}

			st, err := l.Status(ctx, tg)
			if err != nil {
				t.Fatal(err)
			}
			if !errors.Is(st.SitesErr, tc.err) || !strings.Contains(st.SitesErr.Error(), at) {
				t.Errorf("status: sites error %v, want %v at %s", st.SitesErr, tc.err, at)
			}
			rl, err := l.Routes(ctx, tg)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(rl.Warning, tc.err.Error()) || !strings.Contains(rl.Warning, at) || len(rl.Routes) == 0 {
				t.Errorf("routes: warning %q and %d routes, want the main config's routes and a warning naming %s", rl.Warning, len(rl.Routes), at)
			}
			lr, err := l.Lint(ctx, LintOptions{Target: tg})
			if err != nil {
				t.Fatal(err)
			}
			// Apache refuses the long line too: an error. The bound on
			// the whole output is the loader's own: a warning.
			want := lint.SeverityWarning
			if tc.err == loader.ErrLineTooLong {
				want = lint.SeverityError
			}
			found := false
			for _, f := range lr.Findings {
				found = found || strings.Contains(f.Message, tc.err.Error()) && f.Severity == want && strings.HasSuffix(f.File, "apache_serviceproxy_customsites.conf") && f.Line == tc.line
			}
			if !found {
				t.Errorf("lint: no %s at line %d says %q: %+v", want, tc.line, tc.err, lr.Findings)
			}
		})
	}
}
