package action

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"

	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/agent"
	"github.com/socketbar/socketbar/serverctl/mirror"
	"github.com/socketbar/socketbar/serverctl/remote"
	"github.com/socketbar/socketbar/serverctl/run"
)

// The changes to a Server reached over SSH (Target.Host). A proposal is
// computed on a mirror of the Server's files, as a read is (onServer), and
// returned with the Server's paths. Apply opens the Server again: a fresh
// mirror, whose config must still be the proposal's Old (else nothing is
// written and the error wraps ErrChangedOnDisk), then a root session on
// the Server (RootSession: sudo there, the password asked at most once),
// through which serverctl's transaction runs as it does on a Mac: the
// lock, the check for another writer, the config test with the Server's
// httpd, backups, journal, atomic rename, restart, the verify from the
// Server's side, and the rollback.

// RootSession is root on a Server reached over SSH, for one change: its
// file operations, its commands, and whether a process runs there. The
// lock the transaction takes through it is held while it lives; Close (or
// the connection's end) releases it.
type RootSession interface {
	serverctl.Disk
	run.Runner
	Alive(pid int) (bool, error)
	Close() error
}

// RootStarter starts a RootSession over conn, running as root through
// sudo; sudo.Password is nil for a first try without one. A sudo that
// refuses is a *remote.SudoError.
type RootStarter func(ctx context.Context, conn mirror.Conn, sudo remote.Sudo) (RootSession, error)

// rootOn starts root on the Server of s: without a password first (a root
// login, NOPASSWD), then, when sudo needs one, with the one Password
// gives, asked once.
func (l *Local) rootOn(ctx context.Context, s *serverSession) (RootSession, error) {
	start := l.startRoot
	if start == nil {
		start = defaultRootStarter(s.host)
	}
	root, err := start(ctx, s.conn, remote.Sudo{})
	var se *remote.SudoError
	if !errors.As(err, &se) || se.Reason != remote.SudoNeedsPassword || l.Password == nil {
		return root, err
	}
	pw, perr := l.Password(ctx, s.host.String())
	if perr != nil {
		return nil, perr
	}
	if pw == nil {
		// No one to ask (no terminal, no --password-stdin): sudo's own
		// refusal says what to do.
		return nil, err
	}
	defer clear(pw)
	return start(ctx, s.conn, remote.Sudo{Password: pw})
}

// withRoot gives the session's Local root on the Server: the transaction
// then reads and writes there.
//
// It sets the fields of the Remote the session's Servers were discovered
// with, so that those already found (the proposal's) get root too.
func (s *serverSession) withRoot(root RootSession) {
	r := s.there.remote
	r.Files, r.Commands, r.Alive = root, root, root.Alive
	if d, ok := s.conn.(interface {
		Dial(ctx context.Context, addr string) (net.Conn, error)
	}); ok {
		r.Dial = func(ctx context.Context, _, addr string) (net.Conn, error) { return d.Dial(ctx, addr) }
	}
}

// proposeOnServer computes a proposal on a mirror of t's Server, and
// returns it with the Server's paths and the Target asked for.
func proposeOnServer(ctx context.Context, l *Local, t Target, propose func(*Local, context.Context, Target) (*Proposal, error)) (*Proposal, error) {
	p, err := onServer(ctx, l, t, propose)
	if p != nil {
		p.Target, p.srv, p.cfg = t, nil, nil
	}
	return p, err
}

// applyOnServer puts a proposal made over SSH in place on the Server.
func (l *Local) applyOnServer(ctx context.Context, p *Proposal, opts ApplyOptions) (*Applied, error) {
	s, err := l.openServer(ctx, p.Target)
	if err != nil {
		return nil, err
	}
	defer s.close()
	q, err := s.localProposal(ctx, p)
	if err != nil {
		return mapBack(s, (*Applied)(nil), err)
	}
	root, err := l.rootOn(ctx, s)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	s.withRoot(root)
	out, err := s.there.Apply(ctx, q, opts)
	return mapBack(s, out, err)
}

// localProposal is p on the session's fresh mirror: its files named
// there, and its config checked against the Server's text now.
func (s *serverSession) localProposal(ctx context.Context, p *Proposal) (*Proposal, error) {
	srv, cfg, err := s.there.load(ctx, s.target)
	if err != nil {
		return nil, err
	}
	if string(cfg.Src) != string(p.Old) {
		return nil, errorf("%s: %w", cfg.Path, ErrChangedOnDisk)
	}
	q := *p
	q.Target, q.srv, q.cfg, q.Config = s.target, srv, cfg, cfg.Path
	q.Also = make([]serverctl.FileEdit, len(p.Also))
	for i, f := range p.Also {
		local, ok := s.local(f.Path)
		if !ok {
			return nil, errorf("%s is not a file of the Server's config", f.Path)
		}
		q.Also[i] = f
		q.Also[i].Path = local
	}
	return &q, nil
}

// local is where the Server's path p is in the mirror.
func (s *serverSession) local(p string) (string, bool) {
	root := s.mirror.RemoteRoot
	if root != "/" {
		rest, ok := strings.CutPrefix(p, root+"/")
		if !ok {
			return "", false
		}
		p = "/" + rest
	}
	if !filepath.IsAbs(p) {
		return "", false
	}
	return s.mirror.LocalPath(p), true
}

// restartOnServer restarts the Service Proxy of a Server reached over SSH,
// as root there, settling first a change a killed Socketbar left.
func (l *Local) restartOnServer(ctx context.Context, opts RestartOptions) (*Restarted, error) {
	s, err := l.openServer(ctx, opts.Target)
	if err != nil {
		return nil, err
	}
	defer s.close()
	root, err := l.rootOn(ctx, s)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	s.withRoot(root)
	o := opts
	o.Target = s.target
	out, err := s.there.Restart(ctx, o)
	return mapBack(s, out, err)
}

// defaultRootStarter is the root agent (serverctl/agent): a perl program
// streamed over the connection and run as root through sudo there.
func defaultRootStarter(host remote.Host) RootStarter {
	return func(ctx context.Context, conn mirror.Conn, sudo remote.Sudo) (RootSession, error) {
		a, err := agent.Start(ctx, hostConn{Conn: conn, host: host}, sudo)
		if err != nil {
			return nil, err
		}
		return a, nil
	}
}

// hostConn is a connection that names its Server, as the agent's words
// about sudo do.
type hostConn struct {
	mirror.Conn
	host remote.Host
}

func (c hostConn) Host() remote.Host { return c.host }
