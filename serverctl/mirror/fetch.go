package mirror

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// fetchScript is the program the Server's perl runs; see fetch.pl.
//
//go:embed fetch.pl
var fetchScript string

// fetchArgv runs a perl program read from standard input: the script, then
// after __END__ what to fetch. perl, not sh: the stat that sh scripts would
// use differs between macOS (-f) and Linux (-c), POSIX sh cannot read a
// file's mode, mtime or symlink target, nor copy exactly N bytes; /usr/bin/perl
// does all of it alike on every OS X and on the tests' Linux.
var fetchArgv = []string{"/usr/bin/perl", "-"}

// Fetch copies what Socketbar reads from the Server behind conn into dir,
// a new (or empty) local folder it makes private (0700), and returns the
// Mirror. remoteRoot is the folder on the Server that stands for "/" ("/"
// for a real Server): --root keeps its meaning on the remote side.
//
// The first round trip fetches the Server.app plists, everything under
// /Library/Server/Web/Config, the end of the error log, and whether httpd,
// Server.app's wrapper and the module files exist (empty placeholders,
// never their bytes). Then Fetch reads the mirror as the readers will
// (discovery, the config, the loader) and fetches what they would miss:
// files the config includes from elsewhere, a config or log the launchd
// job names elsewhere, module folders elsewhere; at most Limits.Rounds
// round trips in all.
//
// Whatever the Server sends, Fetch writes only inside dir, makes no
// symlink, and holds at most one file in memory; a stream that breaks the
// format or the limits is a *FrameError, *LimitError or *RefusedPathError,
// and then nothing is kept.
func Fetch(ctx context.Context, conn Conn, remoteRoot, dir string, lim Limits) (*Mirror, error) {
	lim = lim.orDefaults()
	if !path.IsAbs(remoteRoot) || path.Clean(remoteRoot) != remoteRoot || strings.IndexByte(remoteRoot, 0) >= 0 {
		return nil, fmt.Errorf("mirror: the remote root %q must be an absolute, clean path", remoteRoot)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("mirror: %w", err)
	}
	m := &Mirror{Dir: abs, RemoteRoot: remoteRoot, Files: map[string]*File{}, limits: lim}
	if m.created, err = prepareDir(abs); err != nil {
		return nil, err
	}
	// The folder's own name, without the symlinks above it (macOS's /var
	// is one), so that no reader's path to a mirror file differs from the
	// one Runner maps.
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		m.Dir = real
	}
	ctx, cancel := context.WithTimeout(ctx, lim.Timeout)
	defer cancel()
	for reqs := baseRequests(); len(reqs) > 0; reqs = m.needs(ctx) {
		if m.RoundTrips >= lim.Rounds {
			for _, r := range reqs {
				m.Unfetched = append(m.Unfetched, r.path)
			}
			break
		}
		if err := m.round(ctx, conn, reqs); err != nil {
			m.Remove()
			return nil, err
		}
	}
	m.settleDirs()
	return m, nil
}

// prepareDir makes dir private, or checks that an existing one is an empty
// folder (not a symlink): the mirror must be the only writer of what is
// inside.
func prepareDir(dir string) (created bool, err error) {
	if err := os.Mkdir(dir, 0o700); err == nil {
		return true, nil
	} else if !errors.Is(err, fs.ErrExist) {
		return false, fmt.Errorf("mirror: make the mirror folder: %w", err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return false, fmt.Errorf("mirror: %w", err)
	}
	if !fi.IsDir() {
		return false, fmt.Errorf("mirror: %s is not a folder (a symlink or a file); give a new or empty folder", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, fmt.Errorf("mirror: %w", err)
	}
	if len(entries) > 0 {
		return false, fmt.Errorf("mirror: %s is not empty; give a new or empty folder", dir)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return false, fmt.Errorf("mirror: %w", err)
	}
	return false, nil
}

// round runs fetch.pl once for reqs and writes what comes back.
func (m *Mirror) round(ctx context.Context, conn Conn, reqs []request) error {
	var fr *frameReader
	out, err := conn.Stream(ctx, fetchArgv, strings.NewReader(m.input(reqs)), func(stdout io.Reader) error {
		fr = newFrameReader(stdout, m.limits, m.limits.Total-m.Bytes, m.limits.Files-m.records)
		if err := fr.start(); err != nil {
			return err
		}
		for {
			rec, err := fr.next()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := m.put(rec, reqs); err != nil {
				return err
			}
		}
	})
	m.RoundTrips++
	m.asked = append(m.asked, reqs...)
	if fr != nil {
		m.Bytes += fr.cr.n
		m.records += fr.records
	}
	var fe *FrameError
	switch {
	case errors.As(err, &fe):
		fe.Stderr = stderrTail(out.Stderr)
		return fe
	case err != nil:
		var lim *LimitError
		var ref *RefusedPathError
		if errors.As(err, &lim) || errors.As(err, &ref) {
			return err
		}
		return fmt.Errorf("mirror: fetch from the Server: %w", err)
	}
	return nil
}

// input is what fetch.pl reads on standard input: the program, then after
// __END__ the remote root, the limits it keeps to, and the requests.
func (m *Mirror) input(reqs []request) string {
	var in strings.Builder
	in.WriteString(fetchScript)
	in.WriteString("\n__END__\n")
	fmt.Fprintf(&in, "root %s\n", hex.EncodeToString([]byte(m.RemoteRoot)))
	fmt.Fprintf(&in, "limits %d %d %d\n", m.limits.FileSize, m.limits.Tail, m.limits.Depth)
	for _, r := range reqs {
		in.WriteString(r.line() + "\n")
	}
	return in.String()
}

func stderrTail(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 500 {
		s = "…" + s[len(s)-500:]
	}
	return s
}

// allowed reports whether rec answers one of reqs: a path at or below a
// content request of a kind it may have, the very path of a tail request,
// or an existence request's path or one of its entries.
func allowed(rec *record, reqs []request) bool {
	for _, r := range reqs {
		switch r.mode {
		case 'c':
			if within(rec.Path, r.path) && rec.Kind != KindTail && rec.Kind != KindExists {
				return true
			}
		case 't':
			if rec.Path == r.path && rec.Kind != KindFile && rec.Kind != KindExists && rec.Kind != KindTooLarge {
				return true
			}
		case 'e':
			if (rec.Path == r.path || path.Dir(rec.Path) == r.path) && rec.Kind != KindFile && rec.Kind != KindTail && rec.Kind != KindTooLarge {
				return true
			}
		}
	}
	return false
}

// within reports whether p is base or below it.
func within(p, base string) bool {
	return base == "/" || p == base || strings.HasPrefix(p, base+"/")
}

// put checks one record and writes it into the mirror.
func (m *Mirror) put(rec *record, reqs []request) error {
	p := rec.Path
	if !allowed(rec, reqs) {
		return &RefusedPathError{Path: p, Reason: fmt.Sprintf("it is a %s outside what was asked for", rec.Kind)}
	}
	// checkPath has made sure already; a second look costs nothing.
	if back, ok := m.MacPath(m.LocalPath(p)); !ok || back != p {
		return &RefusedPathError{Path: p, Reason: "it leads out of the mirror"}
	}
	f := &File{Path: p, Remote: m.RemotePath(p), Kind: rec.Kind, Mode: rec.mode(), Size: rec.Size, ModTime: rec.ModTime, Link: rec.Link}
	prev := m.Files[p]
	switch rec.Kind {
	case KindMissing, KindUnreadable, KindOther:
		if rec.Kind == KindUnreadable {
			f.Err, f.Mode, f.Size = rec.errText(), 0, 0
		}
		if prev != nil {
			return nil // the first answer stands
		}
		if err := m.underFolders(p); err != nil {
			return err
		}
		if _, err := os.Lstat(m.LocalPath(p)); err == nil {
			return &RefusedPathError{Path: p, Reason: fmt.Sprintf("it came as %s after what is inside it", rec.Kind)}
		}
		m.Files[p] = f
		return nil
	case KindDir:
		if prev != nil && prev.Kind != KindDir {
			return &RefusedPathError{Path: p, Reason: fmt.Sprintf("it came as a folder after it came as a %s", prev.Kind)}
		}
		if err := m.mkdirs(p); err != nil {
			return err
		}
		m.Files[p] = f
		return nil
	}
	if p == "/" {
		return &RefusedPathError{Path: p, Reason: "the root must be a folder"}
	}
	if rec.Kind == KindFile || rec.Kind == KindTail {
		sum := sha256.Sum256(rec.Data)
		f.SHA256 = hex.EncodeToString(sum[:])
	}
	local := m.LocalPath(p)
	if prev != nil {
		switch {
		case prev.Kind == KindExists && (rec.Kind == KindFile || rec.Kind == KindTail || rec.Kind == KindTooLarge):
			// The content of a file first seen as a placeholder.
			if err := os.Remove(local); err != nil {
				return fmt.Errorf("mirror: %w", err)
			}
		case prev.Kind == rec.Kind && prev.SHA256 == f.SHA256 && prev.Size == f.Size:
			return nil // the same answer again (two rounds, two patterns)
		default:
			return &RefusedPathError{Path: p, Reason: fmt.Sprintf("it came as a %s after it came as a %s", rec.Kind, prev.Kind)}
		}
	}
	if err := m.mkdirs(path.Dir(p)); err != nil {
		return err
	}
	if err := writeFile(local, rec, m.limits.FileSize); err != nil {
		return err
	}
	m.Files[p] = f
	return nil
}

// underFolders refuses a path below one the Server called something other
// than a folder.
func (m *Mirror) underFolders(p string) error {
	for q := path.Dir(p); q != "/"; q = path.Dir(q) {
		if f := m.Files[q]; f != nil && f.Kind != KindDir {
			return &RefusedPathError{Path: p, Reason: fmt.Sprintf("it is below %s, which came as a %s", q, f.Kind)}
		}
	}
	return nil
}

// mkdirs makes the folders of Mac path p in the mirror, each a real folder
// (an existing one is checked not to be anything else).
func (m *Mirror) mkdirs(p string) error {
	if err := m.underFolders(p); err != nil {
		return err
	}
	if f := m.Files[p]; f != nil && f.Kind != KindDir {
		return &RefusedPathError{Path: p, Reason: fmt.Sprintf("it is needed as a folder but came as a %s", f.Kind)}
	}
	local := m.Dir
	for _, seg := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
		if seg == "" {
			continue
		}
		local = filepath.Join(local, seg)
		err := os.Mkdir(local, 0o700)
		if err == nil {
			continue
		}
		if !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("mirror: %w", err)
		}
		if fi, err := os.Lstat(local); err != nil || !fi.IsDir() {
			return &RefusedPathError{Path: p, Reason: "a file is in the way of its folders"}
		}
	}
	return nil
}

// writeFile makes the mirror's copy of a file record: a new file (never
// through a symlink), readable and writable by this user alone plus the
// Server's read and execute bits, with the Server's modification time.
func writeFile(local string, rec *record, maxSize int64) error {
	f, err := os.OpenFile(local, os.O_WRONLY|os.O_CREATE|os.O_EXCL|oNoFollow, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return &RefusedPathError{Path: rec.Path, Reason: "it came twice"}
		}
		return fmt.Errorf("mirror: %w", err)
	}
	_, err = f.Write(rec.Data)
	if err == nil && rec.Kind == KindTooLarge {
		// Sparse where the file system allows; at most just over the
		// readers' limit, which is all they need to refuse it.
		err = f.Truncate(min(rec.Size, maxSize+1))
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(local, fs.FileMode(rec.Perm&0o755)|0o600)
	}
	if err == nil {
		err = os.Chtimes(local, rec.ModTime, rec.ModTime)
	}
	if err != nil {
		return fmt.Errorf("mirror: write %s: %w", rec.Path, err)
	}
	return nil
}

// settleDirs gives the mirror's folders the Server's modification times,
// once nothing more is written into them, deepest first.
func (m *Mirror) settleDirs() {
	var dirs []*File
	for _, f := range m.Files {
		if f.Kind == KindDir {
			dirs = append(dirs, f)
		}
	}
	sort.Slice(dirs, func(i, j int) bool { return len(dirs[i].Path) > len(dirs[j].Path) })
	for _, f := range dirs {
		os.Chtimes(m.LocalPath(f.Path), f.ModTime, f.ModTime)
	}
}

// String sums up the fetch, for logs.
func (m *Mirror) String() string {
	return fmt.Sprintf("mirror of %s in %s: %d paths, %d bytes, %d round trips", m.RemoteRoot, m.Dir, len(m.Files), m.Bytes, m.RoundTrips)
}
