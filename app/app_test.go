package app

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

func TestMainWindowSummarisesTheServer(t *testing.T) {
	a := test.NewTempApp(t)
	root, _ := filepath.Abs(filepath.Join("..", "serverctl", "testdata", "servers", "5.3.1"))
	w := NewMainWindow(a, Options{Root: root})
	defer w.Close()
	text := labelText(w.Content())
	for _, want := range []string{"macOS Server 5.3.1", "18 routes", "0 managed by Socketbar"} {
		if !strings.Contains(text, want) {
			t.Errorf("window text %q lacks %q", text, want)
		}
	}
}

func TestSummaryWithoutServerSaysWhatToDo(t *testing.T) {
	got := Summary(context.Background(), t.TempDir())
	if !strings.Contains(got, "No macOS Server") || !strings.Contains(got, "SOCKETBAR_ROOT") {
		t.Errorf("summary = %q", got)
	}
}

// labelText collects the text of every label in o.
func labelText(o fyne.CanvasObject) string {
	switch v := o.(type) {
	case *widget.Label:
		return v.Text
	case *fyne.Container:
		var parts []string
		for _, c := range v.Objects {
			parts = append(parts, labelText(c))
		}
		return strings.Join(parts, "\n")
	}
	return ""
}
