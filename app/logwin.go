package app

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/socketbar/socketbar/serverctl"
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

func (lw *logWindow) update(s *Snapshot) {
	if s.Server == nil {
		lw.title.SetText("No Server: nothing to show.")
		lw.errLog.SetText("")
		lw.history.SetText("")
		return
	}
	lw.title.SetText("Service Proxy error log: " + s.Server.HostPath(s.Server.ErrorLogPath))
	tail := s.Server.ErrorLogTail(40)
	if tail == "" {
		tail = "(empty or not readable)"
	}
	lw.errLog.SetText(tail)
	if len(s.History) == 0 {
		lw.history.SetText("Socketbar has not changed the config yet.")
		return
	}
	var lines []string
	undone := serverctl.Undone(s.History)
	for _, e := range s.History {
		l := fmt.Sprintf("%s   %s", e.Time.Local().Format("2006-01-02 15:04:05"), e.Description)
		switch {
		case undone[e.ID]:
			l += "  (undone)"
		case !e.Applied():
			l += "  (" + string(e.Outcome) + ")"
		}
		lines = append(lines, l)
	}
	lw.history.SetText(strings.Join(lines, "\n"))
}
