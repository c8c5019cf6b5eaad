package serverctl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/socketbar/socketbar/internal/pkgerr"
)

// JournalName is the file in the backup folder that records a transaction
// from just before the new config replaces the old one until the Service
// Proxy is verified or the old config is back. If it exists while no
// Socketbar holds the lock, a transaction was killed half-way, and
// RecoverJournal finishes or undoes it.
const JournalName = "journal.json"

// Journal phases: the new config is about to be (or was) written, or the
// old one is about to be (or was) written back.
const (
	phaseWrite    = "write"
	phaseRollback = "rollback"
)

// journal is what a transaction in progress records.
type journal struct {
	// Backup is the history entry of the change (its backups are the old
	// texts).
	Backup string `json:"backup"`
	// Files are the change's files, the main config first, then the
	// others in the order of the entry's Files, each as FileEdit.Record
	// writes it down. The main config's path is only for people:
	// recovery writes the Applier's.
	Files   []FileEdit `json:"files"`
	Phase   string     `json:"phase"`
	PID     int        `json:"pid"`
	Started time.Time  `json:"started"`
}

// UnmarshalJSON reads a journal, also one that a killed Socketbar of an
// earlier release left: that held the main config's path and hashes at
// the top ("config", "old_sha256", "new_sha256") and the other files under
// "also", each with "path", "old_sha256" and "new_sha256".
func (j *journal) UnmarshalJSON(data []byte) error {
	type legacyFile struct {
		Path      string `json:"path"`
		OldSHA256 string `json:"old_sha256"`
		NewSHA256 string `json:"new_sha256"`
	}
	type current journal // without this method
	var v struct {
		current
		legacyFile
		Config string       `json:"config"`
		Also   []legacyFile `json:"also"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*j = journal(v.current)
	if len(j.Files) == 0 && v.Config != "" {
		v.legacyFile.Path = v.Config
		for _, f := range append([]legacyFile{v.legacyFile}, v.Also...) {
			j.Files = append(j.Files, FileEdit{Path: f.Path, OldSHA256: f.OldSHA256, NewSHA256: f.NewSHA256})
		}
	}
	return nil
}

func (s BackupStore) journalPath() string { return filepath.Join(s.Dir, JournalName) }

func (s BackupStore) writeJournal(j journal) error {
	files, err := s.storedFiles(j.Files)
	if err != nil {
		return errorf("write the transaction journal: %w", err)
	}
	j.Files = files
	data, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(s.disk(), s.journalPath(), append(data, '\n'), 0o644); err != nil {
		return errorf("write the transaction journal: %w", err)
	}
	return nil
}

// readJournal returns the journal, or nil when there is none. A journal
// names files to write, so one another user could have written (see
// checkOwner) is refused.
func (s BackupStore) readJournal() (*journal, error) {
	data, fi, err := s.disk().ReadFile(s.journalPath(), true)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err == nil {
		err = checkOwner(s.disk(), s.journalPath(), fi)
	}
	if err != nil {
		return nil, errorf("read the transaction journal: %w", err)
	}
	var j journal
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, errorf("%s is damaged (%v); check the config, then delete the file", s.journalPath(), err)
	}
	j.Files = s.loadedFiles(j.Files)
	return &j, nil
}

// removeJournal ends the transaction's journal.
func (s BackupStore) removeJournal() error {
	if err := removeIfThere(s.disk(), s.journalPath()); err != nil {
		return errorf("remove the transaction journal: %w", err)
	}
	return nil
}

// Interrupted reports whether a transaction's journal is in the store, that
// is, whether a change is running now or was killed half-way. It needs no
// lock and no write access, so `status` can say so to any user.
func (s BackupStore) Interrupted() bool {
	_, err := s.disk().Lstat(s.journalPath())
	return err == nil
}

// hasPending reports whether an entry is still marked pending (its process
// may have died before it wrote the journal).
func (s BackupStore) hasPending() (bool, error) {
	entries, err := s.List()
	for _, e := range entries {
		if e.Outcome == OutcomePending {
			return true, nil
		}
	}
	return false, err
}

// Recovery says how RecoverJournal settled a transaction that was killed
// half-way.
type Recovery struct {
	// Entry is the interrupted change, with its outcome now recorded.
	Entry BackupEntry
	// Restarted says the Service Proxy was restarted and verified; PID
	// is its process then.
	Restarted bool
	PID       int
	// Err is set when the Service Proxy could not be brought back; the
	// config is then the one Outcome names.
	Err error
	// Partial says the change was killed between its files' renames
	// (some held the new text, some the old), so it was rolled back.
	Partial bool
	// Restored are the files the recovery wrote the previous text back
	// into, the main config first: a command that fails after the
	// recovery has still changed them.
	Restored []string
}

// AfterRecoveryError is a command that failed after it had settled a
// change a killed Socketbar left half-done. Recovery says what settling
// did, which may include writing files (Recovery.Restored), so a front end
// must say it along with Err, whatever Err says was not written.
type AfterRecoveryError struct {
	Recovery *Recovery
	Err      error
}

func (e *AfterRecoveryError) Error() string {
	return e.Recovery.String() + "\nThen: " + e.Err.Error()
}

func (e *AfterRecoveryError) Unwrap() error { return e.Err }

// afterRecovery is err with rec, when there was a recovery.
func afterRecovery(rec *Recovery, err error) error {
	if rec == nil || err == nil {
		return err
	}
	return &AfterRecoveryError{Recovery: rec, Err: err}
}

// String says in one sentence what happened, for the CLI and the app.
func (r *Recovery) String() string {
	var what string
	switch r.Entry.Outcome {
	case OutcomeApplied:
		what = "the new config was in place; Socketbar finished the change"
	case OutcomeRolledBack:
		what = "the change did not come up; Socketbar put the previous config back"
		if r.Partial {
			what = "only some of its files had been written; Socketbar put the previous config back in all of them"
		}
	case OutcomeNotWritten:
		what = "the new config had not been written; the previous config is unchanged"
	case OutcomeSuperseded:
		what = "another program has written the config since; Socketbar left that version in place"
	default:
		what = "its outcome is " + string(r.Entry.Outcome)
	}
	msg := fmt.Sprintf("A Socketbar change (%s, backup %s) was interrupted: %s", orDash(r.Entry.Description), r.Entry.ID, what)
	switch {
	case r.Err != nil:
		msg += fmt.Sprintf(", but the Service Proxy does not run: %s", pkgerr.Text(r.Err))
	case r.Restarted:
		msg += fmt.Sprintf(", and the Service Proxy runs (pid %d)", r.PID)
	}
	return msg + "."
}

func orDash(s string) string {
	if s == "" {
		return "no description"
	}
	return s
}

// ErrInterrupted means a change was killed half-way and this process may
// not finish it (it cannot take the lock or write the backup folder); run
// Socketbar with administrator rights to settle it.
var ErrInterrupted = errors.New("a Socketbar change was interrupted and needs finishing")

// RecoverJournal settles a transaction that was killed half-way (see
// JournalName): when the new config is in place, it restarts and verifies
// the Service Proxy and, if that fails, puts the old config back; when the
// old config is in place, it makes sure the Service Proxy runs; when
// another program has written the config since, it leaves that file alone.
// It records the outcome in the history and removes the journal.
//
// The action layer calls it at the start of every command that touches the
// Server, with the Applier it would use, and prints Recovery.String(). It
// returns nil, nil when there is nothing to recover or another Socketbar
// is running a transaction right now (the journal is then that one's).
// Apply also calls it, under its lock, before a new change.
func RecoverJournal(ctx context.Context, a *Applier) (*Recovery, error) {
	pending, err := a.Backups.hasPending()
	if err != nil {
		return nil, errorf("look for an interrupted change: %w", err)
	}
	if !pending && !a.Backups.Interrupted() {
		return nil, nil
	}
	// The folder exists; ensureDir checks it is one to trust, as Apply does.
	if err := ensureDir(a.disk(), a.Backups.Dir, 0o755); err != nil {
		return nil, errorf("%w: backup folder: %w", ErrInterrupted, err)
	}
	l, err := lock(a.disk(), a.Backups.Dir)
	if errors.Is(err, ErrLocked) {
		return nil, nil
	}
	if err != nil {
		return nil, errorf("%w: lock %s: %w", ErrInterrupted, a.Backups.Dir, err)
	}
	defer l.Close()
	return a.recoverLocked(ctx)
}

// recoverLocked is RecoverJournal for a caller that holds the lock. It
// also settles pending entries that have no journal: their process died
// before the journal was written, so before the rename.
func (a *Applier) recoverLocked(ctx context.Context) (*Recovery, error) {
	j, err := a.Backups.readJournal()
	if err != nil {
		return nil, err
	}
	if err := a.settleOrphans(j); err != nil {
		return nil, err
	}
	if j == nil {
		return nil, nil
	}
	entry, old, err := a.Backups.Load(j.Backup)
	if err != nil {
		return nil, errorf("%w, but its backup cannot be read: %w", ErrInterrupted, err)
	}
	files, held, err := a.journalFiles(ctx, j, entry, old)
	if err != nil {
		return nil, err
	}
	// The killed change may have left a new text not yet renamed beside
	// any of its files, not only beside those of the change (if any) that
	// settles it now.
	a.removeStaleTemps(files[1:])
	rec := &Recovery{Entry: entry, Partial: j.Phase == phaseWrite && held.any(holdsNew) && held.any(holdsOld)}
	if j.Phase == phaseWrite && held.all(holdsNew) {
		pid, err := a.restartIfAny(ctx)
		if err == nil {
			rec.Restarted, rec.PID = a.Service != nil, pid
			return a.settleRecovery(rec, OutcomeApplied)
		}
	}
	return a.undoInterrupted(ctx, rec, j.Phase, files, held)
}

// settleOrphans marks as not written the pending entries other than j's:
// their process died before it wrote the journal, so before any rename.
func (a *Applier) settleOrphans(j *journal) error {
	entries, err := a.Backups.List()
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Outcome == OutcomePending && (j == nil || e.ID != j.Backup) {
			if _, err := a.Backups.SetOutcome(e, OutcomeNotWritten); err != nil {
				return &OutcomeNotRecordedError{Entry: e, Outcome: OutcomeNotWritten, Err: err}
			}
		}
	}
	return nil
}

// undoInterrupted puts the old texts back wherever the new ones are: they
// did not come up, a rollback was under way, or the change was killed
// between files. It then makes sure the Service Proxy runs, and records
// the outcome.
func (a *Applier) undoInterrupted(ctx context.Context, rec *Recovery, phase string, files []FileEdit, held holdings) (*Recovery, error) {
	var toUndo []FileEdit
	for i, f := range files {
		if held[i] == holdsNew {
			toUndo = append(toUndo, f)
		}
	}
	restored, changed, failed := putBack(a.disk(), toUndo)
	rec.Restored = restored
	if failed != nil {
		if len(restored) > 0 {
			return nil, errorf("%w; Socketbar put the previous text back in %s, but: %w", ErrInterrupted, strings.Join(restored, " and "), failed)
		}
		return nil, failed
	}
	superseded := held.any(holdsOther) || changed != nil
	outcome := OutcomeNotWritten
	switch {
	case superseded:
		outcome = OutcomeSuperseded
	case len(restored) > 0 || phase == phaseRollback:
		outcome = OutcomeRolledBack
	}
	if len(restored) > 0 || (phase == phaseRollback && !superseded) {
		// The old text is back, but the service may still run the new
		// one, or not run at all.
		pid, err := a.restartIfAny(ctx)
		rec.Restarted, rec.PID, rec.Err = err == nil && a.Service != nil, pid, err
	} else {
		rec.Restarted, rec.PID, rec.Err = a.ensureRunning(ctx)
	}
	return a.settleRecovery(rec, outcome)
}

// settleRecovery records the outcome of a recovered transaction and ends
// its journal; when it cannot, the error is an *OutcomeNotRecordedError and the
// recovery is returned with it.
func (a *Applier) settleRecovery(rec *Recovery, o Outcome) (*Recovery, error) {
	var err error
	rec.Entry, err = a.settle(rec.Entry, o)
	rec.Entry.Outcome = o // what happened, recorded or not (err says which)
	return rec, err
}

// holding is what a file of an interrupted transaction holds now.
type holding int

const (
	holdsOld holding = iota
	holdsNew
	holdsOther // another program wrote it since, or deleted it
)

// holdings are what each file of an interrupted transaction holds, in
// the order of its files.
type holdings []holding

func (hs holdings) any(h holding) bool { return slices.Contains(hs, h) }

func (hs holdings) all(h holding) bool {
	return !slices.ContainsFunc(hs, func(x holding) bool { return x != h })
}

// journalFiles reads every file of the journal's transaction (the main
// config first) and says what each holds: the old text, the new one, or
// another program's. Each file comes with its old text (from the backup,
// old for the main config) and, where it holds the new text, that text.
// The journal and the history entry name the other files, so each that
// exists must be one the main config includes (see IncludedFiles) or the
// whole journal is refused; one that no longer exists is left alone like
// any other program's doing.
func (a *Applier) journalFiles(ctx context.Context, j *journal, entry BackupEntry, old []byte) ([]FileEdit, holdings, error) {
	olds, err := a.Backups.LoadFiles(entry)
	if err != nil {
		return nil, nil, errorf("%w, but its backup cannot be read: %w", ErrInterrupted, err)
	}
	mismatch := errorf("%w, but the journal and backup %s name different files; check the config, then delete %s", ErrInterrupted, entry.ID, a.Backups.journalPath())
	if len(j.Files) != len(olds)+1 {
		return nil, nil, mismatch
	}
	files := []FileEdit{{Path: a.ConfigPath, Old: old}}
	for i, f := range entry.Files {
		if j.Files[i+1].Path != f.Path {
			return nil, nil, mismatch
		}
		files = append(files, FileEdit{Path: f.Path, Old: olds[i]})
	}
	held := make(holdings, len(files))
	var included *IncludedFiles
	for i := range files {
		f := &files[i]
		if _, err := a.disk().Stat(f.Path); errors.Is(err, fs.ErrNotExist) {
			// Deleted since (Server.app removes the customsites file
			// with the last custom site): another program's doing, left
			// as it is, like any other text it wrote.
			held[i] = holdsOther
			continue
		} else if err != nil {
			return nil, nil, errorf("%w, but: %w", ErrInterrupted, err)
		}
		if i > 0 {
			if included == nil {
				in, err := a.includes(ctx)
				if err != nil {
					return nil, nil, errorf("%w, but: %w", ErrInterrupted, err)
				}
				included = &in
			}
			if !included.Has(f.Path) {
				return nil, nil, errorf("%w, but its journal names %s, which the config does not include, and Socketbar writes no other file; nothing was written: check the config, then delete %s", ErrInterrupted, f.Path, a.Backups.journalPath())
			}
		}
		cur, info, err := a.disk().ReadFile(f.Path, false)
		if err != nil {
			return nil, nil, errorf("%w, but: read %s: %w", ErrInterrupted, f.Path, err)
		}
		f.info = info
		switch sha256Hex(cur) {
		case j.Files[i].NewSHA256:
			held[i], f.New = holdsNew, cur
		case j.Files[i].OldSHA256:
			held[i] = holdsOld
		default:
			held[i] = holdsOther
		}
	}
	return files, held, nil
}
