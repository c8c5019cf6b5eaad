//go:build !nogui

package main

import (
	"fmt"
	"os"
	"runtime"
	"strings"

	fyneapp "fyne.io/fyne/v2/app"

	"github.com/socketbar/socketbar/app"
	"github.com/socketbar/socketbar/serverctl/action"
)

// runApp opens the menu-bar app and returns its exit code when it quits.
// It lives apart from main so that the nogui build links no Fyne (and
// needs no cgo).
func runApp(actions action.Actions) int {
	if runtime.GOOS == "linux" && os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		// GLFW would panic with a stack trace; say it in one line instead.
		fmt.Fprintln(os.Stderr, "socketbar: there is no display here for the app (DISPLAY is not set). Run a command instead: socketbar help lists them.")
		return 2 // as the CLI does for a command line that cannot run
	}
	var show []string
	if v := os.Getenv("SOCKETBAR_SHOW"); v != "" {
		show = strings.Split(v, ",")
	}
	a := fyneapp.NewWithID(app.ID)
	opts := app.Options{Root: os.Getenv("SOCKETBAR_ROOT"), Show: show, Version: version, Actions: actions}
	if local, ok := actions.(*action.Local); ok {
		// One connection per Server while the app runs, closed at quit,
		// and sudo's password asked in a masked window.
		pool := &action.Pool{}
		defer pool.Close()
		local.Connect = pool.Connect
		local.Password = app.PasswordPrompt(a)
		opts.Forget = func(host string) {
			if h, err := action.ParseHost(host); err == nil {
				pool.Forget(h)
			}
		}
	}
	app.Run(a, opts)
	return 0
}
