package loader

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/socketbar/socketbar/serverctl/apacheconf"
)

// Defaults for Options; Apple's httpd is built with ServerRoot /usr.
const (
	DefaultServerRoot  = "/usr"
	DefaultMaxDepth    = 16
	DefaultMaxFiles    = 256
	DefaultMaxFileSize = 16 << 20
	DefaultMaxNodes    = 200000
	// DefaultMaxExpansion bounds the text all Use lines make together: as
	// much as one file may hold. Server.app's macros make under 1 KiB per
	// site and port.
	DefaultMaxExpansion = 16 << 20
)

// Errors a load can fail with; the returned error wraps one of them (or an
// os error) inside an *Error that names the place.
var (
	ErrCycle        = errors.New("include cycle")
	ErrTooDeep      = errors.New("includes nested too deep")
	ErrTooManyFiles = errors.New("too many included files")
	ErrTooLarge     = errors.New("file too large")
	ErrNotRegular   = errors.New("not a regular file")
	ErrNoMatch      = errors.New("no file matches")
	ErrTooManyNodes = errors.New("config expands to too many lines")
	ErrMacro        = errors.New("macro error")
	// ErrLineTooLong is a macro line longer than mod_macro's MaxMacroLine:
	// Apache refuses the definition or the Use line that makes it.
	ErrLineTooLong = errors.New("macro line too long")
	// ErrTooMuchExpansion is macro output past Options.MaxExpansion.
	ErrTooMuchExpansion = errors.New("macros expand to too much text")
)

// Options say how to map and bound a load.
type Options struct {
	// Root is the folder on this machine that stands for the Mac's "/".
	// Empty means "/": paths are used as they are.
	Root string
	// RootName is the path by which the config's own files name the
	// folder Root stands for, when that is not Root itself: a Server tree
	// reached over SSH, mirrored here in Root, names its files under its
	// folder there. Paths below it are taken as Mac paths below it, as
	// paths below Root are. Empty: Root alone.
	RootName string
	// ServerRoot is the Mac path relative Include paths start from until
	// the config sets its own with a ServerRoot directive. Empty means
	// DefaultServerRoot.
	ServerRoot string
	// Vars are the environment variables of the launchd job; ${VAR} in
	// the config is replaced by them and by the config's Define lines.
	Vars map[string]string
	// KeepGoing makes a Use line that mod_macro refuses (an undefined
	// macro, the wrong number of arguments, a recursive use) make nothing
	// and be recorded in Config.Refused instead of failing the load. Apache
	// does not start with such a line, so a load that acts on the config
	// must fail; a checker sets KeepGoing to name every such line at once
	// and still read the rest of the config.
	KeepGoing bool
	// Bounds; zero means the default. MaxExpansion is in bytes of text
	// made by all Use lines together.
	MaxDepth     int
	MaxFiles     int
	MaxFileSize  int64
	MaxNodes     int
	MaxExpansion int
}

// Pos is a place in a config file: the file's Mac path and a 1-based line.
type Pos struct {
	File string
	Line int
}

func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d", p.File, p.Line)
}

// Error is a load failure at a place in the config.
type Error struct {
	Pos Pos
	Err error
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %v", e.Pos, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Warning is something Apache accepts but an admin should hear about
// (an empty macro argument, a redefined macro, an undefined variable).
type Warning struct {
	Pos Pos
	Msg string
}

func (w Warning) String() string { return fmt.Sprintf("%s: %s", w.Pos, w.Msg) }

// File is one file Apache reads, kept losslessly.
type File struct {
	// Path is the file's Mac path, as the config names it.
	Path string
	// Local is where the file is on this machine.
	Local string
	// Parsed is the lossless parse; edit it and print it with Bytes.
	Parsed *apacheconf.File
	// From is the Include line that pulled the file in; nil for the main file.
	From *Pos
}

// Config is the whole config as Apache reads it.
type Config struct {
	// Files lists every file read, main file first, in reading order. A
	// file included twice is listed twice.
	Files []*File
	// Nodes is the top level of the expanded config: includes and Use
	// lines have their output as children, in place.
	Nodes []*Node
	// Macros are the macro definitions in force at the end, by lower-case name.
	Macros map[string]*Macro
	// Warnings are in reading order.
	Warnings []Warning
	// Refused are the Use lines mod_macro refuses, in reading order; only
	// a load with Options.KeepGoing has any (without it the first one fails
	// the load). Each wraps a *UseError.
	Refused []*Error
}

// Origin says which Use line made a node.
type Origin struct {
	// Macro is the macro's name as its definition writes it.
	Macro string
	// Use is the Use line.
	Use Pos
	// BodyLine is the node's line within the macro body, 1-based.
	BodyLine int
	// Outer is the expansion the Use line itself came from, for a Use
	// inside a macro body; nil otherwise.
	Outer *Origin
}

// Node is one line or section of the expanded config.
type Node struct {
	Kind apacheconf.Kind
	// Name is the directive or section name as written.
	Name string
	// Args are the arguments with quotes removed and ${VAR} replaced.
	Args []string
	// Src is the lossless node. For a node read from a file it is part of
	// File.Parsed; for macro output it belongs to a parse of the expanded
	// text, and editing it changes nothing on disk (edit the macro body).
	Src *apacheconf.Node
	// File holds the node's text: the file read, or for macro output the
	// file with the macro definition.
	File *File
	// Pos is where the node's text is: for macro output, the body line in
	// the macro definition.
	Pos Pos
	// Origin is set for nodes a Use line made.
	Origin *Origin
	// Children are a section's nodes, the nodes of the files an Include
	// pulls in, or the nodes a Use line makes. A <Macro> definition has
	// none: its body is not config until used.
	Children []*Node
	// Parent is the enclosing section, Include or Use node; nil at the top.
	Parent *Node
}

// Is reports whether n is a directive or section named name (case-insensitive).
func (n *Node) Is(name string) bool {
	return (n.Kind == apacheconf.Directive || n.Kind == apacheconf.Section) && strings.EqualFold(n.Name, name)
}

// Enclosing returns the nearest enclosing section named name, or nil.
func (n *Node) Enclosing(name string) *Node {
	for p := n.Parent; p != nil; p = p.Parent {
		if p.Kind == apacheconf.Section && p.Is(name) {
			return p
		}
	}
	return nil
}

// Walk calls fn for every node in the order Apache reads them, depth
// first: a section, Include or Use line comes before its children. If fn
// returns false the node's children are skipped.
func (c *Config) Walk(fn func(*Node) bool) { walk(c.Nodes, fn) }

func walk(nodes []*Node, fn func(*Node) bool) {
	for _, n := range nodes {
		if fn(n) {
			walk(n.Children, fn)
		}
	}
}

// Match returns the files an Include or IncludeOptional line with the
// path or wildcard p (on this machine) reads, in Apache's order, as Load
// follows it: a wildcard's matches sorted per folder, hidden names only
// for a segment that starts with a dot, a folder read whole with its
// sub-folders in turn. A missing file or folder is no match when optional.
func Match(p string, optional bool) ([]string, error) {
	l := &loader{opt: Options{Root: "/", MaxDepth: DefaultMaxDepth, MaxFiles: DefaultMaxFiles}}
	return l.match(filepath.ToSlash(filepath.Clean(p)), optional)
}

// Main returns the main file.
func (c *Config) Main() *File { return c.Files[0] }

// Load reads the config whose main file is at mainPath on this machine.
func Load(ctx context.Context, mainPath string, opt Options) (*Config, error) {
	l := &loader{ctx: ctx, opt: opt, vars: map[string]string{}, cfg: &Config{Macros: map[string]*Macro{}}}
	if l.opt.Root == "" {
		l.opt.Root = "/"
	}
	if l.opt.ServerRoot == "" {
		l.opt.ServerRoot = DefaultServerRoot
	}
	if l.opt.MaxDepth <= 0 {
		l.opt.MaxDepth = DefaultMaxDepth
	}
	if l.opt.MaxFiles <= 0 {
		l.opt.MaxFiles = DefaultMaxFiles
	}
	if l.opt.MaxFileSize <= 0 {
		l.opt.MaxFileSize = DefaultMaxFileSize
	}
	if l.opt.MaxNodes <= 0 {
		l.opt.MaxNodes = DefaultMaxNodes
	}
	if l.opt.MaxExpansion <= 0 {
		l.opt.MaxExpansion = DefaultMaxExpansion
	}
	l.serverRoot = l.opt.ServerRoot
	for k, v := range opt.Vars {
		l.vars[k] = v
	}
	mac := filepath.ToSlash(mainPath)
	if rel, err := filepath.Rel(l.opt.Root, mainPath); err == nil && filepath.IsLocal(rel) {
		mac = "/" + filepath.ToSlash(rel)
	}
	nodes, err := l.loadFile(mac, mainPath, nil, nil)
	if err != nil {
		return nil, err
	}
	l.cfg.Nodes = nodes
	return l.cfg, nil
}

type frame struct {
	fi   os.FileInfo
	path string
	from *Pos
}

type loader struct {
	ctx        context.Context
	opt        Options
	cfg        *Config
	vars       map[string]string
	serverRoot string
	stack      []frame
	expanding  []string // lower-case names of the macros being expanded
	nodes      int
	expanded   int // bytes of text the Use lines made so far
	warned     map[string]bool
}

func (l *loader) warn(p Pos, format string, args ...any) {
	l.cfg.Warnings = append(l.cfg.Warnings, Warning{p, fmt.Sprintf(format, args...)})
}

// local maps a Mac path below the root.
func (l *loader) local(mac string) string {
	return filepath.Join(l.opt.Root, filepath.FromSlash(mac))
}

// unlocal turns a path that already lies below the root (a tree made to
// run on this machine, like the demo's or a test's, names its own files)
// back into the Mac path it stands for; other paths are returned as they are.
func (l *loader) unlocal(p string) string {
	for _, root := range []string{l.opt.Root, l.opt.RootName} {
		if root == "" {
			continue
		}
		root = filepath.ToSlash(filepath.Clean(root))
		if root == "/" {
			continue
		}
		if rest, ok := strings.CutPrefix(p, root+"/"); ok {
			return "/" + rest
		}
	}
	return p
}

// loadFile reads, parses and expands one file.
func (l *loader) loadFile(mac, local string, from *Pos, parent *Node) ([]*Node, error) {
	at := Pos{File: mac}
	if from != nil {
		at = *from
	}
	if err := l.ctx.Err(); err != nil {
		return nil, &Error{at, err}
	}
	if len(l.stack) >= l.opt.MaxDepth {
		return nil, &Error{at, fmt.Errorf("%w (more than %d levels): %s", ErrTooDeep, l.opt.MaxDepth, l.chain(from, mac))}
	}
	if len(l.cfg.Files) >= l.opt.MaxFiles {
		return nil, &Error{at, fmt.Errorf("%w (more than %d)", ErrTooManyFiles, l.opt.MaxFiles)}
	}
	data, fi, err := readRegular(local, l.opt.MaxFileSize)
	if err != nil {
		return nil, &Error{at, fmt.Errorf("read %s: %w", mac, err)}
	}
	for _, f := range l.stack {
		if os.SameFile(f.fi, fi) {
			return nil, &Error{at, fmt.Errorf("%w: %s", ErrCycle, l.chain(from, mac))}
		}
	}
	parsed, err := apacheconf.Parse(data)
	if err != nil {
		var pe *apacheconf.ParseError
		if errors.As(err, &pe) {
			return nil, &Error{Pos{mac, pe.Line}, errors.New(pe.Msg)}
		}
		return nil, &Error{Pos{File: mac}, err}
	}
	f := &File{Path: mac, Local: local, Parsed: parsed, From: from}
	l.cfg.Files = append(l.cfg.Files, f)
	l.stack = append(l.stack, frame{fi, mac, from})
	defer func() { l.stack = l.stack[:len(l.stack)-1] }()
	return l.convert(parsed.Nodes, parent, f, func(line int) int { return line }, nil)
}

// chain names the include lines that lead to next, the file the include
// line at wants to read: "main.conf:12 → a.conf:3 → main.conf".
func (l *loader) chain(at *Pos, next string) string {
	var parts []string
	for _, f := range l.stack {
		if f.from != nil {
			parts = append(parts, f.from.String())
		}
	}
	if at != nil {
		parts = append(parts, at.String())
	}
	return strings.Join(append(parts, next), " → ")
}

// convert turns parsed nodes into expanded nodes, acting on the
// directives Apache runs while reading (Include, Define, ServerRoot,
// Macro, Use). lineOf maps a line of the parsed text to a line of f.
func (l *loader) convert(src []*apacheconf.Node, parent *Node, f *File, lineOf func(int) int, origin *Origin) ([]*Node, error) {
	out := make([]*Node, 0, len(src))
	for _, s := range src {
		l.nodes++
		if l.nodes > l.opt.MaxNodes {
			return nil, &Error{Pos{f.Path, lineOf(s.Line)}, fmt.Errorf("%w (more than %d)", ErrTooManyNodes, l.opt.MaxNodes)}
		}
		n := &Node{Kind: s.Kind, Name: s.Name, Src: s, File: f, Pos: Pos{f.Path, lineOf(s.Line)}, Parent: parent}
		if origin != nil {
			o := *origin
			o.BodyLine = s.Line
			n.Origin = &o
		}
		n.Args = make([]string, len(s.Args))
		for i, a := range s.Args {
			n.Args[i] = l.resolve(n.Pos, a)
		}
		out = append(out, n)
		var err error
		switch {
		case s.Kind == apacheconf.Section && n.Is("Macro"):
			err = l.define(n, lineOf)
		case s.Kind == apacheconf.Section:
			n.Children, err = l.convert(s.Children, n, f, lineOf, origin)
		case n.Is("Include"):
			n.Children, err = l.include(n, false)
		case n.Is("IncludeOptional"):
			n.Children, err = l.include(n, true)
		case n.Is("Define") && len(n.Args) >= 2:
			l.vars[n.Args[0]] = n.Args[1]
		case n.Is("UnDefine") && len(n.Args) >= 1:
			delete(l.vars, n.Args[0])
		case n.Is("ServerRoot") && len(n.Args) == 1:
			l.serverRoot = path.Clean(n.Args[0])
		case n.Is("Use"):
			n.Children, err = l.use(n)
			var le *Error
			var ue *UseError
			if l.opt.KeepGoing && errors.As(err, &le) && errors.As(le.Err, &ue) {
				l.cfg.Refused = append(l.cfg.Refused, le)
				err = nil
			}
		case n.Is("UndefMacro") && len(n.Args) == 1:
			if _, ok := l.cfg.Macros[strings.ToLower(n.Args[0])]; !ok {
				err = &Error{n.Pos, fmt.Errorf("%w: cannot remove undefined macro '%s'", ErrMacro, n.Args[0])}
			}
			delete(l.cfg.Macros, strings.ToLower(n.Args[0]))
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// resolve replaces ${NAME} with the variable's value. An undefined
// variable is left as written, as Apache does, with a warning.
func (l *loader) resolve(p Pos, s string) string {
	if !strings.Contains(s, "${") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			break
		}
		name := s[i+2 : i+j]
		b.WriteString(s[:i])
		if v, ok := l.vars[name]; ok {
			b.WriteString(v)
		} else {
			b.WriteString(s[i : i+j+1])
			if l.warned == nil {
				l.warned = map[string]bool{}
			}
			if !l.warned[name] {
				l.warned[name] = true
				l.warn(p, "variable ${%s} is not defined", name)
			}
		}
		s = s[i+j+1:]
	}
	b.WriteString(s)
	return b.String()
}

// include expands an Include or IncludeOptional line.
func (l *loader) include(n *Node, optional bool) ([]*Node, error) {
	if len(n.Args) != 1 {
		return nil, &Error{n.Pos, fmt.Errorf("%s takes one path, got %d arguments", n.Name, len(n.Args))}
	}
	p := n.Args[0]
	if !path.IsAbs(p) {
		p = path.Join(l.serverRoot, p)
	}
	p = l.unlocal(path.Clean(p))
	paths, err := l.match(p, optional)
	if err != nil {
		return nil, &Error{n.Pos, err}
	}
	var out []*Node
	from := n.Pos
	for _, m := range paths {
		nodes, err := l.loadFile(m, l.local(m), &from, n)
		if err != nil {
			return nil, err
		}
		out = append(out, nodes...)
	}
	return out, nil
}

// hasMeta reports whether a path segment is a wildcard pattern.
func hasMeta(s string) bool { return strings.ContainsAny(s, `*?[\`) }

// match returns the files an include path names, in Apache's order: a
// wildcard's matches sorted by name per folder, a folder's files sorted
// and its sub-folders read in turn.
func (l *loader) match(p string, optional bool) ([]string, error) {
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	cur := []string{"/"}
	wild := false
	for i, seg := range segs {
		last := i == len(segs)-1
		if !hasMeta(seg) {
			for j := range cur {
				cur[j] = path.Join(cur[j], seg)
			}
			continue
		}
		wild = true
		var next []string
		for _, dir := range cur {
			entries, err := os.ReadDir(l.local(dir))
			if err != nil {
				if optional && errors.Is(err, os.ErrNotExist) {
					continue
				}
				return nil, fmt.Errorf("read folder %s for %s: %w", dir, p, err)
			}
			for _, e := range entries {
				name := e.Name()
				if name[0] == '.' && seg[0] != '.' {
					continue // like fnmatch with FNM_PERIOD
				}
				ok, err := path.Match(seg, name)
				if err != nil {
					return nil, fmt.Errorf("bad wildcard %q: %w", p, err)
				}
				if !ok {
					continue
				}
				m := path.Join(dir, name)
				if !last {
					if fi, err := os.Stat(l.local(m)); err != nil || !fi.IsDir() {
						continue
					}
				}
				next = append(next, m)
			}
			if len(next) > l.opt.MaxFiles {
				return nil, fmt.Errorf("%s: %w (more than %d matches)", p, ErrTooManyFiles, l.opt.MaxFiles)
			}
		}
		cur = next
	}
	if !wild {
		if _, err := os.Lstat(l.local(p)); err != nil && errors.Is(err, os.ErrNotExist) {
			if optional {
				return nil, nil
			}
			return nil, fmt.Errorf("%s: %w", p, err)
		}
	}
	if len(cur) == 0 {
		if optional {
			return nil, nil
		}
		return nil, fmt.Errorf("%w the wildcard %s", ErrNoMatch, p)
	}
	var out []string
	for _, m := range cur {
		files, err := l.expandDir(m, 0)
		if err != nil {
			return nil, err
		}
		out = append(out, files...)
		if len(out) > l.opt.MaxFiles {
			return nil, fmt.Errorf("%s: %w (more than %d files)", p, ErrTooManyFiles, l.opt.MaxFiles)
		}
	}
	return out, nil
}

// expandDir returns m itself for a file, and the files below m, sorted
// per folder, for a folder (as Apache includes a folder).
func (l *loader) expandDir(m string, depth int) ([]string, error) {
	fi, err := os.Stat(l.local(m))
	if err != nil || !fi.IsDir() {
		return []string{m}, nil // reading it reports the error
	}
	if depth >= l.opt.MaxDepth {
		return nil, fmt.Errorf("%s: %w (folders more than %d levels deep)", m, ErrTooDeep, l.opt.MaxDepth)
	}
	entries, err := os.ReadDir(l.local(m))
	if err != nil {
		return nil, fmt.Errorf("read folder %s: %w", m, err)
	}
	var out []string
	for _, e := range entries {
		files, err := l.expandDir(path.Join(m, e.Name()), depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, files...)
		if len(out) > l.opt.MaxFiles {
			return nil, fmt.Errorf("%s: %w (more than %d files)", m, ErrTooManyFiles, l.opt.MaxFiles)
		}
	}
	return out, nil
}

// readRegular reads a regular file of at most max bytes. It opens without
// blocking, so a FIFO cannot hang it, and checks the opened file rather
// than the name.
func readRegular(name string, max int64) ([]byte, os.FileInfo, error) {
	f, err := os.OpenFile(name, os.O_RDONLY|oNonBlock, 0)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%w (%s)", ErrNotRegular, fi.Mode().Type())
	}
	if fi.Size() > max {
		return nil, nil, fmt.Errorf("%w (%d bytes, limit %d)", ErrTooLarge, fi.Size(), max)
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, nil, err
	}
	if int64(len(data)) > max {
		return nil, nil, fmt.Errorf("%w (grew past %d bytes)", ErrTooLarge, max)
	}
	return data, fi, nil
}
