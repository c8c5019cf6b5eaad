package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/socketbar/socketbar/serverctl/servertest"
)

// TestFindingInAnotherFileNamesIt: lint now finds problems in the files the
// config includes (a Use line in the customsites file Apache refuses), and
// "line 4" alone would point into the wrong file.
func TestFindingInAnotherFileNamesIt(t *testing.T) {
	root := servertest.Copy(t, "5.3.1-sites")
	customsites := filepath.Join(root, "Library/Server/Web/Config/Proxy/apache_serviceproxy_customsites.conf")
	b, err := os.ReadFile(customsites)
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(b), `Use VHost80 * shop.example.com ""`, "Use VHost80 * shop.example.com", 1)
	if err := os.WriteFile(customsites, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	u := newTestUI(test.NewTempApp(t), Options{Root: root, Actions: newFake(), Tray: noTray})
	u.showRoutes()
	got := canvasText(u.windows[winRoutes].Content())
	if !strings.Contains(got, "Error, apache_serviceproxy_customsites.conf, line 4: Use VHost80") {
		t.Errorf("the findings do not name the customsites file:\n%s", got)
	}
}
