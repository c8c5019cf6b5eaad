// Command fynebare is an empty Fyne app with a tray menu and, when given
// "window", one window with a label: idle.sh measures it next to
// Socketbar, to tell what Fyne itself costs from what the app adds.
package main

import (
	"os"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"
)

func main() {
	a := app.NewWithID("com.socketbar.fynebare")
	if desk, ok := a.(desktop.App); ok {
		desk.SetSystemTrayMenu(fyne.NewMenu("bare", fyne.NewMenuItem("Quit", a.Quit)))
	}
	if len(os.Args) > 1 && os.Args[1] == "window" {
		w := a.NewWindow("Socketbar bare Fyne")
		w.SetContent(widget.NewLabel("An empty Fyne window."))
		w.Resize(fyne.NewSize(900, 560))
		w.Show()
	}
	a.Run()
}
