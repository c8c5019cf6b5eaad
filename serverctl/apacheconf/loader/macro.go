package loader

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/socketbar/socketbar/serverctl/apacheconf"
)

// Macro is a mod_macro definition, <Macro NAME $a $b …> … </Macro>.
//
// mod_macro keeps the body as text and, for each Use line, replaces every
// parameter name (the whole word, "$a", prefix included) by the argument,
// then reads the result as config. Parameters are matched as plain text:
// "${a}" is not a form of "$a" but Apache's variable syntax, resolved after
// substitution. A parameter whose name starts with '@' is substituted in
// double quotes with '"' and '\' escaped.
type Macro struct {
	// Name is the name as the definition writes it; Use matches it
	// case-insensitively.
	Name string
	// Params are the parameter names in order ("$vhostName").
	Params []string
	// Def is the <Macro> line.
	Def Pos
	// File holds the definition; Node is its section there (for a macro
	// defined inside another macro's output, a node of that output).
	File *File
	Node *apacheconf.Node
	// IgnoreEmpty is the /IgnoreEmptyArgs flag: no warning for "" arguments.
	IgnoreEmpty bool

	lines     []string // the body's logical lines, as written
	bodyFirst int      // line of the first body line in the parsed text
	lineOf    func(int) int
}

// MaxMacroLine is the longest macro line mod_macro handles, in bytes, not
// counting the line break. It reads a body line into, and substitutes it
// in, a buffer of MAX_STRING_LEN (8192) bytes that also holds the line
// break and a NUL: a longer body line makes it refuse the definition
// ("expected token not found: </Macro>"), and a Use line whose arguments
// would make one longer is refused ("error while substituting: … cannot
// substitute, buffer size too small"). Leading and trailing blanks count
// when the body is read but not when it is substituted (Apache trims the
// line in between), and the check runs after every substitution, so a
// line that grows past the limit and shrinks again is still refused.
// Comment lines are dropped, never substituted. Measured on Apache 2.4.71.
const MaxMacroLine = 8190

// BodyPos returns the file position of line k (1-based) of the body.
func (m *Macro) BodyPos(k int) Pos { return Pos{m.File.Path, m.lineOf(m.bodyFirst + k - 1)} }

// define records a <Macro> section, as mod_macro does when it reads one.
func (l *loader) define(n *Node, lineOf func(int) int) error {
	args := n.Args
	m := &Macro{Def: n.Pos, File: n.File, Node: n.Src, lineOf: lineOf}
	if len(args) == 0 || args[0] == "" {
		return &Error{n.Pos, fmt.Errorf("%w: <Macro> without a name", ErrMacro)}
	}
	m.Name, args = args[0], args[1:]
	for len(args) > 0 && strings.HasPrefix(args[0], "/") {
		if strings.EqualFold(args[0], "/IgnoreEmptyArgs") {
			m.IgnoreEmpty = true
		}
		args = args[1:]
	}
	for i, p := range args {
		if p == "" {
			return &Error{n.Pos, fmt.Errorf("%w: macro '%s': empty name for parameter #%d", ErrMacro, m.Name, i+1)}
		}
		if j := slices.Index(args[i+1:], p); j >= 0 {
			return &Error{n.Pos, fmt.Errorf("%w: macro '%s': parameter %s is both #%d and #%d", ErrMacro, m.Name, p, i+1, i+j+2)}
		}
	}
	m.Params = args
	for _, c := range n.Src.Children {
		m.lines = appendLines(m.lines, c)
	}
	m.bodyFirst = n.Src.Line + bytes.Count(n.Src.Raw, []byte("\n"))
	line := 1
	for _, ln := range m.lines {
		if size := len(logical(ln)); size > MaxMacroLine {
			return &Error{m.BodyPos(line), fmt.Errorf("%w: a line of %d bytes in macro '%s'; mod_macro reads at most %d and refuses the macro", ErrLineTooLong, size, m.Name, MaxMacroLine)}
		}
		line += strings.Count(ln, "\n")
	}
	key := strings.ToLower(m.Name)
	if old, ok := l.cfg.Macros[key]; ok {
		l.warn(n.Pos, "macro '%s' redefined (first defined at %s)", m.Name, old.Def)
	}
	l.cfg.Macros[key] = m
	return nil
}

// appendLines appends the logical lines of n (a section's opening line,
// its children's and its closing line) to lines.
func appendLines(lines []string, n *apacheconf.Node) []string {
	lines = append(lines, string(n.Raw))
	for _, c := range n.Children {
		lines = appendLines(lines, c)
	}
	if len(n.End) > 0 {
		lines = append(lines, string(n.End))
	}
	return lines
}

// logical is a logical line as Apache reads it: without its line break
// and with continued lines joined.
func logical(raw string) string {
	s := strings.TrimSuffix(strings.TrimSuffix(raw, "\n"), "\r")
	s = strings.ReplaceAll(s, "\\\r\n", "")
	return strings.ReplaceAll(s, "\\\n", "")
}

// UseError is a Use line mod_macro refuses: Apache does not start with it
// ("Syntax error on line N … macro 'x' undefined"). It is an ErrMacro.
type UseError struct {
	// Macro is the name the Use line calls, "" when it names none.
	Macro string
	// Args are the Use line's arguments after the name.
	Args []string
	// Def is the definition in force at the Use line; nil when there is none.
	Def *Macro
	// Recursion lists the macros being expanded when the Use line calls one
	// of them again (lower-case names, outermost first); nil otherwise.
	Recursion []string
}

func (e *UseError) Error() string {
	switch {
	case e.Macro == "":
		return fmt.Sprintf("%v: Use without a macro name", ErrMacro)
	case e.Def == nil:
		return fmt.Sprintf("%v: macro '%s' is not defined before this Use", ErrMacro, e.Macro)
	case e.Recursion != nil:
		return fmt.Sprintf("%v: recursive use of macro '%s' (expanding %s)", ErrMacro, e.Def.Name, strings.Join(e.Recursion, " → "))
	}
	return fmt.Sprintf("%v: Use %s with %d arguments, but macro '%s' (%s) takes %d",
		ErrMacro, e.Macro, len(e.Args), e.Def.Name, e.Def.Def, len(e.Def.Params))
}

// Is makes a UseError match ErrMacro.
func (e *UseError) Is(target error) bool { return target == ErrMacro }

// use expands a Use line into the nodes its macro makes.
func (l *loader) use(n *Node) ([]*Node, error) {
	if len(n.Args) == 0 || n.Args[0] == "" {
		return nil, &Error{n.Pos, &UseError{}}
	}
	key := strings.ToLower(n.Args[0])
	args := n.Args[1:]
	m, ok := l.cfg.Macros[key]
	if !ok {
		return nil, &Error{n.Pos, &UseError{Macro: n.Args[0], Args: args}}
	}
	if slices.Contains(l.expanding, key) {
		return nil, &Error{n.Pos, &UseError{Macro: n.Args[0], Args: args, Def: m, Recursion: slices.Clone(l.expanding)}}
	}
	if len(args) != len(m.Params) {
		return nil, &Error{n.Pos, &UseError{Macro: n.Args[0], Args: args, Def: m}}
	}
	if !m.IgnoreEmpty {
		for i, a := range args {
			if a == "" {
				l.warn(n.Pos, "Use %s: empty argument #%d (%s)", m.Name, i+1, m.Params[i])
			}
		}
	}
	text, err := m.expand(args, l.opt.MaxExpansion-l.expanded)
	if err != nil {
		var long *lineTooLong
		if errors.As(err, &long) {
			return nil, &Error{n.Pos, fmt.Errorf("%w: Use %s makes the macro's line at %s longer than %d bytes; mod_macro refuses it (\"cannot substitute, buffer size too small\")",
				ErrLineTooLong, m.Name, m.BodyPos(long.line), MaxMacroLine)}
		}
		return nil, &Error{n.Pos, fmt.Errorf("%w (more than %d bytes)", ErrTooMuchExpansion, l.opt.MaxExpansion)}
	}
	l.expanded += len(text)
	parsed, err := apacheconf.Parse([]byte(text))
	if err != nil {
		return nil, &Error{n.Pos, fmt.Errorf("%w: Use %s makes broken config: %v", ErrMacro, m.Name, err)}
	}
	origin := &Origin{Macro: m.Name, Use: n.Pos, Outer: n.Origin}
	l.expanding = append(l.expanding, key)
	defer func() { l.expanding = l.expanding[:len(l.expanding)-1] }()
	return l.convert(parsed.Nodes, n, m.File, func(line int) int { return m.lineOf(m.bodyFirst + line - 1) }, origin)
}

// lineTooLong is the body line (1-based) a Use line would make longer
// than MaxMacroLine.
type lineTooLong struct{ line int }

func (e *lineTooLong) Error() string { return fmt.Sprintf("body line %d too long", e.line) }

// errBudget means the expansion would pass its budget.
var errBudget = errors.New("over budget")

// expand substitutes args into every line of the body, each line on its
// own as mod_macro does, and returns the text. It fails with *lineTooLong
// for a line mod_macro refuses to make (see MaxMacroLine), and with
// errBudget before the text grows past budget bytes, so neither an
// argument repeated on a line nor one repeated on many lines can make it
// allocate more than that.
func (m *Macro) expand(args []string, budget int) (string, error) {
	var b strings.Builder
	line := 1
	for _, raw := range m.lines {
		// size is the line's length here, apache its length in mod_macro's
		// buffer: trimmed, and not checked for a comment, which it drops.
		t := strings.TrimSpace(logical(raw))
		start, size, apache, checked := b.Len(), len(raw), len(t), t != "" && t[0] != '#'
		grow := func(n int) error {
			size += n
			if apache += n; checked && apache > MaxMacroLine {
				return &lineTooLong{line}
			}
			if start+size > budget {
				return errBudget
			}
			return nil
		}
		if err := grow(0); err != nil {
			return "", err
		}
		if err := substitute(&b, raw, m.Params, args, grow); err != nil {
			return "", err
		}
		line += strings.Count(raw, "\n")
	}
	return b.String(), nil
}

// Substitute replaces the parameters in one line of a macro body the way
// mod_macro does: scanning left to right, the earliest occurrence of any
// parameter name is replaced (the longest name when two start at the same
// place), and scanning goes on after the replacement, so an argument's text
// is never substituted again. A parameter named "@x" is replaced by its
// argument in double quotes, with '"' and '\' escaped.
func Substitute(line string, params, args []string) string {
	var b strings.Builder
	substitute(&b, line, params, args, nil)
	return b.String()
}

// substitute writes line to b with the parameters replaced, as Substitute.
// Before each replacement, grow (if not nil) hears by how many bytes it
// lengthens the line (negative when it shortens it); when grow fails,
// substitute stops there and returns its error.
func substitute(b *strings.Builder, line string, params, args []string, grow func(int) error) error {
	for {
		at, which := -1, -1
		for i, p := range params {
			if p == "" {
				continue
			}
			j := strings.Index(line, p)
			if j < 0 {
				continue
			}
			if at < 0 || j < at || (j == at && len(p) > len(params[which])) {
				at, which = j, i
			}
		}
		if at < 0 {
			b.WriteString(line)
			return nil
		}
		arg, quote := args[which], strings.HasPrefix(params[which], "@")
		if grow != nil {
			n := len(arg)
			if quote {
				n += 2 + strings.Count(arg, `"`) + strings.Count(arg, `\`)
			}
			if err := grow(n - len(params[which])); err != nil {
				return err
			}
		}
		b.WriteString(line[:at])
		if quote {
			b.WriteByte('"')
			for _, c := range []byte(arg) {
				if c == '"' || c == '\\' {
					b.WriteByte('\\')
				}
				b.WriteByte(c)
			}
			b.WriteByte('"')
		} else {
			b.WriteString(arg)
		}
		line = line[at+len(params[which]):]
	}
}
