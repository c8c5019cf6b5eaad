package serverctl

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
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
	// Backup is the history entry of the change (its .bak is the old text).
	Backup    string    `json:"backup"`
	Config    string    `json:"config"`
	OldSHA256 string    `json:"old_sha256"`
	NewSHA256 string    `json:"new_sha256"`
	Phase     string    `json:"phase"`
	PID       int       `json:"pid"`
	Started   time.Time `json:"started"`
	// Also are the change's other files, in the order of the entry's Files.
	Also []journalFile `json:"also,omitempty"`
}

// journalFile is one more file of a transaction in progress.
type journalFile struct {
	Path      string `json:"path"`
	OldSHA256 string `json:"old_sha256"`
	NewSHA256 string `json:"new_sha256"`
}

func (s BackupStore) journalPath() string { return filepath.Join(s.Dir, JournalName) }

func (s BackupStore) writeJournal(j journal) error {
	data, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(s.journalPath(), append(data, '\n'), 0o644); err != nil {
		return errorf("write the transaction journal: %w", err)
	}
	return nil
}

// readJournal returns the journal, or nil when there is none. A journal
// names files to write, so one another user could have written (see
// checkOwner) is refused.
func (s BackupStore) readJournal() (*journal, error) {
	data, err := readFileChecked(s.journalPath(), true, func(fi os.FileInfo) error { return checkOwner(s.journalPath(), fi) })
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, errorf("read the transaction journal: %w", err)
	}
	var j journal
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, errorf("%s is damaged (%v); check the config, then delete the file", s.journalPath(), err)
	}
	return &j, nil
}

func (s BackupStore) removeJournal() {
	os.Remove(s.journalPath())
	syncDir(s.Dir)
}

// Interrupted reports whether a transaction's journal is in the store, that
// is, whether a change is running now or was killed half-way. It needs no
// lock and no write access, so `status` can say so to any user.
func (s BackupStore) Interrupted() bool {
	_, err := os.Lstat(s.journalPath())
	return err == nil
}

// hasPending reports whether an entry is still marked pending (its process
// may have died before it wrote the journal).
func (s BackupStore) hasPending() bool {
	entries, _ := s.List()
	for _, e := range entries {
		if e.Outcome == OutcomePending {
			return true
		}
	}
	return false
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
	if !a.Backups.Interrupted() && !a.Backups.hasPending() {
		return nil, nil
	}
	// The folder exists; ensureDir checks it is one to trust, as Apply does.
	if err := ensureDir(a.Backups.Dir, 0o755); err != nil {
		return nil, errorf("%w: backup folder: %w", ErrInterrupted, err)
	}
	lock, err := lockFile(filepath.Join(a.Backups.Dir, ".lock"))
	if errors.Is(err, errLocked) {
		return nil, nil
	}
	if err != nil {
		return nil, errorf("%w: lock %s: %w", ErrInterrupted, a.Backups.Dir, err)
	}
	defer lock.Close()
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
	entries, _ := a.Backups.List()
	for _, e := range entries {
		if e.Outcome == OutcomePending && (j == nil || e.ID != j.Backup) {
			a.Backups.SetOutcome(e, OutcomeNotWritten)
		}
	}
	if j == nil {
		return nil, nil
	}
	entry, old, err := a.Backups.Load(j.Backup)
	if err != nil {
		return nil, errorf("%w, but its backup cannot be read: %w", ErrInterrupted, err)
	}
	files, err := a.journalFiles(ctx, j, entry, old)
	if err != nil {
		return nil, err
	}
	allNew, anyNew, anyOld, anyOther := true, false, false, false
	for _, f := range files {
		allNew = allNew && f.state == stateNew
		anyNew = anyNew || f.state == stateNew
		anyOld = anyOld || f.state == stateOld
		anyOther = anyOther || f.state == stateOther
	}
	rec := &Recovery{Entry: entry, Partial: j.Phase == phaseWrite && anyNew && anyOld}
	if j.Phase == phaseWrite && allNew {
		pid, err := a.restartIfAny(ctx)
		if err == nil {
			rec.Restarted, rec.PID = a.Service != nil, pid
			return a.settleRecovery(rec, OutcomeApplied)
		}
	}
	// Put the old texts back wherever the new ones are: they did not come
	// up, a rollback was under way, or the change was killed between files.
	superseded := anyOther
	for _, f := range files {
		if f.state != stateNew {
			continue
		}
		err := replaceFile(f.path, f.old, f.fi, func() error { return unchangedOnDisk(f.path, f.cur) })
		switch {
		case errors.Is(err, ErrChangedOnDisk):
			superseded = true
		case err != nil && len(rec.Restored) > 0:
			return nil, errorf("%w; Socketbar put the previous text back in %s, but not in %s: %w", ErrInterrupted, strings.Join(rec.Restored, " and "), f.path, err)
		case err != nil:
			return nil, err
		default:
			rec.Restored = append(rec.Restored, f.path)
		}
	}
	restored := len(rec.Restored) > 0
	outcome := OutcomeNotWritten
	switch {
	case superseded:
		outcome = OutcomeSuperseded
	case restored || j.Phase == phaseRollback:
		outcome = OutcomeRolledBack
	}
	if restored || (j.Phase == phaseRollback && !superseded) {
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
// its journal.
func (a *Applier) settleRecovery(rec *Recovery, o Outcome) (*Recovery, error) {
	e, err := a.Backups.SetOutcome(rec.Entry, o)
	rec.Entry = e
	if err != nil {
		return rec, err
	}
	a.Backups.removeJournal()
	return rec, nil
}

// What a file of an interrupted transaction holds now.
const (
	stateOld   = "old"
	stateNew   = "new"
	stateOther = "other" // another program wrote it since
)

// txFile is one file of an interrupted transaction as it is now.
type txFile struct {
	path     string
	old, cur []byte
	fi       os.FileInfo
	state    string
}

// journalFiles reads every file of the journal's transaction (the main
// config first) and says what each holds: the old text, the new one, or
// another program's. The journal and the history entry name the other
// files, so each that exists must be one the main config includes (see
// IncludedFiles) or the whole journal is refused; one that no longer
// exists is left alone like any other program's doing.
func (a *Applier) journalFiles(ctx context.Context, j *journal, entry BackupEntry, old []byte) ([]txFile, error) {
	olds, err := a.Backups.LoadFiles(entry)
	if err != nil {
		return nil, errorf("%w, but its backup cannot be read: %w", ErrInterrupted, err)
	}
	if len(olds) != len(j.Also) {
		return nil, errorf("%w, but the journal and backup %s name different files; check the config, then delete %s", ErrInterrupted, entry.ID, a.Backups.journalPath())
	}
	files := []txFile{{path: a.ConfigPath, old: old}}
	sums := [][2]string{{j.OldSHA256, j.NewSHA256}}
	for i, f := range j.Also {
		if entry.Files[i].Path != f.Path {
			return nil, errorf("%w, but the journal and backup %s name different files; check the config, then delete %s", ErrInterrupted, entry.ID, a.Backups.journalPath())
		}
		files = append(files, txFile{path: f.Path, old: olds[i]})
		sums = append(sums, [2]string{f.OldSHA256, f.NewSHA256})
	}
	var included *IncludedFiles
	for i := range files {
		f := &files[i]
		f.fi, err = os.Stat(f.path)
		if errors.Is(err, fs.ErrNotExist) {
			// Deleted since (Server.app removes the customsites file
			// with the last custom site): another program's doing, left
			// as it is, like any other text it wrote.
			f.state = stateOther
			continue
		}
		if err != nil {
			return nil, errorf("%w, but: %w", ErrInterrupted, err)
		}
		if i > 0 {
			if included == nil {
				in, err := a.includes(ctx)
				if err != nil {
					return nil, errorf("%w, but: %w", ErrInterrupted, err)
				}
				included = &in
			}
			if !included.Has(f.path) {
				return nil, errorf("%w, but its journal names %s, which the config does not include, and Socketbar writes no other file; nothing was written: check the config, then delete %s", ErrInterrupted, f.path, a.Backups.journalPath())
			}
		}
		if f.cur, err = readFile(f.path, false); err != nil {
			return nil, errorf("%w, but: read %s: %w", ErrInterrupted, f.path, err)
		}
		sum := sha256.Sum256(f.cur)
		switch hex.EncodeToString(sum[:]) {
		case sums[i][1]:
			f.state = stateNew
		case sums[i][0]:
			f.state = stateOld
		default:
			f.state = stateOther
		}
	}
	return files, nil
}

// restartIfAny restarts and verifies the service, when there is one.
func (a *Applier) restartIfAny(ctx context.Context) (int, error) {
	if a.Service == nil {
		return 0, nil
	}
	return a.restartAndVerify(ctx)
}

// ensureRunning starts the service when it does not run; one that runs is
// left alone.
func (a *Applier) ensureRunning(ctx context.Context) (bool, int, error) {
	if a.Service == nil {
		return false, 0, nil
	}
	if st, err := a.Service.State(ctx); err == nil && st.Running {
		return false, st.PID, nil
	}
	pid, err := a.restartAndVerify(ctx)
	return err == nil, pid, err
}
