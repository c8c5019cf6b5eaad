package action

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/lint"
	"github.com/socketbar/socketbar/serverctl/servertest"
)

// TestLintAndStatusSeeTheCustomSites: lint as the CLI and the app run it
// (Lint, Status) reads the whole config, so a Use line mod_macro refuses in
// the customsites file is an error at its line, and a WebSocket route only
// in the default hosts is a warning naming the custom sites it misses.
func TestLintAndStatusSeeTheCustomSites(t *testing.T) {
	root := servertest.Copy(t, "5.3.1-sites")
	main := filepath.Join(root, filepath.FromSlash(serverctl.DefaultConfigPath))
	customsites := filepath.Join(filepath.Dir(main), "apache_serviceproxy_customsites.conf")
	edit := func(file, old, new string) int {
		t.Helper()
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		i := strings.Index(string(b), old)
		if i < 0 {
			t.Fatalf("%s has no %q", file, old)
		}
		if err := os.WriteFile(file, []byte(string(b[:i])+new+string(b[i+len(old):])), 0o644); err != nil {
			t.Fatal(err)
		}
		return strings.Count(string(b[:i]), "\n") + 1
	}
	useLine := edit(customsites, `Use VHost80 * shop.example.com ""`, "Use VHost80 * shop.example.com")
	routeLine := edit(main, "\tProxyPass / http://127.0.0.1:34543/", "\tProxyPass /live/ ws://127.0.0.1:9000/live/\n\tProxyPass / http://127.0.0.1:34543/")
	want := []string{
		fmt.Sprintf("error %s:%d Use VHost80 has 2 arguments", customsites, useLine),
		fmt.Sprintf("warning %s:%d *:443: the WebSocket route for /live/ reaches the default hosts but not chat.example.com and shop.example.com", main, routeLine),
	}
	check := func(t *testing.T, findings []lint.Finding) {
		t.Helper()
		var got []string
		for _, f := range findings {
			got = append(got, fmt.Sprintf("%s %s:%d %s", f.Severity, f.File, f.Line, f.Message))
		}
		for _, w := range want {
			found := false
			for _, g := range got {
				found = found || strings.HasPrefix(g, w)
			}
			if !found {
				t.Errorf("no finding %q among:\n%s", w, strings.Join(got, "\n"))
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	target := Target{Root: root, ApacheVersion: "2.4.58"}
	l := &Local{}
	t.Run("Lint", func(t *testing.T) {
		r, err := l.Lint(ctx, LintOptions{Target: target})
		if err != nil {
			t.Fatal(err)
		}
		check(t, r.Findings)
		if r.Errors == 0 {
			t.Error("a Use line Apache refuses counts as no error")
		}
	})
	t.Run("Status", func(t *testing.T) {
		s, err := l.Status(ctx, target)
		if err != nil {
			t.Fatal(err)
		}
		check(t, s.Findings)
	})
}
