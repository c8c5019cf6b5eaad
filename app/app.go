// Package app is Socketbar's Fyne user interface. It only shows things and
// calls serverctl and proxy; it never parses config or runs commands itself.
//
// The app is created by main (the only importer of fyne.io/fyne/v2/app) and
// handed in, so every window can be built and driven headless in tests with
// fyne.io/fyne/v2/test.
package app

import (
	"context"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/socketbar/socketbar/assets"
	"github.com/socketbar/socketbar/serverctl"
)

// ID is the application identifier (also in FyneApp.toml).
const ID = "com.socketbar.app"

// Options configure the app.
type Options struct {
	// Root is the directory that stands for "/" when looking for the Server.
	Root string
}

// Run shows the main window and runs the app until it quits.
func Run(a fyne.App, opts Options) {
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))
	w := NewMainWindow(a, opts)
	w.ShowAndRun()
}

// NewMainWindow builds the main window: for now a summary of the Server
// Socketbar found, or of why it found none.
func NewMainWindow(a fyne.App, opts Options) fyne.Window {
	w := a.NewWindow("Socketbar")
	summary := widget.NewLabel(Summary(context.Background(), opts.Root))
	summary.Wrapping = fyne.TextWrapBreak // config paths have no spaces to wrap at
	w.SetContent(container.NewPadded(summary))
	w.Resize(fyne.NewSize(520, 240))
	return w
}

// Summary describes the Server under root in a few sentences.
func Summary(ctx context.Context, root string) string {
	srv, err := serverctl.Discover(ctx, serverctl.Options{Root: root})
	if err != nil {
		return "No macOS Server was found on this Mac.\nSocketbar edits the Service Proxy of macOS Server 5;\nrun it on the Server, or set SOCKETBAR_ROOT to a copy of a Server's files."
	}
	cfg, err := serverctl.ReadConfig(srv.HostPath(srv.ConfigPath))
	if err != nil {
		return fmt.Sprintf("macOS Server %s\nThe Service Proxy config could not be read:\n%v", srv.ServerVersion, err)
	}
	routes, ws, managed := 0, 0, 0
	for _, r := range cfg.Routes() {
		routes++
		if r.WebSocket {
			ws++
		}
		if r.Managed {
			managed++
		}
	}
	return fmt.Sprintf("macOS Server %s, Apache %s\n%s\n%d routes: %d WebSocket, %d managed by Socketbar.\nUse the socketbar command to add and remove WebSocket routes.",
		srv.ServerVersion, srv.Apache, cfg.Path, routes, ws, managed)
}
