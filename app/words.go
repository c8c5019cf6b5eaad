package app

import (
	"errors"
	"fmt"
	"strings"

	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/action"
	"github.com/socketbar/socketbar/serverctl/elevate"
)

// formField names an input the way the app's forms show it.
var formField = map[serverctl.Field]string{
	serverctl.FieldPath: "Path", serverctl.FieldBackend: "Backend", serverctl.FieldStrategy: "Strategy",
	serverctl.FieldVHost: "VirtualHosts", serverctl.FieldApacheVersion: "The Apache version", serverctl.FieldBackup: "The change",
	serverctl.FieldURL: "URL", serverctl.FieldOrigin: "Origin", serverctl.FieldHeader: "Headers", serverctl.FieldConnect: "Connect to",
	serverctl.FieldAddr: "Address", serverctl.FieldRoute: "Route", serverctl.FieldFile: "File", serverctl.FieldCert: "Certificate",
	serverctl.FieldSite: "Sites", serverctl.FieldProxyAddr: "The test proxy's address",
}

// formRemedy says a way out in terms of the app's controls.
var formRemedy = map[serverctl.Remedy]string{
	serverctl.RemedyReplace:       "remove that route first to change it",
	serverctl.RemedyTunnel:        "choose Tunnel",
	serverctl.RemedyApacheVersion: "choose Tunnel, which works on every Apache 2.4",
	serverctl.RemedyChooseVHost:   "tick the VirtualHosts to change",
	serverctl.RemedyHistory:       "see the Log window's list of changes",
	serverctl.RemedyEverySite:     "remove it for every site, then add it again with only the sites that should keep it ticked",
}

// inputMessage is an input error as a sentence: "Path must start with /…".
func inputMessage(in *serverctl.InputError) string {
	field := formField[in.Field]
	if field == "" {
		field = string(in.Field)
	}
	msg := field + " " + in.Msg
	if in.Remedy == serverctl.RemedyReplace {
		msg = existingRoute(field, in.Msg)
	}
	if r := formRemedy[in.Remedy]; r != "" {
		msg += "; " + r
	}
	return msg + "."
}

// existingRoute words the refusal to overwrite Socketbar's route, which
// the library words as "*:443 already has a Socketbar route for /ws/ (…)",
// so that the field comes before its value, the path: "Path /ws/ already
// has a Socketbar route in VirtualHost *:443 (…)".
func existingRoute(field, msg string) string {
	where, rest, ok := strings.Cut(msg, " already has a Socketbar route for ")
	if !ok {
		return field + " " + msg
	}
	path, detail, _ := strings.Cut(rest, " ")
	place := "VirtualHost " + where
	if strings.HasPrefix(where, "macro ") {
		place = "the custom sites' " + where
	}
	return strings.TrimSpace(fmt.Sprintf("%s %s already has a Socketbar route in %s %s", field, path, place, detail))
}

// errorMessage words an action's error for a person using the app.
func errorMessage(err error) string {
	var (
		after *serverctl.AfterRecoveryError
		in    *serverctl.InputError
		nr    *action.NeedsRootError
		rse   *serverctl.RestartError
		svc   *action.ServiceError
	)
	switch {
	case errors.As(err, &after):
		// Settling an interrupted change may have written files: say so
		// first, whatever then failed.
		msg := errorMessage(after.Err)
		if len(after.Recovery.Restored) > 0 && errors.Is(after.Err, serverctl.ErrChangedOnDisk) {
			msg = "This change had been worked out from the files as the interrupted change left them, so none of it was written. Try again."
		}
		return recoveredFirst(after.Recovery.String(), msg)
	case errors.As(err, &in):
		return inputMessage(in)
	case errors.As(err, new(*action.DemoStoppedError)):
		return "The demo Server is stopped, and restarting its Service Proxy alone would leave it without the Websites tier behind it. Start it with Start Demo Server (or socketbar demo) and try again. Nothing was changed."
	case errors.As(err, new(*action.DemoRunningError)):
		return "The demo Server already runs (started by another Socketbar); Socketbar shows that one."
	case errors.As(err, &nr) && nr.ReadOnly:
		return fmt.Sprintf("%s is on a read-only file system, so no user can change it. Nothing was changed.", nr.Path)
	case errors.As(err, &nr):
		return fmt.Sprintf("This user may not write %s. Start Socketbar as a user who may, or use the command line with sudo. Nothing was changed.", nr.Path)
	case errors.Is(err, elevate.ErrCancelled):
		return "You cancelled the administrator prompt. Nothing was changed."
	case errors.As(err, new(*action.ChangedSinceError)):
		return "Undo would throw away edits made to the config since Socketbar's last change (by hand or by Server.app). Nothing was changed; use the command line (socketbar undo --dry-run, then --force) to undo anyway."
	case errors.Is(err, serverctl.ErrChangedOnDisk):
		return "Something else (Server.app?) changed the config meanwhile, so nothing was written. Try again."
	case errors.As(err, &rse) && rse.RollbackErr != nil:
		return rse.Error() + "\nUse Undo in the Log window once the cause is fixed."
	case errors.As(err, &svc) && svc.LogTail != "":
		return svc.Error() + "\nLast lines of the error log:\n" + svc.LogTail
	}
	return err.Error()
}

// recoveredFirst is msg after recovered, what settling a change a killed
// Socketbar left half-done did before this action ran ("" for nothing).
func recoveredFirst(recovered, msg string) string {
	if recovered == "" {
		return msg
	}
	return recovered + "\n" + msg
}
