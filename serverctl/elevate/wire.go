package elevate

import (
	"errors"

	"github.com/socketbar/socketbar/internal/pkgerr"
	"github.com/socketbar/socketbar/serverctl"
)

// Kinds of WireError: one per error type a front end tells apart.
const (
	KindConfigTest         = "config-test"
	KindRestart            = "restart"
	KindNotFound           = "not-found"
	KindNoHTTPD            = "no-httpd"
	KindInput              = "input"
	KindOutcomeNotRecorded = "outcome-not-recorded"
	KindOther              = "other"
	// The kinds that are one error value (see sentinels).
	KindChangedOnDisk = "changed-on-disk"
	KindTampered      = "tampered"
	KindInterrupted   = "interrupted"
	KindForeignOwner  = "foreign-owner"
	KindSymlink       = "symlink"
	KindNotDir        = "not-dir"
	KindWasStopped    = "was-stopped"
	KindLocked        = "locked"
)

// sentinels are the error values a front end matches with errors.Is that
// the elevated half may return, by kind; the first of them err is decides.
var sentinels = []struct {
	kind string
	err  error
}{
	{KindChangedOnDisk, serverctl.ErrChangedOnDisk},
	{KindTampered, ErrTampered},
	{KindInterrupted, serverctl.ErrInterrupted},
	{KindForeignOwner, serverctl.ErrForeignOwner},
	{KindSymlink, serverctl.ErrSymlink},
	{KindNotDir, serverctl.ErrNotDir},
	{KindWasStopped, serverctl.ErrWasStopped},
	{KindLocked, serverctl.ErrLocked},
}

// WireError is an error of the elevated half as data, so that it crosses
// the process boundary with its type: Err gives back an error that
// errors.As and errors.Is match like the original, and that the front
// ends word as they word the original.
type WireError struct {
	Kind string `json:"kind"`
	// Message is the error's message without its package's name (see
	// pkgerr), which Package names ("" for none).
	Message string `json:"message"`
	Package string `json:"package,omitempty"`
	// Output is a failed config test's output.
	Output string `json:"output,omitempty"`
	// Already says the config on disk fails the test too.
	Already bool `json:"already,omitempty"`
	// Cause, LogTail, BackupID, Rollback and Restored describe a failed
	// restart; Cause also an outcome that was not recorded.
	Cause    *WireError `json:"cause,omitempty"`
	LogTail  string     `json:"log_tail,omitempty"`
	BackupID string     `json:"backup_id,omitempty"`
	Rollback *WireError `json:"rollback,omitempty"`
	Restored bool       `json:"restored,omitempty"`
	// Unrecorded is a failed restart's rollback that the history could
	// not record.
	Unrecorded *WireError `json:"unrecorded,omitempty"`
	// Root and Looked describe a Server or httpd that was not found.
	Root   string   `json:"root,omitempty"`
	Looked []string `json:"looked,omitempty"`
	// Host is the Server over SSH a NotFoundError was about.
	Host string `json:"host,omitempty"`
	// Field, Remedy describe refused input.
	Field  serverctl.Field  `json:"field,omitempty"`
	Remedy serverctl.Remedy `json:"remedy,omitempty"`
	// Entry and Outcome describe a change whose outcome was not recorded.
	Entry   *serverctl.BackupEntry `json:"entry,omitempty"`
	Outcome serverctl.Outcome      `json:"outcome,omitempty"`
}

// NewWireError describes err for the other side; nil for nil.
func NewWireError(err error) *WireError {
	if err == nil {
		return nil
	}
	w := &WireError{Kind: KindOther, Message: pkgerr.Text(err)}
	if pe, ok := err.(*pkgerr.Error); ok {
		w.Package = pe.Pkg
	}
	var (
		cte *serverctl.ConfigTestError
		rse *serverctl.RestartError
		nf  *serverctl.NotFoundError
		nh  *serverctl.NoHTTPDError
		in  *serverctl.InputError
		onr *serverctl.OutcomeNotRecordedError
	)
	switch {
	case errors.As(err, &cte):
		w.Kind, w.Output, w.Already = KindConfigTest, cte.Output, cte.Already
	case errors.As(err, &rse):
		w.Kind, w.Cause, w.LogTail, w.BackupID, w.Rollback, w.Restored = KindRestart, NewWireError(rse.Cause), rse.LogTail, rse.Backup.ID, NewWireError(rse.RollbackErr), rse.Restored
		if rse.Unrecorded != nil {
			w.Unrecorded = NewWireError(rse.Unrecorded)
		}
	case errors.As(err, &onr):
		w.Kind, w.Entry, w.Outcome, w.Cause = KindOutcomeNotRecorded, &onr.Entry, onr.Outcome, NewWireError(onr.Err)
	case errors.As(err, &nf):
		w.Kind, w.Root, w.Looked, w.Host = KindNotFound, nf.Root, nf.Looked, nf.Host
	case errors.As(err, &nh):
		w.Kind, w.Looked = KindNoHTTPD, nh.Looked
	case errors.As(err, &in):
		w.Kind, w.Field, w.Remedy, w.Message = KindInput, in.Field, in.Remedy, in.Msg
	default:
		for _, s := range sentinels {
			if errors.Is(err, s.err) {
				w.Kind = s.kind
				break
			}
		}
	}
	return w
}

// Err turns the description back into an error of the original type.
func (w *WireError) Err() error {
	if w == nil {
		return errorf("the elevated step failed without saying why")
	}
	switch w.Kind {
	case KindConfigTest:
		return &serverctl.ConfigTestError{Output: w.Output, Already: w.Already}
	case KindRestart:
		e := &serverctl.RestartError{Cause: w.Cause.inner(), LogTail: w.LogTail, Backup: serverctl.BackupEntry{ID: w.BackupID}, RollbackErr: w.Rollback.inner(), Restored: w.Restored}
		var onr *serverctl.OutcomeNotRecordedError
		if w.Unrecorded != nil && errors.As(w.Unrecorded.Err(), &onr) {
			e.Unrecorded = onr
		}
		return e
	case KindOutcomeNotRecorded:
		e := &serverctl.OutcomeNotRecordedError{Outcome: w.Outcome, Err: w.Cause.inner()}
		if w.Entry != nil {
			e.Entry = *w.Entry
		}
		return e
	case KindNotFound:
		return &serverctl.NotFoundError{Root: w.Root, Looked: w.Looked, Host: w.Host}
	case KindNoHTTPD:
		return &serverctl.NoHTTPDError{Looked: w.Looked}
	case KindInput:
		return &serverctl.InputError{Field: w.Field, Msg: w.Message, Remedy: w.Remedy}
	}
	var err error = errors.New(w.Message)
	for _, s := range sentinels {
		if s.kind == w.Kind {
			err = &wrapped{w.Message, s.err}
		}
	}
	if w.Package != "" {
		err = &pkgerr.Error{Pkg: w.Package, Err: err}
	}
	return err
}

// inner is Err for an error inside another, which may have none.
func (w *WireError) inner() error {
	if w == nil {
		return nil
	}
	return w.Err()
}

// wrapped keeps the elevated half's message around a sentinel error.
type wrapped struct {
	msg string
	err error
}

func (w *wrapped) Error() string { return w.msg }
func (w *wrapped) Unwrap() error { return w.err }

// WireRecovery is a serverctl.Recovery as data, for the elevated half's
// answer.
type WireRecovery struct {
	Entry     serverctl.BackupEntry `json:"entry"`
	Restarted bool                  `json:"restarted,omitempty"`
	PID       int                   `json:"pid,omitempty"`
	Err       string                `json:"error,omitempty"`
	Partial   bool                  `json:"partial,omitempty"`
	Restored  []string              `json:"restored,omitempty"`
}

// NewWireRecovery describes rec for the other side; nil for none.
func NewWireRecovery(rec *serverctl.Recovery) *WireRecovery {
	if rec == nil {
		return nil
	}
	w := &WireRecovery{Entry: rec.Entry, Restarted: rec.Restarted, PID: rec.PID, Partial: rec.Partial, Restored: rec.Restored}
	if rec.Err != nil {
		w.Err = pkgerr.Text(rec.Err)
	}
	return w
}

// Recovery turns the description back into a serverctl.Recovery.
func (w *WireRecovery) Recovery() *serverctl.Recovery {
	rec := &serverctl.Recovery{Entry: w.Entry, Restarted: w.Restarted, PID: w.PID, Partial: w.Partial, Restored: w.Restored}
	if w.Err != "" {
		rec.Err = errors.New(w.Err)
	}
	return rec
}

// errorf is fmt.Errorf for this package's own errors: their Error() names
// the package for logs, and pkgerr.Text gives people the message without it.
func errorf(format string, args ...any) error { return pkgerr.Errorf("elevate", format, args...) }
