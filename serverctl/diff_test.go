package serverctl

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestUnifiedDiffAppliesWithPatch checks the diff against GNU patch: applying
// it to the old text must give the new text exactly.
func TestUnifiedDiffAppliesWithPatch(t *testing.T) {
	patch, err := exec.LookPath("patch")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("patch is not installed; .ci/run installs it")
		}
		t.Skip("patch is not installed")
	}
	c := fixtureConfig(t, "5.3.1")
	add, err := c.AddRoute(AddRequest{Path: "/ws/", Backend: "http://127.0.0.1:8000/ws/"})
	if err != nil {
		t.Fatal(err)
	}
	crlf := toCRLF(c)
	addCRLF, err := crlf.AddRoute(AddRequest{Path: "/ws/", Backend: "http://127.0.0.1:8000/ws/"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, a, b string }{
		{"add route", string(add.Old), string(add.New)},
		{"remove route", string(add.New), string(add.Old)},
		{"crlf add", string(addCRLF.Old), string(addCRLF.New)},
		{"no final newline", "a\nb\nc", "a\nB\nc"},
		{"gain final newline", "a\nb", "a\nb\n"},
		{"from empty", "", "x\ny\n"},
		{"to empty", "x\ny\n", ""},
		{"far apart", strings.Repeat("l\n", 20) + "x\n" + strings.Repeat("m\n", 20), "X\n" + strings.Repeat("l\n", 20) + strings.Repeat("m\n", 20) + "end\n"},
		{"everything differs", "a\nb\nc\n", "d\ne\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			old := filepath.Join(dir, "old")
			if err := os.WriteFile(old, []byte(tt.a), 0o644); err != nil {
				t.Fatal(err)
			}
			d := UnifiedDiff("a/old", "b/old", []byte(tt.a), []byte(tt.b))
			out := filepath.Join(dir, "new")
			cmd := exec.Command(patch, "--binary", "-s", "-o", out, old)
			cmd.Stdin = strings.NewReader(d)
			if msg, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("patch failed: %v\n%s\ndiff:\n%s", err, msg, d)
			}
			got, _ := os.ReadFile(out)
			if !bytes.Equal(got, []byte(tt.b)) {
				t.Errorf("patched text = %q, want %q\ndiff:\n%s", got, tt.b, d)
			}
		})
	}
	if UnifiedDiff("a", "b", []byte("same\n"), []byte("same\n")) != "" {
		t.Error("diff of equal texts is not empty")
	}
}
