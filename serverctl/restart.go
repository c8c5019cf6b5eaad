package serverctl

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/socketbar/socketbar/serverctl/service"
)

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
	// Unrecorded, when set, is why the history could not record the
	// rollback (an *OutcomeNotRecordedError): Backup still says pending.
	Unrecorded error
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
	if e.Unrecorded != nil {
		fmt.Fprintf(&b, "\n%v", e.Unrecorded)
	}
	return b.String()
}

// Unwrap gives the cause and, when the rollback could not be recorded,
// the *OutcomeNotRecordedError that says so.
func (e *RestartError) Unwrap() []error {
	if e.Unrecorded != nil {
		return []error{e.Cause, e.Unrecorded}
	}
	return []error{e.Cause}
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

// ErrorLogTail returns the last lines of the Service Proxy's error log.
func (a *Applier) ErrorLogTail() string { return tailLines(a.disk(), a.ErrorLog, 15) }

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
