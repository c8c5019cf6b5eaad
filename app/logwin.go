package app

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// logWindow is the Log window: the end of the Service Proxy's error log and
// Socketbar's history of changes, following every new snapshot.
type logWindow struct {
	u       *ui
	w       fyne.Window
	title   *widget.Label
	errLog  *widget.TextGrid
	history *widget.Label
}

func (u *ui) showLog() {
	u.window(winLog, "Socketbar — Log", fyne.NewSize(900, 560), func(w fyne.Window) fyne.CanvasObject {
		lw := &logWindow{u: u, w: w, errLog: widget.NewTextGrid(), history: widget.NewLabel(""),
			title: widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})}
		return lw.build()
	})
}

func (lw *logWindow) build() fyne.CanvasObject {
	lw.history.Wrapping = fyne.TextWrapWord
	lw.update(lw.u.current())
	lw.u.follow(winLog, lw.update)
	refresh := widget.NewButtonWithIcon("Reload", theme.ViewRefreshIcon(), func() { lw.update(lw.u.current()) })
	undo := widget.NewButtonWithIcon("Undo Last Change…", theme.ContentUndoIcon(), func() { lw.u.undoLast(lw.w) })
	logs := container.NewBorder(lw.title, nil, nil, nil, container.NewScroll(lw.errLog))
	hist := container.NewBorder(container.NewBorder(nil, nil, widget.NewLabelWithStyle("Socketbar's changes", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), container.NewHBox(undo, refresh)),
		nil, nil, nil, container.NewVScroll(lw.history))
	split := container.NewVSplit(logs, hist)
	split.Offset = 0.6
	return split
}

// update shows the snapshot's history at once and the error log when it
// has been read: a file read, so off the UI goroutine.
func (lw *logWindow) update(s *Snapshot) {
	if !s.found() {
		lw.title.SetText("No Server: nothing to show.")
		lw.errLog.SetText("")
		lw.history.SetText("")
		return
	}
	lw.title.SetText("Service Proxy error log: " + s.Server.ErrorLogPath)
	lw.u.background(func() func() {
		el, err := lw.u.actions.ErrorLog(lw.u.ctx, s.target(), 40)
		tail := "(empty or not readable)"
		switch {
		case err != nil:
			tail = "(not readable: " + errorMessage(err) + ")"
		case el.Tail != "":
			tail = el.Tail
		}
		return func() {
			if lw.u.current() == s { // else a newer snapshot's read is on its way
				lw.errLog.SetText(tail)
			}
		}
	})
	lw.history.SetText(historyText(s))
}

// historyText is Socketbar's changes, newest first, each with what became
// of it when it did not simply take effect.
func historyText(s *Snapshot) string {
	var lines []string
	if s.HistoryErr != nil {
		lines = append(lines, "⚠ Socketbar's history could not be read: "+errorMessage(s.HistoryErr))
	}
	if len(s.History) == 0 && s.HistoryErr == nil {
		return "Socketbar has not changed the config yet."
	}
	for _, e := range s.History {
		l := fmt.Sprintf("%s   %s", e.Time.Local().Format("2006-01-02 15:04:05"), e.Description)
		if st := e.State(); st != "applied" {
			l += "  (" + st + ")"
		}
		lines = append(lines, l)
	}
	return strings.Join(lines, "\n")
}
