package action

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/socketbar/socketbar/internal/pkgerr"
	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/mirror"
	"github.com/socketbar/socketbar/serverctl/remote"
	"github.com/socketbar/socketbar/serverctl/run"
)

// The reads of a Server reached over SSH (Target.Host): status, routes,
// lint and history. Each fetches the files Socketbar reads into a private
// mirror (serverctl/mirror), runs the same code as for this machine on it
// with commands (httpd -v, launchctl print) run on the Server, and maps
// every path in what it returns back to the Server's, so that a person
// reads /Library/Server/…, never the mirror's folder.

// RemoteUnavailableError is an action asked of a Server over SSH
// (Target.Host) that Socketbar does not do over SSH yet: the reads that
// follow a Server here (Pulse, the test proxy). Nothing was run on the
// Server or changed.
type RemoteUnavailableError struct {
	// Host is the Target's Host.
	Host string
}

func (e *RemoteUnavailableError) Error() string {
	return fmt.Sprintf("action: this works on a Server on this machine only, not over SSH (%s) yet; nothing was changed", e.Host)
}

// The kinds of error reaching a Server over SSH, defined by package remote.
type (
	// HostError is a host refused before anything ran (it starts with
	// "-", holds a shell character, …).
	HostError = remote.HostError
	// SSHCommandError is a SOCKETBAR_SSH that cannot be used.
	SSHCommandError = remote.SSHCommandError
	// HostKeyError is a Server whose host key is in no known_hosts file:
	// ssh refused it, and it carries the key's fingerprint.
	HostKeyError = remote.HostKeyError
	// HostKeyChangedError is a Server offering another key than the one
	// known_hosts holds for it.
	HostKeyChangedError = remote.HostKeyChangedError
	// AuthError is a Server that refused the login without a password.
	AuthError = remote.AuthError
	// DialError is a Server ssh could not reach.
	DialError = remote.DialError
	// LoginTimeoutError is a log-in that did not finish in time: the
	// Server's SSH never answered, or the account's shell startup waits.
	LoginTimeoutError = remote.LoginTimeoutError
)

// Connector opens the connection to a Server for one action, and returns
// what ends it (a caller that keeps one connection per Server returns its
// own and a release that keeps it open).
type Connector func(ctx context.Context, h remote.Host) (conn mirror.Conn, release func(), err error)

// openSSH is the default Connector: a new connection through the system's
// ssh (SOCKETBAR_SSH), closed when the action is done.
func openSSH(ctx context.Context, h remote.Host) (mirror.Conn, func(), error) {
	c, err := remote.Open(ctx, h, remote.Config{})
	if err != nil {
		return nil, nil, err
	}
	return c, func() { c.Close() }, nil
}

// onServer runs read on a mirror of the Server t.Host names: with a Local
// whose commands run there, and the Target whose Root is the mirror. The
// mirror is removed when read returns; what read leaves in *result (a
// pointer to the result) has its paths mapped back to the Server's, as
// has the error.
func onServer[R any](ctx context.Context, l *Local, t Target, read func(*Local, context.Context, Target) (R, error)) (R, error) {
	var none R
	s, err := l.openServer(ctx, t)
	if err != nil {
		return none, err
	}
	defer s.close()
	r, err := read(s.there, ctx, s.target)
	return mapBack(s, r, err)
}

// onHost says, in a NotFoundError from a Server over SSH, which one.
func (s *serverSession) onHost(err error) error {
	var nf *NotFoundError
	if errors.As(err, &nf) {
		nf.Host = s.host.String()
	}
	return err
}

// mapBack maps the mirror's paths in r and err to the Server's.
func mapBack[R any](s *serverSession, r R, err error) (R, error) {
	pm := pathMap{from: s.mirror.Dir, to: s.mirror.RemoteRoot}
	pm.value(reflect.ValueOf(&r).Elem(), 0)
	return r, pm.err(s.onHost(err))
}

// serverSession is one action's hold on a Server reached over SSH: the
// connection, a mirror of its files, and the Local that works on them.
type serverSession struct {
	host   remote.Host
	conn   mirror.Conn
	mirror *mirror.Mirror
	// there works on the mirror, with commands run on the Server;
	// target is the Target whose Root is the mirror.
	there  *Local
	target Target
	close  func()
}

// openServer connects to t.Host and mirrors the files Socketbar reads.
func (l *Local) openServer(ctx context.Context, t Target) (*serverSession, error) {
	h, err := remote.ParseHost(t.Host)
	if err != nil {
		return nil, err
	}
	root := t.Root
	if root == "" {
		root = "/"
	}
	connect := l.Connect
	if connect == nil {
		connect = openSSH
	}
	conn, release, err := connect(ctx, h)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "socketbar-mirror-")
	if err != nil {
		release()
		return nil, errorf("a folder for the Server's files: %w", err)
	}
	closeAll := func() {
		os.RemoveAll(tmp)
		release()
	}
	m, err := mirror.Fetch(ctx, conn, root, filepath.Join(tmp, "root"), mirror.Limits{})
	if err != nil {
		closeAll()
		return nil, errorf("read the Server's files: %w", err)
	}
	return &serverSession{
		host:   h,
		conn:   conn,
		mirror: m,
		there:  &Local{Runner: m.Runner(conn), remote: &serverctl.Remote{RemoteRoot: m.RemoteRoot, Alive: aliveOn(m.Runner(conn))}, AfterStep: l.AfterStep},
		target: Target{Root: m.Dir, HTTPD: t.HTTPD, ApacheVersion: t.ApacheVersion},
		close:  closeAll,
	}, nil
}

// pathMap rewrites the mirror folder (from) in text to the Server's folder
// for "/" (to).
type pathMap struct{ from, to string }

// text replaces each path in s that is the mirror folder or below it.
func (p pathMap) text(s string) string {
	if !strings.Contains(s, p.from) {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, p.from)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		rest := s[i+len(p.from):]
		switch {
		case strings.HasPrefix(rest, "/") && p.to == "/":
			// /MIRROR/Library → /Library
		case strings.HasPrefix(rest, "/"):
			b.WriteString(p.to)
		case rest == "" || !isPathByte(rest[0]):
			b.WriteString(p.to)
		default:
			// A longer name that starts like the mirror's: not it.
			b.WriteString(p.from)
		}
		s = rest
	}
}

func isPathByte(c byte) bool {
	return c == '.' || c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

// maxDepth bounds the walk of a result; views are shallow trees.
const maxDepth = 32

var errorType = reflect.TypeFor[error]()

// value maps every string v holds that can be set: the fields of
// structs, the elements of slices and arrays, the values of maps, and
// what pointers and interfaces point at, errors included.
func (p pathMap) value(v reflect.Value, depth int) {
	if depth > maxDepth || !v.IsValid() {
		return
	}
	switch v.Kind() {
	case reflect.String:
		if v.CanSet() {
			if s := p.text(v.String()); s != v.String() {
				v.SetString(s)
			}
		}
	case reflect.Pointer:
		if !v.IsNil() {
			p.value(v.Elem(), depth+1)
		}
	case reflect.Interface:
		if v.IsNil() {
			return
		}
		if v.Type() == errorType && v.CanSet() {
			v.Set(reflect.ValueOf(p.err(v.Interface().(error))))
			return
		}
		p.value(v.Elem(), depth+1)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				p.value(v.Field(i), depth+1)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			p.value(v.Index(i), depth+1)
		}
	case reflect.Map:
		if v.Type().Elem().Kind() != reflect.String {
			return
		}
		for _, k := range v.MapKeys() {
			if s := p.text(v.MapIndex(k).String()); s != v.MapIndex(k).String() {
				v.SetMapIndex(k, reflect.ValueOf(s).Convert(v.Type().Elem()))
			}
		}
	}
}

// err maps the paths of err: in the typed errors of its chain, whose
// fields a front end words (NotFoundError.Root), and in its text.
func (p pathMap) err(err error) error {
	if err == nil {
		return nil
	}
	for e := err; e != nil; e = errors.Unwrap(e) {
		p.value(reflect.ValueOf(e), 0)
	}
	if text := p.text(err.Error()); text != err.Error() {
		// A library's error keeps its package's name for logs, and
		// pkgerr.Text still drops it for people.
		if pe, ok := err.(*pkgerr.Error); ok {
			return &pkgerr.Error{Pkg: pe.Pkg, Err: &mappedError{text: p.text(pe.Err.Error()), err: pe.Err}}
		}
		return &mappedError{text: text, err: err}
	}
	return err
}

// mappedError is an error whose text names the Server's paths; errors.Is
// and As still find what it wraps.
type mappedError struct {
	text string
	err  error
}

func (e *mappedError) Error() string { return e.text }
func (e *mappedError) Unwrap() error { return e.err }

// serviceOnServer says why the Service Proxy's state is unknown on a
// Server without launchd (a stand-in reached over SSH): launchctl is not
// there, and no other answer would be about the Server's process.
func serviceOnServer(err error) error {
	var x *remote.ExitError
	if errors.As(err, &x) && x.Code == 127 {
		return errorf("the Server has no /bin/launchctl, so it is not a Mac whose launchd runs the Service Proxy")
	}
	return err
}

// aliveOn asks the Server through runner whether a process runs there, as
// the login (a process of root's counts: kill 0 says it exists).
func aliveOn(runner run.Runner) func(pid int) (bool, error) {
	return func(pid int) (bool, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := runner.Run(ctx, run.Command{Path: "/usr/bin/perl", Args: []string{"-e", fmt.Sprintf("print((kill(0, %d) || $!{EPERM}) ? qq(yes\\n) : qq(no\\n))", pid)}})
		if err != nil {
			return false, err
		}
		return strings.TrimSpace(string(out)) == "yes", nil
	}
}
