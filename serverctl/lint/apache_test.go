package lint

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/socketbar/socketbar/serverctl/apachetest"
	"github.com/socketbar/socketbar/serverctl/servertest"
)

var syntaxError = regexp.MustCompile(`Syntax error on line (\d+) of ([^:]+):`)

// TestRealApacheRefusesWhatLintCallsAnError: the Use lines lint reports as
// errors are the ones the real Apache (with mod_macro, on Server 5.3.1's
// config and customsites file) refuses to start with, at the same file and
// line; the tree as stored passes the same config test.
func TestRealApacheRefusesWhatLintCallsAnError(t *testing.T) {
	h := apachetest.Require(t)
	for _, tc := range []struct {
		name, old, new string
		apache         string // what Apache says
	}{
		{"an argument missing", `Use VHost80 * shop.example.com ""`, "Use VHost80 * shop.example.com", "used with 2 arguments instead of 3"},
		{"one argument too many", `Use VHost80 * shop.example.com ""`, `Use VHost80 * shop.example.com "" extra`, "used with 4 arguments instead of 3"},
		{"an undefined macro", `Use VHost80 * shop.example.com ""`, `Use VHost8O * shop.example.com ""`, "macro 'vhost8o' undefined"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := apachetest.LocalizeTree(t, h, servertest.Dir(t, "5.3.1-sites"))
			customsites := filepath.Join(s.Root, customsitesPath)
			s.LocalizeIncluded(t, customsites)
			if out, err := s.ConfigTest(h); err != nil || !strings.Contains(out, "Syntax OK") {
				t.Fatalf("the tree as stored: apache2 -t: %v\n%s", err, out)
			}
			if f := checkTree(t, s.Root); HasErrors(f) {
				t.Fatalf("the tree as stored has lint errors: %+v", f)
			}
			b, err := os.ReadFile(customsites)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), tc.old) {
				t.Fatalf("%s has no %q", customsites, tc.old)
			}
			if err := os.WriteFile(customsites, []byte(strings.Replace(string(b), tc.old, tc.new, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := s.ConfigTest(h)
			// Apache names the Include line, then the line inside the file: the last is the place.
			all := syntaxError.FindAllStringSubmatch(out, -1)
			if err == nil || len(all) == 0 || !strings.Contains(out, tc.apache) {
				t.Fatalf("apache2 -t accepted the line or said something else (%v):\n%s", err, out)
			}
			m := all[len(all)-1]
			t.Logf("apache2 -t: %s", strings.TrimSpace(out[strings.Index(out, m[0]):]))
			line, _ := strconv.Atoi(m[1])
			var errs []Finding
			for _, f := range checkTree(t, s.Root) {
				if f.Severity == SeverityError {
					errs = append(errs, f)
				}
			}
			if len(errs) != 1 || filepath.Base(errs[0].File) != filepath.Base(m[2]) || errs[0].Line != line {
				t.Errorf("lint errors %+v; want one at %s:%d, where Apache stops", errs, filepath.Base(m[2]), line)
			}
		})
	}
}
