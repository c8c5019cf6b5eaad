package serverctl

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/socketbar/socketbar/serverctl/service"
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

	// textPath writes a path of this machine as the config the Server's
	// httpd reads names it (a Server reached over SSH: the Server's path
	// for the mirror's); nil keeps it.
	textPath func(string) string
}

// disk is where the config and its backups are.
func (a *Applier) disk() Disk { return a.Backups.disk() }

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
//
// A change that went through but whose outcome the history could not
// record returns its Result along with an *OutcomeNotRecordedError; any other
// error comes without a Result.
func (a *Applier) Apply(ctx context.Context, ch Change) (*Result, error) {
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	start := now()
	if a.Tester == nil {
		return nil, errorf("no config tester; Socketbar never writes a config Apache has not accepted")
	}
	if err := ensureDir(a.disk(), a.Backups.Dir, 0o755); err != nil {
		return nil, errorf("backup folder: %w", err)
	}
	l, err := lock(a.disk(), a.Backups.Dir)
	if err != nil {
		return nil, errorf("lock %s: %w", a.Backups.Dir, err)
	}
	defer l.Close()
	a.removeStaleTemps(ch.Also)
	recovered, err := a.recoverLocked(ctx)
	if err != nil {
		return nil, afterRecovery(recovered, err)
	}
	res, err := a.apply(ctx, ch, start, now)
	if res != nil {
		res.Recovered = recovered
	}
	return res, afterRecovery(recovered, err)
}

// apply is Apply after the lock is taken and any earlier transaction is
// settled.
func (a *Applier) apply(ctx context.Context, ch Change, start time.Time, now func() time.Time) (*Result, error) {
	files, err := a.readChange(ch)
	if err != nil {
		return nil, err
	}
	if len(files) == 1 && bytes.Equal(files[0].Old, files[0].New) {
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
		if err := unchangedOnDisk(a.disk(), f.Path, f.Old); err != nil {
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
	if halfWritten, err := a.write(files); err != nil {
		if halfWritten {
			return nil, err // the journal stays: the next command puts the old texts back
		}
		return nil, a.notWritten(entry, err)
	}
	res := &Result{Backup: entry}
	if a.Service == nil {
		res.Took = now().Sub(start)
		res.Backup, err = a.settle(entry, OutcomeApplied)
		return res, err
	}

	pid, err := a.restartAndVerify(ctx)
	if err == nil {
		res.Restarted, res.PID, res.Took = true, pid, now().Sub(start)
		res.Backup, err = a.settle(entry, OutcomeApplied)
		return res, err
	}
	rerr := &RestartError{Cause: err, LogTail: tailLines(a.disk(), a.ErrorLog, 15), Backup: entry}
	a.rollback(ctx, rerr, j, files)
	return nil, rerr
}

// readChange checks that every file of ch still holds the text the change
// was computed from, and returns them, the main config first, each with
// the file's info. Other files the change leaves as they are are dropped.
func (a *Applier) readChange(ch Change) ([]FileEdit, error) {
	var files []FileEdit
	seen := map[string]bool{}
	for i, f := range ch.files(a.ConfigPath) {
		if seen[f.Path] {
			return nil, errorf("the change names %s twice", f.Path)
		}
		seen[f.Path] = true
		if i > 0 && bytes.Equal(f.Old, f.New) {
			continue
		}
		cur, info, err := a.disk().ReadFile(f.Path, false)
		if err != nil {
			return nil, errorf("read %s: %w", f.Path, err)
		}
		if !bytes.Equal(cur, f.Old) {
			return nil, errorf("%s: %w; run the command again", f.Path, ErrChangedOnDisk)
		}
		f.info = info
		files = append(files, f)
	}
	return files, nil
}

// backUp saves every file's old text under a new pending history entry
// and starts the journal that RecoverJournal reads if this process dies.
func (a *Applier) backUp(ctx context.Context, ch Change, files []FileEdit, at, start time.Time) (BackupEntry, journal, error) {
	entry, err := a.Backups.Save(a.newEntry(ctx, ch, files, at, OutcomePending), files...)
	if err != nil {
		return entry, journal{}, err
	}
	j := journal{Backup: entry.ID, Files: records(files), Phase: phaseWrite, PID: os.Getpid(), Started: start}
	if err := a.Backups.writeJournal(j); err != nil {
		return entry, j, a.notWritten(entry, err)
	}
	return entry, j, nil
}

// record saves the history entry of a change that writes no file: a
// reapply or remove that lets go of routes whose site is gone, an undo
// whose text is already in place. There is nothing to test, write or
// restart, so the entry is applied from the start and needs no journal.
func (a *Applier) record(ctx context.Context, ch Change, main FileEdit, at time.Time) (BackupEntry, error) {
	a.step(StepBackup)
	entry, err := a.Backups.Save(a.newEntry(ctx, ch, []FileEdit{main}, at, OutcomeApplied), main)
	if err != nil {
		return entry, err
	}
	a.done(StepBackup)
	return entry, nil
}

// newEntry is the history entry of ch, before Save adds its files.
func (a *Applier) newEntry(ctx context.Context, ch Change, files []FileEdit, at time.Time, o Outcome) BackupEntry {
	return BackupEntry{Time: at, Description: ch.Description, UndoOf: ch.UndoOf, Reverts: ch.Reverts, Routes: a.recordedRoutes(ctx, ch, files), Outcome: o}
}

// recordedRoutes are Socketbar's routes in the config the change leaves:
// the main config's new text, and every site file's, new where the change
// writes it and as it is where it does not. A change that writes only
// the main config still records the routes in the customsites file, so
// that their vanishing later is noticed as drift.
func (a *Applier) recordedRoutes(ctx context.Context, ch Change, files []FileEdit) []ManagedRoute {
	nc, err := ParseConfig(a.ConfigPath, ch.New)
	if err != nil {
		return nil
	}
	written := map[string][]byte{}
	for _, f := range files[1:] {
		written[filepath.Clean(f.Path)] = f.New
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
		if n, ok := written[filepath.Clean(f.Path)]; ok {
			texts = append(texts, &Config{Path: f.Path, Src: n})
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

// write replaces the other files, then the main config, each atomically
// and only if nobody changed it since it was read. When one fails, the
// files already replaced get their old text back, so nothing is left half
// written; when one of them cannot be put back, halfWritten says so, and
// the journal must stay for the next command to finish the job.
func (a *Applier) write(files []FileEdit) (halfWritten bool, err error) {
	d := a.disk()
	for i := len(files) - 1; i >= 0; i-- {
		f := files[i]
		err := replaceFile(d, f.Path, f.New, f.info, func() error {
			if i == 0 {
				a.done(StepWrite)
			}
			return unchangedOnDisk(d, f.Path, f.Old)
		})
		if err != nil {
			if _, _, failed := putBack(d, files[i+1:]); failed != nil {
				return true, errors.Join(err, errorf("the files written before could not all get their old text back, so the next Socketbar command puts it back: %w", failed))
			}
			return false, err
		}
	}
	return false, nil
}

// putBack writes each file's old text on d back in place of its new one,
// and leaves alone a file another program has written since. It returns
// the files it put back, the first error of a file another program wrote
// (ErrChangedOnDisk), and the first other failure.
func putBack(d Disk, files []FileEdit) (restored []string, changed, failed error) {
	for _, f := range files {
		err := replaceFile(d, f.Path, f.Old, f.info, func() error { return unchangedOnDisk(d, f.Path, f.New) })
		switch {
		case err == nil:
			restored = append(restored, f.Path)
		case errors.Is(err, ErrChangedOnDisk):
			changed = cmp.Or(changed, err)
		default:
			failed = cmp.Or(failed, err)
		}
	}
	return restored, changed, failed
}

// rollback writes the old texts back in place of the new ones that did
// not come up and restarts again, recording in rerr how that went.
// Another writer's text, written after the rename, is never overwritten.
func (a *Applier) rollback(ctx context.Context, rerr *RestartError, j journal, files []FileEdit) {
	a.step(StepRollback)
	j.Phase = phaseRollback
	if jerr := a.Backups.writeJournal(j); jerr != nil {
		rerr.RollbackErr = jerr
		return
	}
	_, changed, failed := putBack(a.disk(), files)
	switch {
	case failed != nil:
		rerr.RollbackErr = failed // the journal stays: the next run retries
	case changed != nil:
		// Someone wrote a file after the rename: theirs stays.
		rerr.RollbackErr = fmt.Errorf("%w; the previous config was not written back there, so as not to lose that edit", changed)
		rerr.Backup, rerr.Unrecorded = a.settle(rerr.Backup, OutcomeSuperseded)
	default:
		rerr.Restored = true
		if _, verr := a.restartAndVerify(ctx); verr != nil {
			rerr.RollbackErr = fmt.Errorf("the previous config is back in place, but the Service Proxy did not come back with it either: %w", verr)
		}
		rerr.Backup, rerr.Unrecorded = a.settle(rerr.Backup, OutcomeRolledBack)
	}
}

// settle records the outcome of the change and ends its journal. When it
// cannot, the journal stays, so that the next command settles the change
// again, and the error (an *OutcomeNotRecordedError) says so; the entry is
// returned as the history holds it.
func (a *Applier) settle(e BackupEntry, o Outcome) (BackupEntry, error) {
	settled, err := a.Backups.SetOutcome(e, o)
	if err != nil {
		return e, err // an *OutcomeNotRecordedError
	}
	if err := a.Backups.removeJournal(); err != nil {
		return settled, &OutcomeNotRecordedError{Entry: settled, Outcome: o, Err: err}
	}
	return settled, nil
}

// notWritten settles a change that stopped before its new text was in
// place with err, and returns err, joined with the *OutcomeNotRecordedError
// when that could not be recorded either.
func (a *Applier) notWritten(e BackupEntry, err error) error {
	if _, serr := a.settle(e, OutcomeNotWritten); serr != nil {
		return errors.Join(err, serr)
	}
	return err
}
