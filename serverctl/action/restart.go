package action

import (
	"context"
	"time"

	"github.com/socketbar/socketbar/serverctl"
)

// RestartOptions ask for a restart of the Service Proxy.
type RestartOptions struct {
	Target Target
	// Timeout is how long it may take to come back (default 15 s).
	Timeout time.Duration
}

// Restarted says how a restart went.
type Restarted struct {
	// Service names the driver (launchd, httpd).
	Service   string
	PID       int
	Endpoints []string
	Took      time.Duration
	// Recovered says how a change that a killed Socketbar left half-done
	// was finished or rolled back first.
	Recovered string
}

// ServiceError is a Service Proxy that did not come back, with the end of
// its error log, where Apache says why.
type ServiceError struct {
	Err      error
	ErrorLog string
	LogTail  string
}

func (e *ServiceError) Error() string { return e.Err.Error() }
func (e *ServiceError) Unwrap() error { return e.Err }

// Restart restarts the Service Proxy and checks that it comes back:
// running with a new pid and answering HTTP on every port it listens on.
func (l *Local) Restart(ctx context.Context, opts RestartOptions) (*Restarted, error) {
	if opts.Target.Host != "" {
		return l.restartOnServer(ctx, opts)
	}
	srv, cfg, err := l.load(ctx, opts.Target)
	if err != nil {
		return nil, err
	}
	if opts.Timeout == 0 {
		opts.Timeout = 15 * time.Second
	}
	a, err := srv.Applier(cfg, serverctl.ApplyOptions{HTTPD: opts.Target.HTTPD, VerifyTimeout: opts.Timeout, Runner: l.Runner})
	if err != nil {
		return nil, err
	}
	start := time.Now()
	rec, err := serverctl.RecoverJournal(ctx, a)
	if err != nil {
		return nil, withRecovery(rec, err)
	}
	pid, err := a.Restart(ctx)
	if err != nil {
		return nil, withRecovery(rec, &ServiceError{Err: err, ErrorLog: a.ErrorLog, LogTail: a.ErrorLogTail()})
	}
	r := &Restarted{Service: a.Service.Name(), PID: pid, Took: time.Since(start)}
	if rec != nil {
		r.Recovered = rec.String()
	}
	for _, e := range a.Endpoints {
		r.Endpoints = append(r.Endpoints, e.String())
	}
	return r, nil
}

// withRecovery is err with what the recovery before it did, if there was
// one: the front ends say both.
func withRecovery(rec *serverctl.Recovery, err error) error {
	if rec == nil {
		return err
	}
	return &serverctl.AfterRecoveryError{Recovery: rec, Err: err}
}
