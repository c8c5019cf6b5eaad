package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"

	"github.com/socketbar/socketbar/serverctl"
)

// applyElevated runs the transaction as root after one administrator
// prompt (macOS), or says to use sudo (elsewhere).
func (c *cli) applyElevated(sf *serverFlags, cfg *serverctl.Config, ch serverctl.Change, ef editFlags) int {
	if runtime.GOOS != "darwin" {
		fmt.Fprintf(c.stderr, "socketbar: this user may not write %s or its folder. Run the command again with sudo. Nothing was changed.\n", cfg.Path)
		return exitFailure
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(c.stderr, "socketbar: %v. Nothing was changed.\n", err)
		return exitFailure
	}
	fmt.Fprintln(c.stdout, "The config belongs to root: asking for an administrator's password.")
	p := serverctl.Plan{Root: sf.root, HTTPD: sf.httpd, ApacheVersion: sf.apacheVersion, NoRestart: ef.noRestart, Timeout: ef.timeout}
	res, err := serverctl.ApplyElevated(c.ctx, serverctl.ExecRunner{}, self, p, ch)
	switch {
	case errors.Is(err, serverctl.ErrCancelled):
		fmt.Fprintln(c.stderr, "socketbar: you cancelled the administrator prompt. Nothing was changed.")
		return exitFailure
	case err != nil:
		fmt.Fprintf(c.stderr, "socketbar: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(c.stdout, "Backed up the old config as %s. Wrote %s.\n", res.BackupID, cfg.Path)
	if res.Restarted {
		fmt.Fprintf(c.stdout, "Restarted the Service Proxy (pid %d). Took %dms.\n", res.PID, res.TookMS)
	}
	return exitOK
}

// applyPlan is the elevated half: it rediscovers the Server, checks that
// the config is still what the plan was computed from, and runs the same
// transaction. It answers with one JSON line.
func (c *cli) applyPlan(args []string) int {
	fs := c.flags("apply-plan", "PLAN", "Run one planned transaction (used by socketbar itself after the administrator prompt).")
	pos, code, done := c.parse(fs, args, 1, 1)
	if done {
		return code
	}
	fail := func(err error) int {
		c.writeJSONLine(serverctl.PlanResult{Error: err.Error()})
		return exitFailure
	}
	data, err := os.ReadFile(pos[0])
	if err != nil {
		return fail(err)
	}
	var p serverctl.Plan
	if err := json.Unmarshal(data, &p); err != nil {
		return fail(fmt.Errorf("read plan: %w", err))
	}
	srv, err := serverctl.Discover(c.ctx, serverctl.Options{Root: p.Root, ApacheVersion: p.ApacheVersion, HTTPD: p.HTTPD})
	if err != nil {
		return fail(err)
	}
	cfg, err := serverctl.ReadConfig(srv.HostPath(srv.ConfigPath))
	if err != nil {
		return fail(err)
	}
	if serverctl.SHA256(cfg.Src) != p.OldSHA256 {
		return fail(fmt.Errorf("%s: %w; nothing was changed", cfg.Path, serverctl.ErrChangedOnDisk))
	}
	newText, err := os.ReadFile(p.NewFile)
	if err != nil {
		return fail(err)
	}
	a, err := srv.Applier(cfg, serverctl.ApplyOptions{HTTPD: p.HTTPD, NoRestart: p.NoRestart, VerifyTimeout: p.Timeout})
	if err != nil {
		return fail(err)
	}
	res, err := a.Apply(c.ctx, serverctl.Change{Old: cfg.Src, New: newText, Description: p.Description, UndoOf: p.UndoOf})
	if err != nil {
		return fail(err)
	}
	out := serverctl.PlanResult{OK: true, BackupID: res.Backup.ID, Restarted: res.Restarted, PID: res.PID, TookMS: res.Took.Milliseconds()}
	for _, e := range a.Endpoints {
		out.Endpoints = append(out.Endpoints, e.String())
	}
	c.writeJSONLine(out)
	return exitOK
}

func (c *cli) writeJSONLine(v any) {
	data, _ := json.Marshal(v)
	fmt.Fprintf(c.stdout, "%s\n", data)
}
