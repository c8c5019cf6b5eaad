package apacheconf

import (
	"slices"

	"github.com/socketbar/socketbar/internal/pkgerr"
)

// Lines parses text as a run of new lines to insert. Each line is a blank,
// comment or directive; sections are refused because an inserted run must
// not change the structure around it. Line numbers of the result are 0.
func Lines(text string) ([]*Node, error) {
	f, err := Parse([]byte(text))
	if err != nil {
		return nil, err
	}
	for _, n := range f.Nodes {
		if n.Kind == Section {
			return nil, errorf("inserted text may not contain sections (<%s> on line %d)", n.Name, n.Line)
		}
		n.Line = 0
	}
	return f.Nodes, nil
}

// siblings returns the slice that holds n and n's index in it.
func (f *File) siblings(n *Node) (*[]*Node, int) {
	list := &f.Nodes
	if n.Parent != nil {
		list = &n.Parent.Children
	}
	return list, slices.Index(*list, n)
}

// InsertBefore inserts nodes right before sibling, inside the same parent.
func (f *File) InsertBefore(sibling *Node, nodes []*Node) error {
	list, i := f.siblings(sibling)
	if i < 0 {
		return errorf("node on line %d is not in this file", sibling.Line)
	}
	for _, n := range nodes {
		n.Parent = sibling.Parent
	}
	*list = slices.Insert(*list, i, nodes...)
	return nil
}

// Append adds nodes as the last children of section (before its closing tag).
func (f *File) Append(section *Node, nodes []*Node) error {
	if section.Kind != Section {
		return errorf("line %d is not a section", section.Line)
	}
	for _, n := range nodes {
		n.Parent = section
	}
	section.Children = append(section.Children, nodes...)
	return nil
}

// RemoveRun removes the consecutive siblings from first to last inclusive.
func (f *File) RemoveRun(first, last *Node) error {
	if first.Parent != last.Parent {
		return errorf("lines %d and %d are in different sections", first.Line, last.Line)
	}
	list, i := f.siblings(first)
	_, j := f.siblings(last)
	if i < 0 || j < 0 || j < i {
		return errorf("cannot remove lines %d to %d", first.Line, last.Line)
	}
	*list = slices.Delete(*list, i, j+1)
	return nil
}

// errorf is fmt.Errorf for this package's own errors: their Error() names
// the package for logs, and pkgerr.Text gives people the message without it.
func errorf(format string, args ...any) error { return pkgerr.Errorf("apacheconf", format, args...) }
