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

	"github.com/socketbar/socketbar/internal/cli"
	"github.com/socketbar/socketbar/serverctl/action"
)

// version is the Socketbar release, set at build time with
// -ldflags "-X main.version=…".
var version = "0.1.0-dev"

func main() {
	self, _ := os.Executable()
	actions := action.New(self)
	if len(os.Args) < 2 {
		os.Exit(runApp(actions))
	}
	actions.AfterStep = cli.KillHook(os.Getenv)
	env := newEnv(actions)
	// sudo on a Server reached over SSH asks the CLI for the password.
	actions.Password = env.SudoPassword
	// One connection per Server for the whole command: a change's proposal
	// and its Apply then cost one SSH handshake, not two.
	pool := &action.Pool{}
	actions.Connect = pool.Connect
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, env, os.Args[1:])
	stop()
	pool.Close()
	os.Exit(code)
}

// newEnv is the CLI's view of this process: its streams and environment.
func newEnv(actions action.Actions) *cli.Env {
	return &cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Actions: actions, Version: version}
}
