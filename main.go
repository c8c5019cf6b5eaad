// Command socketbar is the Socketbar menu-bar app and CLI.
//
// With no arguments it opens the app; with a command it runs the CLI
// (socketbar help lists the commands). Built with -tags nogui it leaves
// the app out: a pure-Go CLI that cross-compiles for headless Macs.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/socketbar/socketbar/serverctl/action"
)

func main() {
	self, _ := os.Executable()
	actions := action.New(self)
	if len(os.Args) < 2 {
		os.Exit(runApp(actions))
	}
	actions.AfterStep = killHook(os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	c := &cli{ctx: ctx, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, actions: actions}
	code := c.run(os.Args[1:])
	stop()
	os.Exit(code)
}
