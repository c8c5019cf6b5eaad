//go:build !nogui

package main

import (
	"os"
	"strings"

	fyneapp "fyne.io/fyne/v2/app"

	"github.com/socketbar/socketbar/app"
	"github.com/socketbar/socketbar/serverctl/action"
)

// runApp opens the menu-bar app and returns its exit code when it quits.
// It lives apart from main so that the nogui build links no Fyne (and
// needs no cgo).
func runApp(actions action.Actions) int {
	var show []string
	if v := os.Getenv("SOCKETBAR_SHOW"); v != "" {
		show = strings.Split(v, ",")
	}
	app.Run(fyneapp.NewWithID(app.ID), app.Options{Root: os.Getenv("SOCKETBAR_ROOT"), Show: show, Version: version, Actions: actions})
	return exitOK
}
