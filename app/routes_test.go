package app

import (
	"os"
	"path/filepath"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/socketbar/socketbar/serverctl/servertest"
)

// longConfig is a copy of the 5.3.1 tree whose Service Proxy config has
// Profile Manager's routes too: 24 routes, as a new user's Server 5.2+
// has them (see testdata/README.md).
func longConfig(t *testing.T) string {
	t.Helper()
	root := servertest.Copy(t, "5.3.1")
	conf, err := os.ReadFile(filepath.Join("testdata", "apache_serviceproxy-24routes.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, servertest.ConfigPath), conf, 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// textWidth is the width a label needs to show its whole text, in the
// theme it is drawn with.
func textWidth(l *widget.Label) float32 {
	return fyne.MeasureText(l.Text, theme.SizeForWidget(theme.SizeNameText, l), l.TextStyle).Width +
		2*theme.SizeForWidget(theme.SizeNameInnerPadding, l)
}

// cellsOf are the cells of a row or of the header.
func cellsOf(t *testing.T, o fyne.CanvasObject) []fyne.CanvasObject {
	t.Helper()
	c, ok := o.(*fyne.Container)
	if !ok {
		t.Fatalf("a row is a %T, not a container of cells", o)
	}
	return c.Objects
}

// The Routes window on a Server's real config, at the size it opens: every
// column is as wide as its widest text (a path as long as
// /AccountsConfigService/api does not run over the backend beside it), the
// columns line up under their titles, and every route is in view.
func TestRoutesWindowFitsARealServersRoutes(t *testing.T) {
	u := newTestUI(test.NewTempApp(t), Options{Root: longConfig(t), Actions: newFake(), Tray: noTray})
	u.showRoutes()
	v := u.routesView
	if n := len(v.rows.Objects); n != 24 {
		t.Fatalf("%d rows, want the fixture's 24 routes", n)
	}
	checkColumns(t, v)
	last := v.rows.Objects[len(v.rows.Objects)-1]
	bottom := fyne.CurrentApp().Driver().AbsolutePositionForObject(last).Y + last.Size().Height
	scrollBottom := fyne.CurrentApp().Driver().AbsolutePositionForObject(v.scroll).Y + v.scroll.Size().Height
	if bottom > scrollBottom+0.5 {
		t.Errorf("at the size the window opens (%v) the last route ends at %.0f, below the list's view at %.0f", u.windows[winRoutes].Canvas().Size(), bottom, scrollBottom)
	}
	if size := u.windows[winRoutes].Canvas().Size(); size.Height > maxRoutesHeight || size.Width > maxRoutesWidth {
		t.Errorf("the window opens at %v, more than a small Mac's screen holds", size)
	}
}

// With custom sites the Site column comes first, sized like the others.
func TestRoutesWindowSiteColumnFitsItsNames(t *testing.T) {
	u := newTestUI(test.NewTempApp(t), Options{Root: servertest.Copy(t, "5.6.3-sites"), Actions: newFake(), Tray: noTray})
	u.showRoutes()
	v := u.routesView
	if !v.site.Visible() || len(v.rows.Objects) == 0 {
		t.Fatalf("no site filter (%v) or no rows (%d)", v.site.Visible(), len(v.rows.Objects))
	}
	checkColumns(t, v)
}

// checkColumns fails unless every label of the header and the rows is
// as wide as its text, and every row's cells start where their titles do.
func checkColumns(t *testing.T, v *routesView) {
	t.Helper()
	header := cellsOf(t, v.columns.Objects[0])
	for i, row := range append([]fyne.CanvasObject{v.columns.Objects[0]}, v.rows.Objects...) {
		cells := cellsOf(t, row)
		if len(cells) != len(header) {
			t.Fatalf("row %d has %d cells, the header %d", i, len(cells), len(header))
		}
		for j, c := range cells {
			if x, hx := c.Position().X, header[j].Position().X; x != hx {
				t.Errorf("row %d, column %d starts at %.0f, its title at %.0f", i, j, x, hx)
			}
			l, ok := c.(*widget.Label)
			if !ok {
				continue
			}
			if need := textWidth(l); c.Size().Width < need-0.5 {
				t.Errorf("row %d, column %d: %q needs %.0f, its column is %.0f wide", i, j, l.Text, need, c.Size().Width)
			}
		}
	}
}

// Without a Server the window opens at its smallest: the explanation of
// the demo wraps rather than widen it.
func TestRoutesWindowWithoutAServerOpensAtItsSmallest(t *testing.T) {
	u := newTestUI(test.NewTempApp(t), Options{Root: t.TempDir(), Actions: newFake(), Tray: noTray})
	u.showRoutes()
	if got, want := u.windows[winRoutes].Canvas().Size(), fyne.NewSize(minRoutesWidth, minRoutesHeight); got != want {
		t.Errorf("the window opens at %v, want %v", got, want)
	}
}
