package main

import (
	"errors"
	"flag"
	"fmt"
	iofs "io/fs"
	"time"

	"github.com/socketbar/socketbar/serverctl"
)

// editFlags are shared by add and remove.
type editFlags struct {
	ports     portList
	dryRun    bool
	noRestart bool
}

func addEditFlags(fs *flag.FlagSet, ef *editFlags) {
	fs.Var(&ef.ports, "vhost", "port of a VirtualHost to change (repeatable; default: 443 and 80)")
	fs.BoolVar(&ef.dryRun, "dry-run", false, "print the change as a unified diff and write nothing")
	fs.BoolVar(&ef.noRestart, "no-restart", false, "write the file but do not restart the Service Proxy")
}

func (c *cli) add(args []string) int {
	fs := c.flags("add", "PATH BACKEND [--vhost PORT]… [--strategy auto|tunnel|upgrade] [--replace] [--dry-run]",
		`Add a WebSocket route for PATH to BACKEND in the Service Proxy's *:443 and *:80
VirtualHosts, as one block per VirtualHost marked with begin/end comments and placed
before the catch-all "ProxyPass /". Every other byte of the file stays as it was.

PATH is the public URL path (/ws/). BACKEND is the app's URL: http, https, ws or wss,
for example http://127.0.0.1:8000/ws/. Without a path, BACKEND keeps PATH
(http://127.0.0.1:8000 means http://127.0.0.1:8000/ws/).

Strategies: tunnel writes RewriteCond/RewriteRule [P] to ws:// (mod_proxy_wstunnel,
Apache 2.4.5+) plus ProxyPass for plain requests; upgrade writes one ProxyPass with
upgrade=websocket (Apache 2.4.47+ only); auto picks upgrade when Apache is known to be
2.4.47 or later, tunnel otherwise.`)
	sf := c.addServerFlags(fs)
	var ef editFlags
	addEditFlags(fs, &ef)
	strategy := fs.String("strategy", "auto", "auto, tunnel or upgrade")
	replace := fs.Bool("replace", false, "replace Socketbar's existing route for PATH")
	pos, code, done := c.parse(fs, args, 2, 2)
	if done {
		return code
	}
	srv, cfg, code := c.loadConfig(sf)
	if cfg == nil {
		return code
	}
	edit, err := cfg.AddRoute(serverctl.AddRequest{
		Path: pos[0], Backend: pos[1], Ports: ef.ports,
		Strategy: serverctl.Strategy(*strategy), Replace: *replace, Apache: srv.Apache,
	})
	if err != nil {
		return c.editFailed(err, "add")
	}
	fmt.Fprintf(c.stdout, "Strategy: %s (%s).\n", edit.Strategy, edit.Why)
	return c.applyEdit(cfg, edit, ef)
}

func (c *cli) remove(args []string) int {
	fs := c.flags("remove", "PATH [--vhost PORT]… [--dry-run]",
		"Remove Socketbar's route blocks for PATH (from every VirtualHost, or the ones named).\nRules Socketbar did not write are never removed.")
	sf := c.addServerFlags(fs)
	var ef editFlags
	addEditFlags(fs, &ef)
	pos, code, done := c.parse(fs, args, 1, 1)
	if done {
		return code
	}
	_, cfg, code := c.loadConfig(sf)
	if cfg == nil {
		return code
	}
	edit, err := cfg.RemoveRoute(pos[0], ef.ports)
	if err != nil {
		return c.editFailed(err, "remove")
	}
	return c.applyEdit(cfg, edit, ef)
}

// editFailed reports an edit that was refused before anything was written.
func (c *cli) editFailed(err error, cmd string) int {
	var in *serverctl.InputError
	var nm *serverctl.NotManagedError
	switch {
	case errors.As(err, &in):
		fmt.Fprintf(c.stderr, "socketbar %s: %s %s. Nothing was changed.\n", cmd, in.Field, in.Msg)
		return exitUsage
	case errors.As(err, &nm):
		fmt.Fprintf(c.stderr, "socketbar %s: %s. Nothing was changed.\n", cmd, nm.Msg)
		return exitFailure
	}
	fmt.Fprintf(c.stderr, "socketbar %s: %v. Nothing was changed.\n", cmd, err)
	return exitFailure
}

// applyEdit prints what the edit does and, unless it is a dry run, writes it.
func (c *cli) applyEdit(cfg *serverctl.Config, edit *serverctl.Edit, ef editFlags) int {
	for _, n := range edit.Notes {
		fmt.Fprintln(c.stdout, n)
	}
	if !edit.Changed() {
		fmt.Fprintln(c.stdout, "The config already has this route; nothing to change.")
		return exitOK
	}
	if ef.dryRun {
		fmt.Fprint(c.stdout, serverctl.UnifiedDiff(cfg.Path, cfg.Path+" (new)", edit.Old, edit.New))
		fmt.Fprintln(c.stdout, "Dry run: nothing was written.")
		return exitOK
	}
	backup, err := serverctl.WriteConfig(cfg.Path, edit, time.Now())
	if err != nil {
		if errors.Is(err, iofs.ErrPermission) {
			fmt.Fprintf(c.stderr, "socketbar: %v.\nThe config belongs to root: run the command again with sudo.\n", err)
		} else {
			fmt.Fprintf(c.stderr, "socketbar: %v\n", err)
		}
		return exitFailure
	}
	fmt.Fprintf(c.stdout, "Backed up the old config to %s.\nWrote %s.\n", backup, cfg.Path)
	if !ef.noRestart {
		fmt.Fprintln(c.stdout, "Restart the Service Proxy to use it: sudo launchctl kickstart -k system/com.apple.serviceproxy")
	}
	return exitOK
}
