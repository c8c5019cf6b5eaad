package loader_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/socketbar/socketbar/serverctl/apacheconf/loader"
	"github.com/socketbar/socketbar/serverctl/apachetest"
)

// lineLimitCases sit on both sides of mod_macro's line limit. refused names
// the body line (as file:line) the error must point at, "" for a config
// Apache accepts; at is the line the error is reported at.
var lineLimitCases = func() []struct {
	name, text string
	at, line   string
} {
	x := func(n int) string { return strings.Repeat("x", n) }
	const max = loader.MaxMacroLine
	pre := len("Define V ")
	long := "$b" + x(60)
	return []struct {
		name, text string
		at, line   string
	}{
		{name: "a line as long as the limit", text: "<Macro M $a>\nDefine V $a\n</Macro>\nUse M " + x(max-pre) + "\n"},
		{name: "one byte longer", text: "<Macro M $a>\nDefine V $a\n</Macro>\nUse M " + x(max-pre+1) + "\n", at: "main.conf:4", line: "main.conf:2"},
		{name: "blanks around the line do not count", text: "<Macro M $a>\n\t\tDefine V $a  \n</Macro>\nUse M " + x(max-pre) + "\n"},
		{name: "the line that passes is named", text: "<Macro M $a>\nDefine V 1\n\n# $a\nDefine W $a\n</Macro>\n\nUse M " + x(max-pre+1) + "\n", at: "main.conf:8", line: "main.conf:5"},
		{name: "comments are not substituted", text: "<Macro M $a>\n# $a $a $a\nDefine V $a\n</Macro>\nUse M " + x(max/2) + "\n"},
		{name: "an @ parameter counts its quotes and escapes", text: "<Macro M @a>\nDefine V @a\n</Macro>\nUse M '\"" + x(max-pre-4) + "'\n"},
		{name: "an @ parameter one escape longer", text: "<Macro M @a>\nDefine V @a\n</Macro>\nUse M '\"\"" + x(max-pre-5) + "'\n", at: "main.conf:4", line: "main.conf:2"},
		{
			name: "a line that grows past the limit and shrinks back",
			text: "<Macro M $a " + long + ">\nDefine V $a" + long + "\n</Macro>\nUse M " + x(max-pre-len(long)+1) + " ''\n",
			at:   "main.conf:4", line: "main.conf:2",
		},
		{name: "a body line as long as the limit", text: "<Macro M $a>\nDefine V $a " + x(max-pre-3) + "\n</Macro>\n"},
		{name: "a body line one byte longer", text: "<Macro M $a>\nDefine V $a " + x(max-pre-3) + " \n</Macro>\n", at: "main.conf:2", line: "main.conf:2"},
		{name: "continued lines count as one", text: "<Macro M $a>\nDefine V $a \\\n" + x(max/2) + " \\\n" + x(max/2) + "\n</Macro>\n", at: "main.conf:2", line: "main.conf:2"},
	}
}()

// TestMacroLineLimit: a macro line longer than mod_macro makes is refused,
// at the Use line that would make it (naming the body line) or at the
// body line itself, and nothing shorter is.
func TestMacroLineLimit(t *testing.T) {
	for _, tc := range lineLimitCases {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(root, "etc/main.conf"), []byte(tc.text), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := loader.Load(context.Background(), filepath.Join(root, "etc/main.conf"), loader.Options{Root: root})
			if tc.at == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var le *loader.Error
			if !errors.Is(err, loader.ErrLineTooLong) || !errors.As(err, &le) {
				t.Fatalf("err = %v, want ErrLineTooLong", err)
			}
			if at := fmt.Sprintf("%s:%d", filepath.Base(le.Pos.File), le.Pos.Line); at != tc.at || !strings.Contains(err.Error(), "/etc/"+tc.line) {
				t.Errorf("err = %v, want it at %s naming the line at %s", err, tc.at, tc.line)
			}
		})
	}
}

// TestMacroLineLimitAgreesWithApache runs the cases through the real
// Apache's config test: it accepts exactly those the loader accepts, and
// refuses the others for the line's length.
func TestMacroLineLimitAgreesWithApache(t *testing.T) {
	h := apachetest.Require(t)
	dir := t.TempDir()
	var head strings.Builder
	fmt.Fprintf(&head, "ServerRoot %q\nServerName localhost\nErrorLog %q\nPidFile %q\n", dir, filepath.Join(dir, "error.log"), filepath.Join(dir, "httpd.pid"))
	for _, m := range []string{"mpm_prefork", "macro"} {
		if !slices.Contains(h.BuiltIn, m) {
			fmt.Fprintf(&head, "LoadModule %s_module %q\n", m, filepath.Join(h.ModulesDir, "mod_"+m+".so"))
		}
	}
	for i, tc := range lineLimitCases {
		t.Run(tc.name, func(t *testing.T) {
			conf := filepath.Join(dir, fmt.Sprintf("%d.conf", i))
			if err := os.WriteFile(conf, []byte(head.String()+tc.text), 0o644); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, h.Path, "-t", "-f", conf).CombinedOutput()
			var exit *exec.ExitError
			if err != nil && !errors.As(err, &exit) {
				t.Fatalf("%s -t: %v", h.Path, err)
			}
			switch {
			case tc.at == "" && err != nil:
				t.Errorf("Apache refuses what the loader accepts:\n%s", out)
			case tc.at != "" && err == nil:
				t.Errorf("Apache accepts what the loader refuses:\n%s", out)
			case tc.at != "" && !strings.Contains(string(out), "buffer size too small") && !strings.Contains(string(out), "expected token not found: </Macro>"):
				t.Errorf("Apache refuses it for another reason:\n%s", out)
			}
		})
	}
}
