package elevate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/socketbar/socketbar/serverctl/run"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/socketbar/socketbar/serverctl"
)

// Command is the socketbar command that runs the elevated half.
const Command = "apply-plan"

// maxFileSize bounds what the elevated half reads: a plan is a few hundred
// bytes and a Service Proxy config well under a megabyte.
const maxFileSize = 16 << 20

// Plan is one transaction for the elevated half. It names no program: the
// elevated half runs the Server's own httpd, found again as root.
type Plan struct {
	// Root is the directory that stands for "/" ("/" on a Mac).
	Root        string        `json:"root"`
	Description string        `json:"description"`
	UndoOf      string        `json:"undo_of,omitempty"`
	Reverts     []string      `json:"reverts,omitempty"`
	NoRestart   bool          `json:"no_restart"`
	Timeout     time.Duration `json:"timeout"`
	// Files are the change's files as the history records them (see
	// serverctl.FileEdit.Record): the main config first, whose path is
	// left empty (the elevated half finds the config again as root), then
	// the others (Server 5.0/5.1's customsites file), which must be files
	// the Server's config includes. The elevated half refuses a file that
	// no longer holds the text of OldSHA256, and takes each new text from
	// a file of its own beside the plan (newFile) whose bytes must hash to
	// NewSHA256; the plan's hash, in the prompt's argv, covers them all.
	Files []serverctl.FileEdit `json:"files"`
}

// newFile is where the new text of a plan's i-th file is, in the plan's
// folder dir.
func newFile(dir string, i int) string { return filepath.Join(dir, fmt.Sprintf("new-%d.conf", i)) }

// Result is the elevated half's answer, one JSON line on its stdout.
type Result struct {
	OK        bool       `json:"ok"`
	Error     *WireError `json:"error,omitempty"`
	BackupID  string     `json:"backup_id,omitempty"`
	Restarted bool       `json:"restarted"`
	PID       int        `json:"pid,omitempty"`
	TookMS    int64      `json:"took_ms"`
	Endpoints []string   `json:"endpoints,omitempty"`
	// Recovered is how the elevated half first settled a change a killed
	// Socketbar had left half-done, whether or not this one then went
	// through: that settling may have written files.
	Recovered *WireRecovery `json:"recovered,omitempty"`
}

// SHA256 is the hex SHA-256 of b.
func SHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Apply runs ch as root through one administrator prompt (r runs osascript;
// self is the socketbar binary). ErrCancelled means the person dismissed
// the prompt and nothing changed; other errors have the types the
// transaction itself returns.
func Apply(ctx context.Context, r run.Runner, self string, p Plan, ch serverctl.Change) (*Result, error) {
	dir, err := os.MkdirTemp("", "socketbar-plan-") // 0700: only this user
	if err != nil {
		return nil, errorf("make the plan folder: %w", err)
	}
	defer os.RemoveAll(dir)
	p.Description, p.UndoOf, p.Reverts = ch.Description, ch.UndoOf, ch.Reverts
	files := append([]serverctl.FileEdit{{Old: ch.Old, New: ch.New}}, ch.Also...)
	p.Files = nil
	for i, f := range files {
		p.Files = append(p.Files, f.Record())
		if err := writeNew(newFile(dir, i), f.New); err != nil {
			return nil, err
		}
	}
	plan, err := json.Marshal(p)
	if err != nil {
		return nil, errorf("encode the plan: %w", err)
	}
	planFile := filepath.Join(dir, "plan.json")
	if err := writeNew(planFile, plan); err != nil {
		return nil, err
	}
	out, err := Run(ctx, r, Args(self, planFile, plan, newFile(dir, 0), ch.New))
	if errors.Is(err, ErrCancelled) {
		return nil, err
	}
	var res Result
	lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
	if jerr := json.Unmarshal(lines[len(lines)-1], &res); jerr != nil {
		if err == nil {
			err = jerr
		}
		return nil, errorf("the elevated step failed: %w: %s", err, bytes.TrimSpace(out))
	}
	if !res.OK {
		err := res.Error.Err()
		if res.Recovered != nil {
			err = &serverctl.AfterRecoveryError{Recovery: res.Recovered.Recovery(), Err: err}
		}
		return &res, err
	}
	return &res, nil
}

// Args is the command line the prompt covers: the program, its command,
// and each file with the hash of the exact bytes it must hold.
func Args(self, planFile string, plan []byte, newFile string, newText []byte) []string {
	return []string{self, Command, planFile, SHA256(plan), newFile, SHA256(newText)}
}

// writeNew creates path for this user alone; it never opens an existing
// file or follows a link.
func writeNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return errorf("write the plan: %w", err)
	}
	_, werr := f.Write(data)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return errorf("write %s: %w", path, werr)
	}
	return nil
}

// RunPlan is the elevated half: args are what Args made, after the
// program and command. It verifies both files against their hashes, finds
// the Server again, checks that the config is still what the plan was
// computed from, and runs the same transaction as without elevation. It
// never returns an error: the outcome is in the Result.
func RunPlan(ctx context.Context, args []string) Result {
	res, err := runPlan(ctx, run.Exec{}, args)
	if err != nil {
		var after *serverctl.AfterRecoveryError
		if errors.As(err, &after) {
			return Result{Error: NewWireError(after.Err), Recovered: NewWireRecovery(after.Recovery)}
		}
		return Result{Error: NewWireError(err)}
	}
	return *res
}

func runPlan(ctx context.Context, runner run.Runner, args []string) (*Result, error) {
	if len(args) != 4 {
		return nil, errorf("%s takes PLAN PLAN_SHA256 NEW NEW_SHA256, got %d arguments", Command, len(args))
	}
	planBytes, err := readVerified(args[0], args[1])
	if err != nil {
		return nil, err
	}
	newText, err := readVerified(args[2], args[3])
	if err != nil {
		return nil, err
	}
	var p Plan
	if err := json.Unmarshal(planBytes, &p); err != nil {
		return nil, errorf("read the plan: %w", err)
	}
	if len(p.Files) == 0 || p.Files[0].NewSHA256 != SHA256(newText) {
		return nil, errorf("%s %w", args[2], ErrTampered) // its hash is in the argv, but not in the plan
	}
	// Every program the elevated half runs (httpd -v, -t, -k; launchctl)
	// goes through the same check: root runs nothing its user could swap.
	runner = rootOnlyRunner{runner}
	srv, err := serverctl.Discover(ctx, serverctl.Options{Root: p.Root, Runner: runner})
	if err != nil {
		return nil, err
	}
	cfg, err := serverctl.ReadConfig(srv.HostPath(srv.ConfigPath))
	if err != nil {
		return nil, err
	}
	if SHA256(cfg.Src) != p.Files[0].OldSHA256 {
		return nil, errorf("%s: %w; nothing was changed", cfg.Path, serverctl.ErrChangedOnDisk)
	}
	// No HTTPD override: the Server's own program, re-derived as root.
	a, err := srv.Applier(cfg, serverctl.ApplyOptions{NoRestart: p.NoRestart, VerifyTimeout: p.Timeout, Runner: runner})
	if err != nil {
		return nil, err
	}
	// Said up front: inside the config test a refusal would read as
	// Apache's own failure.
	if t, ok := a.Tester.(serverctl.HTTPDTester); ok {
		if err := ownedByRoot(t.Binary); err != nil {
			return nil, err
		}
	}
	also, err := planFiles(ctx, srv, cfg, p.Files[1:], filepath.Dir(args[0]))
	if err != nil {
		return nil, err
	}
	res, err := a.Apply(ctx, serverctl.Change{Old: cfg.Src, New: newText, Description: p.Description, UndoOf: p.UndoOf, Reverts: p.Reverts, Also: also})
	if err != nil {
		return nil, err
	}
	out := &Result{OK: true, BackupID: res.Backup.ID, Restarted: res.Restarted, PID: res.PID, TookMS: res.Took.Milliseconds(), Recovered: NewWireRecovery(res.Recovered)}
	for _, e := range a.Endpoints {
		out.Endpoints = append(out.Endpoints, e.String())
	}
	return out, nil
}

// planFiles checks the plan's other files as root: each must be a file the
// Server's config includes (never the main config itself), still hold the
// text the change was computed from, and be a regular file. It returns
// them as the transaction takes them, each with the new text from the plan
// folder dir, verified against the plan.
func planFiles(ctx context.Context, srv *serverctl.Server, cfg *serverctl.Config, files []serverctl.FileEdit, dir string) ([]serverctl.FileEdit, error) {
	if len(files) == 0 {
		return nil, nil
	}
	included, err := srv.Includes(ctx, cfg)
	if err != nil {
		return nil, errorf("%w", err)
	}
	var also []serverctl.FileEdit
	for i, f := range files {
		path := filepath.Clean(f.Path)
		if !included.Has(path) {
			return nil, errorf("the plan names %s, which is not a file the Service Proxy's config includes; nothing was changed", f.Path)
		}
		// Read as the main config is read (a link is followed, as Apache
		// follows it, and the write keeps it): a link there was put there
		// by root or an administrator, who alone may write the folder.
		cur, err := serverctl.ReadConfig(path)
		if err != nil {
			return nil, err
		}
		if SHA256(cur.Src) != f.OldSHA256 {
			return nil, errorf("%s: %w; nothing was changed", path, serverctl.ErrChangedOnDisk)
		}
		newText, err := readVerified(newFile(dir, i+1), f.NewSHA256)
		if err != nil {
			return nil, err
		}
		also = append(also, serverctl.FileEdit{Path: path, Old: cur.Src, New: newText})
	}
	return also, nil
}

// ErrTampered means a plan file does not hold the bytes the administrator
// approved: it was changed after the prompt.
var ErrTampered = errors.New("does not hold what the administrator approved (its SHA-256 differs); nothing was changed")

// readVerified reads path once, without following a link, and returns its
// bytes only when they hash to want.
func readVerified(path, want string) ([]byte, error) {
	data, err := readNoFollow(path)
	if err != nil {
		return nil, err
	}
	if SHA256(data) != want {
		return nil, errorf("%s %w", path, ErrTampered)
	}
	return data, nil
}

// readNoFollow reads a regular file of at most maxFileSize once, without
// following a link.
func readNoFollow(path string) ([]byte, error) {
	f, err := openNoFollow(path)
	if err != nil {
		return nil, errorf("open %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, errorf("stat %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, errorf("%s is not a regular file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, errorf("read %s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return nil, errorf("%s is larger than %d bytes", path, maxFileSize)
	}
	return data, nil
}

// rootOnlyRunner runs a program only when it and the folders above it
// belong to root (see ownedByRoot).
type rootOnlyRunner struct{ run.Runner }

func (r rootOnlyRunner) Run(ctx context.Context, cmd run.Command) ([]byte, error) {
	if err := ownedByRoot(cmd.Path); err != nil {
		return nil, err
	}
	return r.Runner.Run(ctx, cmd)
}
