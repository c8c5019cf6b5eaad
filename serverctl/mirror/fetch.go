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

	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/apacheconf/loader"
	"github.com/socketbar/socketbar/serverctl/run"
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

// DefaultModuleDir is where Apple's httpd keeps its modules: the module
// files' existence is fetched with the first round, so that checking the
// LoadModule lines costs no round of its own.
const DefaultModuleDir = "/usr/libexec/apache2"

// WrapperPath is Server.app's wrapper around httpd, the launchd job's
// program on Server 5.
const WrapperPath = serverctl.ServerRootPath + "/usr/sbin/httpd-server-wrapper"

// ConfigDir is the folder of the Service Proxy and Websites configs, fetched
// whole.
const ConfigDir = "/Library/Server/Web/Config"

// request is one thing to fetch. mode is what fetch.pl reads: 'c' the
// content of a file or folder tree (below the literal path, down the globs
// when any), 't' the end of a file, 'e' the existence of a file, or of a
// folder's entries.
type request struct {
	mode  byte
	path  string
	globs []string
	// list marks an 'e' request that needs the folder's entries, not just
	// the path's existence (a module folder).
	list bool
}

func (r request) key() string {
	return string(r.mode) + " " + r.path + "\x00" + strings.Join(r.globs, "\x00")
}

// line is the request as fetch.pl reads it: words in hex.
func (r request) line() string {
	w := []string{string(r.mode), hex.EncodeToString([]byte(r.path))}
	for _, g := range r.globs {
		w = append(w, hex.EncodeToString([]byte(g)))
	}
	return strings.Join(w, " ")
}

// baseRequests are what every fetch asks for in its first round: the files
// discovery reads, the config folder, the error log's end, and the
// existence of httpd, the wrapper and Apple's module folder, at the paths
// a Server 5 has them. Anything else the config names comes next round.
func baseRequests() []request {
	return []request{
		{mode: 'c', path: serverctl.VersionPlistPath},
		{mode: 'c', path: serverctl.ServerVersionPlistPath},
		{mode: 'c', path: serverctl.LaunchdPlistPath},
		{mode: 'c', path: ConfigDir},
		{mode: 't', path: serverctl.DefaultErrorLogPath},
		{mode: 'e', path: serverctl.HTTPDPath},
		{mode: 'e', path: WrapperPath},
		{mode: 'e', path: DefaultModuleDir, list: true},
	}
}

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
// folder (not a symlink): the mirror must be the only
// writer of what is inside.
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

// refuseRunner runs nothing: reading the mirror to find what is missing
// must not cost round trips (discovery would ask httpd -v).
type refuseRunner struct{}

func (refuseRunner) Run(context.Context, run.Command) ([]byte, error) {
	return nil, errors.New("mirror: not run while fetching")
}

// needs reads the mirror as the readers will and lists what they would
// look for that no round has fetched or answered for yet: the config and
// error log the launchd job names, its program, the module folders, and
// the files the config includes.
func (m *Mirror) needs(ctx context.Context) []request {
	srv, err := serverctl.Discover(ctx, serverctl.Options{Root: m.Dir, Runner: refuseRunner{}})
	if err != nil {
		return nil // no Server there: the readers say so
	}
	var want []request
	seen := map[string]bool{}
	add := func(r request) {
		if checkPath(r.path) != nil || len(r.path) > m.limits.Path || seen[r.key()] || m.covered(r) {
			return
		}
		seen[r.key()] = true
		want = append(want, r)
	}
	add(request{mode: 'c', path: clean(srv.ConfigPath)})
	add(request{mode: 't', path: clean(srv.ErrorLogPath)})
	if len(srv.Job.ProgramArguments) > 0 {
		add(request{mode: 'e', path: clean(srv.Job.ProgramArguments[0])})
	}
	if cfg, err := serverctl.ReadConfig(srv.HostPath(srv.ConfigPath)); err == nil {
		for _, mod := range cfg.Modules(cfg.Vars(srv.Vars())) {
			add(request{mode: 'e', path: path.Dir(clean(mod.Path)), list: true})
		}
		for _, r := range m.includeNeeds(ctx, cfg.Path, srv.Vars()) {
			add(r)
		}
	}
	// Content first: fetch.pl answers each path once, so a placeholder
	// must not come before the content asked in the same round.
	sort.SliceStable(want, func(i, j int) bool { return modeOrder(want[i].mode) < modeOrder(want[j].mode) })
	return want
}

func modeOrder(mode byte) int { return strings.IndexByte("cte", mode) }

// clean makes a path the config or the launchd job names a Mac path, as
// HostPath maps it: a relative one lies below the root.
func clean(p string) string { return path.Clean("/" + p) }

// covered reports whether a round already fetched, or answered for, what
// r asks.
func (m *Mirror) covered(r request) bool {
	for _, a := range m.asked {
		switch {
		case a.key() == r.key():
			return true
		case a.mode == 'c' && len(a.globs) == 0 && within(r.path, a.path):
			return true // inside a tree fetched whole (absent there: absent)
		case r.mode == 'e' && a.mode == 'e' && !r.list && path.Dir(r.path) == a.path:
			return true // an entry of a folder listed
		case r.mode == 't' && a.mode == 't' && a.path == r.path:
			return true
		}
	}
	// At or below a path that is no folder on the Server, answered for:
	// nothing (more) to fetch there.
	if f := m.Files[r.path]; f != nil && f.Kind != KindDir {
		needsMore := r.mode == 'c' && (f.Kind == KindExists || f.Kind == KindTail) ||
			r.mode == 't' && f.Kind == KindExists
		if !needsMore {
			return true
		}
	}
	return m.underFolders(r.path) != nil
}

// maxStandIns bounds the loads includeNeeds makes to get past missing
// includes.
const maxStandIns = 64

// includeNeeds lists what the config's includes read that the mirror may
// lack. A load stops at the first Include whose file is not in the mirror;
// so that one round fetches them all, each missing path gets an empty
// stand-in (a file, or a folder for a wildcard's) and the load is tried
// again. The stand-ins are removed before returning. The includes come from
// the whole load when one succeeds; else the missing paths are fetched
// whole.
func (m *Mirror) includeNeeds(ctx context.Context, config string, vars map[string]string) []request {
	var missing []request
	var standIns []string
	defer func() {
		for i := len(standIns) - 1; i >= 0; i-- {
			os.RemoveAll(standIns[i])
		}
	}()
	for range maxStandIns {
		lc, err := loader.Load(ctx, config, loader.Options{Root: m.Dir, Vars: vars, KeepGoing: true})
		if err == nil {
			return m.includes(lc)
		}
		var pe *fs.PathError
		if !errors.As(err, &pe) || !errors.Is(err, fs.ErrNotExist) {
			break
		}
		p, ok := m.MacPath(pe.Path)
		if !ok || p == "/" {
			break
		}
		missing = append(missing, request{mode: 'c', path: p})
		// The loader looks a literal include up with lstat, and reads a
		// wildcard's folders.
		top, err := m.standIn(p, pe.Op != "lstat")
		if err != nil {
			break
		}
		standIns = append(standIns, top)
	}
	return missing
}

// standIn makes an empty file or folder at Mac path p and its missing
// folders, and returns the topmost path it made.
func (m *Mirror) standIn(p string, folder bool) (string, error) {
	top := ""
	local := m.Dir
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i, seg := range segs {
		local = filepath.Join(local, seg)
		var err error
		if i < len(segs)-1 || folder {
			err = os.Mkdir(local, 0o700)
		} else {
			var f *os.File
			if f, err = os.OpenFile(local, os.O_WRONLY|os.O_CREATE|os.O_EXCL|oNoFollow, 0o600); err == nil {
				f.Close()
			}
		}
		switch {
		case err == nil && top == "":
			top = local
		case err != nil && !errors.Is(err, fs.ErrExist):
			return "", err
		}
	}
	if top == "" {
		return "", fs.ErrExist // nothing made: no progress
	}
	return top, nil
}

// includes lists what the config's Include and IncludeOptional lines read,
// resolved as the loader resolves them (variables, ServerRoot in force at
// the line): a path's tree, or a wildcard's literal folder and its
// patterns. fetch.pl matches the patterns loosely (a superset) and the
// loader matches them exactly on the mirror.
func (m *Mirror) includes(lc *loader.Config) []request {
	var out []request
	serverRoot := loader.DefaultServerRoot
	lc.Walk(func(n *loader.Node) bool {
		switch {
		case n.Is("ServerRoot") && len(n.Args) == 1:
			serverRoot = path.Clean(n.Args[0])
		case (n.Is("Include") || n.Is("IncludeOptional")) && len(n.Args) == 1:
			p := n.Args[0]
			if !path.IsAbs(p) {
				p = path.Join(serverRoot, p)
			}
			p = path.Clean(p)
			if mac, ok := m.MacPath(filepath.FromSlash(p)); ok {
				p = mac // a path already inside the mirror, as the loader takes it
			}
			out = append(out, includeRequest(p))
		}
		return true
	})
	return out
}

// includeRequest fetches an include's path: the tree at a literal path, or
// below a wildcard's literal folder the entries its patterns may match.
func includeRequest(p string) request {
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i, s := range segs {
		if strings.ContainsAny(s, `*?[\`) {
			r := request{mode: 'c', path: "/" + strings.Join(segs[:i], "/")}
			for _, g := range segs[i:] {
				r.globs = append(r.globs, looseGlob(g))
			}
			return r
		}
	}
	return request{mode: 'c', path: p}
}

// looseGlob turns one segment of a pattern (path.Match syntax, as the
// loader matches) into fetch.pl's: "*" and "?" as they are; a segment with
// a class or an escape becomes "*", which matches more, never less.
func looseGlob(seg string) string {
	if strings.ContainsAny(seg, `[\`) {
		return "*"
	}
	return seg
}

// String sums up the fetch, for logs.
func (m *Mirror) String() string {
	return fmt.Sprintf("mirror of %s in %s: %d paths, %d bytes, %d round trips", m.RemoteRoot, m.Dir, len(m.Files), m.Bytes, m.RoundTrips)
}
