package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// table lays out a header and rows of cells in columns as wide as their
// widest cell, so that a long path (/AccountsConfigService/api) never runs
// over the column beside it. When the window is narrower than every
// column's content, the flex column (the backend, whose label elides its
// text) gives up width first; the last column (notes and buttons) takes
// what is left over.
type table struct {
	// widths are the columns' content widths, set by fit.
	widths []float32
	// flex is the column that shrinks, down to flexMin.
	flex    int
	flexMin float32
	// gap is the room between one column's text and the next's.
	gap float32
}

// row makes a row (or the header) whose cells the table lays out.
func (t *table) row(cells ...fyne.CanvasObject) *fyne.Container {
	return container.New(&tableRow{t}, cells...)
}

// fit sizes each column to the widest of its cells in rows.
func (t *table) fit(rows []fyne.CanvasObject) {
	t.widths = t.widths[:0]
	for _, r := range rows {
		for i, c := range r.(*fyne.Container).Objects {
			if i == len(t.widths) {
				t.widths = append(t.widths, 0)
			}
			t.widths[i] = max(t.widths[i], naturalWidth(c)+t.gap)
		}
	}
}

// naturalWidth is the width a cell needs to show all of its text: a label
// that elides its text has a small minimum, so its text is measured.
func naturalWidth(o fyne.CanvasObject) float32 {
	if l, ok := o.(*widget.Label); ok && l.Truncation != fyne.TextTruncateOff {
		return fyne.MeasureText(l.Text, theme.SizeForWidget(theme.SizeNameText, l), l.TextStyle).Width +
			2*theme.SizeForWidget(theme.SizeNameInnerPadding, l)
	}
	return o.MinSize().Width
}

// columns are the widths of the columns in a row width wide.
func (t *table) columns(width float32, n int) []float32 {
	ws := make([]float32, n)
	var fixed float32
	for i := range ws {
		if i < len(t.widths) {
			ws[i] = t.widths[i]
		}
		if i != t.flex && i != n-1 {
			fixed += ws[i]
		}
	}
	if t.flex < n-1 {
		last := ws[n-1]
		ws[t.flex] = max(min(ws[t.flex], width-fixed-last), min(t.flexMin, ws[t.flex]))
		fixed += ws[t.flex]
	}
	ws[n-1] = max(width-fixed, ws[n-1])
	return ws
}

// tableRow is the layout of one row of a table.
type tableRow struct{ t *table }

// MinSize is the row with its flex column at its narrowest.
func (r *tableRow) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var w, h float32
	for i, o := range objs {
		cw := o.MinSize().Width
		if i < len(r.t.widths) {
			cw = r.t.widths[i]
			if i == r.t.flex && i < len(objs)-1 {
				cw = min(cw, r.t.flexMin)
			}
		}
		w += cw
		h = max(h, o.MinSize().Height)
	}
	return fyne.NewSize(w, h)
}

func (r *tableRow) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	x := float32(0)
	for i, w := range r.t.columns(size.Width, len(objs)) {
		objs[i].Move(fyne.NewPos(x, 0))
		objs[i].Resize(fyne.NewSize(w, size.Height))
		x += w
	}
}

// compact is the app's theme with less room around each cell and smaller
// icons, for the routes table: a Server's two dozen routes fit in a
// window, as rows of a list do on a Mac, instead of a third of them.
type compact struct{ fyne.Theme }

func (c compact) Size(n fyne.ThemeSizeName) float32 {
	switch n {
	case theme.SizeNameInnerPadding:
		return c.Theme.Size(n) / 4
	case theme.SizeNamePadding:
		return c.Theme.Size(n) / 2
	case theme.SizeNameInlineIcon:
		return c.Theme.Size(n) * 0.8
	}
	return c.Theme.Size(n)
}
