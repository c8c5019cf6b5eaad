package elevate

import (
	"errors"

	"github.com/socketbar/socketbar/serverctl"

	"github.com/socketbar/socketbar/internal/pkgerr"
)

// Kinds of WireError: one per error type a front end tells apart.
const (
	KindConfigTest    = "config-test"
	KindRestart       = "restart"
	KindChangedOnDisk = "changed-on-disk"
	KindNotFound      = "not-found"
	KindNoHTTPD       = "no-httpd"
	KindInput         = "input"
	KindTampered      = "tampered"
	KindOther         = "other"
)

// WireError is an error of the elevated half as data, so that it crosses
// the process boundary with its type: Err gives back an error that
// errors.As and errors.Is match like the original.
type WireError struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
	// Output is a failed config test's output.
	Output string `json:"output,omitempty"`
	// Cause, LogTail, BackupID and RollbackError describe a failed restart.
	Cause         string `json:"cause,omitempty"`
	LogTail       string `json:"log_tail,omitempty"`
	BackupID      string `json:"backup_id,omitempty"`
	RollbackError string `json:"rollback_error,omitempty"`
	Restored      bool   `json:"restored,omitempty"`
	// Root and Looked describe a Server or httpd that was not found.
	Root   string   `json:"root,omitempty"`
	Looked []string `json:"looked,omitempty"`
	// Field, Remedy describe refused input.
	Field  serverctl.Field  `json:"field,omitempty"`
	Remedy serverctl.Remedy `json:"remedy,omitempty"`
}

// NewWireError describes err for the other side.
func NewWireError(err error) *WireError {
	w := &WireError{Kind: KindOther, Message: err.Error()}
	var (
		cte *serverctl.ConfigTestError
		rse *serverctl.RestartError
		nf  *serverctl.NotFoundError
		nh  *serverctl.NoHTTPDError
		in  *serverctl.InputError
	)
	switch {
	case errors.As(err, &cte):
		w.Kind, w.Output = KindConfigTest, cte.Output
	case errors.As(err, &rse):
		w.Kind, w.Cause, w.LogTail, w.BackupID, w.Restored = KindRestart, rse.Cause.Error(), rse.LogTail, rse.Backup.ID, rse.Restored
		if rse.RollbackErr != nil {
			w.RollbackError = rse.RollbackErr.Error()
		}
	case errors.Is(err, serverctl.ErrChangedOnDisk):
		w.Kind = KindChangedOnDisk
	case errors.Is(err, ErrTampered):
		w.Kind = KindTampered
	case errors.As(err, &nf):
		w.Kind, w.Root, w.Looked = KindNotFound, nf.Root, nf.Looked
	case errors.As(err, &nh):
		w.Kind, w.Looked = KindNoHTTPD, nh.Looked
	case errors.As(err, &in):
		w.Kind, w.Field, w.Remedy, w.Message = KindInput, in.Field, in.Remedy, in.Msg
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
		return &serverctl.ConfigTestError{Output: w.Output}
	case KindRestart:
		e := &serverctl.RestartError{Cause: errors.New(w.Cause), LogTail: w.LogTail, Backup: serverctl.BackupEntry{ID: w.BackupID}, Restored: w.Restored}
		if w.RollbackError != "" {
			e.RollbackErr = errors.New(w.RollbackError)
		}
		return e
	case KindChangedOnDisk:
		return &wrapped{w.Message, serverctl.ErrChangedOnDisk}
	case KindTampered:
		return &wrapped{w.Message, ErrTampered}
	case KindNotFound:
		return &serverctl.NotFoundError{Root: w.Root, Looked: w.Looked}
	case KindNoHTTPD:
		return &serverctl.NoHTTPDError{Looked: w.Looked}
	case KindInput:
		return &serverctl.InputError{Field: w.Field, Msg: w.Message, Remedy: w.Remedy}
	}
	return errors.New(w.Message)
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
		w.Err = rec.Err.Error()
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
