//go:build nogui

package main

import (
	"context"
	"fmt"
	"os"

	"github.com/socketbar/socketbar/internal/cli"
	"github.com/socketbar/socketbar/serverctl/action"
)

// noGUINote ends the help of the nogui build, where the usage line
// "socketbar  open the menu-bar app" does not hold.
const noGUINote = `
This is the command-line build of Socketbar (built with -tags nogui): it has no
menu-bar app, so 'socketbar' without a command prints this help.
`

// runApp stands in for the menu-bar app in the nogui build, which admins
// copy to Macs they reach over SSH: there is no window to open, so it
// prints the help and says why.
func runApp(actions action.Actions) int {
	code := cli.Run(context.Background(), newEnv(actions), nil)
	fmt.Fprint(os.Stdout, noGUINote)
	return code
}
