package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/socketbar/socketbar/serverctl"
)

func (c *cli) history(args []string) int {
	fs := c.flags("history", "[--json]", "List Socketbar's changes to the Service Proxy config, newest first, with the backups\nthat undo uses (the last 20 are kept).")
	sf := c.addServerFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if _, code, done := c.parse(fs, args, 0, 0); done {
		return code
	}
	_, cfg, code := c.loadConfig(sf)
	if cfg == nil {
		return code
	}
	store := serverctl.BackupStoreFor(cfg.Path)
	entries, err := store.List()
	if err != nil {
		fmt.Fprintf(c.stderr, "socketbar history: %v\n", err)
		return exitFailure
	}
	if *asJSON {
		if entries == nil {
			entries = []serverctl.BackupEntry{}
		}
		return c.writeJSON(struct {
			Backups string                  `json:"backups"`
			Entries []serverctl.BackupEntry `json:"entries"`
		}{store.Dir, entries})
	}
	if len(entries) == 0 {
		fmt.Fprintf(c.stdout, "Socketbar has not changed %s yet.\n", cfg.Path)
		return exitOK
	}
	undone := map[string]bool{}
	for _, e := range entries {
		if e.UndoOf != "" {
			undone[e.UndoOf] = true
		}
	}
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tWHEN\tCHANGE")
	for _, e := range entries {
		desc := e.Description
		if undone[e.ID] {
			desc += " (undone)"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", e.ID, e.Time.Local().Format(time.DateTime), desc)
	}
	w.Flush()
	fmt.Fprintf(c.stdout, "\nBackups are in %s. `socketbar undo` reverts the newest change not yet undone; `socketbar undo --to ID` a chosen one.\n", store.Dir)
	return exitOK
}

func (c *cli) restart(args []string) int {
	fs := c.flags("restart", "[--timeout 15s]", "Restart the Service Proxy and check that it comes back: running with a new pid and\nanswering HTTP on every port it listens on.")
	sf := c.addServerFlags(fs)
	timeout := fs.Duration("timeout", 15*time.Second, "how long the Service Proxy may take to come back")
	if _, code, done := c.parse(fs, args, 0, 0); done {
		return code
	}
	srv, cfg, code := c.loadConfig(sf)
	if cfg == nil {
		return code
	}
	a, err := srv.Applier(cfg, serverctl.ApplyOptions{HTTPD: sf.httpd, VerifyTimeout: *timeout})
	if err != nil {
		fmt.Fprintf(c.stderr, "socketbar restart: %v\n", err)
		return exitFailure
	}
	start := time.Now()
	pid, err := a.Restart(c.ctx)
	if err != nil {
		fmt.Fprintf(c.stderr, "socketbar restart: %v\n", err)
		if tail := a.ErrorLogTail(); tail != "" {
			fmt.Fprintf(c.stderr, "Last lines of %s:\n%s\n", a.ErrorLog, tail)
		}
		return exitFailure
	}
	var eps []string
	for _, e := range a.Endpoints {
		eps = append(eps, e.String())
	}
	fmt.Fprintf(c.stdout, "Restarted the Service Proxy with %s (pid %d); it answers on %s. Took %s.\n",
		a.Service.Name(), pid, orNone(strings.Join(eps, ", ")), time.Since(start).Round(time.Millisecond))
	return exitOK
}
