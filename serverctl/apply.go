package serverctl

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/socketbar/socketbar/serverctl/run"
	"github.com/socketbar/socketbar/serverctl/service"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Step names a stage of a transaction; Applier.Progress hears each as it starts.
type Step string

// The stages, in order. Rollback runs only when restart or verify failed.
const (
	StepTest     Step = "test"
	StepBackup   Step = "backup"
	StepWrite    Step = "write"
	StepRestart  Step = "restart"
	StepVerify   Step = "verify"
	StepRollback Step = "rollback"
)

// Label is the step's name for people ("testing config").
func (s Step) Label() string {
	switch s {
	case StepTest:
		return "testing config"
	case StepBackup:
		return "backing up"
	case StepWrite:
		return "writing"
	case StepRestart:
		return "restarting"
	case StepVerify:
		return "verifying"
	case StepRollback:
		return "rolling back"
	}
	return string(s)
}

// ConfigTester runs Apache's config test on a file.
type ConfigTester interface {
	Test(ctx context.Context, path string) (output string, err error)
}

// HTTPDTester runs `httpd -t` the way the Service Proxy would read the file:
// the launchd job's program (on a Mac, Apple's wrapper, which sets CERT_ID
// and the PROXY_* defines), its -D defines and its environment.
type HTTPDTester struct {
	Binary  string
	Defines []string
	Env     []string
	Runner  run.Runner
}

// Command is the command line that tests path.
func (t HTTPDTester) Command(path string) run.Command {
	args := []string{"-t", "-f", path}
	for _, d := range t.Defines {
		args = append(args, "-D", d)
	}
	return run.Command{Path: t.Binary, Args: args, Env: t.Env}
}

// Test implements ConfigTester.
func (t HTTPDTester) Test(ctx context.Context, path string) (string, error) {
	r := t.Runner
	if r == nil {
		r = run.Exec{}
	}
	out, err := r.Run(ctx, t.Command(path))
	return strings.TrimSpace(string(out)), err
}

// Change is a new config text to put in place of Old.
type Change struct {
	Old, New    []byte
	Description string
	// UndoOf names the history entry this change undoes, and Reverts the
	// later ones it takes back with it.
	UndoOf  string
	Reverts []string
	// Also are the other files of the config the change touches (Server
	// 5.0/5.1's customsites file). The config test runs once on the whole
	// new set, each file is backed up and replaced atomically, and a
	// failed restart puts every one of them back.
	Also []FileEdit
}

// Result says what a transaction did.
type Result struct {
	Backup    BackupEntry
	Restarted bool
	PID       int
	Took      time.Duration
	// Recovered, when set, is a transaction a killed Socketbar left,
	// settled before this one started.
	Recovered *Recovery
}

// ConfigTestError is a new config that Apache refused; nothing was written.
type ConfigTestError struct{ Output string }

func (e *ConfigTestError) Error() string {
	return "Apache's config test failed for the new config (nothing was written):\n" + e.Output
}

// RestartError is a change that was written but did not come up, and what
// the rollback achieved.
type RestartError struct {
	Cause error
	// LogTail is the end of the Service Proxy's error log after the failure.
	LogTail string
	// Backup is the entry the old config was restored from.
	Backup BackupEntry
	// RollbackErr is nil when the old config is back and serving.
	RollbackErr error
	// Restored says the old config is back in place, whether or not the
	// Service Proxy came back with it: undoing to the backup changes nothing.
	Restored bool
}

// ErrWasStopped means the Service Proxy was not running before the
// restart either: what keeps it down is not the change.
var ErrWasStopped = errors.New("it was not running before the change either")

func (e *RestartError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the Service Proxy did not come back with the new config: %v", e.Cause)
	if e.LogTail != "" {
		fmt.Fprintf(&b, "\nLast lines of its error log:\n%s", e.LogTail)
	}
	if e.RollbackErr == nil {
		fmt.Fprintf(&b, "\nRolled back: the previous config (backup %s) is in place and the Service Proxy serves again.", e.Backup.ID)
	} else if e.Restored {
		fmt.Fprintf(&b, "\nRolled back, but: %v", e.RollbackErr)
	} else {
		fmt.Fprintf(&b, "\nRollback FAILED: %v\nThe previous config is saved as backup %s; undo to it once the cause is fixed.", e.RollbackErr, e.Backup.ID)
	}
	return b.String()
}

func (e *RestartError) Unwrap() error { return e.Cause }

// errLocked means another Socketbar holds the config's lock.
var errLocked = errors.New("another Socketbar is applying a change to this config; try again when it is done")

// Applier puts config changes in place as one transaction: test, back up,
// replace atomically, restart, verify, and roll back when the service does
// not come back. The CLI and the GUI both go through it.
type Applier struct {
	// ConfigPath is the config on this machine.
	ConfigPath string
	Tester     ConfigTester
	// Service restarts the Service Proxy; nil writes without restarting.
	Service service.Driver
	// Endpoints must answer HTTP after a restart.
	Endpoints []service.Endpoint
	// VerifyTimeout bounds restart plus verification (default 15 s).
	VerifyTimeout time.Duration
	// ErrorLog is the Service Proxy's error log, quoted on failure.
	ErrorLog string
	Backups  BackupStore
	// Progress, if set, hears each step as it starts.
	Progress func(Step)
	// Now returns the time (default time.Now).
	Now func() time.Time
	// AfterStep, if set, runs after each step completes; tests use it to
	// kill the process between steps. StepWrite completes right before
	// the main config's rename, after the other files' renames.
	AfterStep func(Step)
	// SiteFiles, if set, reads the site files the config includes (see
	// SiteFiles), so that the history records the routes of each, not
	// only of the files a change writes.
	SiteFiles func(ctx context.Context) ([]*Config, error)
	// ResolveInclude turns an Include line's argument into the path (or
	// wildcard pattern) on this machine that Apache reads, so that the
	// config test of a change to an included file can point the main
	// config at the new text. Nil takes the argument as it is.
	ResolveInclude func(arg string) string
	// Includes reads which files the config includes: the recovery of an
	// interrupted change writes back no other. Nil reads the config with
	// its paths as they are (Server.Applier sets the Server's way).
	Includes func(ctx context.Context) (IncludedFiles, error)
}

func (a *Applier) step(s Step) {
	if a.Progress != nil {
		a.Progress(s)
	}
}

func (a *Applier) done(s Step) {
	if a.AfterStep != nil {
		a.AfterStep(s)
	}
}

// Apply runs the transaction for ch. On any error before the write the
// config is untouched; after it, the old config is restored.
//
// Another writer (Server.app, an editor) does not take Socketbar's lock, so
// the file is compared with ch.Old again right before the rename, and with
// the new text right before a rollback writes the old one back: if it
// changed, nothing is written and the error wraps ErrChangedOnDisk, so
// that other edit is never lost.
//
// From just before the rename until the service is verified or the old
// config is back, a journal beside the backups records the transaction
// (see RecoverJournal); Apply first settles a journal a killed transaction
// left, and Result.Recovered says how; when Apply then fails, its error is
// an *AfterRecoveryError that says how.
func (a *Applier) Apply(ctx context.Context, ch Change) (*Result, error) {
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	start := now()
	if a.Tester == nil {
		return nil, errorf("no config tester; Socketbar never writes a config Apache has not accepted")
	}
	if err := ensureDir(a.Backups.Dir, 0o755); err != nil {
		return nil, errorf("backup folder: %w", err)
	}
	lock, err := lockFile(filepath.Join(a.Backups.Dir, ".lock"))
	if err != nil {
		return nil, errorf("lock %s: %w", a.Backups.Dir, err)
	}
	defer lock.Close()
	a.removeStaleTemps(ch.Also)
	recovered, err := a.recoverLocked(ctx)
	if err != nil {
		return nil, afterRecovery(recovered, err)
	}
	res, err := a.apply(ctx, ch, start, now)
	if err != nil {
		return nil, afterRecovery(recovered, err)
	}
	res.Recovered = recovered
	return res, nil
}

// apply is Apply after the lock is taken and any earlier transaction is
// settled.
func (a *Applier) apply(ctx context.Context, ch Change, start time.Time, now func() time.Time) (*Result, error) {
	files, err := readChange(a.ConfigPath, ch)
	if err != nil {
		return nil, err
	}
	if len(files) == 1 && bytes.Equal(files[0].old, files[0].new) {
		entry, err := a.record(ctx, ch, files[0], now())
		if err != nil {
			return nil, err
		}
		return &Result{Backup: entry, Took: now().Sub(start)}, nil
	}

	a.step(StepTest)
	if err := a.test(ctx, files); err != nil {
		return nil, err
	}
	a.done(StepTest)
	// The test takes a while; a writer meanwhile means the tested text
	// is no longer an edit of what is on disk.
	for _, f := range files {
		if err := unchangedOnDisk(f.path, f.old); err != nil {
			return nil, err
		}
	}

	a.step(StepBackup)
	entry, j, err := a.backUp(ctx, ch, files, now(), start)
	if err != nil {
		return nil, err
	}
	a.done(StepBackup)

	a.step(StepWrite)
	if err := a.write(files); err != nil {
		a.settle(entry, OutcomeNotWritten)
		return nil, err
	}
	res := &Result{Backup: entry}
	if a.Service == nil {
		res.Backup = a.settle(entry, OutcomeApplied)
		res.Took = now().Sub(start)
		return res, nil
	}

	pid, err := a.restartAndVerify(ctx)
	if err == nil {
		res.Backup = a.settle(entry, OutcomeApplied)
		res.Restarted, res.PID, res.Took = true, pid, now().Sub(start)
		return res, nil
	}
	rerr := &RestartError{Cause: err, LogTail: tailFile(a.ErrorLog, 15), Backup: entry}
	a.rollback(ctx, rerr, j, files)
	return nil, rerr
}

// backUp saves every file's old text under a new pending history entry
// and starts the journal that RecoverJournal reads if this process dies.
func (a *Applier) backUp(ctx context.Context, ch Change, files []changeFile, at, start time.Time) (BackupEntry, journal, error) {
	main := files[0]
	routes := a.recordedRoutes(ctx, ch, files)
	var also []FileBackup
	j := journal{Config: a.ConfigPath, OldSHA256: sha256Hex(main.old), NewSHA256: sha256Hex(main.new), Phase: phaseWrite, PID: os.Getpid(), Started: start}
	for _, f := range files[1:] {
		also = append(also, FileBackup{Path: f.path, Old: f.old, New: f.new, Perm: f.fi.Mode().Perm()})
		j.Also = append(j.Also, journalFile{Path: f.path, OldSHA256: sha256Hex(f.old), NewSHA256: sha256Hex(f.new)})
	}
	entry, err := a.Backups.Save(main.old, BackupEntry{Time: at, Description: ch.Description, UndoOf: ch.UndoOf, Reverts: ch.Reverts, AfterSHA256: sha256Hex(ch.New), Routes: routes, Outcome: OutcomePending}, main.fi.Mode().Perm(), also...)
	if err != nil {
		return entry, j, err
	}
	j.Backup = entry.ID
	if err := a.Backups.writeJournal(j); err != nil {
		a.settle(entry, OutcomeNotWritten)
		return entry, j, err
	}
	return entry, j, nil
}

// record saves the history entry of a change that writes no file: a
// reapply or remove that lets go of routes whose site is gone, an undo
// whose text is already in place. There is nothing to test, write or
// restart, so the entry is applied from the start and needs no journal.
func (a *Applier) record(ctx context.Context, ch Change, main changeFile, at time.Time) (BackupEntry, error) {
	a.step(StepBackup)
	entry, err := a.Backups.Save(main.old, BackupEntry{Time: at, Description: ch.Description, UndoOf: ch.UndoOf, Reverts: ch.Reverts,
		AfterSHA256: sha256Hex(ch.New), Routes: a.recordedRoutes(ctx, ch, []changeFile{main}), Outcome: OutcomeApplied}, main.fi.Mode().Perm())
	if err != nil {
		return entry, err
	}
	a.done(StepBackup)
	return entry, nil
}

// recordedRoutes are Socketbar's routes in the config the change leaves:
// the main config's new text, and every site file's, new where the change
// writes it and as it is where it does not. A change that writes only
// the main config still records the routes in the customsites file, so
// that their vanishing later is noticed as drift.
func (a *Applier) recordedRoutes(ctx context.Context, ch Change, files []changeFile) []ManagedRoute {
	nc, err := ParseConfig(a.ConfigPath, ch.New)
	if err != nil {
		return nil
	}
	written := map[string][]byte{}
	for _, f := range files[1:] {
		written[filepath.Clean(f.path)] = f.new
	}
	var texts []*Config
	if a.SiteFiles != nil {
		if site, err := a.SiteFiles(ctx); err == nil {
			for _, f := range site {
				src := f.Src
				if n, ok := written[filepath.Clean(f.Path)]; ok {
					src = n
					delete(written, filepath.Clean(f.Path))
				}
				texts = append(texts, &Config{Path: f.Path, Src: src})
			}
		}
	}
	for _, f := range files[1:] {
		if n, ok := written[filepath.Clean(f.path)]; ok {
			texts = append(texts, &Config{Path: f.path, Src: n})
		}
	}
	var included []*Config
	for _, t := range texts {
		if c, err := ParseConfig(t.Path, t.Src); err == nil {
			c.Included = true
			included = append(included, c)
		}
	}
	return managedRoutesOf(nc, included)
}

// changeFile is one file of a change: its text on disk (which the change
// was computed from), the new text, and its mode to keep.
type changeFile struct {
	path     string
	old, new []byte
	fi       os.FileInfo
}

// readChange checks that every file of ch still holds the text the change
// was computed from, and returns them, the main config first. Files the
// change leaves as they are are dropped.
func readChange(mainPath string, ch Change) ([]changeFile, error) {
	edits := append([]FileEdit{{Path: mainPath, Old: ch.Old, New: ch.New}}, ch.Also...)
	var files []changeFile
	seen := map[string]bool{}
	for i, e := range edits {
		if seen[e.Path] {
			return nil, errorf("the change names %s twice", e.Path)
		}
		seen[e.Path] = true
		if i > 0 && bytes.Equal(e.Old, e.New) {
			continue
		}
		cur, err := readFile(e.Path, false)
		if err != nil {
			return nil, errorf("read %s: %w", e.Path, err)
		}
		if !bytes.Equal(cur, e.Old) {
			return nil, errorf("%s: %w; run the command again", e.Path, ErrChangedOnDisk)
		}
		fi, err := os.Stat(e.Path)
		if err != nil {
			return nil, errorf("stat %s: %w", e.Path, err)
		}
		files = append(files, changeFile{path: e.Path, old: cur, new: e.New, fi: fi})
	}
	return files, nil
}

// write replaces the other files, then the main config, each atomically
// and only if nobody changed it since it was read. When one fails, the
// files already replaced get their old text back, so nothing is left half
// written.
func (a *Applier) write(files []changeFile) error {
	for i := len(files) - 1; i >= 0; i-- {
		f := files[i]
		err := replaceFile(f.path, f.new, f.fi, func() error {
			if i == 0 {
				a.done(StepWrite)
			}
			return unchangedOnDisk(f.path, f.old)
		})
		if err != nil {
			for _, w := range files[i+1:] {
				replaceFile(w.path, w.old, w.fi, func() error { return unchangedOnDisk(w.path, w.new) })
			}
			return err
		}
	}
	return nil
}

// rollback writes the old texts back in place of the new ones that did
// not come up and restarts again, recording in rerr how that went.
// Another writer's text, written after the rename, is never overwritten.
func (a *Applier) rollback(ctx context.Context, rerr *RestartError, j journal, files []changeFile) {
	a.step(StepRollback)
	j.Phase = phaseRollback
	if jerr := a.Backups.writeJournal(j); jerr != nil {
		rerr.RollbackErr = jerr
		return
	}
	var changed, failed error
	for _, f := range files {
		werr := replaceFile(f.path, f.old, f.fi, func() error { return unchangedOnDisk(f.path, f.new) })
		switch {
		case errors.Is(werr, ErrChangedOnDisk):
			changed = werr
		case werr != nil && failed == nil:
			failed = werr
		}
	}
	switch {
	case failed != nil:
		rerr.RollbackErr = failed // the journal stays: the next run retries
	case changed != nil:
		// Someone wrote a file after the rename: theirs stays.
		rerr.RollbackErr = fmt.Errorf("%w; the previous config was not written back there, so as not to lose that edit", changed)
		rerr.Backup = a.settle(rerr.Backup, OutcomeSuperseded)
	default:
		rerr.Restored = true
		if _, verr := a.restartAndVerify(ctx); verr != nil {
			rerr.RollbackErr = fmt.Errorf("the previous config is back in place, but the Service Proxy did not come back with it either: %w", verr)
		}
		rerr.Backup = a.settle(rerr.Backup, OutcomeRolledBack)
	}
}

// settle records the outcome of the change and ends its journal.
func (a *Applier) settle(e BackupEntry, o Outcome) BackupEntry {
	e, _ = a.Backups.SetOutcome(e, o)
	a.Backups.removeJournal()
	return e
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// testDirPattern names the folders in the backup folder that hold the
// config test's copies (os.MkdirTemp's pattern).
const testDirPattern = "test-*"

// removeStaleTemps deletes what a killed transaction left: the config
// test's folders in the backup folder, and the temporary files beside the
// config and the files in also (a new text not yet renamed into place,
// and the test copies that older versions wrote there). Only the lock
// holder may, so none of them is in use.
func (a *Applier) removeStaleTemps(also []FileEdit) {
	dirs, _ := filepath.Glob(filepath.Join(a.Backups.Dir, testDirPattern))
	for _, d := range dirs {
		if fi, err := os.Lstat(d); err == nil && fi.IsDir() {
			os.RemoveAll(d)
		}
	}
	paths := []string{a.ConfigPath}
	for _, f := range also {
		paths = append(paths, f.Path)
	}
	for _, p := range paths {
		// replaceFile writes beside the file a link points to.
		if target, err := filepath.EvalSymlinks(p); err == nil {
			p = target
		}
		dir, base := filepath.Dir(p), filepath.Base(p)
		for _, pattern := range []string{".socketbar-test-*.conf", "." + base + ".socketbar-*"} {
			stale, _ := filepath.Glob(filepath.Join(dir, pattern))
			for _, f := range stale {
				os.Remove(f)
			}
		}
	}
}

// test runs the config test once on the whole new set: the main config's
// copy includes the other files' copies in their place. The copies live in
// a folder of their own in the backup folder, never beside the config:
// there a copy a killed Socketbar left could be read as part of the config
// (a folder Include reads every file in it, hidden ones too), and only the
// next change would remove it.
func (a *Applier) test(ctx context.Context, files []changeFile) error {
	dir, err := os.MkdirTemp(a.Backups.Dir, testDirPattern)
	if err != nil {
		return errorf("write the config to test: %w", err)
	}
	defer os.RemoveAll(dir)
	redirect := map[string]string{}
	for i, f := range files[1:] {
		name, err := writeTemp(dir, i+1, f.path, f.new, f.fi)
		if err != nil {
			return err
		}
		redirect[filepath.Clean(f.path)] = name
	}
	text := files[0].new
	if len(redirect) > 0 {
		var err error
		if text, err = redirectIncludes(text, redirect, a.ResolveInclude); err != nil {
			return err
		}
	}
	name, err := writeTemp(dir, 0, a.ConfigPath, text, files[0].fi)
	if err != nil {
		return err
	}
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := a.Tester.Test(tctx, name)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) {
			return errorf("cannot run the config test: %w", err)
		}
		out = strings.ReplaceAll(out, name, a.ConfigPath)
		for real, tmp := range redirect {
			out = strings.ReplaceAll(out, tmp, real)
		}
		return &ConfigTestError{Output: out}
	}
	return nil
}

// writeTemp writes text to a new file in dir, named after path (the i-th
// file of the change, so that two files of one name do not collide), with
// path's mode, and returns its name.
func writeTemp(dir string, i int, path string, text []byte, like os.FileInfo) (string, error) {
	name := filepath.Join(dir, fmt.Sprintf("%d-%s", i, filepath.Base(path)))
	tmp, err := createExclusive(name, 0o600)
	if err != nil {
		return "", errorf("write the config to test: %w", err)
	}
	_, werr := tmp.Write(text)
	if werr == nil {
		werr = tmp.Chmod(like.Mode().Perm()) // through the descriptor: the name could be swapped meanwhile
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return "", errorf("write %s: %w", name, werr)
	}
	return name, nil
}

// Restart restarts the service and verifies it came back, without changing
// the config.
func (a *Applier) Restart(ctx context.Context) (int, error) {
	if a.Service == nil {
		return 0, errorf("no service to restart")
	}
	a.removeStaleTempsIfFree()
	return a.restartAndVerify(ctx)
}

// removeStaleTempsIfFree is removeStaleTemps for a command that does not
// change the config (restart): it takes the lock if it is free, and leaves
// the files alone when another Socketbar holds it, since they may be its own.
func (a *Applier) removeStaleTempsIfFree() {
	lock, err := lockFile(filepath.Join(a.Backups.Dir, ".lock"))
	if err != nil {
		return // no backup folder (nothing was ever written), or in use
	}
	defer lock.Close()
	a.removeStaleTemps(nil)
}

// ErrorLogTail returns the last lines of the Service Proxy's error log.
func (a *Applier) ErrorLogTail() string { return tailFile(a.ErrorLog, 15) }

// restartAndVerify restarts the service and waits until it runs with a new
// pid and every endpoint answers HTTP.
func (a *Applier) restartAndVerify(ctx context.Context) (int, error) {
	timeout := a.VerifyTimeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	before, err := a.Service.State(ctx)
	if err != nil {
		return 0, err
	}
	a.step(StepRestart)
	if err := a.Service.Restart(ctx); err != nil {
		return 0, err
	}
	a.done(StepRestart)
	a.step(StepVerify)
	pid, err := service.Verify(ctx, a.Service, before, a.Endpoints)
	if err != nil && !before.Running {
		return 0, fmt.Errorf("%w (%w)", err, ErrWasStopped)
	}
	if err != nil {
		return 0, err
	}
	a.done(StepVerify)
	return pid, nil
}
