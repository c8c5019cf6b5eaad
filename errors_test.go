//go:build !nogui

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/socketbar/socketbar/app"
	"github.com/socketbar/socketbar/internal/cli"
	"github.com/socketbar/socketbar/internal/pkgerr"
	"github.com/socketbar/socketbar/serverctl/action"
	"github.com/socketbar/socketbar/serverctl/elevate"
)

// packagePrefixes are how Socketbar's libraries start their errors for
// logs; neither front end may show one to a person.
var packagePrefixes = []string{"serverctl:", "action:", "apacheconf:", "demo:", "elevate:", "proxy:", "service:", "tlscert:", "loopport:", "remote:", "mirror:"}

// TestEveryErrorKindIsWordedByBothFrontEnds walks the action layer's one
// list of the errors a person must act on through the CLI's table and the
// app's: a kind that either front end has no row for (or an input it has
// no name for) fails here, whichever front end it is.
func TestEveryErrorKindIsWordedByBothFrontEnds(t *testing.T) {
	kinds := action.Kinds()
	if len(kinds) < 40 {
		t.Fatalf("action.Kinds lists %d errors; the list is lost", len(kinds))
	}
	for _, err := range kinds {
		msg, code, ok := cli.Words(err)
		if !ok || code == 0 || strings.TrimSpace(msg) == "" {
			t.Errorf("CLI: %T %q: no words (%v) or exit %d: %q", err, err, ok, code, msg)
		}
		text, ok := app.Words(err)
		if !ok || strings.TrimSpace(text) == "" {
			t.Errorf("app: %T %q: no words (%v): %q", err, err, ok, text)
		}
		for _, p := range packagePrefixes {
			if strings.Contains(msg, p) || strings.Contains(text, p) {
				t.Errorf("%T: a person reads the package name %q:\nCLI: %s\napp: %s", err, p, msg, text)
			}
		}
	}
}

// An error of no kind is the library's own message, without the name of
// its package however deep it is wrapped: a file that could not be
// written says so plainly, in both front ends.
func TestOtherErrorsShowTheMessageWithoutThePackage(t *testing.T) {
	const want = "back up the config: write /x/.socketbar/1.bak: no space left on device"
	inner := pkgerr.Errorf("serverctl", "write %s: %w", "/x/.socketbar/1.bak", syscall.ENOSPC)
	err := pkgerr.Errorf("action", "back up the config: %w", inner)
	msg, code, ok := cli.Words(err)
	text, aok := app.Words(err)
	if ok || aok || code != 1 || msg != want || text != want {
		t.Errorf("CLI %q (kind %v, exit %d), app %q (kind %v); want %q, of no kind", msg, ok, code, text, aok, want)
	}
	if !strings.HasPrefix(err.Error(), "action: ") {
		t.Errorf("Error() = %q; the log line lost the package's name", err)
	}
}

// An error of the elevated half (the change run as root after the
// administrator prompt) crosses to this process as data; the person reads
// the same words as had the change run here. The kinds listed are never
// the elevated half's: it only checks, writes and restarts.
func TestErrorsOfTheElevatedHalfReadTheSame(t *testing.T) {
	notElevated := map[string]bool{
		"*serverctl.RouteExistsError": true, "*serverctl.HandEditedError": true, "*action.NotManagedError": true,
		"*action.NeedsRootError": true, "*action.ChangedSinceError": true, "*action.ServiceError": true,
		"*proxy.AddrInUseError": true, "*action.NoRouteError": true, "*action.DemoPortError": true,
		"*action.DemoRunningError": true, "*action.DemoStoppedError": true, "*loader.Error": true,
		// AfterRecoveryError crosses as the error and the recovery apart.
		"*serverctl.AfterRecoveryError": true,
		// Nothing over SSH runs elevated here.
		"*action.RemoteUnavailableError": true, "*remote.HostError": true, "*remote.SSHCommandError": true,
		"*remote.HostKeyError": true, "*remote.HostKeyChangedError": true, "*remote.AuthError": true, "*remote.DialError": true,
		"*remote.SudoError": true, "*remote.SSHError": true, "*remote.ExitError": true, "*remote.OutputLimitError": true,
		"*remote.ForwardError": true, "*remote.LoginTimeoutError": true, "*remote.StartupOutputError": true,
	}
	notElevatedIs := []error{action.ErrCancelled, action.ErrNothingToUndo, action.ErrNoRoutes, action.ErrNotDemoTree, action.ErrNoHTTPD, action.ErrClosed}
	for _, err := range action.Kinds() {
		if notElevated[fmt.Sprintf("%T", err)] || slices.ContainsFunc(notElevatedIs, func(s error) bool { return errors.Is(err, s) }) {
			continue
		}
		data, jerr := json.Marshal(elevate.NewWireError(err))
		var w elevate.WireError
		if jerr == nil {
			jerr = json.Unmarshal(data, &w)
		}
		if jerr != nil {
			t.Fatal(jerr)
		}
		back := w.Err()
		msg, code, _ := cli.Words(err)
		bmsg, bcode, _ := cli.Words(back)
		text, _ := app.Words(err)
		btext, _ := app.Words(back)
		if bmsg != msg || bcode != code || btext != text {
			t.Errorf("%T across the elevation:\nCLI  %q (exit %d)\nwas  %q (exit %d)\napp  %q\nwas  %q", err, bmsg, bcode, msg, code, btext, text)
		}
	}
}
