package cli

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/socketbar/socketbar/proxy"
	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/action"
	"github.com/socketbar/socketbar/serverctl/demo"
	"github.com/socketbar/socketbar/serverctl/elevate"
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
var cliField = map[serverctl.Field]string{
	serverctl.FieldPath: "PATH", serverctl.FieldBackend: "BACKEND", serverctl.FieldStrategy: "--strategy",
	serverctl.FieldVHost: "--vhost", serverctl.FieldApacheVersion: "--apache-version", serverctl.FieldBackup: "--to",
	serverctl.FieldURL: "URL", serverctl.FieldOrigin: "--origin", serverctl.FieldHeader: "-H", serverctl.FieldConnect: "--connect",
	serverctl.FieldAddr: "--addr", serverctl.FieldRoute: "--route", serverctl.FieldFile: "--file", serverctl.FieldCert: "--cert/--key",
	serverctl.FieldSite: "--site", serverctl.FieldProxyAddr: "--proxy-addr",
}

// cliRemedy says a way out in flags.
var cliRemedy = map[serverctl.Remedy]string{
	serverctl.RemedyReplace:       "pass --replace to change it",
	serverctl.RemedyTunnel:        "use --strategy tunnel",
	serverctl.RemedyApacheVersion: "pass --apache-version X.Y.Z, or use --strategy tunnel",
	serverctl.RemedyChooseVHost:   "name one with --vhost PORT",
	serverctl.RemedyHistory:       "see socketbar history",
	serverctl.RemedyEverySite:     "remove it without --site, or add it again with --replace and --site for each site that should keep it",
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
	msg, code := describe(err)
	fmt.Fprintf(e.Stderr, "%s%s\n", prefix, plainMessage(msg))
	return code
}

// describe words an error for the command line and picks its exit code.
func describe(err error) (string, int) {
	var after *serverctl.AfterRecoveryError
	if errors.As(err, &after) {
		return describeAfterRecovery(after)
	}
	var (
		usage *usageError
		in    *serverctl.InputError
		nf    *serverctl.NotFoundError
		nh    *serverctl.NoHTTPDError
		nr    *action.NeedsRootError
		nm    *serverctl.NotManagedError
		near  *action.NotManagedError
		cte   *serverctl.ConfigTestError
		rse   *serverctl.RestartError
		svc   *action.ServiceError
		inUse *proxy.AddrInUseError
		noRt  *action.NoRouteError
		dpe   *action.DemoPortError
		hand  *serverctl.HandEditedError
		since *action.ChangedSinceError
	)
	switch {
	case errors.As(err, &usage):
		return usage.msg, exitUsage
	case errors.As(err, &in):
		msg := fmt.Sprintf("%s %s", cliField[in.Field], in.Msg)
		if in.Remedy == serverctl.RemedyReplace {
			msg = existingRoute(in)
		}
		if r := cliRemedy[in.Remedy]; r != "" {
			msg += "; " + r
		}
		return msg + ". Nothing was changed.", exitUsage
	case errors.As(err, &nf):
		return fmt.Sprintf("no macOS Server found under %s. Looked for:\n  %s\nOn a Mac with Server 5 installed, run without --root; to try Socketbar elsewhere, run socketbar demo or point --root at a copy of a Server's files.",
			nf.Root, strings.Join(nf.Looked, "\n  ")), exitFailure
	case errors.As(err, &nh):
		return fmt.Sprintf("%v; pass --httpd PATH. Nothing was changed.", nh), exitFailure
	case errors.As(err, &nr) && nr.ReadOnly:
		return fmt.Sprintf("%s is on a read-only file system, so no user can change it. Nothing was changed.", nr.Path), exitFailure
	case errors.As(err, &nr):
		return fmt.Sprintf("this user may not write %s. Run the command again with sudo. Nothing was changed.", nr.Path), exitFailure
	case errors.Is(err, elevate.ErrCancelled):
		return "you cancelled the administrator prompt. Nothing was changed.", exitFailure
	case errors.As(err, &near) && near.Suggest != "":
		return fmt.Sprintf("%s; did you mean %s? Run socketbar remove %s. Nothing was changed.", near.Msg, near.Suggest, near.Suggest), exitFailure
	case errors.As(err, &nm):
		return nm.Msg + ". Nothing was changed.", exitFailure
	case errors.As(err, &cte):
		return fmt.Sprintf("%v\nFix the cause above; the config on disk was not changed.", cte), exitFailure
	case errors.As(err, &since):
		return since.Error() + ". See them with socketbar undo --dry-run; undo anyway with --force. Nothing was changed.", exitFailure
	case errors.As(err, &hand):
		var b strings.Builder
		fmt.Fprintf(&b, "Socketbar's block for %s in %s holds lines Socketbar did not write:", hand.Path, hostName(hand.VHost))
		for _, l := range hand.Lines {
			fmt.Fprintf(&b, "\n  %s line %d: %s", hand.File, l.Line, l.Text)
		}
		b.WriteString("\nMove them out of the block (above its socketbar:begin line) or delete them, then run the command again. Nothing was changed.")
		return b.String(), exitFailure
	case errors.As(err, &rse):
		msg := rse.Error()
		// Undo would overwrite another writer's edit, and changes nothing
		// when the old config is back: advise it only when neither holds.
		switch {
		case errors.Is(rse.Cause, serverctl.ErrWasStopped):
			msg += "\nThe Service Proxy was stopped before the change too: start it with socketbar restart and read its error log."
		case rse.RollbackErr != nil && rse.Restored:
			msg += "\nFix the cause in the error log, then start it with socketbar restart."
		}
		if rse.RollbackErr != nil && !rse.Restored && !errors.Is(rse.RollbackErr, serverctl.ErrChangedOnDisk) {
			msg += fmt.Sprintf("\nRestore it with: socketbar undo --to %s", rse.Backup.ID)
		}
		return msg, exitFailure
	case errors.Is(err, serverctl.ErrChangedOnDisk):
		return fmt.Sprintf("%v\nSomething else (Server.app?) wrote the file meanwhile; nothing was changed. Run the command again.", err), exitFailure
	case errors.Is(err, elevate.ErrTampered):
		return fmt.Sprintf("%v\nAnother program changed the plan after you approved it.", err), exitFailure
	case errors.As(err, &svc):
		msg := svc.Error()
		if svc.LogTail != "" {
			msg += fmt.Sprintf("\nLast lines of %s:\n%s", svc.ErrorLog, svc.LogTail)
		}
		return msg, exitFailure
	case errors.As(err, &inUse):
		pick := "pick another port with --addr HOST:PORT"
		if free := freeAddrNear(inUse.Addr); free != "" {
			pick = "pick another port, such as --addr " + free
		}
		return fmt.Sprintf("%s is already in use. On a macOS Server the Service Proxy itself listens on 8443 for Calendar and Contacts; %s.", inUse.Addr, pick), exitFailure
	case errors.Is(err, action.ErrNoRoutes):
		return "no routes to serve; give one with --route /ws/=http://127.0.0.1:8000/ws/, or point --root at a Server (or at socketbar demo's folder).", exitUsage
	case errors.Is(err, action.ErrNothingToUndo):
		return "Socketbar has no change to undo; see socketbar history.", exitFailure
	case errors.As(err, &noRt):
		return noRt.Error() + "; see socketbar routes.", exitFailure
	case errors.Is(err, demo.ErrNotDemoTree):
		return strings.TrimPrefix(err.Error(), "demo: ") + "; pick another --dir. Nothing was changed.", exitUsage
	case errors.As(err, &dpe):
		return dpe.Error() + "\nIf a port is taken, socketbar demo --reset picks new ones.", exitFailure
	}
	return err.Error(), exitFailure
}

// describeAfterRecovery says what settling an interrupted change did,
// then why the command failed after it. A change worked out from the files
// the recovery then put back is refused as changed on disk: the writer was
// the recovery, not another program.
func describeAfterRecovery(after *serverctl.AfterRecoveryError) (string, int) {
	msg, code := describe(after.Err)
	if len(after.Recovery.Restored) > 0 && errors.Is(after.Err, serverctl.ErrChangedOnDisk) {
		msg = "This command had worked out its change from the files as the interrupted change left them, so none of it was written. Run the command again."
	}
	return after.Recovery.String() + "\n" + msg, code
}

// freeAddrNear is an address on addr's host whose port is free now, to
// suggest instead of the taken addr: 18443 (what the help shows) unless
// that is the one taken, else one of the next ports after addr's; "" when
// none of them is free.
func freeAddrNear(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	taken, _ := strconv.Atoi(port)
	candidates := []int{18443}
	for p := taken + 1; p <= taken+20 && p <= 65535; p++ {
		candidates = append(candidates, p)
	}
	for _, p := range candidates {
		if p == taken {
			continue
		}
		a := net.JoinHostPort(host, strconv.Itoa(p))
		if ln, err := net.Listen("tcp", a); err == nil {
			ln.Close()
			return a
		}
	}
	return ""
}

// existingRoute words the refusal to overwrite Socketbar's route, which
// the library words as "*:443 already has a Socketbar route for /ws/ (…)":
// the CLI's message starts with the argument at fault, PATH, so it names
// the path first and the VirtualHost after it.
func existingRoute(in *serverctl.InputError) string {
	vhost, rest, ok := strings.Cut(in.Msg, " already has a Socketbar route for ")
	if !ok {
		return fmt.Sprintf("%s %s", cliField[in.Field], in.Msg)
	}
	path, detail, _ := strings.Cut(rest, " ")
	return strings.TrimSpace(fmt.Sprintf("%s %s already has a Socketbar route in %s %s", cliField[in.Field], path, hostName(vhost), detail))
}

// internalPrefixes are the package names Socketbar's libraries start their
// errors with, as Go's packages do ("serverctl: read config: …"). They
// help a programmer; a person reading the CLI's message learns nothing
// from them.
var internalPrefixes = []string{"serverctl: ", "apacheconf: ", "action: ", "proxy: ", "wstest: ", "demo: "}

// plainMessage is an error's text without the libraries' package
// prefixes, at the start and where a wrapped error begins (after ": ").
func plainMessage(msg string) string {
	for _, p := range internalPrefixes {
		msg = strings.TrimPrefix(msg, p)
		msg = strings.ReplaceAll(msg, ": "+p, ": ")
	}
	return msg
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
