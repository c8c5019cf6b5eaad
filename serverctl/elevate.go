package serverctl

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// ErrCancelled means the person dismissed the administrator prompt.
var ErrCancelled = errors.New("the administrator prompt was cancelled; nothing was changed")

// elevateScript runs its arguments as one shell command with administrator
// rights. The arguments arrive as argv and each is passed through AppleScript's
// `quoted form of`, so no path or value is ever part of AppleScript or shell
// source: quotes, $(…), backticks and newlines stay inert.
var elevateScript = []string{
	"on run argv",
	`set cmd to ""`,
	"repeat with a in argv",
	`set cmd to cmd & quoted form of (a as text) & " "`,
	"end repeat",
	"do shell script cmd with administrator privileges",
	"end run",
}

// OsascriptCommand returns the osascript command line that runs args (the
// program first) as root after one password prompt. Every argument must be
// an absolute path or a word that does not start with '-', so osascript
// cannot mistake it for one of its own options.
func OsascriptCommand(args []string) (Command, error) {
	if len(args) == 0 || !filepath.IsAbs(args[0]) {
		return Command{}, fmt.Errorf("serverctl: elevate: the program must be an absolute path, got %q", args)
	}
	var cmd Command
	cmd.Path = "/usr/bin/osascript"
	for _, line := range elevateScript {
		cmd.Args = append(cmd.Args, "-e", line)
	}
	for _, a := range args {
		if a == "" || a[0] == '-' {
			return Command{}, fmt.Errorf("serverctl: elevate: argument %q would read as an osascript option", a)
		}
	}
	cmd.Args = append(cmd.Args, args...)
	return cmd, nil
}

// Elevate runs args as root through osascript's administrator prompt and
// returns the command's output. A cancelled prompt gives ErrCancelled.
func Elevate(ctx context.Context, r Runner, args []string) ([]byte, error) {
	cmd, err := OsascriptCommand(args)
	if err != nil {
		return nil, err
	}
	out, err := r.Run(ctx, cmd)
	if err != nil && (bytes.Contains(out, []byte("(-128)")) || bytes.Contains(out, []byte("User canceled"))) {
		return out, ErrCancelled
	}
	return out, err
}

// Plan is one transaction handed to an elevated copy of socketbar (its
// apply-plan command): everything travels in files, nothing through a shell.
type Plan struct {
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

// PlanResult is the elevated copy's answer, one JSON line on its stdout.
type PlanResult struct {
	OK        bool     `json:"ok"`
	Error     string   `json:"error,omitempty"`
	BackupID  string   `json:"backup_id,omitempty"`
	Restarted bool     `json:"restarted"`
	PID       int      `json:"pid,omitempty"`
	TookMS    int64    `json:"took_ms"`
	Endpoints []string `json:"endpoints,omitempty"`
}

// SHA256 is the hex SHA-256 of b, as plans record the config they expect.
func SHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// ApplyElevated runs ch as root through one administrator prompt: it
// writes the plan and the new text to a private temporary folder and runs
// `self apply-plan PLAN` through osascript. ErrCancelled means the person
// dismissed the prompt and nothing changed.
func ApplyElevated(ctx context.Context, r Runner, self string, p Plan, ch Change) (*PlanResult, error) {
	dir, err := os.MkdirTemp("", "socketbar-plan-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	p.OldSHA256, p.NewFile, p.Description, p.UndoOf = SHA256(ch.Old), filepath.Join(dir, "new.conf"), ch.Description, ch.UndoOf
	data, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	planPath := filepath.Join(dir, "plan.json")
	if err := os.WriteFile(p.NewFile, ch.New, 0o600); err != nil {
		return nil, fmt.Errorf("serverctl: write the plan: %w", err)
	}
	if err := os.WriteFile(planPath, data, 0o600); err != nil {
		return nil, fmt.Errorf("serverctl: write the plan: %w", err)
	}
	out, err := Elevate(ctx, r, []string{self, "apply-plan", planPath})
	if errors.Is(err, ErrCancelled) {
		return nil, err
	}
	lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
	var res PlanResult
	if jerr := json.Unmarshal(lines[len(lines)-1], &res); jerr != nil {
		return nil, fmt.Errorf("serverctl: the elevated step failed: %v: %s", err, out)
	}
	if !res.OK {
		return &res, errors.New(res.Error)
	}
	return &res, nil
}
