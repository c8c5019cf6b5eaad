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
func FindDrift(cfg *Config, store BackupStore) (*Drift, error) {
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
	for _, r := range cfg.ManagedRoutes() {
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
	if fi, err := os.Stat(cfg.Path); err == nil {
		d.Changed = fi.ModTime()
	}
	return d, nil
}

// Reapply returns the config with the drifted routes added back, each to
// the VirtualHost (or custom sites' macro) it was recorded in, limited to
// the hosts it was limited to.
func (c *Config) Reapply(d *Drift, apache Version) (*Edit, error) {
	cur := c
	edit := &Edit{Old: c.Src, New: c.Src}
	for _, r := range d.Missing {
		work, err := apacheconf.Parse(cur.Src)
		if err != nil {
			return nil, err
		}
		wc := &Config{Path: c.Path, Src: cur.Src, File: work}
		var tg []target
		for _, vh := range append(wc.VirtualHosts(), wc.MacroHosts()...) {
			if vh.Label() == r.VHost {
				tg = append(tg, target{vh: vh, hosts: strings.Fields(r.Hosts)})
				break
			}
		}
		if len(tg) == 0 {
			edit.Notes = append(edit.Notes, "warning: "+r.VHost+" is gone from the config; "+r.Path+" cannot go back there")
			continue
		}
		e, err := wc.addTo(AddRequest{Path: r.Path, Backend: r.Backend, Strategy: r.Strategy, Replace: true, Apache: apache}, tg)
		if err != nil {
			return nil, err
		}
		edit.Notes = append(edit.Notes, e.Notes...)
		if cur, err = ParseConfig(c.Path, e.New); err != nil {
			return nil, err
		}
		edit.New = e.New
	}
	return edit, nil
}
