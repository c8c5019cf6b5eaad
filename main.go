// Command socketbar is the Socketbar menu-bar app and CLI.
//
// With no arguments it opens the app; with a command it runs the CLI
// (socketbar help lists the commands).
package main

import (
	"context"
	"os"
	"os/signal"
	"strings"
	"syscall"

	fyneapp "fyne.io/fyne/v2/app"

	"github.com/socketbar/socketbar/app"
	"github.com/socketbar/socketbar/serverctl/action"
)

func main() {
	self, _ := os.Executable()
	actions := action.New(self)
	if len(os.Args) < 2 {
		var show []string
		if v := os.Getenv("SOCKETBAR_SHOW"); v != "" {
			show = strings.Split(v, ",")
		}
		app.Run(fyneapp.NewWithID(app.ID), app.Options{Root: os.Getenv("SOCKETBAR_ROOT"), Show: show, Version: version, Actions: actions})
		return
	}
	actions.AfterStep = killHook(os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	c := &cli{ctx: ctx, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, actions: actions}
	code := c.run(os.Args[1:])
	stop()
	os.Exit(code)
}
