package serverctl

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"net"
	"path"
	"path/filepath"
	"strings"

	"github.com/socketbar/socketbar/serverctl/apacheconf/loader"
	"github.com/socketbar/socketbar/serverctl/run"
)

// Remote is a Server reached over SSH. Discovery, the loader and every
// proposal read a mirror of its files (serverctl/mirror), which is the
// Server's Root here; a transaction (Server.Applier) reads and writes the
// Server itself through Files and Commands, so that the lock, the check
// for another writer, the config test, the backups, the journal, the
// restart and the rollback are the ones a change made on the Server has.
//
// Paths stay the mirror's inside serverctl: Files and Commands get the
// Server's (see pathSwap), and the history records the Server's, which a
// change made from any Mac, or on the Server, reads alike.
type Remote struct {
	// RemoteRoot is the folder on the Server that Root stands for: "/"
	// for a real Server, a test tree's folder otherwise (--root keeps its
	// meaning on the remote side).
	RemoteRoot string
	// Files does file operations on the Server, on its paths, as root;
	// nil makes the Server read-only (Server.Applier fails).
	Files Disk
	// Commands runs commands on the Server as root, with its paths: the
	// config test, launchctl kickstart, httpd -k.
	Commands run.Runner
	// Alive reports whether a process runs on the Server: the httpd
	// driver of a test tree there reads its pid file through Files and
	// asks this.
	Alive func(pid int) (bool, error)
	// Dial connects from the Server's side (ssh -W): the check after a
	// restart reaches the Service Proxy as the Server itself does, so a
	// firewall between this machine and the Server fails no good change.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// pathSwap maps paths of the mirror (local) to the Server's (remote) and
// back.
type pathSwap struct{ local, remote string }

// swapOf is the mapping of a Server reached over SSH, nil for this
// machine's.
func (s *Server) swapOf() *pathSwap {
	if s.Remote == nil {
		return nil
	}
	root := s.Remote.RemoteRoot
	if root == "" {
		root = "/"
	}
	return &pathSwap{local: filepath.Clean(s.Root), remote: path.Clean(root)}
}

// toRemote maps a path in the mirror to the Server's; ok is false for a
// path outside it.
func (p *pathSwap) toRemote(local string) (string, bool) {
	if p == nil {
		return local, true
	}
	rel, err := filepath.Rel(p.local, filepath.Clean(local))
	if err != nil || !filepath.IsAbs(local) || !(rel == "." || filepath.IsLocal(rel)) {
		return "", false
	}
	return path.Join(p.remote, filepath.ToSlash(rel)), true
}

// toLocal maps a path on the Server into the mirror; ok is false for a
// path outside RemoteRoot.
func (p *pathSwap) toLocal(remote string) (string, bool) {
	if p == nil {
		return remote, true
	}
	remote = path.Clean(remote)
	if !path.IsAbs(remote) {
		return "", false
	}
	rel := strings.TrimPrefix(remote, p.remote)
	if p.remote == "/" {
		rel = remote
	} else if rel != "" && !strings.HasPrefix(rel, "/") || len(rel) == len(remote) {
		return "", false
	}
	return filepath.Join(p.local, filepath.FromSlash(rel)), true
}

// text maps every path in the mirror that s names (a command line's word,
// "-f" followed by one, NAME=PATH) to the Server's.
func (p *pathSwap) arg(a string) string {
	if p == nil || !strings.Contains(a, p.local) {
		return a
	}
	if r, ok := p.toRemote(a); ok {
		return r
	}
	if name, val, ok := strings.Cut(a, "="); ok {
		if r, ok := p.toRemote(val); ok {
			return name + "=" + r
		}
	}
	return a
}

// outsideError is a path that is not the Server's.
func outsideError(op, p string) error {
	return &fs.PathError{Op: op, Path: p, Err: fmt.Errorf("not a file of the Server reached over SSH")}
}

// swapDisk is the Server's Disk seen with the mirror's paths.
type swapDisk struct {
	d    Disk
	swap *pathSwap
}

func (s swapDisk) path(op, p string) (string, error) {
	r, ok := s.swap.toRemote(p)
	if !ok {
		return "", outsideError(op, p)
	}
	return r, nil
}

// local turns an error's path back into the mirror's, so that the
// messages name one kind of path throughout.
func (s swapDisk) local(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		if l, ok := s.swap.toLocal(pe.Path); ok {
			return &fs.PathError{Op: pe.Op, Path: l, Err: pe.Err}
		}
	}
	return err
}

func (s swapDisk) ReadFile(p string, noFollow bool) ([]byte, fs.FileInfo, error) {
	r, err := s.path("read", p)
	if err != nil {
		return nil, nil, err
	}
	data, fi, err := s.d.ReadFile(r, noFollow)
	return data, fi, s.local(err)
}

func (s swapDisk) ReadTail(p string, n int64) ([]byte, error) {
	r, err := s.path("read", p)
	if err != nil {
		return nil, err
	}
	data, err := s.d.ReadTail(r, n)
	return data, s.local(err)
}

func (s swapDisk) Stat(p string) (fs.FileInfo, error) {
	r, err := s.path("stat", p)
	if err != nil {
		return nil, err
	}
	fi, err := s.d.Stat(r)
	return fi, s.local(err)
}

func (s swapDisk) Lstat(p string) (fs.FileInfo, error) {
	r, err := s.path("lstat", p)
	if err != nil {
		return nil, err
	}
	fi, err := s.d.Lstat(r)
	return fi, s.local(err)
}

func (s swapDisk) Resolve(p string) (string, error) {
	r, err := s.path("resolve", p)
	if err != nil {
		return "", err
	}
	res, err := s.d.Resolve(r)
	if err != nil {
		return "", s.local(err)
	}
	l, ok := s.swap.toLocal(res)
	if !ok {
		return "", &fs.PathError{Op: "resolve", Path: p, Err: fmt.Errorf("leads to %s, outside the Server's folder %s", res, s.swap.remote)}
	}
	return l, nil
}

func (s swapDisk) List(dir string) ([]string, error) {
	r, err := s.path("list", dir)
	if err != nil {
		return nil, err
	}
	names, err := s.d.List(r)
	return names, s.local(err)
}

func (s swapDisk) WriteNew(p string, data []byte, perm fs.FileMode, owner fs.FileInfo) error {
	r, err := s.path("write", p)
	if err != nil {
		return err
	}
	return s.local(s.d.WriteNew(r, data, perm, owner))
}

func (s swapDisk) Rename(from, to string) error {
	rf, err := s.path("rename", from)
	if err != nil {
		return err
	}
	rt, err := s.path("rename", to)
	if err != nil {
		return err
	}
	return s.local(s.d.Rename(rf, rt))
}

func (s swapDisk) Remove(p string) error {
	r, err := s.path("remove", p)
	if err != nil {
		return err
	}
	return s.local(s.d.Remove(r))
}

func (s swapDisk) Mkdir(p string, perm fs.FileMode) error {
	r, err := s.path("mkdir", p)
	if err != nil {
		return err
	}
	return s.local(s.d.Mkdir(r, perm))
}

func (s swapDisk) Lock(p string) (io.Closer, fs.FileInfo, error) {
	r, err := s.path("lock", p)
	if err != nil {
		return nil, nil, err
	}
	c, fi, err := s.d.Lock(r)
	return c, fi, s.local(err)
}

func (s swapDisk) UID() int { return s.d.UID() }

// swapRunner runs commands on the Server with the mirror's paths in them
// turned into the Server's.
type swapRunner struct {
	r    run.Runner
	swap *pathSwap
}

func (s swapRunner) Run(ctx context.Context, cmd run.Command) ([]byte, error) {
	c := run.Command{Path: s.swap.arg(cmd.Path)}
	for _, a := range cmd.Args {
		c.Args = append(c.Args, s.swap.arg(a))
	}
	for _, e := range cmd.Env {
		c.Env = append(c.Env, s.swap.arg(e))
	}
	return s.r.Run(ctx, c)
}

// LoaderOptions are how the loader reads this Server's config: under its
// Root, with its launchd job's variables, and a tree over SSH's paths
// taken as its own.
func (s *Server) LoaderOptions() loader.Options {
	o := loader.Options{Root: s.Root, Vars: s.Vars()}
	if s.Remote != nil && s.Remote.RemoteRoot != "/" {
		o.RootName = s.Remote.RemoteRoot
	}
	return o
}

// Backups is the history of the config at cfg: beside it, and for a
// Server reached over SSH with the Server's paths in its records mapped
// to the mirror's.
func (s *Server) Backups(cfg *Config) BackupStore {
	b := BackupStoreFor(cfg.Path)
	b.paths = s.swapOf()
	return b
}

// LoaderOptionsKeepGoing are LoaderOptions for a checker, which reads on
// past a line Apache would refuse (see loader.Options.KeepGoing).
func (s *Server) LoaderOptionsKeepGoing() loader.Options {
	o := s.LoaderOptions()
	o.KeepGoing = true
	return o
}
