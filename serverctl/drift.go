package serverctl

import (
	"os"

	"github.com/socketbar/socketbar/serverctl/apacheconf"
	"strings"
	"time"
)

// Drift is what went missing from the config since Socketbar last changed it.
type Drift struct {
	// Entry is the newest history entry, whose routes the config should hold.
	Entry BackupEntry `json:"entry"`
	// Missing are the recorded routes the live config no longer has.
	Missing []ManagedRoute `json:"missing"`
	// Changed is when the config file was last written.
	Changed time.Time `json:"changed"`
}

// FindDrift compares the routes recorded by the newest change in store with
// the config's own. Apple's tools rewrite the Service Proxy config (on a
// certificate change, on promotion), silently dropping Socketbar's blocks;
// this is how that is noticed. It returns nil when nothing is missing or
// there is no history.
//
// Only changes that took effect count: a change that was rolled back or
// never written left the routes of the change before it. While the newest
// change is pending (a transaction runs, or one was killed and awaits
// RecoverJournal), the config is between two states and nothing is reported.
//
// files are the site files cfg includes (see SiteFiles): Server.app
// regenerates Server 5.0/5.1's customsites file whenever sites or
// certificates change, so routes written there drift too.
func FindDrift(cfg *Config, store BackupStore, files ...*Config) (*Drift, error) {
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
		if !have[r] {
			d.Missing = append(d.Missing, r)
		}
	}
	if len(d.Missing) == 0 {
		return nil, nil
	}
	for _, f := range append([]*Config{cfg}, files...) {
		if fi, err := os.Stat(f.Path); err == nil && fi.ModTime().After(d.Changed) {
			d.Changed = fi.ModTime()
		}
	}
	return d, nil
}

// Reapply returns the config with the drifted routes added back, each to
// the VirtualHost (or custom sites' macro, or site's own VirtualHost in one
// of files) it was recorded in, limited to the hosts it was limited to.
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
	edit.New = cur[0].Src
	for i, f := range files {
		if string(cur[i+1].Src) != string(f.Src) {
			edit.Also = append(edit.Also, FileEdit{Path: f.Path, Old: f.Src, New: cur[i+1].Src})
		}
	}
	return edit, nil
}
