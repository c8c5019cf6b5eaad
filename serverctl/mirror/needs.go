package mirror

import (
	"context"
	"encoding/hex"
	"errors"
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
		// Where Apple's config puts the pid: the state of a tree's httpd.
		{mode: 'c', path: serverctl.DefaultPidFilePath},
		{mode: 'e', path: serverctl.HTTPDPath},
		{mode: 'e', path: WrapperPath},
		{mode: 'e', path: DefaultModuleDir, list: true},
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
	srv, err := serverctl.Discover(ctx, serverctl.Options{Root: m.Dir, Runner: refuseRunner{}, Remote: &serverctl.Remote{RemoteRoot: m.RemoteRoot}})
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
		// The pid file, for the state of a tree's httpd (a Server's own
		// state comes from launchctl).
		if pid := cfg.PidFile(cfg.Vars(srv.Vars())); path.IsAbs(pid) {
			add(request{mode: 'c', path: clean(m.macOf(pid))})
		}
		for _, mod := range cfg.Modules(cfg.Vars(srv.Vars())) {
			add(request{mode: 'e', path: path.Dir(clean(m.macOf(mod.Path))), list: true})
		}
		for _, r := range m.includeNeeds(ctx, cfg.Path, srv.LoaderOptionsKeepGoing()) {
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
func (m *Mirror) includeNeeds(ctx context.Context, config string, opt loader.Options) []request {
	var missing []request
	var standIns []string
	defer func() {
		for i := len(standIns) - 1; i >= 0; i-- {
			os.RemoveAll(standIns[i])
		}
	}()
	for range maxStandIns {
		lc, err := loader.Load(ctx, config, opt)
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
			p = m.macOf(p)
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

// macOf is the Mac path a path the Server's config names stands for: a
// tree there (RemoteRoot not "/") names its own files under its folder,
// as a tree run here names them under its root.
func (m *Mirror) macOf(p string) string {
	if m.RemoteRoot == "/" {
		return p
	}
	if rest, ok := strings.CutPrefix(p, m.RemoteRoot+"/"); ok {
		return "/" + rest
	}
	return p
}
