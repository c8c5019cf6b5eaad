package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/socketbar/socketbar/serverctl/servertest"
)

// When Socketbar cannot read its history (here: a file stands where its
// folder, socketbar-backups, belongs), the app says so instead of showing no drift and no changes:
// the status line warns, the Routes window says it cannot tell whether
// Socketbar's routes vanished, and the Log window says why the history is
// missing.
func TestTheAppSaysWhenItCannotReadTheHistory(t *testing.T) {
	root := servertest.Copy(t, "5.7.1")
	if err := os.WriteFile(filepath.Join(root, "Library/Server/Web/Config/Proxy/socketbar-backups"), []byte("not a folder\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	u := newTestUI(test.NewTempApp(t), Options{Root: root, Actions: newFake(), Tray: noTray})
	if line := u.current().StatusLine(); !strings.HasPrefix(line, "⚠") {
		t.Errorf("status line %q does not warn", line)
	}
	u.showRoutes()
	if text := canvasText(u.windows[winRoutes].Content()); !strings.Contains(text, "cannot tell whether its routes are still in the config") {
		t.Errorf("the Routes window does not say drift is unknown:\n%s", text)
	}
	u.showLog()
	if text := canvasText(u.windows[winLog].Content()); !strings.Contains(text, "history could not be read") {
		t.Errorf("the Log window does not say the history is unknown:\n%s", text)
	}
}
