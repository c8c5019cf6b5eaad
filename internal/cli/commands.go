package cli

import (
	"context"
	"flag"

	"github.com/socketbar/socketbar/serverctl/elevate"
)

// command is one row of the command table: what the usage line, the
// command list and the help show, and the command's bind function.
type command struct {
	name    string
	args    []string // positional arguments, in order; "[NAME]" is optional
	summary string   // one line, for the command list
	help    string   // what `socketbar help NAME` adds under the usage line
	hidden  bool     // not listed: used by socketbar itself
	// bind declares the command's flags on fs, bound to a fresh options
	// struct, and returns what runs the command once fs is parsed.
	bind func(e *Env, fs *flag.FlagSet) runFunc
}

// runFunc runs a command whose flags are parsed with its positional
// arguments: it fills them into the options and calls the run function.
type runFunc func(ctx context.Context, pos []string) error

// commands is the command table, in the order `socketbar help` lists it.
// It is a function, not a variable, because the help command looks the
// table up.
func commands() []command {
	return []command{
		{name: "status", summary: "Show the Server, its Apache and the Service Proxy config.", help: statusHelp, bind: bindStatus},
		{name: "routes", summary: "List the Service Proxy's proxy routes in the order Apache matches them.", help: routesHelp, bind: bindRoutes},
		{name: "add", args: []string{"PATH", "BACKEND"}, summary: "Add a WebSocket route to the Service Proxy.", help: addHelp, bind: bindAdd},
		{name: "remove", args: []string{"PATH"}, summary: "Remove a route that Socketbar added.", help: removeHelp, bind: bindRemove},
		{name: "undo", summary: "Put back the config as it was before Socketbar's last change.", help: undoHelp, bind: bindUndo},
		{name: "history", summary: "List Socketbar's changes and their backups.", help: historyHelp, bind: bindHistory},
		{name: "restart", summary: "Restart the Service Proxy and check that it came back.", help: restartHelp, bind: bindRestart},
		{name: "reapply", summary: "Put back Socketbar routes that vanished from the config.", help: reapplyHelp, bind: bindReapply},
		{name: "test", args: []string{"[URL]"}, summary: "Test a WebSocket step by step and say what is wrong and where.", help: testHelp, bind: bindTest},
		{name: "serve", summary: "Run a test proxy for WebSocket routes, without touching the Server.", help: serveHelp, bind: bindServe},
		{name: "demo", summary: "Run a stand-in macOS Server on this machine to try Socketbar on.", help: demoHelp, bind: bindDemo},
		{name: "lint", summary: "Find mistakes that stop WebSockets in the Service Proxy config.", help: lintHelp, bind: bindLint},
		{name: "version", summary: "Print Socketbar's version.", bind: bindVersion},
		{name: "help", args: []string{"[COMMAND]"}, summary: "Explain a command.", bind: bindHelp},
		// The elevated half of a change made through the administrator
		// prompt; all of it lives in package elevate.
		{name: elevate.Command, args: []string{"PLAN", "PLAN_SHA256", "NEW", "NEW_SHA256"}, hidden: true,
			summary: "Run one approved transaction as root (used by socketbar itself after the administrator prompt).", bind: bindApplyPlan},
	}
}

func findCommand(name string) (command, bool) {
	for _, cmd := range commands() {
		if cmd.name == name {
			return cmd, true
		}
	}
	return command{}, false
}
