package action

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/socketbar/socketbar/internal/pkgerr"
	"github.com/socketbar/socketbar/proxy"
	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/apacheconf/loader"
	"github.com/socketbar/socketbar/serverctl/demo"
	"github.com/socketbar/socketbar/serverctl/elevate"
	"github.com/socketbar/socketbar/serverctl/remote"
)

// The kinds of error the actions return that a person must act on, each
// with the data a front end needs to say what happened and what to do.
// Those of the libraries are defined where they happen and named here,
// beside the action layer's own (NeedsRootError, NotManagedError,
// ChangedSinceError, ServiceError, NoRouteError, the Demo…Errors,
// ErrNothingToUndo, ErrNoRoutes, ErrNoHTTPD), so that a front end imports
// the action layer alone. Each front end words every kind from one table
// of its own (see Wording), and a test walks Kinds through both tables.
// Any other error is a failure none of them names, most often a file that
// could not be read or written: Text gives its message.
type (
	// InputError is refused input; Field and Remedy are for the front end
	// to word as its flag or form field and its own way out.
	InputError = serverctl.InputError
	Field      = serverctl.Field
	Remedy     = serverctl.Remedy
	// RouteExistsError is an add of a path Socketbar already routes
	// (an InputError about the path, with RemedyReplace).
	RouteExistsError = serverctl.RouteExistsError
	// HandEditedError is a block of Socketbar's with lines someone added.
	HandEditedError = serverctl.HandEditedError
	// NotFoundError is a root with no Server; NoHTTPDError a Server
	// without the httpd that tests its config.
	NotFoundError = serverctl.NotFoundError
	NoHTTPDError  = serverctl.NoHTTPDError
	// ConfigTestError is a change Apache refused; RestartError one that
	// was written but did not come up.
	ConfigTestError = serverctl.ConfigTestError
	RestartError    = serverctl.RestartError
	// AfterRecoveryError is an action that failed after settling a change
	// a killed Socketbar left half-done.
	AfterRecoveryError = serverctl.AfterRecoveryError
	// OutcomeNotRecordedError is a change made whose history entry could
	// not record what became of it.
	OutcomeNotRecordedError = serverctl.OutcomeNotRecordedError
	// LoadError is a place in the config that stops Socketbar reading all
	// of it: a mistake there, or more than Socketbar reads (IsLoadLimit).
	LoadError = loader.Error
	// AddrInUseError is a test proxy address that is taken.
	AddrInUseError = proxy.AddrInUseError
)

// The inputs an InputError may be about.
const (
	FieldPath          = serverctl.FieldPath
	FieldBackend       = serverctl.FieldBackend
	FieldStrategy      = serverctl.FieldStrategy
	FieldVHost         = serverctl.FieldVHost
	FieldApacheVersion = serverctl.FieldApacheVersion
	FieldBackup        = serverctl.FieldBackup
	FieldURL           = serverctl.FieldURL
	FieldOrigin        = serverctl.FieldOrigin
	FieldHeader        = serverctl.FieldHeader
	FieldConnect       = serverctl.FieldConnect
	FieldAddr          = serverctl.FieldAddr
	FieldRoute         = serverctl.FieldRoute
	FieldFile          = serverctl.FieldFile
	FieldCert          = serverctl.FieldCert
	FieldSite          = serverctl.FieldSite
	FieldProxyAddr     = serverctl.FieldProxyAddr
)

// The ways out an InputError may offer.
const (
	RemedyReplace       = serverctl.RemedyReplace
	RemedyTunnel        = serverctl.RemedyTunnel
	RemedyApacheVersion = serverctl.RemedyApacheVersion
	RemedyChooseVHost   = serverctl.RemedyChooseVHost
	RemedyHistory       = serverctl.RemedyHistory
	RemedyEverySite     = serverctl.RemedyEverySite
)

// Fields and Remedies are every Field and Remedy, for the front ends'
// tests: each must have words for all of them.
func Fields() []Field {
	return []Field{FieldPath, FieldBackend, FieldStrategy, FieldVHost, FieldApacheVersion, FieldBackup, FieldURL,
		FieldOrigin, FieldHeader, FieldConnect, FieldAddr, FieldRoute, FieldFile, FieldCert, FieldSite, FieldProxyAddr}
}

// Remedies: see Fields.
func Remedies() []Remedy {
	return []Remedy{RemedyReplace, RemedyTunnel, RemedyApacheVersion, RemedyChooseVHost, RemedyHistory, RemedyEverySite}
}

// The kinds that are one error value, matched with errors.Is; the error
// returned wraps the value with the file or folder it is about.
var (
	// ErrChangedOnDisk: another program wrote a file while Socketbar
	// changed it; nothing was written.
	ErrChangedOnDisk = serverctl.ErrChangedOnDisk
	// ErrWasStopped is a RestartError's Cause when the Service Proxy was
	// not running before the change either.
	ErrWasStopped = serverctl.ErrWasStopped
	// ErrInterrupted: a change a killed Socketbar left half-done could not
	// be settled; the error says why and what to check.
	ErrInterrupted = serverctl.ErrInterrupted
	// ErrForeignOwner, ErrSymlink and ErrNotDir are a file or folder
	// where Socketbar keeps its backups and journal that it will not
	// trust or use.
	ErrForeignOwner = serverctl.ErrForeignOwner
	ErrSymlink      = serverctl.ErrSymlink
	ErrNotDir       = serverctl.ErrNotDir
	// ErrLocked: another Socketbar (here, or from another Mac over SSH)
	// is applying a change to the same config; nothing was changed.
	ErrLocked = serverctl.ErrLocked
	// ErrCancelled: the person dismissed the administrator prompt.
	ErrCancelled = elevate.ErrCancelled
	// ErrTampered: a file of the approved plan changed before it ran.
	ErrTampered = elevate.ErrTampered
	// ErrNotDemoTree: the demo's folder holds something else.
	ErrNotDemoTree = demo.ErrNotDemoTree
)

// The kinds of error of running commands on a Server reached over SSH,
// defined by package remote (beside those of reaching it, in remote.go).
type (
	// SudoError is sudo on the Server refusing to run a command as root,
	// so that nothing ran: Reason is SudoNeedsPassword, SudoWrongPassword
	// or SudoNotAllowed.
	SudoError = remote.SudoError
	// SSHError is ssh failing in a way none of the other kinds describes.
	SSHError = remote.SSHError
	// ExitError is a command on the Server that ran and failed.
	ExitError = remote.ExitError
	// OutputLimitError is a command on the Server that printed more than
	// Socketbar keeps; it was stopped.
	OutputLimitError = remote.OutputLimitError
	// StartupOutputError is the account's shell startup on the Server
	// printing so much before a command that its answer cannot be read.
	StartupOutputError = remote.StartupOutputError
	// ForwardError is a connection made from the Server's side (ssh -W)
	// that the Server could not open: nothing answers there, or its sshd
	// forbids forwarding.
	ForwardError = remote.ForwardError
)

// Why sudo refused (SudoError.Reason).
const (
	// SudoNeedsPassword: sudo asks a password, and none was given.
	SudoNeedsPassword = remote.SudoNeedsPassword
	// SudoWrongPassword: the password given was refused; nothing ran.
	SudoWrongPassword = remote.SudoWrongPassword
	// SudoNotAllowed: the account may not use sudo (not an admin).
	SudoNotAllowed = remote.SudoNotAllowed
)

// ErrClosed: the connection to a Server reached over SSH ended (it went
// away, or ssh was killed) before the action was done.
var ErrClosed = remote.ErrClosed

// ClosedError is ErrClosed with ssh's last words about why.
type ClosedError = remote.ClosedError

// IsLoadLimit reports whether err is a config larger than Socketbar reads
// (too many files, lines, bytes, levels or too much macro text), rather
// than a mistake in it.
func IsLoadLimit(err error) bool {
	for _, limit := range []error{loader.ErrTooDeep, loader.ErrTooManyFiles, loader.ErrTooLarge, loader.ErrTooManyNodes, loader.ErrTooMuchExpansion} {
		if errors.Is(err, limit) {
			return true
		}
	}
	return false
}

// Text is err's message as a person reads it, for an error that is none
// of the kinds: without the package name a library's message starts with
// for its logs.
func Text(err error) string { return pkgerr.Text(err) }

// A Wording is one row of a front end's table of words for errors: the
// words (W: what the front end shows) for err and true when err is of the
// row's kind, else false.
type Wording[W any] func(err error) (W, bool)

// When is the row for the errors of type E (found with errors.As).
func When[E error, W any](word func(E) W) Wording[W] {
	return func(err error) (W, bool) {
		var e E
		if errors.As(err, &e) {
			return word(e), true
		}
		var none W
		return none, false
	}
}

// WhenIs is the row for the errors that are target (errors.Is).
func WhenIs[W any](target error, word func(error) W) Wording[W] {
	return func(err error) (W, bool) {
		if errors.Is(err, target) {
			return word(err), true
		}
		var none W
		return none, false
	}
}

// Word is the words of the first row of table that err is of, and false
// when it is of none.
func Word[W any](table []Wording[W], err error) (W, bool) {
	for _, row := range table {
		if w, ok := row(err); ok {
			return w, true
		}
	}
	var none W
	return none, false
}

// Kinds is an error of each kind the actions return, wrapped as they
// return it (with the file it is about, inside a library's message), and
// of each variant a front end words differently. A front end's tests walk
// it: every one must be matched by a row of its table. A new kind of
// error goes here, and into both tables, before an action returns it.
func Kinds() []error {
	const conf = "/Library/Server/Web/Config/Proxy/apache_serviceproxy.conf"
	backups := "/Library/Server/Web/Config/Proxy/" + serverctl.BackupDirName
	lib := func(format string, args ...any) error { return pkgerr.Errorf("serverctl", format, args...) }
	entry := serverctl.BackupEntry{ID: "20240102T030405.000000000Z", Description: "add /ws/ → http://127.0.0.1:8000/ws/ (tunnel)"}
	restart := func(cause, rollback error, restored bool) error {
		return &RestartError{Cause: cause, LogTail: "AH00015: Unable to open logs", Backup: entry, RollbackErr: rollback, Restored: restored}
	}
	kinds := []error{
		&RouteExistsError{Path: "/ws/", VHost: "*:443", Backend: "http://127.0.0.1:8000/ws/", Strategy: serverctl.StrategyTunnel, Line: 40},
		&RouteExistsError{Path: "/ws/", VHost: "macro VHost", Backend: "http://127.0.0.1:8000/ws/", Strategy: serverctl.StrategyTunnel, Hosts: []string{"chat.example.com"}, Line: 12},
		&HandEditedError{Path: "/ws/", VHost: "*:443", File: conf, Lines: []serverctl.HandLine{{Line: 41, Text: "Header set X-Hand 1"}}},
		&NotManagedError{NotManagedError: &serverctl.NotManagedError{Path: "/wiki"}},
		&NotManagedError{NotManagedError: &serverctl.NotManagedError{Path: "/wiki", Rule: &serverctl.Route{Path: "/wiki", Line: 30, Directive: "ProxyPass"}}},
		&NotManagedError{NotManagedError: &serverctl.NotManagedError{Path: "/ws"}, Suggest: "/ws/"},
		&NotFoundError{Root: "/Volumes/Copy", Looked: []string{"/Volumes/Copy/Library/LaunchDaemons/com.apple.serviceproxy.plist", "/Volumes/Copy" + conf}},
		&NotFoundError{Root: "/Users/admin/copy", Host: "admin@server.example.com", Looked: []string{"/Users/admin/copy" + conf}},
		&NoHTTPDError{Looked: []string{"/Volumes/Copy/usr/sbin/httpd"}},
		&NeedsRootError{Path: conf},
		&NeedsRootError{Path: conf, ReadOnly: true},
		ErrCancelled,
		pkgerr.Errorf("elevate", "%s %w", "/tmp/socketbar-plan-1/new.conf", ErrTampered),
		&ConfigTestError{Output: "AH00526: Syntax error on line 12 of " + conf + ":\nInvalid command 'ProxyPas'"},
		&ConfigTestError{Output: "AH00526: Syntax error on line 3 of " + conf + ":\n<VirtualHost> was not closed.", Already: true},
		restart(lib("restart: %w", errors.New("launchctl kickstart: exit status 1")), nil, true),
		restart(ErrWasStopped, errors.New("the Service Proxy does not run"), true),
		restart(errors.New("no answer on port 443"), errors.New("the Service Proxy does not run"), true),
		restart(errors.New("no answer on port 443"), lib("write %s: %w", conf, fs.ErrPermission), false),
		restart(errors.New("no answer on port 443"), lib("%s: %w", conf, ErrChangedOnDisk), false),
		&serverctl.AfterRecoveryError{Recovery: &serverctl.Recovery{Entry: serverctl.BackupEntry{ID: entry.ID, Description: entry.Description, Outcome: serverctl.OutcomeRolledBack}}, Err: lib("%s: %w", conf, ErrChangedOnDisk)},
		&serverctl.AfterRecoveryError{Recovery: &serverctl.Recovery{Entry: serverctl.BackupEntry{ID: entry.ID, Outcome: serverctl.OutcomeRolledBack}, Restored: []string{conf}}, Err: lib("%s: %w", conf, ErrChangedOnDisk)},
		&OutcomeNotRecordedError{Entry: entry, Outcome: serverctl.OutcomeApplied, Err: lib("write %s: %w", backups+"/"+entry.ID+".json", fs.ErrPermission)},
		lib("%s: %w", conf, ErrChangedOnDisk),
		lib("lock %s: %w", backups, ErrLocked),
		lib("%w: lock %s: %w", ErrInterrupted, backups, fs.ErrPermission),
		lib("%s %w (uid %d); remove it or give it to root", backups, ErrForeignOwner, 501),
		lib("backup folder: %s %w", backups, ErrSymlink),
		lib("backup folder: %s is a file, %w; move it away (or delete it) so that Socketbar can make the folder", backups, ErrNotDir),
		&LoadError{Pos: loader.Pos{File: "/Library/Server/Web/Config/apache2/sites/x.conf", Line: 3}, Err: loader.ErrCycle},
		&LoadError{Pos: loader.Pos{File: conf, Line: 7}, Err: loader.ErrTooManyFiles},
		&ChangedSinceError{Last: entry, Path: conf},
		ErrNothingToUndo,
		&ServiceError{Err: pkgerr.Errorf("service", "launchctl kickstart: %w", errors.New("exit status 5")), ErrorLog: "/Library/Logs/ServiceProxy/error_log", LogTail: "AH00072: make_sock: could not bind to address [::]:443"},
		&ServiceError{Err: errors.New("no answer on port 443")},
		&AddrInUseError{Addr: "127.0.0.1:8443", Free: "127.0.0.1:18443"},
		&AddrInUseError{Addr: "127.0.0.1:8443"},
		ErrNoRoutes,
		&NoRouteError{Path: "/ws/"},
		pkgerr.Errorf("demo", "%s %w", "/home/me/Documents", ErrNotDemoTree),
		pkgerr.Errorf("demo", "%w; the demo tree at %s can be read, but not started", ErrNoHTTPD, "/home/me/.config/socketbar/demo"),
		&DemoPortError{Port: 18080, Err: pkgerr.Errorf("proxy", "echo app on %s: %w", "127.0.0.1:18080", errors.New("bind: address already in use"))},
		&DemoPortError{Err: pkgerr.Errorf("demo", "start the Service Proxy: %w", errors.New("exit status 1"))},
		&DemoRunningError{Root: "/home/me/.config/socketbar/demo"},
		&DemoStoppedError{Root: "/home/me/.config/socketbar/demo"},
		&RemoteUnavailableError{Host: "admin@server.example.com"},
		&HostError{Input: "-oProxyCommand=touch /tmp/x", Field: "host", Value: "-oProxyCommand=touch /tmp/x", Problem: `starts with "-"`, Fix: "write the host as [USER@]HOST[:PORT]"},
		&SSHCommandError{Problem: "is empty"},
		&HostKeyError{Host: remote.Host{User: "admin", Name: "server.example.com"}, Name: "server.example.com", Port: 22,
			Fingerprints: []remote.Fingerprint{{Type: "ED25519", SHA256: "SHA256:n0PysvP9WFD5nrv+095qYayPosmDNMegRbgJJmjGVHc"}}},
		&HostKeyChangedError{Host: remote.Host{Name: "server.example.com"}, Fingerprint: "SHA256:n0PysvP9WFD5nrv+095qYayPosmDNMegRbgJJmjGVHc", KnownHosts: "/Users/me/.ssh/known_hosts", Line: 3},
		&AuthError{Host: remote.Host{User: "admin", Name: "server.example.com"}, Login: "admin@server.example.com", Methods: []string{"publickey", "password"}},
		&DialError{Host: remote.Host{Name: "server.example.com"}, Reason: "Connection refused"},
		&LoginTimeoutError{Host: remote.Host{Name: "server.example.com", Port: 2222}, After: remote.DefaultConnectTimeout},
		&LoginTimeoutError{Host: remote.Host{User: "admin", Name: "server.example.com"}, LoggedIn: true, After: remote.DefaultLoginTimeout},
		&StartupOutputError{Host: remote.Host{User: "admin", Name: "server.example.com"}, Limit: 64 << 10},
		&SudoError{Host: remote.Host{User: "admin", Name: "server.example.com"}, Reason: SudoNeedsPassword, Stderr: "sudo: a password is required"},
		&SudoError{Host: remote.Host{Name: "server"}, Reason: SudoWrongPassword, Stderr: "sudo: 1 incorrect password attempt"},
		&SudoError{Host: remote.Host{User: "guest", Name: "server.example.com", Port: 2222}, Reason: SudoNotAllowed, Stderr: "guest is not in the sudoers file.  This incident will be reported."},
		&SSHError{Host: remote.Host{Name: "server"}, Stderr: "mux_client_request_session: session request failed: Session open refused by peer"},
		&ExitError{Command: "/usr/bin/perl", Code: 2, Stderr: "Can't locate strict.pm in @INC"},
		&OutputLimitError{Command: "launchctl print system/com.apple.serviceproxy", Stream: "stdout", Limit: 16 << 20},
		// As package remote returns it: the command that was running, or
		// what ssh said when the connection ended.
		fmt.Errorf("remote: %s: %w", "/bin/sh -s", ErrClosed),
		&ClosedError{Said: "Connection to server closed by remote host."},
		&ForwardError{Addr: "127.0.0.1:443", Reason: "connect failed: Connection refused"},
	}
	for _, f := range Fields() {
		kinds = append(kinds, &InputError{Field: f, Msg: "is not valid here"})
	}
	for _, r := range Remedies() {
		kinds = append(kinds, &InputError{Field: FieldPath, Msg: "cannot be used as it is", Remedy: r})
	}
	return kinds
}
