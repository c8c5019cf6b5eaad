package serverctl

import (
	"fmt"
	"slices"
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
	// Backend and Strategy are what the block's rules do (its ProxyPass
	// target, and upgrade=websocket or not); the begin marker's words are
	// used only when the block has no ProxyPass, since a hand edit of a
	// rule would otherwise be shown as the marker says.
	Backend  string
	Strategy Strategy
	// Hosts are the host names the block is limited to, read from its
	// RewriteCond %{HTTP_HOST} line; nil when it answers every request of
	// its VirtualHost.
	Hosts []string
}

// hostsNote says which hosts a block is limited to, for messages.
func (b *Block) hostsNote() string {
	if len(b.Hosts) == 0 {
		return ""
	}
	return ", for " + strings.Join(b.Hosts, ", ")
}

// hostsBeyond names what the block serves beyond the host names in sel:
// the hosts outside it, or "every custom site" for an unlimited block.
func (b *Block) hostsBeyond(sel []string) string {
	if len(b.Hosts) == 0 {
		return "every custom site"
	}
	var extra []string
	for _, h := range b.Hosts {
		if !slices.ContainsFunc(sel, func(s string) bool { return strings.EqualFold(s, h) }) {
			extra = append(extra, h)
		}
	}
	return strings.Join(extra, ", ")
}

// interior returns the nodes between the block's markers.
func (b *Block) interior() []*apacheconf.Node {
	siblings := b.Host.Node.Children
	if b.Begin.Parent != nil {
		siblings = b.Begin.Parent.Children
	}
	i, j := indexOf(siblings, b.Begin), indexOf(siblings, b.End)
	if i < 0 || j < i {
		return nil
	}
	return siblings[i+1 : j]
}

// fromRules sets Backend, Strategy and Hosts from the block's rules. A
// block limited to some hosts has no ProxyPass: its backend is its
// ProxyPassReverse target, its strategy tunnel.
func (b *Block) fromRules() {
	interior := b.interior()
	for _, n := range interior {
		if n.Kind == apacheconf.Directive && n.Is("RewriteCond") && len(n.Args) >= 2 && n.Args[0] == "%{HTTP_HOST}" {
			if hosts, ok := parseHostPattern(n.Args[1]); ok {
				b.Hosts = hosts
			}
			break
		}
	}
	for _, n := range interior {
		if n.Kind == apacheconf.Directive && n.Is("ProxyPass") && len(n.Args) >= 2 {
			b.Backend, b.Strategy = n.Args[1], StrategyTunnel
			for _, a := range n.Args[2:] {
				if strings.EqualFold(a, "upgrade=websocket") {
					b.Strategy = StrategyUpgrade
				}
			}
			return
		}
	}
	if len(b.Hosts) == 0 {
		return
	}
	for _, n := range interior {
		if n.Kind == apacheconf.Directive && n.Is("ProxyPassReverse") && len(n.Args) == 2 {
			b.Backend, b.Strategy = n.Args[1], StrategyTunnel
		}
	}
}

// HandLine is a line inside a Socketbar block that Socketbar did not
// write (added or changed by hand).
type HandLine struct {
	Line int
	Text string
}

// handLines returns the lines of b that renderBlock would not have
// written for the block's path, backend and strategy. Blank lines do not
// count.
func (b *Block) handLines() []HandLine {
	want := map[string]bool{}
	for _, ssl := range []bool{true, false} {
		for _, l := range strings.Split(renderBlock(b.Path, b.Backend, b.Strategy, "", "\n", ssl, b.Hosts), "\n") {
			want[strings.Join(strings.Fields(l), " ")] = true
		}
	}
	var hand []HandLine
	for _, n := range b.interior() {
		text := strings.TrimSpace(string(n.Raw))
		if n.Kind == apacheconf.Section {
			var whole strings.Builder
			writeNode(&whole, n)
			for _, l := range strings.Split(whole.String(), "\n") {
				if l = strings.Join(strings.Fields(l), " "); l != "" && !want[l] {
					hand = append(hand, HandLine{n.Line, strings.TrimSpace(strings.SplitN(text, "\n", 2)[0])})
					break
				}
			}
			continue
		}
		if text == "" || want[strings.Join(strings.Fields(text), " ")] {
			continue
		}
		hand = append(hand, HandLine{n.Line, text})
	}
	return hand
}

// HandEditedError refuses to remove or replace a Socketbar block that holds
// lines Socketbar did not write: removing the block would drop them.
type HandEditedError struct {
	Path  string
	VHost string
	// File is the config file the lines are in.
	File  string
	Lines []HandLine
}

func (e *HandEditedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "serverctl: Socketbar's block for %s in %s holds lines Socketbar did not write:", e.Path, e.VHost)
	for _, l := range e.Lines {
		fmt.Fprintf(&b, "\n  %s line %d: %s", e.File, l.Line, l.Text)
	}
	b.WriteString("\nMove them out of the block (above its socketbar:begin line) or delete them, then try again; or remove only Socketbar's lines and keep these (RemoveOptions.KeepHandLines)")
	return b.String()
}

// Blocks returns Socketbar's blocks. A begin marker without its end marker
// in the same section is an error: editing around it could lose lines.
func (c *Config) Blocks() ([]Block, error) {
	var blocks []Block
	for _, vh := range append(c.VirtualHosts(), c.MacroHosts()...) {
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
					return errorf("%s: line %d: Socketbar block for %s starts before the block from line %d ends; fix the markers by hand", c.Path, n.Line, m.path, open.Begin.Line)
				case m.begin:
					open = &Block{Host: vh, Begin: n, Path: m.path, Backend: m.backend, Strategy: m.strategy}
				case m.end && open == nil:
					return errorf("%s: line %d: Socketbar end marker without a begin marker; fix the markers by hand", c.Path, n.Line)
				case m.end && m.path != open.Path:
					return errorf("%s: line %d: end marker for %s closes the block for %s from line %d; fix the markers by hand", c.Path, n.Line, m.path, open.Path, open.Begin.Line)
				case m.end:
					open.End = n
					open.fromRules()
					blocks = append(blocks, *open)
					open = nil
				}
			}
			if open != nil {
				return errorf("%s: line %d: Socketbar block for %s has no end marker; fix the markers by hand", c.Path, open.Begin.Line, open.Path)
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
	var s strings.Builder
	s.Write(b.Begin.Raw)
	for _, n := range b.interior() {
		writeNode(&s, n)
	}
	s.Write(b.End.Raw)
	return s.String()
}

func writeNode(s *strings.Builder, n *apacheconf.Node) {
	s.Write(n.Raw)
	for _, c := range n.Children {
		writeNode(s, c)
	}
	s.Write(n.End)
}
