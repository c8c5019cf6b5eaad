package app

import (
	"errors"
	"fmt"
	"strings"

	"github.com/socketbar/socketbar/serverctl/action"
)

// formField names an input the way the app's forms show it.
var formField = map[action.Field]string{
	action.FieldPath: "Path", action.FieldBackend: "Backend", action.FieldStrategy: "Strategy",
	action.FieldVHost: "VirtualHosts", action.FieldApacheVersion: "The Apache version", action.FieldBackup: "The change",
	action.FieldURL: "URL", action.FieldOrigin: "Origin", action.FieldHeader: "Headers", action.FieldConnect: "Connect to",
	action.FieldAddr: "Address", action.FieldRoute: "Route", action.FieldFile: "File", action.FieldCert: "Certificate",
	action.FieldSite: "Sites", action.FieldProxyAddr: "The test proxy's address",
}

// formRemedy says a way out in terms of the app's controls.
var formRemedy = map[action.Remedy]string{
	action.RemedyReplace:       "remove that route first to change it",
	action.RemedyTunnel:        "choose Tunnel",
	action.RemedyApacheVersion: "choose Tunnel, which works on every Apache 2.4",
	action.RemedyChooseVHost:   "tick the VirtualHosts to change",
	action.RemedyHistory:       "see the Log window's list of changes",
	action.RemedyEverySite:     "remove it for every site, then add it again with only the sites that should keep it ticked",
}

// errorMessage words an action's error for a person using the app.
func errorMessage(err error) string {
	msg, _ := Words(err)
	return msg
}

// Words is what the app says for err; ok is false when err is none of
// the kinds the app words (action.Kinds), and msg is then the library's
// own message.
func Words(err error) (msg string, ok bool) {
	if msg, ok := action.Word(errorWords(), err); ok {
		return msg, true
	}
	return action.Text(err), false
}

// errorWords is the app's words for every kind of error a person must
// act on (action.Kinds), the kinds that wrap others first. It is a
// function because a row words the error inside its own with the whole
// table.
func errorWords() []action.Wording[string] {
	return []action.Wording[string]{
		action.When(func(e *action.AfterRecoveryError) string {
			// Settling an interrupted change may have written files: say
			// so first, whatever then failed.
			msg := errorMessage(e.Err)
			if len(e.Recovery.Restored) > 0 && errors.Is(e.Err, action.ErrChangedOnDisk) {
				msg = "This change had been worked out from the files as the interrupted change left them, so none of it was written. Try again."
			}
			return recoveredFirst(e.Recovery.String(), msg)
		}),
		action.When(func(e *action.RouteExistsError) string {
			hosts := ""
			if len(e.Hosts) > 0 {
				hosts = ", for " + strings.Join(e.Hosts, ", ")
			}
			return fmt.Sprintf("%s %s already has a Socketbar route in %s (to %s, %s%s, line %d); %s.",
				formField[action.FieldPath], e.Path, placeName(e.VHost), e.Backend, e.Strategy, hosts, e.Line, formRemedy[action.RemedyReplace])
		}),
		inputWords,
		action.When(func(e *action.NotFoundError) string {
			if e.Host != "" {
				return fmt.Sprintf("There is no macOS Server in %s on %s (Socketbar looked for %s). Check the Server's folder for / and that the account Socketbar logs in as may read it.", e.Root, e.Host, strings.Join(e.Looked, " and "))
			}
			return fmt.Sprintf("There is no macOS Server in %s (Socketbar looked for %s). Choose Start Demo Server to try Socketbar on a Server of its own.", e.Root, strings.Join(e.Looked, " and "))
		}),
		action.When(func(e *action.NoHTTPDError) string {
			return fmt.Sprintf("Socketbar cannot run Apache's config test: there is no httpd at %s. Nothing was changed.", strings.Join(e.Looked, " or "))
		}),
		action.When(func(e *action.DemoStoppedError) string {
			return "The demo Server is stopped, and restarting its Service Proxy alone would leave it without the Websites tier behind it. Start it with Start Demo Server (or socketbar demo) and try again. Nothing was changed."
		}),
		action.When(func(e *action.DemoRunningError) string {
			return "The demo Server already runs (started by another Socketbar); Socketbar shows that one."
		}),
		action.When(func(e *action.NeedsRootError) string {
			if e.ReadOnly {
				return fmt.Sprintf("%s is on a read-only file system, so no user can change it. Nothing was changed.", e.Path)
			}
			return fmt.Sprintf("This user may not write %s. Start Socketbar as a user who may, or use the command line with sudo. Nothing was changed.", e.Path)
		}),
		action.WhenIs(action.ErrCancelled, func(error) string {
			return "You cancelled the password prompt (the administrator prompt on this Mac, or sudo's on the Server). Nothing was changed."
		}),
		action.When(func(e *action.NotManagedError) string {
			msg := "Socketbar has no route for " + e.Path
			if e.Rule != nil {
				msg += fmt.Sprintf("; the rule on line %d (%s) was written by hand, so change it in the config itself", e.Rule.Line, e.Rule.Directive)
			}
			if e.Suggest != "" {
				msg += "; Socketbar's route is " + e.Suggest
			}
			return msg + ". Nothing was changed."
		}),
		action.When(func(e *action.ConfigTestError) string {
			if e.Already {
				return "Apache's config test fails for the config as it is now, before this change, so nothing was written. Fix the config on disk first:\n" + e.Output
			}
			return "Apache's config test failed for the new config, so nothing was written:\n" + e.Output
		}),
		action.When(func(*action.ChangedSinceError) string {
			return "Undo would throw away edits made to the config since Socketbar's last change (by hand or by Server.app). Nothing was changed; use the command line (socketbar undo --dry-run, then --force) to undo anyway."
		}),
		action.When(func(e *action.HandEditedError) string {
			var b strings.Builder
			fmt.Fprintf(&b, "Socketbar's block for %s in %s holds lines Socketbar did not write:", e.Path, placeName(e.VHost))
			for _, l := range e.Lines {
				fmt.Fprintf(&b, "\n  %s line %d: %s", e.File, l.Line, l.Text)
			}
			b.WriteString("\nMove them out of the block (above its socketbar:begin line) or delete them, then try again. Nothing was changed.")
			return b.String()
		}),
		action.When(restartWords),
		action.When(func(e *action.OutcomeNotRecordedError) string {
			return fmt.Sprintf("The change “%s” was %s, but Socketbar could not record that in its list of changes (%s). What the change did stands; the Log window's list may not show it.", e.Entry.Description, e.Outcome, action.Text(e.Err))
		}),
		action.WhenIs(action.ErrChangedOnDisk, func(error) string {
			return "Something else (Server.app?) changed the config meanwhile, so nothing was written. Try again."
		}),
		action.WhenIs(action.ErrTampered, func(err error) string {
			return fmt.Sprintf("Another program changed the approved change before it ran (%s). Try again.", action.Text(err))
		}),
		action.WhenIs(action.ErrInterrupted, func(err error) string {
			return "A change that a killed Socketbar left half-done could not be settled: " + action.Text(err) + "\nSocketbar changes nothing until it is."
		}),
		action.WhenIs(action.ErrForeignOwner, backupsUnusable),
		action.WhenIs(action.ErrSymlink, backupsUnusable),
		action.WhenIs(action.ErrNotDir, backupsUnusable),
		action.When(func(e *action.LoadError) string {
			if action.IsLoadLimit(e) {
				return fmt.Sprintf("Socketbar stopped reading the config at %s: %v. That is more than a Server's config holds.", e.Pos, e.Err)
			}
			return fmt.Sprintf("The config cannot be read at %s: %v. Apache would refuse it too; fix it there.", e.Pos, e.Err)
		}),
		action.WhenIs(action.ErrNothingToUndo, func(error) string {
			return "Socketbar has no change to undo."
		}),
		action.When(func(e *action.ServiceError) string {
			msg := action.Text(e.Err)
			if e.LogTail != "" {
				msg += "\nLast lines of the error log:\n" + e.LogTail
			}
			return msg
		}),
		action.When(func(e *action.AddrInUseError) string {
			pick := "Choose another address."
			if e.Free != "" {
				pick = "Choose another address, such as " + e.Free + "."
			}
			return fmt.Sprintf("%s is already in use (on a macOS Server the Service Proxy itself listens on 8443). %s", e.Addr, pick)
		}),
		action.WhenIs(action.ErrNoRoutes, func(error) string {
			return "There are no routes to serve: the Service Proxy config has none."
		}),
		action.When(func(e *action.NoRouteError) string {
			return fmt.Sprintf("The Service Proxy config has no route for %s.", e.Path)
		}),
		action.When(func(e *action.RemoteUnavailableError) string {
			return "Socketbar does not yet do this on a Server over SSH (" + e.Host + "): the test proxy and the live watch follow a Server on this Mac only. Nothing was changed."
		}),
		action.When(func(e *action.SudoError) string {
			switch e.Reason {
			case action.SudoNeedsPassword:
				return fmt.Sprintf("sudo on %s needs the account's password, and none was given. Try again and enter it when asked, or let the account use sudo without one (NOPASSWD), or log in as root with an SSH key. Nothing was changed.", e.Host)
			case action.SudoWrongPassword:
				return fmt.Sprintf("sudo on %s refused the password, so nothing ran as root and nothing was changed. Try again with the account's login password on the Server.", e.Host)
			case action.SudoNotAllowed:
				return fmt.Sprintf("The account Socketbar logs in as on %s may not use sudo, and the Service Proxy's config belongs to root. Log in as an administrator of the Server, or as root with an SSH key. Nothing was changed.", e.Host)
			}
			return fmt.Sprintf("sudo on %s ran nothing as root: %s. Nothing was changed.", e.Host, e.Stderr)
		}),
		action.When(func(e *action.SSHError) string {
			return fmt.Sprintf("ssh to %s failed: %s\nCheck that ssh %[1]s works from a terminal, then try again. If a change was under way, its History shows whether it was made.", e.Host, e.Stderr)
		}),
		action.When(func(e *action.ForwardError) string {
			return fmt.Sprintf("The Server could not connect to %s on its own side: %s. If it says \"administratively prohibited\", allow forwarding for the account (AllowTcpForwarding yes in the Server's sshd_config); otherwise nothing answers there on the Server.", e.Addr, e.Reason)
		}),
		action.When(func(e *action.OutputLimitError) string {
			return fmt.Sprintf("On the Server, %s printed far more than a Server answers, and Socketbar stopped it. Check that the host is a macOS Server and the folder for / is the Server's.", e.Command)
		}),
		action.When(func(e *action.ExitError) string {
			said := ", printing nothing on its standard error"
			if e.Stderr != "" {
				said = ":\n" + e.Stderr
			}
			return fmt.Sprintf("On the Server, %s exited with status %d%s\nFix what the message names on the Server, then try again.", e.Command, e.Code, said)
		}),
		action.WhenIs(action.ErrClosed, func(error) string {
			return "The connection to the Server ended before the action was done: the Server went away, the network dropped, or ssh was stopped. Try again; if a change was under way, its History shows whether it was made."
		}),
		action.WhenIs(action.ErrLocked, func(error) string {
			return "Another Socketbar, on this Mac or another one, is applying a change to this config right now; nothing was changed. Try again when it is done."
		}),
		action.When(func(e *action.HostError) string {
			return fmt.Sprintf("The host %q cannot be used: the %s %q %s; %s.", e.Input, e.Field, e.Value, e.Problem, e.Fix)
		}),
		action.When(func(e *action.SSHCommandError) string {
			return strings.TrimPrefix(e.Error(), "remote: ") + "."
		}),
		action.When(func(e *action.HostKeyError) string {
			fps := make([]string, len(e.Fingerprints))
			for i, f := range e.Fingerprints {
				fps[i] = f.String()
			}
			return fmt.Sprintf("The host key of %s is not known: %s. Compare it with the Server's before you trust it.", e.Name, strings.Join(fps, ", "))
		}),
		action.When(func(e *action.HostKeyChangedError) string {
			return strings.TrimPrefix(e.Error(), "remote: ") + ".\n" + e.Remedy()
		}),
		action.When(func(e *action.AuthError) string {
			return strings.TrimPrefix(e.Error(), "remote: ") + ".\n" + e.Remedy()
		}),
		action.When(func(e *action.DialError) string {
			return strings.TrimPrefix(e.Error(), "remote: ") + ".\n" + e.Remedy()
		}),
		action.When(func(e *action.LoginTimeoutError) string {
			return strings.TrimPrefix(e.Error(), "remote: ") + ". Nothing was run on the Server.\n" + e.Remedy()
		}),
		action.When(func(e *action.StartupOutputError) string {
			return strings.TrimPrefix(e.Error(), "remote: ") + ", so its answer could not be read; Socketbar stopped it. If a change was under way, its History shows whether it was made.\n" + e.Remedy()
		}),
		action.WhenIs(action.ErrNotDemoTree, func(err error) string {
			return action.Text(err) + ". Nothing was changed."
		}),
		action.WhenIs(action.ErrNoHTTPD, func(error) string {
			return "No Apache httpd is installed here, so the demo Server cannot run; its routes can still be browsed and previewed. Install apache2 to run it."
		}),
		action.When(func(e *action.DemoPortError) string {
			what := "The demo Server"
			if e.Port != 0 {
				what = "The demo's echo app"
			}
			return what + " could not start: " + action.Text(e.Err) + "\nIf a port is taken, socketbar demo --reset picks new ones."
		}),
	}
}

// inputWords is an input error as a sentence: "Path must start with /…".
// It matches no input error about an input or with a way out that the app
// has no words for.
func inputWords(err error) (string, bool) {
	var in *action.InputError
	if !errors.As(err, &in) {
		return "", false
	}
	field, known := formField[in.Field]
	msg := field + " " + in.Msg
	if in.Remedy != "" {
		remedy, ok := formRemedy[in.Remedy]
		msg += "; " + remedy
		known = known && ok
	}
	return msg + ".", known
}

// restartWords says that the Service Proxy did not come back and what the
// rollback achieved. Undo is advised only when it would help: not when
// the old config is back, nor over another program's edit.
func restartWords(e *action.RestartError) string {
	var b strings.Builder
	fmt.Fprintf(&b, "The Service Proxy did not come back with the new config: %s.", action.Text(e.Cause))
	if e.LogTail != "" {
		fmt.Fprintf(&b, "\nLast lines of its error log:\n%s", e.LogTail)
	}
	switch {
	case e.RollbackErr == nil:
		fmt.Fprintf(&b, "\nSocketbar put the previous config (backup %s) back, and the Service Proxy serves again.", e.Backup.ID)
	case e.Restored:
		fmt.Fprintf(&b, "\nSocketbar put the previous config back, but: %s\nFix the cause in the error log, then use Restart Service Proxy.", action.Text(e.RollbackErr))
	case errors.Is(e.RollbackErr, action.ErrChangedOnDisk):
		fmt.Fprintf(&b, "\nPutting the previous config back failed: %s", action.Text(e.RollbackErr))
	default:
		fmt.Fprintf(&b, "\nPutting the previous config back FAILED: %s\nIt is saved as backup %s: use Undo in the Log window once the cause is fixed.", action.Text(e.RollbackErr), e.Backup.ID)
	}
	return b.String()
}

// backupsUnusable words a file or folder of Socketbar's backups and
// journal that it will not use; the library's message says what to do.
func backupsUnusable(err error) string {
	return "Socketbar keeps its backups beside the config and cannot use them as they are: " + action.Text(err) + ". Nothing was changed."
}

// placeName names where a block sits: a VirtualHost by its address, or
// the custom sites' macro.
func placeName(label string) string {
	if strings.HasPrefix(label, "macro ") {
		return "the custom sites' " + label
	}
	return "VirtualHost " + label
}

// recoveredFirst is msg after recovered, what settling a change a killed
// Socketbar left half-done did before this action ran ("" for nothing).
func recoveredFirst(recovered, msg string) string {
	if recovered == "" {
		return msg
	}
	return recovered + "\n" + msg
}
