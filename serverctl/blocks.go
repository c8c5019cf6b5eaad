package serverctl

import (
	"fmt"
	"strings"

	"github.com/socketbar/socketbar/serverctl/apacheconf"
)

// Socketbar marks the lines it writes with a begin and an end comment, so
// that it can find, replace and remove exactly those lines later and never
// touch a rule an admin wrote.
const (
	markerBegin = "socketbar:begin"
	markerEnd   = "socketbar:end"
)

type marker struct {
	begin, end bool
	path       string
	backend    string
	strategy   Strategy
}

// parseMarker reads "# socketbar:begin PATH -> BACKEND (STRATEGY). …" and
// "# socketbar:end PATH".
func parseMarker(n *apacheconf.Node) marker {
	if n.Kind != apacheconf.Comment {
		return marker{}
	}
	f := strings.Fields(n.Text())
	if len(f) < 2 {
		return marker{}
	}
	switch f[0] {
	case markerBegin:
		m := marker{begin: true, path: f[1]}
		if len(f) >= 5 && f[2] == "->" {
			m.backend = f[3]
			m.strategy = Strategy(strings.TrimSuffix(strings.TrimPrefix(f[4], "("), ")."))
		}
		return m
	case markerEnd:
		return marker{end: true, path: f[1]}
	}
	return marker{}
}

// Block is one managed route block in a virtual host.
type Block struct {
	Host       VHost
	Begin, End *apacheconf.Node
	Path       string
	Backend    string
	Strategy   Strategy
}

// Blocks returns Socketbar's blocks. A begin marker without its end marker
// in the same section is an error: editing around it could lose lines.
func (c *Config) Blocks() ([]Block, error) {
	var blocks []Block
	for _, vh := range c.VirtualHosts() {
		var scan func(nodes []*apacheconf.Node) error
		scan = func(nodes []*apacheconf.Node) error {
			var open *Block
			for _, n := range nodes {
				if n.Kind == apacheconf.Section {
					if err := scan(n.Children); err != nil {
						return err
					}
					continue
				}
				m := parseMarker(n)
				switch {
				case m.begin && open != nil:
					return fmt.Errorf("serverctl: %s: line %d: Socketbar block for %s starts before the block from line %d ends; fix the markers by hand", c.Path, n.Line, m.path, open.Begin.Line)
				case m.begin:
					open = &Block{Host: vh, Begin: n, Path: m.path, Backend: m.backend, Strategy: m.strategy}
				case m.end && open == nil:
					return fmt.Errorf("serverctl: %s: line %d: Socketbar end marker without a begin marker; fix the markers by hand", c.Path, n.Line)
				case m.end && m.path != open.Path:
					return fmt.Errorf("serverctl: %s: line %d: end marker for %s closes the block for %s from line %d; fix the markers by hand", c.Path, n.Line, m.path, open.Path, open.Begin.Line)
				case m.end:
					open.End = n
					blocks = append(blocks, *open)
					open = nil
				}
			}
			if open != nil {
				return fmt.Errorf("serverctl: %s: line %d: Socketbar block for %s has no end marker; fix the markers by hand", c.Path, open.Begin.Line, open.Path)
			}
			return nil
		}
		if err := scan(vh.Node.Children); err != nil {
			return nil, err
		}
	}
	return blocks, nil
}

func findBlock(blocks []Block, vh VHost, path string) *Block {
	for i := range blocks {
		if blocks[i].Host.Node == vh.Node && blocks[i].Path == path {
			return &blocks[i]
		}
	}
	return nil
}

// blockText returns the exact lines of a block.
func blockText(b *Block) string {
	siblings := b.Host.Node.Children
	if b.Begin.Parent != nil {
		siblings = b.Begin.Parent.Children
	}
	var s strings.Builder
	for i := indexOf(siblings, b.Begin); i >= 0 && i < len(siblings); i++ {
		s.Write(siblings[i].Raw)
		if siblings[i] == b.End {
			break
		}
	}
	return s.String()
}
