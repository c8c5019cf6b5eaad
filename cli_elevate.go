package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/socketbar/socketbar/serverctl"
)

// plan is what the unprivileged socketbar hands to its elevated copy: one
// transaction, described in a file so that nothing travels through a shell.
type plan struct {
	Root          string        `json:"root"`
	HTTPD         string        `json:"httpd,omitempty"`
	ApacheVersion string        `json:"apache_version,omitempty"`
	OldSHA256     string        `json:"old_sha256"`
	NewFile       string        `json:"new_file"`
	Description   string        `json:"description"`
	UndoOf        string        `json:"undo_of,omitempty"`
	NoRestart     bool          `json:"no_restart"`
	Timeout       time.Duration `json:"timeout"`
}

// planResult is the elevated copy's answer, one JSON line on stdout.
type planResult struct {
	OK        bool     `json:"ok"`
	Error     string   `json:"error,omitempty"`
	BackupID  string   `json:"backup_id,omitempty"`
	Restarted bool     `json:"restarted"`
	PID       int      `json:"pid,omitempty"`
	TookMS    int64    `json:"took_ms"`
	Endpoints []string `json:"endpoints,omitempty"`
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// applyElevated runs the transaction as root after one administrator
// prompt (macOS), or says to use sudo (elsewhere).
func (c *cli) applyElevated(sf *serverFlags, cfg *serverctl.Config, ch serverctl.Change, ef editFlags) int {
	if runtime.GOOS != "darwin" {
		fmt.Fprintf(c.stderr, "socketbar: this user may not write %s or its folder. Run the command again with sudo. Nothing was changed.\n", cfg.Path)
		return exitFailure
	}
	dir, err := os.MkdirTemp("", "socketbar-plan-")
	if err != nil {
		fmt.Fprintf(c.stderr, "socketbar: %v. Nothing was changed.\n", err)
		return exitFailure
	}
	defer os.RemoveAll(dir)
	p := plan{Root: sf.root, HTTPD: sf.httpd, ApacheVersion: sf.apacheVersion, OldSHA256: sha(ch.Old),
		NewFile: filepath.Join(dir, "new.conf"), Description: ch.Description, UndoOf: ch.UndoOf,
		NoRestart: ef.noRestart, Timeout: ef.timeout}
	data, _ := json.Marshal(p)
	planPath := filepath.Join(dir, "plan.json")
	if err := os.WriteFile(p.NewFile, ch.New, 0o600); err == nil {
		err = os.WriteFile(planPath, data, 0o600)
	}
	if err != nil {
		fmt.Fprintf(c.stderr, "socketbar: write the plan: %v. Nothing was changed.\n", err)
		return exitFailure
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(c.stderr, "socketbar: %v. Nothing was changed.\n", err)
		return exitFailure
	}
	fmt.Fprintln(c.stdout, "The config belongs to root: asking for an administrator's password.")
	out, err := serverctl.Elevate(c.ctx, serverctl.ExecRunner{}, []string{self, "apply-plan", planPath})
	if errors.Is(err, serverctl.ErrCancelled) {
		fmt.Fprintln(c.stderr, "socketbar: you cancelled the administrator prompt. Nothing was changed.")
		return exitFailure
	}
	var res planResult
	lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
	if jerr := json.Unmarshal(lines[len(lines)-1], &res); jerr != nil {
		fmt.Fprintf(c.stderr, "socketbar: the elevated step failed: %v\n%s\n", err, out)
		return exitFailure
	}
	if !res.OK {
		fmt.Fprintf(c.stderr, "socketbar: %s\n", res.Error)
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
		c.writeJSONLine(planResult{Error: err.Error()})
		return exitFailure
	}
	data, err := os.ReadFile(pos[0])
	if err != nil {
		return fail(err)
	}
	var p plan
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
	if sha(cfg.Src) != p.OldSHA256 {
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
	out := planResult{OK: true, BackupID: res.Backup.ID, Restarted: res.Restarted, PID: res.PID, TookMS: res.Took.Milliseconds()}
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
