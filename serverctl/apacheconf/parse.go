package apacheconf

import (
	"bytes"
	"fmt"
	"strings"
)

// Kind says what a Node is.
type Kind int

const (
	// Blank is an empty or whitespace-only line.
	Blank Kind = iota
	// Comment is a line whose first non-blank character is '#'.
	Comment
	// Directive is a directive line such as "ProxyPass / http://b/".
	Directive
	// Section is a container such as <VirtualHost *:443> … </VirtualHost>.
	Section
)

func (k Kind) String() string {
	switch k {
	case Blank:
		return "blank"
	case Comment:
		return "comment"
	case Directive:
		return "directive"
	case Section:
		return "section"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Node is one logical line of a config file, or a section with its children.
//
// Raw holds the bytes of the logical line including its line ending (a
// logical line spans several physical lines when they end in a backslash).
// For a Section, Raw is the opening tag line and End the closing tag line.
type Node struct {
	Kind Kind
	// Name is the directive or section name as written (match it with
	// strings.EqualFold: Apache names are case-insensitive).
	Name string
	// Args are the arguments with quotes removed and escapes resolved.
	// For a Section they are the words of the opening tag.
	Args []string
	// Line is the 1-based line number where the node starts.
	Line int
	// Raw is the exact text of the (opening) logical line.
	Raw []byte
	// Children are the nodes inside a Section.
	Children []*Node
	// End is the exact text of a Section's closing line; EndLine its number.
	End     []byte
	EndLine int
	// Parent is the enclosing Section, nil at the top level.
	Parent *Node
}

// Is reports whether n is a directive or section named name (case-insensitive).
func (n *Node) Is(name string) bool {
	return (n.Kind == Directive || n.Kind == Section) && strings.EqualFold(n.Name, name)
}

// Text returns the comment text of a Comment node without the leading '#',
// surrounding blanks or line ending.
func (n *Node) Text() string {
	s := strings.TrimSpace(trimEOL(string(n.Raw)))
	return strings.TrimSpace(strings.TrimPrefix(s, "#"))
}

// Indent returns the leading blanks of the node's first line.
func (n *Node) Indent() string {
	i := 0
	for i < len(n.Raw) && (n.Raw[i] == ' ' || n.Raw[i] == '\t') {
		i++
	}
	return string(n.Raw[:i])
}

// EOL returns the line ending of the node's (opening) line: "\r\n", "\n", or
// "" for a last line without one.
func (n *Node) EOL() string { return eolOf(n.Raw) }

// File is a parsed config file.
type File struct {
	Nodes []*Node
}

// ParseError reports malformed structure, with the lines involved. Like
// encoding/json's SyntaxError, its message is the place and the problem
// alone ("line 3: <VirtualHost> is never closed"), for the caller to put
// after the file's name.
type ParseError struct {
	Line int
	Msg  string
}

func (e *ParseError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Parse parses src. It fails only on unbalanced sections; any other text,
// including directives it does not know, is kept as it is.
func Parse(src []byte) (*File, error) {
	f := &File{}
	var stack []*Node
	add := func(n *Node) {
		if len(stack) == 0 {
			f.Nodes = append(f.Nodes, n)
			return
		}
		top := stack[len(stack)-1]
		n.Parent = top
		top.Children = append(top.Children, n)
	}
	line := 1
	for len(src) > 0 {
		raw, physical := nextLogicalLine(src)
		src = src[len(raw):]
		n := classify(raw, line)
		switch {
		case n.Kind == Section && n.Name != "" && n.Name[0] == '/':
			name := n.Name[1:]
			if len(stack) == 0 {
				return nil, &ParseError{line, fmt.Sprintf("</%s> without a matching <%s>", name, name)}
			}
			top := stack[len(stack)-1]
			if !strings.EqualFold(top.Name, name) {
				return nil, &ParseError{line, fmt.Sprintf("</%s> closes <%s> opened on line %d", name, top.Name, top.Line)}
			}
			top.End, top.EndLine = raw, line
			stack = stack[:len(stack)-1]
		case n.Kind == Section:
			add(n)
			stack = append(stack, n)
		default:
			add(n)
		}
		line += physical
	}
	if len(stack) > 0 {
		top := stack[len(stack)-1]
		return nil, &ParseError{top.Line, fmt.Sprintf("<%s> is never closed (missing </%s>)", top.Name, top.Name)}
	}
	return f, nil
}

// Bytes prints the file. For an unmodified parse it returns the input exactly.
func (f *File) Bytes() []byte {
	var b bytes.Buffer
	for _, n := range f.Nodes {
		n.write(&b)
	}
	return b.Bytes()
}

func (n *Node) write(b *bytes.Buffer) {
	b.Write(n.Raw)
	for _, c := range n.Children {
		c.write(b)
	}
	b.Write(n.End)
}

// Walk calls fn for every node in file order, depth first. If fn returns
// false the node's children are skipped.
func (f *File) Walk(fn func(*Node) bool) { walk(f.Nodes, fn) }

func walk(nodes []*Node, fn func(*Node) bool) {
	for _, n := range nodes {
		if fn(n) && n.Kind == Section {
			walk(n.Children, fn)
		}
	}
}

// EOL returns the line ending the file mostly uses ("\n" when it has none),
// so inserted lines match their neighbours.
func (f *File) EOL() string {
	crlf, lf := 0, 0
	f.Walk(func(n *Node) bool {
		for _, r := range [][]byte{n.Raw, n.End} {
			switch eolOf(r) {
			case "\r\n":
				crlf++
			case "\n":
				lf++
			}
		}
		return true
	})
	if crlf > lf {
		return "\r\n"
	}
	return "\n"
}

// nextLogicalLine returns the bytes of the next logical line of src,
// including its line ending, and how many physical lines it spans.
func nextLogicalLine(src []byte) ([]byte, int) {
	end, lines := 0, 0
	for {
		i := bytes.IndexByte(src[end:], '\n')
		lines++
		if i < 0 {
			return src, lines
		}
		next := end + i + 1
		content := src[end : end+i]
		content = bytes.TrimSuffix(content, []byte("\r"))
		if len(content) == 0 || content[len(content)-1] != '\\' || next == len(src) {
			return src[:next], lines
		}
		end = next
	}
}

// logicalText joins the physical lines of raw the way Apache does: the
// continuation backslash and line break are removed.
func logicalText(raw []byte) string {
	s := trimEOL(string(raw))
	s = strings.ReplaceAll(s, "\\\r\n", "")
	return strings.ReplaceAll(s, "\\\n", "")
}

func classify(raw []byte, line int) *Node {
	n := &Node{Raw: raw, Line: line}
	text := strings.TrimSpace(logicalText(raw))
	switch {
	case text == "":
		n.Kind = Blank
	case text[0] == '#':
		n.Kind = Comment
	case text[0] == '<' && len(text) > 1 && text[len(text)-1] == '>':
		n.Kind = Section
		inner := strings.TrimSpace(text[1 : len(text)-1])
		words := SplitArgs(inner)
		if len(words) == 0 {
			n.Kind = Directive
			n.Name = text
			return n
		}
		n.Name, n.Args = words[0], words[1:]
		if strings.HasPrefix(n.Name, "/") && len(n.Name) == 1 && len(n.Args) > 0 {
			// "</ VirtualHost>": join the slash with the name.
			n.Name, n.Args = "/"+n.Args[0], n.Args[1:]
		}
	default:
		n.Kind = Directive
		words := SplitArgs(text)
		n.Name, n.Args = words[0], words[1:]
	}
	return n
}

// SplitArgs splits a directive's text into words like ap_getword_conf: words
// are separated by blanks; a word that starts with " or ' runs to the
// matching quote, and a backslash inside quotes escapes that quote or a
// backslash.
func SplitArgs(s string) []string {
	var words []string
	i := 0
	for {
		for i < len(s) && isBlank(s[i]) {
			i++
		}
		if i >= len(s) {
			return words
		}
		if q := s[i]; q == '"' || q == '\'' {
			i++
			var w strings.Builder
			for i < len(s) && s[i] != q {
				if s[i] == '\\' && i+1 < len(s) && (s[i+1] == q || s[i+1] == '\\') {
					i++
				}
				w.WriteByte(s[i])
				i++
			}
			if i < len(s) {
				i++ // closing quote
			}
			words = append(words, w.String())
			continue
		}
		start := i
		for i < len(s) && !isBlank(s[i]) {
			i++
		}
		words = append(words, s[start:i])
	}
}

func isBlank(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'
}

func trimEOL(s string) string {
	s = strings.TrimSuffix(s, "\n")
	return strings.TrimSuffix(s, "\r")
}

func eolOf(raw []byte) string {
	switch {
	case bytes.HasSuffix(raw, []byte("\r\n")):
		return "\r\n"
	case bytes.HasSuffix(raw, []byte("\n")):
		return "\n"
	}
	return ""
}
