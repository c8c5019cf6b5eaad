package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/socketbar/socketbar/serverctl/action"
)

// usageError is a command line that cannot run: exit 2, nothing changed.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// errReported means the command has said what went wrong in its own
// output (a failed test, lint errors): exit 1 without another message.
var errReported = errors.New("reported")

// cliField names an input the way the command line takes it.
var cliField = map[action.Field]string{
	action.FieldPath: "PATH", action.FieldBackend: "BACKEND", action.FieldStrategy: "--strategy",
	action.FieldVHost: "--vhost", action.FieldApacheVersion: "--apache-version", action.FieldBackup: "--to",
	action.FieldURL: "URL", action.FieldOrigin: "--origin", action.FieldHeader: "-H", action.FieldConnect: "--connect",
	action.FieldAddr: "--addr", action.FieldRoute: "--route", action.FieldFile: "--file", action.FieldCert: "--cert/--key",
	action.FieldSite: "--site", action.FieldProxyAddr: "--proxy-addr",
}

// cliRemedy says a way out in flags.
var cliRemedy = map[action.Remedy]string{
	action.RemedyReplace:       "pass --replace to change it",
	action.RemedyTunnel:        "use --strategy tunnel",
	action.RemedyApacheVersion: "pass --apache-version X.Y.Z, or use --strategy tunnel",
	action.RemedyChooseVHost:   "name one with --vhost PORT",
	action.RemedyHistory:       "see socketbar history",
	action.RemedyEverySite:     "remove it without --site, or add it again with --replace and --site for each site that should keep it",
}

// fail prints err for the command line and returns the exit code. This is
// the one place where errors become words and exit codes.
func (e *Env) fail(cmd string, err error) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, errReported) {
		return exitFailure
	}
	prefix := "socketbar: "
	if cmd != "" {
		prefix = "socketbar " + cmd + ": "
	}
	w := describe(err)
	fmt.Fprintf(e.Stderr, "%s%s\n", prefix, w.msg)
	return w.code
}

// Words is what the command line says for err and the exit code it
// exits with; ok is false when err is none of the kinds the CLI words
// (action.Kinds), and msg is then the library's own message.
func Words(err error) (msg string, code int, ok bool) {
	w, ok := action.Word(errorWords(), err)
	if !ok {
		return action.Text(err), exitFailure, false
	}
	return w.msg, w.code, true
}

// words is an error as the command line says it: the message and the exit code.
type words struct {
	msg  string
	code int
}

func failure(format string, args ...any) words {
	return words{fmt.Sprintf(format, args...), exitFailure}
}
func refusal(format string, args ...any) words { return words{fmt.Sprintf(format, args...), exitUsage} }

// describe words any error for the command line.
func describe(err error) words {
	msg, code, _ := Words(err)
	return words{msg, code}
}

// errorWords is the command line's words for every kind of error a
// person must act on (action.Kinds), the kinds that wrap others first.
// It is a function because a row words the error inside its own with the
// whole table.
func errorWords() []action.Wording[words] {
	return []action.Wording[words]{
		action.When(afterRecovery),
		action.When(func(e *usageError) words { return words{e.msg, exitUsage} }),
		action.When(func(e *action.RemoteUnavailableError) words {
			return refusal("this is not available yet on a Server reached over SSH (--host %s, or SOCKETBAR_HOST); leave them out to act on this machine. Nothing was run on the Server or changed.", e.Host)
		}),
		action.When(func(e *action.HostError) words {
			return refusal("--host %q: the %s %q %s; %s. Nothing was run.", e.Input, e.Field, e.Value, e.Problem, e.Fix)
		}),
		action.When(func(e *action.SSHCommandError) words {
			return refusal("%s. Nothing was run.", remoteText(e))
		}),
		action.When(hostKeyWords),
		action.When(func(e *action.HostKeyChangedError) words {
			return failure("%s.\n%s\nNothing was run on the Server.", remoteText(e), e.Remedy())
		}),
		action.When(func(e *action.AuthError) words {
			return failure("%s.\n%s\nNothing was run on the Server.", remoteText(e), e.Remedy())
		}),
		action.When(func(e *action.DialError) words {
			return failure("%s.\n%s", remoteText(e), e.Remedy())
		}),
		action.When(func(e *action.LoginTimeoutError) words {
			return failure("%s.\n%s\nNothing was run on the Server.", remoteText(e), e.Remedy())
		}),
		action.When(func(e *action.StartupOutputError) words {
			return failure("the account's shell startup on %s printed more than %s on its standard output before Socketbar's command could start, so the command's answer cannot be told from it; Socketbar stopped it.\n%s%s", e.Host, byteSize(e.Limit), e.Remedy(), ifChange())
		}),
		action.When(sudoWords),
		action.When(func(e *action.SSHError) words {
			return failure("ssh to %s failed: %s\nCheck that ssh %s true works from this terminal (with SOCKETBAR_SSH's options, if you set it), then run the command again.%s", e.Host, e.Stderr, e.Host, ifChange())
		}),
		action.When(func(e *action.ForwardError) words {
			return failure("the Server could not connect to %s on its own side: %s.\nIf it says \"administratively prohibited\", the Server's sshd forbids forwarding for this account: allow it with AllowTcpForwarding yes in the Server's sshd_config. Otherwise nothing answers at %[1]s on the Server: see socketbar status (with the same --host).", e.Addr, e.Reason)
		}),
		action.When(func(e *action.OutputLimitError) words {
			return failure("on the Server, %s printed more than %s on its %s, far more than a Server answers; Socketbar stopped it. Check that --host names a macOS Server and that --root is the Server's folder on its side.", e.Command, byteSize(e.Limit), e.Stream)
		}),
		action.When(func(e *action.ExitError) words {
			said := "; it printed nothing on its standard error"
			if e.Stderr != "" {
				said = ":\n" + e.Stderr
			}
			return failure("on the Server, %s exited with status %d%s\nSocketbar runs there only what OS X 10.10 and later ship (/bin/sh, POSIX tools, /usr/bin/perl, sudo, launchctl, the Server's httpd): fix what the message names on the Server, then run the command again.", e.Command, e.Code, said)
		}),
		action.WhenIs(action.ErrClosed, func(err error) words {
			said := ""
			if ce := (*action.ClosedError)(nil); errors.As(err, &ce) {
				said = " (ssh said: " + strings.TrimSuffix(ce.Said, ".") + ")"
			}
			return failure("the connection to the Server ended before the command was done%s: the Server went away, the network dropped, or ssh was stopped.\nRun the command again.%s", said, ifChange())
		}),
		action.When(func(e *action.RouteExistsError) words {
			return refusal("PATH %s already has a Socketbar route in %s%s; %s. Nothing was changed.", e.Path, hostName(e.VHost), routeThere(e), cliRemedy[action.RemedyReplace])
		}),
		inputWords,
		action.When(func(e *action.NotFoundError) words {
			if e.Host != "" {
				return failure("no macOS Server found under %s on %s. Looked for:\n  %s\nCheck that --root names the Server's folder there (leave it out for the Server's own /), and that the account Socketbar logs in as may read it.",
					e.Root, e.Host, strings.Join(e.Looked, "\n  "))
			}
			return failure("no macOS Server found under %s. Looked for:\n  %s\nOn a Mac with Server 5 installed, run without --root; to try Socketbar elsewhere, run socketbar demo or point --root at a copy of a Server's files.",
				e.Root, strings.Join(e.Looked, "\n  "))
		}),
		action.When(func(e *action.NoHTTPDError) words {
			return failure("cannot run Apache's config test: no httpd at %s; pass --httpd PATH. Nothing was changed.", strings.Join(e.Looked, " or "))
		}),
		action.When(func(e *action.NeedsRootError) words {
			if e.ReadOnly {
				return failure("%s is on a read-only file system, so no user can change it. Nothing was changed.", e.Path)
			}
			return failure("this user may not write %s. Run the command again with sudo. Nothing was changed.", e.Path)
		}),
		action.WhenIs(action.ErrCancelled, func(error) words {
			return failure("you cancelled the administrator prompt. Nothing was changed.")
		}),
		action.When(notManaged),
		action.When(func(e *action.ConfigTestError) words {
			if e.Already {
				return failure("Apache's config test fails for the config as it is now, before this change, so nothing was written:\n%s\nFix the config on disk first (socketbar lint points at what it knows), then run the command again.", e.Output)
			}
			return failure("Apache's config test failed for the new config (nothing was written):\n%s\nFix the cause above; the config on disk was not changed.", e.Output)
		}),
		action.When(func(e *action.ChangedSinceError) words {
			return failure("%s. See them with socketbar undo --dry-run; undo anyway with --force. Nothing was changed.", changedSince(e))
		}),
		action.When(func(e *action.HandEditedError) words {
			var b strings.Builder
			fmt.Fprintf(&b, "Socketbar's block for %s in %s holds lines Socketbar did not write:", e.Path, hostName(e.VHost))
			for _, l := range e.Lines {
				fmt.Fprintf(&b, "\n  %s line %d: %s", e.File, l.Line, l.Text)
			}
			b.WriteString("\nMove them out of the block (above its socketbar:begin line) or delete them, then run the command again. Nothing was changed.")
			return failure("%s", b.String())
		}),
		action.When(restartWords),
		action.When(func(e *action.OutcomeNotRecordedError) words {
			return failure("change %s (%s) was %s, but Socketbar could not record that in its history: %s\nWhat the change did stands; socketbar history may not show it.", e.Entry.ID, e.Entry.Description, e.Outcome, cause(e.Err))
		}),
		action.WhenIs(action.ErrChangedOnDisk, func(err error) words {
			return failure("%s\nSomething else (Server.app?) wrote the file meanwhile; nothing was changed. Run the command again.", action.Text(err))
		}),
		action.WhenIs(action.ErrLocked, func(error) words {
			return failure("another Socketbar, on this machine or another one, is applying a change to this config right now; nothing was changed. Run the command again when it is done (socketbar history shows it then).")
		}),
		action.WhenIs(action.ErrTampered, func(err error) words {
			return failure("%s\nAnother program changed the plan after you approved it.", action.Text(err))
		}),
		action.WhenIs(action.ErrInterrupted, func(err error) words {
			return failure("%s\nSocketbar changes nothing until that change is settled; socketbar status shows it.", action.Text(err))
		}),
		action.WhenIs(action.ErrForeignOwner, nothingChanged),
		action.WhenIs(action.ErrSymlink, nothingChanged),
		action.WhenIs(action.ErrNotDir, nothingChanged),
		action.When(func(e *action.LoadError) words {
			if action.IsLoadLimit(e) {
				return failure("%s: %v\nThat is more than Socketbar reads of a Service Proxy config; is --root the folder of a Server?", e.Pos, e.Err)
			}
			return failure("%s: %v\nApache would refuse this config too; fix it there.", e.Pos, e.Err)
		}),
		action.WhenIs(action.ErrNothingToUndo, func(error) words {
			return failure("Socketbar has no change to undo; see socketbar history.")
		}),
		action.When(func(e *action.ServiceError) words {
			msg := cause(e.Err)
			if e.LogTail != "" {
				msg += fmt.Sprintf("\nLast lines of %s:\n%s", e.ErrorLog, e.LogTail)
			}
			return failure("%s", msg)
		}),
		action.When(func(e *action.AddrInUseError) words {
			pick := "pick another port with --addr HOST:PORT"
			if e.Free != "" {
				pick = "pick another port, such as --addr " + e.Free
			}
			return failure("%s is already in use. On a macOS Server the Service Proxy itself listens on 8443 for Calendar and Contacts; %s.", e.Addr, pick)
		}),
		action.WhenIs(action.ErrNoRoutes, func(error) words {
			return refusal("no routes to serve; give one with --route /ws/=http://127.0.0.1:8000/ws/, or point --root at a Server (or at socketbar demo's folder).")
		}),
		action.When(func(e *action.NoRouteError) words {
			return failure("the Service Proxy config has no route for %s; see socketbar routes.", e.Path)
		}),
		action.WhenIs(action.ErrNotDemoTree, func(err error) words {
			return refusal("%s; pick another --dir. Nothing was changed.", action.Text(err))
		}),
		action.WhenIs(action.ErrNoHTTPD, func(err error) words {
			return failure("%s\nThe demo's files can be read (status, routes, lint and add --dry-run work on them); to run it, install apache2 (Debian) and start socketbar demo again.", action.Text(err))
		}),
		action.When(func(e *action.DemoPortError) words {
			what := "the demo Server"
			if e.Port != 0 {
				what = "the demo's echo app"
			}
			return failure("cannot start %s: %s\nIf a port is taken, socketbar demo --reset picks new ones.", what, cause(e.Err))
		}),
		action.When(func(e *action.DemoRunningError) words {
			return failure("the demo already runs in %s (started by another Socketbar); use it with --root %[1]s or SOCKETBAR_ROOT=%[1]s.", e.Root)
		}),
		action.When(func(e *action.DemoStoppedError) words {
			return failure("the demo Server in %s is stopped; start it with socketbar demo and try again. Nothing was changed.", e.Root)
		}),
	}
}

// hostKeyWords says that ssh does not know the Server's key, shows its
// fingerprint, and how to accept it: Socketbar never does by itself.
func hostKeyWords(e *action.HostKeyError) words {
	var b strings.Builder
	fmt.Fprintf(&b, "the host key of %s (port %d) is not known to ssh, so nothing was run on it. The key it offers:", e.Name, e.Port)
	for _, f := range e.Fingerprints {
		fmt.Fprintf(&b, "\n  %s", f)
	}
	fmt.Fprintf(&b, "\n%s\n(If you set SOCKETBAR_SSH, give ssh the same options.) Socketbar never accepts a host key by itself.", e.Remedy())
	return failure("%s", b.String())
}

// sudoWords says why sudo on the Server ran nothing, and the way out for
// each reason. Nothing ran as root, so nothing was changed.
func sudoWords(e *action.SudoError) words {
	account := "the account Socketbar logs in as"
	if e.Host.User != "" {
		account += " (" + e.Host.User + ")"
	}
	switch e.Reason {
	case action.SudoNeedsPassword:
		return failure("sudo on %s needs the password of %s, and Socketbar had none to give: run the command in a terminal to be asked for it (without echo), or give it on standard input with --password-stdin, as in printf '%%s\\n' \"$PASSWORD\" | socketbar … --password-stdin. To need no password, let that account run sudo without one (NOPASSWD in the Server's sudoers), or log in as root with an SSH key. Nothing was changed.", e.Host, account)
	case action.SudoWrongPassword:
		return failure("sudo on %s refused the password given for %s, so nothing ran as root and nothing was changed. Run the command again with that account's login password on the Server.", e.Host, account)
	case action.SudoNotAllowed:
		admin := e.Host
		admin.User = "ADMIN"
		return failure("%s may not use sudo on %s, and the Service Proxy's config belongs to root. Log in as an administrator of the Server (--host %s) or as root with an SSH key. Nothing was changed.", upperFirst(account), e.Host, admin)
	}
	return failure("sudo on %s ran nothing as %s: %s. Nothing was changed.", e.Host, account, e.Stderr)
}

// ifChange is what to do after the connection failed, in case a change
// was under way.
func ifChange() string {
	return "\nIf it happened during a change, see with socketbar history (with the same --host) whether the change was made before making another."
}

// byteSize writes n bytes as a person reads them: "16 MiB", "512 KiB", "300 bytes".
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// remoteText is a transport error's message without the package name it
// starts with for logs.
func remoteText(err error) string { return strings.TrimPrefix(err.Error(), "remote: ") }

// inputWords words refused input: the argument or flag at fault first,
// then what is wrong and the way out. It matches no input error about an
// input or with a way out that the CLI has no words for.
func inputWords(err error) (words, bool) {
	var in *action.InputError
	if !errors.As(err, &in) {
		return words{}, false
	}
	field, known := cliField[in.Field]
	msg := field + " " + in.Msg
	if in.Remedy != "" {
		remedy, ok := cliRemedy[in.Remedy]
		msg += "; " + remedy
		known = known && ok
	}
	return refusal("%s. Nothing was changed.", msg), known
}

// afterRecovery says what settling an interrupted change did, then why
// the command failed after it. A change worked out from the files the
// recovery then put back is refused as changed on disk: the writer was
// the recovery, not another program.
func afterRecovery(e *action.AfterRecoveryError) words {
	w := describe(e.Err)
	if len(e.Recovery.Restored) > 0 && errors.Is(e.Err, action.ErrChangedOnDisk) {
		w.msg = "This command had worked out its change from the files as the interrupted change left them, so none of it was written. Run the command again."
	}
	w.msg = e.Recovery.String() + "\n" + w.msg
	return w
}

// restartWords says that the Service Proxy did not come back, what the
// rollback achieved and the way out. Undo would overwrite another writer's
// edit, and changes nothing when the old config is back: it is advised
// only when neither holds.
func restartWords(e *action.RestartError) words {
	var b strings.Builder
	fmt.Fprintf(&b, "the Service Proxy did not come back with the new config: %s", cause(e.Cause))
	if e.LogTail != "" {
		fmt.Fprintf(&b, "\nLast lines of its error log:\n%s", e.LogTail)
	}
	switch {
	case e.RollbackErr == nil:
		fmt.Fprintf(&b, "\nRolled back: the previous config (backup %s) is in place and the Service Proxy serves again.", e.Backup.ID)
	case e.Restored:
		fmt.Fprintf(&b, "\nRolled back, but: %s", cause(e.RollbackErr))
	default:
		fmt.Fprintf(&b, "\nRollback FAILED: %s\nThe previous config is saved as backup %s; undo to it once the cause is fixed.", cause(e.RollbackErr), e.Backup.ID)
	}
	switch {
	case errors.Is(e.Cause, action.ErrWasStopped):
		b.WriteString("\nThe Service Proxy was stopped before the change too: start it with socketbar restart and read its error log.")
	case e.RollbackErr != nil && e.Restored:
		b.WriteString("\nFix the cause in the error log, then start it with socketbar restart.")
	}
	if e.RollbackErr != nil && !e.Restored && !errors.Is(e.RollbackErr, action.ErrChangedOnDisk) {
		fmt.Fprintf(&b, "\nRestore it with: socketbar undo --to %s", e.Backup.ID)
	}
	return failure("%s", b.String())
}

// notManaged words a remove that found nothing of Socketbar's, offering
// the route with or without the trailing slash when there is one.
func notManaged(e *action.NotManagedError) words {
	msg := "Socketbar has no route for " + e.Path
	if e.Rule != nil {
		msg += fmt.Sprintf("; the rule on line %d (%s) was not written by Socketbar, so edit it by hand", e.Rule.Line, e.Rule.Directive)
	}
	if e.Suggest != "" {
		msg += fmt.Sprintf("; did you mean %s? Run socketbar remove %[1]s", e.Suggest)
	}
	return failure("%s. Nothing was changed.", msg)
}

// nothingChanged words a kind whose library message already says what to
// do: it is the message, and that nothing was changed.
func nothingChanged(err error) words {
	return failure("%s. Nothing was changed.", action.Text(err))
}

// cause is the message of an error inside another (a restart's cause, a
// rollback's failure), which the other's words say what to do about.
func cause(err error) string { return action.Text(err) }

// changedSince says which file changed after Socketbar's last change.
func changedSince(e *action.ChangedSinceError) string {
	return fmt.Sprintf("%s was changed after Socketbar's last change to it (%s, %s), by hand or by Server.app; undoing would throw those edits away", e.Path, e.Last.ID, e.Last.Description)
}

// routeThere says what the route that is already there does.
func routeThere(e *action.RouteExistsError) string {
	hosts := ""
	if len(e.Hosts) > 0 {
		hosts = ", for " + strings.Join(e.Hosts, ", ")
	}
	return fmt.Sprintf(" (to %s, %s%s, line %d)", e.Backend, e.Strategy, hosts, e.Line)
}

// hostName names where a block sits: a VirtualHost by its address, or the
// macro that makes the custom sites' VirtualHosts. It does not say "every
// custom site": a block in the macro may be guarded to serve only some.
func hostName(label string) string {
	if strings.HasPrefix(label, "macro ") {
		return "the custom sites' " + label
	}
	return "VirtualHost " + label
}
