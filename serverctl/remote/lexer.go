package remote

import (
	"regexp"
	"slices"
	"strings"
)

// The lexer below splits POSIX shell text into words and operators (XCU
// 2.3 Token Recognition), far enough for CheckScript: quotes, escapes,
// parameter expansions, command substitutions (collected for checking on
// their own), arithmetic, comments and here-documents.

// word is a shell word as far as checking needs it.
type word struct {
	raw string // as written
	// val is the word after quote removal, each expansion replaced by
	// "\x00"; lit says there was none, so val is exactly what runs.
	val string
	lit bool
	// dollarAt: the word is "$@"; varName: the word is one variable
	// ($NAME, "${NAME}"), and which.
	dollarAt bool
	varName  string
}

func (w word) display() string {
	if w.lit {
		return w.val
	}
	return w.raw
}

// reserved reports whether w is a reserved word: written plainly, no
// quotes (XCU 2.4).
func (w word) reserved() bool { return w.lit && w.raw == w.val && slices.Contains(reserved, w.val) }

type token struct {
	op       string // an operator, "\n" for a newline; "" for a word
	w        word
	ioNumber bool // digits right before a redirection ("2" in 2>&1)
	line     int
}

func (t token) isReserved(s string) bool { return t.op == "" && t.w.reserved() && t.w.val == s }

// sub is a command substitution's text, checked as a script.
type sub struct {
	text string
	line int
}

type heredoc struct {
	delim       string
	quoted, tab bool
}

type lexer struct {
	src     string
	pos     int
	line    int
	subs    []sub
	pending []heredoc
}

var (
	oneVar   = regexp.MustCompile(`^"?\$(\{[A-Za-z_][A-Za-z0-9_]*\}|[A-Za-z_][A-Za-z0-9_]*)"?$`)
	dollarAt = regexp.MustCompile(`^"(\$@|\$\{@\})"$`)
	// Operators, longest first.
	operators = []string{"<<-", "&&", "||", ";;", "<<", ">>", "<&", ">&", "<>", ">|", ";", "&", "|", "(", ")", "<", ">"}
)

// maxTokens bounds a script's tokens: Socketbar's scripts are small.
const maxTokens = 1 << 20

func (lx *lexer) errorf(problem string) error {
	return &CommandError{Line: lx.line, Command: "sh", Problem: problem}
}

func (lx *lexer) all() ([]token, error) {
	var toks []token
	for len(toks) < maxTokens {
		// Blanks and line continuations.
		for lx.pos < len(lx.src) {
			if c := lx.src[lx.pos]; c == ' ' || c == '\t' {
				lx.pos++
			} else if strings.HasPrefix(lx.src[lx.pos:], "\\\n") {
				lx.pos += 2
				lx.line++
			} else {
				break
			}
		}
		if lx.pos >= len(lx.src) {
			if len(lx.pending) > 0 {
				return nil, lx.errorf("ends inside a here-document")
			}
			return toks, nil
		}
		c := lx.src[lx.pos]
		switch {
		case c == '#':
			end := strings.IndexByte(lx.src[lx.pos:], '\n')
			if end < 0 {
				lx.pos = len(lx.src)
			} else {
				lx.pos += end
			}
			continue
		case c == '\n':
			toks = append(toks, token{op: "\n", line: lx.line})
			lx.pos++
			lx.line++
			if err := lx.heredocs(); err != nil {
				return nil, err
			}
			continue
		}
		if op := lx.operator(); op != "" {
			toks = append(toks, token{op: op, line: lx.line})
			if op == "<<" || op == "<<-" {
				if err := lx.heredocHead(op == "<<-"); err != nil {
					return nil, err
				}
			}
			continue
		}
		line := lx.line
		w, err := lx.word()
		if err != nil {
			return nil, err
		}
		t := token{w: w, line: line}
		if w.lit && isDigits(w.raw) && lx.pos < len(lx.src) && (lx.src[lx.pos] == '<' || lx.src[lx.pos] == '>') {
			t.ioNumber = true
		}
		toks = append(toks, t)
	}
	return nil, lx.errorf("has too many words")
}

func (lx *lexer) operator() string {
	for _, op := range operators {
		if strings.HasPrefix(lx.src[lx.pos:], op) {
			lx.pos += len(op)
			return op
		}
	}
	return ""
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// heredocHead reads a here-document's delimiter word; the body follows
// the next newline.
func (lx *lexer) heredocHead(tab bool) error {
	for lx.pos < len(lx.src) && (lx.src[lx.pos] == ' ' || lx.src[lx.pos] == '\t') {
		lx.pos++
	}
	w, err := lx.word()
	if err != nil {
		return err
	}
	if w.raw == "" {
		return lx.errorf("has a here-document without a delimiter")
	}
	quoted := strings.ContainsAny(w.raw, `'"\`)
	delim := strings.NewReplacer(`'`, "", `"`, "", `\`, "").Replace(w.raw)
	lx.pending = append(lx.pending, heredoc{delim: delim, quoted: quoted, tab: tab})
	return nil
}

// heredocs reads the bodies of the here-documents opened on the line just
// ended. An unquoted body expands $(…) and `…`, which are checked.
func (lx *lexer) heredocs() error {
	for _, h := range lx.pending {
		start, startLine := lx.pos, lx.line
		for {
			if lx.pos >= len(lx.src) {
				return lx.errorf("ends before here-document delimiter " + h.delim)
			}
			end := strings.IndexByte(lx.src[lx.pos:], '\n')
			var l string
			if end < 0 {
				l, lx.pos = lx.src[lx.pos:], len(lx.src)
			} else {
				l, lx.pos = lx.src[lx.pos:lx.pos+end], lx.pos+end+1
			}
			lx.line++
			if h.tab {
				l = strings.TrimLeft(l, "\t")
			}
			if l == h.delim {
				break
			}
		}
		if !h.quoted {
			inner := &lexer{src: lx.src[start:lx.pos], line: startLine}
			if err := inner.expansions(); err != nil {
				return err
			}
			lx.subs = append(lx.subs, inner.subs...)
		}
	}
	lx.pending = nil
	return nil
}

// expansions scans text as inside double quotes, for its substitutions.
func (lx *lexer) expansions() error {
	for lx.pos < len(lx.src) {
		switch lx.src[lx.pos] {
		case '\\':
			lx.pos = min(lx.pos+2, len(lx.src))
		case '$':
			if _, err := lx.dollar(); err != nil {
				return err
			}
		case '`':
			if err := lx.backquote(); err != nil {
				return err
			}
		case '\n':
			lx.line++
			lx.pos++
		default:
			lx.pos++
		}
	}
	return nil
}

// word reads one word at lx.pos.
func (lx *lexer) word() (word, error) {
	start := lx.pos
	var val strings.Builder
	lit := true
	for lx.pos < len(lx.src) {
		c := lx.src[lx.pos]
		if c == ' ' || c == '\t' || c == '\n' || strings.IndexByte(";&|()<>", c) >= 0 {
			break
		}
		switch c {
		case '\\':
			if lx.pos+1 >= len(lx.src) {
				lx.pos++ // a trailing backslash stands for itself
				val.WriteByte('\\')
				break
			}
			if lx.src[lx.pos+1] == '\n' {
				lx.line++
			} else {
				val.WriteByte(lx.src[lx.pos+1])
			}
			lx.pos += 2
		case '\'':
			end := strings.IndexByte(lx.src[lx.pos+1:], '\'')
			if end < 0 {
				return word{}, lx.errorf("has an unterminated single quote")
			}
			s := lx.src[lx.pos+1 : lx.pos+1+end]
			val.WriteString(s)
			lx.line += strings.Count(s, "\n")
			lx.pos += end + 2
		case '"':
			lx.pos++
			closed := false
			for lx.pos < len(lx.src) && !closed {
				d := lx.src[lx.pos]
				switch {
				case d == '"':
					lx.pos++
					closed = true
				case d == '\\' && lx.pos+1 < len(lx.src):
					if e := lx.src[lx.pos+1]; strings.IndexByte("$`\"\\\n", e) >= 0 {
						if e == '\n' {
							lx.line++
						} else {
							val.WriteByte(e)
						}
					} else {
						val.WriteByte('\\')
						val.WriteByte(e)
					}
					lx.pos += 2
				case d == '$':
					expanded, err := lx.dollar()
					if err != nil {
						return word{}, err
					}
					if expanded {
						val.WriteByte(0)
						lit = false
					} else {
						val.WriteByte('$')
					}
				case d == '`':
					if err := lx.backquote(); err != nil {
						return word{}, err
					}
					val.WriteByte(0)
					lit = false
				default:
					if d == '\n' {
						lx.line++
					}
					val.WriteByte(d)
					lx.pos++
				}
			}
			if !closed {
				return word{}, lx.errorf("has an unterminated double quote")
			}
		case '$':
			expanded, err := lx.dollar()
			if err != nil {
				return word{}, err
			}
			if expanded {
				val.WriteByte(0)
				lit = false
			} else {
				val.WriteByte('$')
			}
		case '`':
			if err := lx.backquote(); err != nil {
				return word{}, err
			}
			val.WriteByte(0)
			lit = false
		default:
			val.WriteByte(c)
			lx.pos++
		}
	}
	w := word{raw: lx.src[start:lx.pos], val: val.String(), lit: lit}
	if m := oneVar.FindStringSubmatch(w.raw); m != nil && strings.Count(w.raw, `"`) != 1 {
		w.varName = strings.Trim(m[1], "{}")
	}
	w.dollarAt = dollarAt.MatchString(w.raw)
	// Tilde and pathname expansion change a word too.
	if lit && (strings.HasPrefix(w.raw, "~") || isGlob(stripQuoted(w.raw))) {
		w.lit = false
	}
	return w, nil
}

// isGlob reports whether unquoted text is a pathname pattern: "*", "?",
// or a bracket expression ("[" with a "]" after it; "[" alone is the test
// command).
func isGlob(s string) bool {
	if strings.ContainsAny(s, "*?") {
		return true
	}
	i := strings.IndexByte(s, '[')
	return i >= 0 && strings.IndexByte(s[i+1:], ']') >= 0
}

// stripQuoted drops quoted parts of raw, leaving what globbing sees.
func stripQuoted(raw string) string {
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case '\\':
			i++
		case '\'':
			if end := strings.IndexByte(raw[i+1:], '\''); end >= 0 {
				i += end + 1
			}
		case '"':
			if end := strings.IndexByte(raw[i+1:], '"'); end >= 0 {
				i += end + 1
			}
		default:
			b.WriteByte(raw[i])
		}
	}
	return b.String()
}

// dollar reads an expansion at lx.pos ("$"); it reports false for a lone
// "$", which stays literal.
func (lx *lexer) dollar() (bool, error) {
	rest := lx.src[lx.pos+1:]
	switch {
	case strings.HasPrefix(rest, "(("):
		end, err := lx.balanced(lx.pos+1, '(', ')')
		if err != nil {
			return false, err
		}
		lx.pos = end
		return true, nil
	case strings.HasPrefix(rest, "("):
		end, err := lx.balanced(lx.pos+1, '(', ')')
		if err != nil {
			return false, err
		}
		lx.subs = append(lx.subs, sub{text: lx.src[lx.pos+2 : end-1], line: lx.line})
		lx.line += strings.Count(lx.src[lx.pos:end], "\n")
		lx.pos = end
		return true, nil
	case strings.HasPrefix(rest, "{"):
		end, err := lx.balanced(lx.pos+1, '{', '}')
		if err != nil {
			return false, err
		}
		// ${x:-$(cmd)} runs cmd.
		inner := &lexer{src: lx.src[lx.pos+2 : end-1], line: lx.line}
		if err := inner.expansions(); err != nil {
			return false, err
		}
		lx.subs = append(lx.subs, inner.subs...)
		lx.line += strings.Count(lx.src[lx.pos:end], "\n")
		lx.pos = end
		return true, nil
	case rest != "" && (strings.IndexByte("@*#?-$!0123456789", rest[0]) >= 0 || rest[0] == '_' || rest[0] >= 'a' && rest[0] <= 'z' || rest[0] >= 'A' && rest[0] <= 'Z'):
		lx.pos++
		if c := lx.src[lx.pos]; strings.IndexByte("@*#?-$!0123456789", c) >= 0 {
			lx.pos++
			return true, nil
		}
		for lx.pos < len(lx.src) {
			c := lx.src[lx.pos]
			if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
				lx.pos++
			} else {
				break
			}
		}
		return true, nil
	}
	lx.pos++
	return false, nil
}

// balanced returns the index just past the close matching the open at
// src[at], skipping quoted text, escapes and nested substitutions.
func (lx *lexer) balanced(at int, open, close byte) (int, error) {
	depth := 0
	for i := at; i < len(lx.src); i++ {
		switch c := lx.src[i]; c {
		case '\\':
			i++
		case '\'':
			end := strings.IndexByte(lx.src[i+1:], '\'')
			if end < 0 {
				return 0, lx.errorf("has an unterminated single quote")
			}
			i += end + 1
		case '"':
			j := i + 1
			for ; j < len(lx.src) && lx.src[j] != '"'; j++ {
				if lx.src[j] == '\\' {
					j++
				}
			}
			if j >= len(lx.src) {
				return 0, lx.errorf("has an unterminated double quote")
			}
			i = j
		case open:
			depth++
		case close:
			depth--
			if depth == 0 {
				return i + 1, nil
			}
		}
	}
	return 0, lx.errorf("has an unterminated " + string(open))
}

// backquote reads `…` at lx.pos as a command substitution.
func (lx *lexer) backquote() error {
	var inner strings.Builder
	for i := lx.pos + 1; i < len(lx.src); i++ {
		c := lx.src[i]
		switch {
		case c == '\\' && i+1 < len(lx.src) && strings.IndexByte("$`\\", lx.src[i+1]) >= 0:
			inner.WriteByte(lx.src[i+1])
			i++
		case c == '`':
			lx.subs = append(lx.subs, sub{text: inner.String(), line: lx.line})
			lx.line += strings.Count(lx.src[lx.pos:i], "\n")
			lx.pos = i + 1
			return nil
		default:
			inner.WriteByte(c)
		}
	}
	return lx.errorf("has an unterminated backquote")
}
