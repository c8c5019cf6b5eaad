package action

import (
	"context"
	"errors"
	"testing"

	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/servertest"
)

// TestRestartSaysWhatRecoveryDid: restart settles a change a killed
// Socketbar left half-done before it restarts; when the restart then
// fails (the stand-in httpd runs nothing), the error still carries what
// the recovery did.
func TestRestartSaysWhatRecoveryDid(t *testing.T) {
	ctx := context.Background()
	root, _ := servertest.CopyWithHTTPD(t, "5.3.1")
	target := Target{Root: root}
	type killed struct{}
	l := &Local{AfterStep: func(s serverctl.Step) {
		if s == serverctl.StepBackup {
			panic(killed{})
		}
	}}
	p, err := l.ProposeAdd(ctx, AddOptions{Target: target, Path: "/kill/", Backend: "http://127.0.0.1:1/kill/"})
	if err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if r := recover(); r != (killed{}) {
				t.Fatalf("the add was not killed: %v", r)
			}
		}()
		l.Apply(ctx, p, ApplyOptions{NoRestart: true})
	}()
	l.AfterStep = nil
	_, err = l.Restart(ctx, RestartOptions{Target: target})
	var after *serverctl.AfterRecoveryError
	var svc *ServiceError
	if !errors.As(err, &after) || !errors.As(err, &svc) {
		t.Fatalf("err = %v; want the failed restart with the recovery before it", err)
	}
	if after.Recovery.Entry.Outcome != serverctl.OutcomeNotWritten {
		t.Errorf("recovery = %+v; want the killed add settled as not written", after.Recovery)
	}
}
