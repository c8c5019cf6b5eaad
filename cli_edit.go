package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/socketbar/socketbar/serverctl"
)

// editFlags are shared by every command that changes the config.
type editFlags struct {
	ports     portList
	dryRun    bool
	noRestart bool
	timeout   time.Duration
}

func addEditFlags(fs *flag.FlagSet, ef *editFlags, withPorts bool) {
	if withPorts {
		fs.Var(&ef.ports, "vhost", "port of a VirtualHost to change (repeatable; default: 443 and 80)")
	}
	fs.BoolVar(&ef.dryRun, "dry-run", false, "print the change as a unified diff and write nothing")
	fs.BoolVar(&ef.noRestart, "no-restart", false, "write the file (after Apache's config test) but do not restart the Service Proxy")
	fs.DurationVar(&ef.timeout, "timeout", 15*time.Second, "how long the Service Proxy may take to come back after a restart")
}

func (c *cli) add(args []string) int {
	fs := c.flags("add", "PATH BACKEND [--vhost PORT]… [--strategy auto|tunnel|upgrade] [--replace] [--dry-run]",
		`Add a WebSocket route for PATH to BACKEND in the Service Proxy's *:443 and *:80
VirtualHosts, as one block per VirtualHost marked with begin/end comments and placed
before the catch-all "ProxyPass /". Every other byte of the file stays as it was.
The change is tested with Apache's config test, backed up, written atomically, and
the Service Proxy restarted and verified; if it does not come back, the old config
is restored.

PATH is the public URL path (/ws/). BACKEND is the app's URL: http, https, ws or wss,
for example http://127.0.0.1:8000/ws/. Without a path, BACKEND keeps PATH
(http://127.0.0.1:8000 means http://127.0.0.1:8000/ws/).

Strategies: tunnel writes RewriteCond/RewriteRule [P] to ws:// (mod_proxy_wstunnel,
Apache 2.4.5+) plus ProxyPass for plain requests; upgrade writes one ProxyPass with
upgrade=websocket (Apache 2.4.47+ only); auto picks upgrade when Apache is known to be
2.4.47 or later, tunnel otherwise.`)
	sf := c.addServerFlags(fs)
	var ef editFlags
	addEditFlags(fs, &ef, true)
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
		Path: pos[0], Backend: pos[1], Ports: ef.ports, DefaultPorts: srv.WebPorts,
		Strategy: serverctl.Strategy(*strategy), Replace: *replace, Apache: srv.Apache,
	})
	if err != nil {
		return c.editFailed(err, "add")
	}
	fmt.Fprintf(c.stdout, "Strategy: %s (%s).\n", edit.Strategy, edit.Why)
	desc := fmt.Sprintf("add %s → %s (%s)", pos[0], pos[1], edit.Strategy)
	return c.commit(sf, srv, cfg, edit, serverctl.Change{Old: edit.Old, New: edit.New, Description: desc}, ef)
}

func (c *cli) remove(args []string) int {
	fs := c.flags("remove", "PATH [--vhost PORT]… [--dry-run]",
		"Remove Socketbar's route blocks for PATH (from every VirtualHost, or the ones named),\nthrough the same test, backup, restart and verification as add.\nRules Socketbar did not write are never removed.")
	sf := c.addServerFlags(fs)
	var ef editFlags
	addEditFlags(fs, &ef, true)
	pos, code, done := c.parse(fs, args, 1, 1)
	if done {
		return code
	}
	srv, cfg, code := c.loadConfig(sf)
	if cfg == nil {
		return code
	}
	edit, err := cfg.RemoveRoute(pos[0], ef.ports)
	if err != nil {
		return c.editFailed(err, "remove")
	}
	return c.commit(sf, srv, cfg, edit, serverctl.Change{Old: edit.Old, New: edit.New, Description: "remove " + pos[0]}, ef)
}

func (c *cli) undo(args []string) int {
	fs := c.flags("undo", "[--to ID] [--dry-run]",
		"Put back the config as it was before Socketbar's last change (or before change ID,\nsee socketbar history), through the same test, backup, restart and verification.\nRepeating undo walks further back.")
	sf := c.addServerFlags(fs)
	var ef editFlags
	addEditFlags(fs, &ef, false)
	to := fs.String("to", "", "history ID of the change to undo")
	if _, code, done := c.parse(fs, args, 0, 0); done {
		return code
	}
	srv, cfg, code := c.loadConfig(sf)
	if cfg == nil {
		return code
	}
	store := serverctl.BackupStoreFor(cfg.Path)
	var entry serverctl.BackupEntry
	var err error
	if *to == "" {
		entry, err = store.UndoTarget()
	} else {
		entry, _, err = store.Load(*to)
	}
	if err != nil {
		fmt.Fprintf(c.stderr, "socketbar undo: %v\n", err)
		return exitFailure
	}
	_, old, err := store.Load(entry.ID)
	if err != nil {
		fmt.Fprintf(c.stderr, "socketbar undo: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(c.stdout, "Undoing %s (%s, %s).\n", entry.ID, entry.Description, entry.Time.Local().Format(time.DateTime))
	edit := &serverctl.Edit{Old: cfg.Src, New: old}
	return c.commit(sf, srv, cfg, edit, serverctl.Change{Old: cfg.Src, New: old, Description: "undo: " + entry.Description, UndoOf: entry.ID}, ef)
}

func (c *cli) reapply(args []string) int {
	fs := c.flags("reapply", "[--dry-run]",
		"Put back Socketbar's routes that vanished from the config since its last change\n(Server.app rewrites the file on certificate changes and promotion).")
	sf := c.addServerFlags(fs)
	var ef editFlags
	addEditFlags(fs, &ef, false)
	if _, code, done := c.parse(fs, args, 0, 0); done {
		return code
	}
	srv, cfg, code := c.loadConfig(sf)
	if cfg == nil {
		return code
	}
	d, err := serverctl.FindDrift(cfg, serverctl.BackupStoreFor(cfg.Path))
	if err != nil {
		fmt.Fprintf(c.stderr, "socketbar reapply: %v\n", err)
		return exitFailure
	}
	if d == nil {
		fmt.Fprintln(c.stdout, "Every route Socketbar recorded is in the config; nothing to put back.")
		return exitOK
	}
	edit, err := cfg.Reapply(d, srv.Apache)
	if err != nil {
		return c.editFailed(err, "reapply")
	}
	return c.commit(sf, srv, cfg, edit, serverctl.Change{Old: edit.Old, New: edit.New, Description: fmt.Sprintf("reapply %d route(s) lost since %s", len(d.Missing), d.Entry.ID)}, ef)
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

// commit prints what the edit does and, unless it is a dry run, puts it in
// place through the transaction, elevating once when the config is root's.
func (c *cli) commit(sf *serverFlags, srv *serverctl.Server, cfg *serverctl.Config, edit *serverctl.Edit, ch serverctl.Change, ef editFlags) int {
	for _, n := range edit.Notes {
		fmt.Fprintln(c.stdout, n)
	}
	if !edit.Changed() {
		fmt.Fprintln(c.stdout, "The config already is that way; nothing to change.")
		return exitOK
	}
	if ef.dryRun {
		fmt.Fprint(c.stdout, serverctl.UnifiedDiff(cfg.Path, cfg.Path+" (new)", edit.Old, edit.New))
		fmt.Fprintln(c.stdout, "Dry run: nothing was written.")
		return exitOK
	}
	return c.apply(sf, srv, cfg, ch, ef)
}

// killHook lets tests kill the process right after a step, to prove the
// config is never left half-written. It is read from
// SOCKETBAR_TEST_KILL_AFTER (a step name: test, backup, write, …).
func (c *cli) killHook() func(serverctl.Step) {
	at := c.getenv("SOCKETBAR_TEST_KILL_AFTER")
	if at == "" {
		return nil
	}
	return func(s serverctl.Step) {
		if string(s) == at {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
	}
}

// apply runs the transaction here, or through the administrator prompt
// when this user may not write the config.
func (c *cli) apply(sf *serverFlags, srv *serverctl.Server, cfg *serverctl.Config, ch serverctl.Change, ef editFlags) int {
	a, err := srv.Applier(cfg, serverctl.ApplyOptions{HTTPD: sf.httpd, NoRestart: ef.noRestart, VerifyTimeout: ef.timeout})
	if err != nil {
		fmt.Fprintf(c.stderr, "socketbar: %v. Nothing was changed.\n", err)
		return exitFailure
	}
	if !c.mayWrite(cfg.Path, a.Backups.Dir) {
		return c.applyElevated(sf, cfg, ch, ef)
	}
	a.Progress = func(s serverctl.Step) { fmt.Fprintf(c.stdout, "… %s\n", s.Label()) }
	a.AfterStep = c.killHook()
	res, err := a.Apply(c.ctx, ch)
	return c.report(cfg.Path, a, res, err)
}

// report prints the transaction's outcome and returns the exit code.
func (c *cli) report(path string, a *serverctl.Applier, res *serverctl.Result, err error) int {
	var cte *serverctl.ConfigTestError
	var rse *serverctl.RestartError
	switch {
	case errors.As(err, &cte):
		fmt.Fprintf(c.stderr, "socketbar: %v\nFix the cause above; the config on disk was not changed.\n", cte)
		return exitFailure
	case errors.As(err, &rse):
		fmt.Fprintf(c.stderr, "socketbar: %v\n", rse)
		return exitFailure
	case errors.Is(err, serverctl.ErrChangedOnDisk):
		fmt.Fprintf(c.stderr, "socketbar: %v\nSomething else (Server.app?) wrote the file meanwhile; nothing was changed.\n", err)
		return exitFailure
	case err != nil:
		fmt.Fprintf(c.stderr, "socketbar: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(c.stdout, "Backed up the old config as %s (see socketbar history).\nWrote %s.\n", res.Backup.ID, path)
	if !res.Restarted {
		fmt.Fprintln(c.stdout, "Not restarted (--no-restart): the Service Proxy uses the new config from its next restart (socketbar restart).")
		return exitOK
	}
	var eps []string
	for _, e := range a.Endpoints {
		eps = append(eps, e.String())
	}
	fmt.Fprintf(c.stdout, "Restarted the Service Proxy (pid %d); it answers on %s. Took %s.\n", res.PID, orNone(strings.Join(eps, ", ")), res.Took.Round(time.Millisecond))
	return exitOK
}

// mayWrite reports whether this process can replace the config and write
// its backups without help.
func (c *cli) mayWrite(path, backups string) bool {
	if !serverctl.Writable(path) || !serverctl.Writable(filepath.Dir(path)) {
		return false
	}
	if _, err := os.Stat(backups); err == nil {
		return serverctl.Writable(backups)
	}
	return true
}
