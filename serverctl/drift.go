package serverctl

import (
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/socketbar/socketbar/serverctl/apacheconf"
	"github.com/socketbar/socketbar/serverctl/sites"
)

// Drift is how the config differs from what Socketbar's last change left:
// routes that went missing, which reapply puts back, and routes whose site
// is gone, which have nowhere to go back to.
type Drift struct {
	// Entry is the newest history entry, whose routes the config should hold.
	Entry BackupEntry `json:"entry"`
	// Missing are the recorded routes the live config no longer has.
	Missing []ManagedRoute `json:"missing"`
	// Gone are the recorded routes whose site (or VirtualHost) is no
	// longer in the config. That is not drift: the site was deleted in
	// Server.app, and its routes went with it. Reapply and remove let go
	// of them.
	Gone []GoneRoute `json:"gone,omitempty"`
	// Changed is when the config file was last written.
	Changed time.Time `json:"changed"`
}

// GoneRoute is a recorded route that lost where it was for.
type GoneRoute struct {
	ManagedRoute
	// Sites are the host names it served that no site of the Server has
	// any more: the deleted site's ServerName for a route in that site's
	// own VirtualHost (Server 5.0/5.1), the names of its Host condition
	// for a route in the custom sites' macro (Server 5.2+). Empty when
	// the VirtualHost or macro it was written in is gone from the config
	// as a whole.
	Sites []string `json:"sites,omitempty"`
}

// Reason says what is gone, for people.
func (g GoneRoute) Reason() string {
	switch len(g.Sites) {
	case 0:
		return g.VHost + " is no longer in the config"
	case 1:
		return g.Sites[0] + " is no longer a site of this Server"
	}
	return strings.Join(g.Sites, ", ") + " are no longer sites of this Server"
}

// Note is what a change that lets go of the route says about it.
func (g GoneRoute) Note() string {
	return fmt.Sprintf("%s: %s; %s goes with it", g.VHost, g.Reason(), g.Path)
}

// GoneGroup is the gone routes of one path that are gone for one reason,
// as people are told about them.
type GoneGroup struct {
	Path string
	// Where are the hosts the route was in ("chat.example.com:443").
	Where  []string
	Reason string
}

func (g GoneGroup) String() string {
	return fmt.Sprintf("%s in %s: %s", g.Path, strings.Join(g.Where, ", "), g.Reason)
}

// GoneByPath groups the gone routes by path and reason, in their order.
func (d *Drift) GoneByPath() []GoneGroup {
	var groups []GoneGroup
	for _, g := range d.Gone {
		i := slices.IndexFunc(groups, func(x GoneGroup) bool { return x.Path == g.Path && x.Reason == g.Reason() })
		if i < 0 {
			groups = append(groups, GoneGroup{Path: g.Path, Reason: g.Reason()})
			i = len(groups) - 1
		}
		groups[i].Where = append(groups[i].Where, g.VHost)
	}
	return groups
}

// FindDrift compares the routes recorded by the newest change in store with
// the config's own. Apple's tools rewrite the Service Proxy config (on a
// certificate change, on promotion), silently dropping Socketbar's blocks;
// this is how that is noticed. It returns nil when nothing is missing or
// gone, or there is no history.
//
// Only changes that took effect count: a change that was rolled back or
// never written left the routes of the change before it. While the newest
// change is pending (a transaction runs, or one was killed and awaits
// RecoverJournal), the config is between two states and nothing is reported.
//
// list is the Server's sites (see sites.Read), nil when they could not be
// read. With it, a route whose site was deleted is Gone rather than
// Missing: Server.app regenerates the customsites file without the site's
// VirtualHosts (on Server 5.0/5.1 it removes the file with the last site),
// or drops the site's Use lines, which leaves a route in the custom sites'
// macro conditioned on a Host that no site answers for. Without it nothing
// is called gone, since a site file that could not be read looks the same.
//
// files are the site files cfg includes (see SiteFiles): Server.app
// regenerates Server 5.0/5.1's customsites file whenever sites or
// certificates change, so routes written there drift too.
func FindDrift(cfg *Config, store BackupStore, list *sites.List, files ...*Config) (*Drift, error) {
	entries, err := store.List()
	if err != nil || len(entries) == 0 {
		return nil, err
	}
	if entries[0].Outcome == OutcomePending {
		return nil, nil
	}
	var last *BackupEntry
	for i := range entries {
		if entries[i].Applied() {
			last = &entries[i]
			break
		}
	}
	if last == nil {
		return nil, nil
	}
	have := map[ManagedRoute]bool{}
	for _, r := range managedRoutesOf(cfg, files) {
		have[r] = true
	}
	d := &Drift{Entry: *last}
	for _, r := range last.Routes {
		gone, live := goneOf(cfg, files, list, r)
		if gone != nil {
			d.Gone = append(d.Gone, *gone)
		}
		if live != nil && !have[r] {
			d.Missing = append(d.Missing, *live)
		}
	}
	if len(d.Missing) == 0 && len(d.Gone) == 0 {
		return nil, nil
	}
	for _, f := range append([]*Config{cfg}, files...) {
		if fi, err := os.Stat(f.Path); err == nil && fi.ModTime().After(d.Changed) {
			d.Changed = fi.ModTime()
		}
	}
	return d, nil
}

// goneOf says what of the recorded route r has lost its place: gone is
// nil when nothing has, and live is what could still be put back (r
// itself, r limited to the host names that still name a site, or nil).
func goneOf(cfg *Config, files []*Config, list *sites.List, r ManagedRoute) (gone *GoneRoute, live *ManagedRoute) {
	if list == nil {
		return nil, &r
	}
	if _, ok := hostsByLabel(cfg, r.VHost); ok {
		if r.Hosts == "" {
			return nil, &r
		}
		var dead, alive []string
		for _, h := range strings.Fields(r.Hosts) {
			if s := list.Lookup(h); s == nil || s.Default {
				dead = append(dead, h)
			} else {
				alive = append(alive, h)
			}
		}
		if len(dead) == 0 {
			return nil, &r
		}
		gone = &GoneRoute{ManagedRoute: r, Sites: dead}
		if len(alive) == 0 {
			return gone, nil
		}
		r.Hosts = strings.Join(alive, " ")
		return gone, &r
	}
	for _, f := range files {
		if _, ok := hostsByLabel(f, r.VHost); ok {
			return nil, &r
		}
	}
	// Not in any file read: a site's own VirtualHost (its label is
	// "NAME:PORT") is gone when the site no longer has one on that port.
	// A site that still does is in a file that could not be read.
	name, port, _ := strings.Cut(r.VHost, ":")
	if !siteName(name) || strings.Contains(port, ":") {
		return &GoneRoute{ManagedRoute: r}, nil
	}
	s := list.Lookup(name)
	if s == nil || s.Default {
		return &GoneRoute{ManagedRoute: r, Sites: []string{name}}, nil
	}
	if p, err := strconv.Atoi(port); err == nil && slices.Contains(s.Ports, p) {
		return nil, &r
	}
	return &GoneRoute{ManagedRoute: r}, nil
}

// siteName reports whether the first part of a host's label is a site's
// ServerName, not an address ("*", "_default_", an IP) or a macro.
func siteName(name string) bool {
	return name != "" && name != "*" && name != "_default_" && !strings.ContainsAny(name, " []") && net.ParseIP(name) == nil
}

// Reapply returns the config with the drifted routes added back, each to
// the VirtualHost (or custom sites' macro, or site's own VirtualHost in one
// of files) it was recorded in, limited to the hosts it was limited to.
// Routes whose site is gone are let go: where one still stands in the
// custom sites' macro, conditioned on the Host of a deleted site, that
// condition (or the whole block, when it served only deleted sites) goes.
// Changes to files go into the Edit's Also.
func (c *Config) Reapply(d *Drift, apache Version, files ...*Config) (*Edit, error) {
	cur := append([]*Config{c}, files...)
	edit := &Edit{Old: c.Src, New: c.Src}
	for _, r := range d.Missing {
		found := false
		for i, f := range cur {
			work, err := apacheconf.Parse(f.Src)
			if err != nil {
				return nil, err
			}
			wc := &Config{Path: f.Path, Src: f.Src, File: work, Included: f.Included}
			vh, ok := hostsByLabel(wc, r.VHost)
			if !ok {
				continue
			}
			found = true
			e, err := wc.addTo(AddRequest{Path: r.Path, Backend: r.Backend, Strategy: r.Strategy, Replace: true, Apache: apache}, []target{{vh: vh, hosts: strings.Fields(r.Hosts)}})
			if err != nil {
				return nil, err
			}
			edit.Notes = append(edit.Notes, e.Notes...)
			if cur[i], err = ParseConfig(f.Path, e.New); err != nil {
				return nil, err
			}
			cur[i].Included = f.Included
			break
		}
		if !found {
			edit.Notes = append(edit.Notes, "warning: "+r.VHost+" is gone from the config; "+r.Path+" cannot go back there")
		}
	}
	for _, g := range d.Gone {
		main, note, err := cur[0].letGo(g)
		if err != nil {
			return nil, err
		}
		cur[0] = main
		edit.Notes = append(edit.Notes, note)
	}
	edit.New = cur[0].Src
	for i, f := range files {
		if string(cur[i+1].Src) != string(f.Src) {
			edit.Also = append(edit.Also, FileEdit{Path: f.Path, Old: f.Src, New: cur[i+1].Src})
		}
	}
	return edit, nil
}

// letGo takes the gone route g out of the main config c where it still
// stands (a block in the custom sites' macro limited to deleted sites'
// names), and says what it did.
func (c *Config) letGo(g GoneRoute) (*Config, string, error) {
	if g.Hosts == "" || len(g.Sites) == 0 {
		return c, g.Note(), nil
	}
	work, err := apacheconf.Parse(c.Src)
	if err != nil {
		return nil, "", err
	}
	wc := &Config{Path: c.Path, Src: c.Src, File: work}
	vh, ok := hostsByLabel(wc, g.VHost)
	if !ok {
		return c, g.Note(), nil
	}
	blocks, err := wc.Blocks()
	if err != nil {
		return nil, "", err
	}
	b := findBlock(blocks, vh, g.Path)
	if b == nil || len(b.Hosts) == 0 {
		return c, g.Note(), nil
	}
	if hand := b.handLines(); len(hand) > 0 {
		return c, fmt.Sprintf("warning: %s: %s, but Socketbar's block for %s (line %d) holds lines Socketbar did not write; take those names out of its RewriteCond by hand", g.VHost, g.Reason(), g.Path, b.Begin.Line), nil
	}
	var note string
	if extra := b.hostsBeyond(g.Sites); extra == "" {
		if err := work.RemoveRun(b.Begin, b.End); err != nil {
			return nil, "", err
		}
		note = fmt.Sprintf("%s: %s; removing %s (lines %d–%d), which served no other site", g.VHost, g.Reason(), g.Path, b.Begin.Line, b.End.Line)
	} else {
		if err := narrowBlock(work, vh, b, g.Sites); err != nil {
			return nil, "", err
		}
		note = fmt.Sprintf("%s: %s; %s now serves %s only", g.VHost, g.Reason(), g.Path, extra)
	}
	out, err := ParseConfig(c.Path, work.Bytes())
	if err != nil {
		return nil, "", err
	}
	return out, note, nil
}
