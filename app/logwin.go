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

// showLog is the Log window: the end of the Service Proxy's error log and
// Socketbar's history of changes.
func (u *ui) showLog() {
	u.window(winLog, "Socketbar — Log", fyne.NewSize(900, 560), func(w fyne.Window) fyne.CanvasObject {
		errLog := widget.NewTextGrid()
		history := widget.NewLabel("")
		history.Wrapping = fyne.TextWrapWord
		title := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		update := func(s *Snapshot) {
			if s.Server == nil {
				title.SetText("No Server: nothing to show.")
				errLog.SetText("")
				history.SetText("")
				return
			}
			title.SetText("Service Proxy error log: " + s.Server.HostPath(s.Server.ErrorLogPath))
			tail := s.Server.ErrorLogTail(40)
			if tail == "" {
				tail = "(empty or not readable)"
			}
			errLog.SetText(tail)
			if len(s.History) == 0 {
				history.SetText("Socketbar has not changed the config yet.")
				return
			}
			var lines []string
			undone := serverctl.Undone(s.History)
			for _, e := range s.History {
				l := fmt.Sprintf("%s   %s", e.Time.Local().Format("2006-01-02 15:04:05"), e.Description)
				if undone[e.ID] {
					l += "  (undone)"
				}
				lines = append(lines, l)
			}
			history.SetText(strings.Join(lines, "\n"))
		}
		update(u.current())
		u.follow(winLog, update)
		refresh := widget.NewButtonWithIcon("Reload", theme.ViewRefreshIcon(), func() { update(u.current()) })
		undo := widget.NewButtonWithIcon("Undo Last Change…", theme.ContentUndoIcon(), func() { u.undoLast(w) })
		logs := container.NewBorder(title, nil, nil, nil, container.NewScroll(errLog))
		hist := container.NewBorder(container.NewBorder(nil, nil, widget.NewLabelWithStyle("Socketbar's changes", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), container.NewHBox(undo, refresh)),
			nil, nil, nil, container.NewVScroll(history))
		split := container.NewVSplit(logs, hist)
		split.Offset = 0.6
		return split
	})
}
