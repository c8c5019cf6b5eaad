package action

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/apacheconf/loader"
	"github.com/socketbar/socketbar/serverctl/elevate"
	"github.com/socketbar/socketbar/serverctl/sites"
)

// Proposal is a change to the Service Proxy config, computed but not yet
// written: what a preview and a dry run show, and what Apply puts in place.
type Proposal struct {
	Target Target
	// Config is the config file's path.
	Config   string
	Old, New []byte
	// Description goes into the history ("add /ws/ → http://…").
	Description string
	// UndoOf names the history entry an undo reverts.
	UndoOf string
	// Notes are remarks for the person (a route that another rule shadows).
	Notes []string
	// Strategy and StrategyWhy say how an added route is written and why.
	Strategy    serverctl.Strategy
	StrategyWhy string
	// Undoing is the entry an undo reverts, and AlsoReverts the later
	// changes that go with it; Lost the routes a reapply puts back.
	Undoing     *serverctl.BackupEntry
	AlsoReverts []serverctl.BackupEntry
	Lost        *serverctl.Drift
	// Forgets are Socketbar's routes whose site is gone that the change
	// lets go of: the history stops expecting them, whether or not a file
	// changes (see RecordOnly).
	Forgets []serverctl.GoneRoute
	// Also are the other files of the config the change touches (Server
	// 5.0/5.1's customsites file), applied with the main one as one
	// transaction.
	Also []serverctl.FileEdit

	srv *serverctl.Server
	cfg *serverctl.Config
}

// Changed reports whether the proposal changes any file at all.
func (p *Proposal) Changed() bool {
	if p == nil {
		return false
	}
	e := serverctl.Edit{Old: p.Old, New: p.New, Also: p.Also}
	return e.Changed()
}

// RecordOnly reports whether the proposal changes no file but still has
// something to record: routes it lets go of because their site is gone,
// or an undo whose text is already in place (recorded, so that the next
// undo walks further back). Apply then records it in the history and
// tests, writes and restarts nothing.
func (p *Proposal) RecordOnly() bool {
	return p != nil && !p.Changed() && (len(p.Forgets) > 0 || p.UndoOf != "")
}

// Files are the files the proposal changes, the main config first.
func (p *Proposal) Files() []string {
	var files []string
	if string(p.Old) != string(p.New) {
		files = append(files, p.Config)
	}
	for _, f := range p.Also {
		if string(f.Old) != string(f.New) {
			files = append(files, f.Path)
		}
	}
	return files
}

// Diff is the change as a unified diff, the main config first, then each
// other file it touches.
func (p *Proposal) Diff() string {
	d := serverctl.UnifiedDiff(p.Config, p.Config+" (new)", p.Old, p.New)
	for _, f := range p.Also {
		d += serverctl.UnifiedDiff(f.Path, f.Path+" (new)", f.Old, f.New)
	}
	return d
}

// AddOptions ask for a WebSocket route.
type AddOptions struct {
	Target  Target
	Path    string
	Backend string
	// Ports select the VirtualHosts by port; empty means the Server's web
	// ports (443 and 80 on a real Server).
	Ports    []string
	Strategy serverctl.Strategy
	// Replace allows replacing Socketbar's existing route for Path.
	Replace bool
	// Sites restrict the route to some sites, by name: "default" for the
	// default hosts, a custom site's ServerName or one of its aliases.
	// Empty means every site.
	Sites []string
}

// ProposeAdd computes the change that adds a WebSocket route.
func (l *Local) ProposeAdd(ctx context.Context, opts AddOptions) (*Proposal, error) {
	if opts.Target.Host != "" {
		return proposeOnServer(ctx, l, opts.Target, func(there *Local, ctx context.Context, t Target) (*Proposal, error) {
			o := opts
			o.Target = t
			return there.ProposeAdd(ctx, o)
		})
	}
	srv, cfg, err := l.load(ctx, opts.Target)
	if err != nil {
		return nil, err
	}
	list, files, warn := siteSet(ctx, srv, cfg)
	sel, err := selectSites(list, opts.Sites)
	if err != nil {
		return nil, err
	}
	edit, err := cfg.AddRouteToSet(serverctl.AddRequest{
		Path: opts.Path, Backend: opts.Backend, Ports: opts.Ports, DefaultPorts: srv.WebPorts(cfg),
		Strategy: opts.Strategy, Replace: opts.Replace, Apache: srv.Apache, Sites: sel,
	}, files)
	if err != nil {
		return nil, err
	}
	if warn != "" {
		edit.Notes = append(edit.Notes, warn)
	}
	desc := fmt.Sprintf("add %s → %s (%s)", opts.Path, opts.Backend, edit.Strategy)
	if len(opts.Sites) > 0 {
		desc += " for " + strings.Join(opts.Sites, ", ")
	}
	p := proposal(opts.Target, srv, cfg, edit, desc)
	p.Strategy, p.StrategyWhy = edit.Strategy, edit.Why
	return p, nil
}

// RemoveOptions ask to remove Socketbar's route for Path.
type RemoveOptions struct {
	Target Target
	Path   string
	// Ports select the VirtualHosts by port; empty means every one.
	Ports []string
	// Sites restrict the removal to some sites, named as for AddOptions.
	Sites []string
}

// ProposeRemove computes the change that removes Socketbar's route.
func (l *Local) ProposeRemove(ctx context.Context, opts RemoveOptions) (*Proposal, error) {
	if opts.Target.Host != "" {
		return proposeOnServer(ctx, l, opts.Target, func(there *Local, ctx context.Context, t Target) (*Proposal, error) {
			o := opts
			o.Target = t
			return there.ProposeRemove(ctx, o)
		})
	}
	srv, cfg, err := l.load(ctx, opts.Target)
	if err != nil {
		return nil, err
	}
	list, files, _ := siteSet(ctx, srv, cfg)
	sel, err := selectSites(list, opts.Sites)
	if err != nil {
		return nil, err
	}
	// Routes of path whose site was deleted go too: with it, when the
	// route still stands in the custom sites' macro, else by the record
	// alone (Server.app took the site's VirtualHosts with it).
	var gone []serverctl.GoneRoute
	if sel == nil {
		if d, _ := serverctl.FindDrift(cfg, srv.Backups(cfg), list, files...); d != nil {
			for _, g := range d.Gone {
				if g.Path == opts.Path {
					gone = append(gone, g)
				}
			}
		}
	}
	edit, err := cfg.RemoveRouteFromSet(opts.Path, opts.Ports, serverctl.RemoveOptions{Sites: sel}, files)
	var nm *serverctl.NotManagedError
	switch {
	case errors.As(err, &nm) && len(gone) > 0:
		edit = &serverctl.Edit{Old: cfg.Src, New: cfg.Src}
	case errors.As(err, &nm):
		return nil, &NotManagedError{NotManagedError: nm, Suggest: slashTwin(cfg.Routes(), opts.Path)}
	case err != nil:
		return nil, err
	}
	for _, g := range gone {
		edit.Notes = append(edit.Notes, g.Note())
	}
	desc := "remove " + opts.Path
	if len(opts.Sites) > 0 {
		desc += " for " + strings.Join(opts.Sites, ", ")
	}
	p := proposal(opts.Target, srv, cfg, edit, desc)
	p.Forgets = gone
	return p, nil
}

// siteSet reads the sites and the site files the main config includes
// (Server 5.0/5.1's customsites file, which a route for a custom site is
// written into). When the whole config cannot be read it returns no sites
// and a warning that says the route may not reach every site.
func siteSet(ctx context.Context, srv *serverctl.Server, cfg *serverctl.Config) (*sites.List, []*serverctl.Config, string) {
	lc, err := loadAll(ctx, srv, cfg)
	if err != nil {
		return nil, nil, fmt.Sprintf("warning: the custom websites could not be read (%v); the route reaches the default hosts and the custom sites' macros only", err)
	}
	list := sites.Read(lc, srv.Root)
	files, err := serverctl.SiteFiles(lc, list)
	if err != nil {
		return list, nil, fmt.Sprintf("warning: %v; the route does not reach the sites in that file", err)
	}
	return list, files, ""
}

func loadAll(ctx context.Context, srv *serverctl.Server, cfg *serverctl.Config) (*loader.Config, error) {
	lc, err := loader.Load(ctx, cfg.Path, srv.LoaderOptions())
	if err != nil {
		return nil, fmt.Errorf("read the sites: %w", err)
	}
	return lc, nil
}

// selectSites turns site names into a selection: nil for none given (every
// site); "default" picks the default hosts, any other name the custom site
// with that ServerName or alias, and with it all of its names, since the
// Host header may carry any of them.
func selectSites(list *sites.List, names []string) (*serverctl.SiteSelection, error) {
	if len(names) == 0 {
		return nil, nil
	}
	if list == nil {
		return nil, &serverctl.InputError{Field: serverctl.FieldSite, Msg: "cannot be chosen: the Service Proxy's sites could not be read"}
	}
	sel := &serverctl.SiteSelection{}
	for _, n := range names {
		s := list.Lookup(n)
		if s == nil || (n == "" && s.Default) {
			return nil, &serverctl.InputError{Field: serverctl.FieldSite, Msg: fmt.Sprintf("%q is not one of this Server's sites; they are %s", n, siteNames(list))}
		}
		if s.Default {
			sel.Default = true
			continue
		}
		for _, h := range append([]string{s.Name}, s.Aliases...) {
			if !slices.ContainsFunc(sel.Hosts, func(x string) bool { return strings.EqualFold(x, h) }) {
				sel.Hosts = append(sel.Hosts, h)
			}
		}
	}
	return sel, nil
}

// siteNames lists the sites as --site takes them.
func siteNames(list *sites.List) string {
	var out []string
	for _, s := range list.Sites {
		switch {
		case s.Default:
			out = append(out, "default (the default hosts)")
		case len(s.Aliases) > 0:
			out = append(out, fmt.Sprintf("%s (also %s)", s.Name, strings.Join(s.Aliases, ", ")))
		default:
			out = append(out, s.Name)
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

// NotManagedError is a remove that found nothing of Socketbar's for the
// path. Suggest is Socketbar's route that differs from it only by the
// trailing slash (/chat/stream for /chat/stream/ or the other way round):
// the route the person most likely meant, for the front end to offer.
type NotManagedError struct {
	*serverctl.NotManagedError
	Suggest string
}

func (e *NotManagedError) Error() string {
	if e.Suggest == "" {
		return e.NotManagedError.Error()
	}
	return fmt.Sprintf("%s; Socketbar's route is %s", e.NotManagedError.Error(), e.Suggest)
}

func (e *NotManagedError) Unwrap() error { return e.NotManagedError }

// slashTwin is the path of a Socketbar route that is path with or without
// its trailing slash, or "".
func slashTwin(routes []serverctl.Route, path string) string {
	twin := path + "/"
	if strings.HasSuffix(path, "/") {
		twin = strings.TrimSuffix(path, "/")
	}
	for _, r := range routes {
		if r.Managed && r.Path == twin {
			return twin
		}
	}
	return ""
}

// UndoOptions ask to put back the config as it was before a change.
type UndoOptions struct {
	Target Target
	// To is the ID of the change to undo, or a unique prefix of it; empty
	// means the newest change not yet undone.
	To string
	// Force undoes although the config was changed since Socketbar's last
	// change (by hand or by Server.app); those edits are then lost.
	Force bool
}

// ChangedSinceError means a file is no longer what Socketbar's last change
// to it wrote: an undo, which puts back an older text whole, would throw
// away what was changed since. Nothing was changed.
type ChangedSinceError struct {
	// Last is Socketbar's last change to Path, whose text Path no longer is.
	Last serverctl.BackupEntry
	// Path is the file that changed: the main config or another file the
	// undo would write (Server 5.0/5.1's customsites file).
	Path string
}

func (e *ChangedSinceError) Error() string {
	return fmt.Sprintf("%s was changed after Socketbar's last change to it (%s, %s), by hand or by Server.app; undoing would throw those edits away", e.Path, e.Last.ID, e.Last.Description)
}

// ProposeUndo computes the change that reverts a change from the history.
func (l *Local) ProposeUndo(ctx context.Context, opts UndoOptions) (*Proposal, error) {
	if opts.Target.Host != "" {
		return proposeOnServer(ctx, l, opts.Target, func(there *Local, ctx context.Context, t Target) (*Proposal, error) {
			o := opts
			o.Target = t
			return there.ProposeUndo(ctx, o)
		})
	}
	srv, cfg, err := l.load(ctx, opts.Target)
	if err != nil {
		return nil, err
	}
	store := srv.Backups(cfg)
	var entry serverctl.BackupEntry
	if opts.To == "" {
		if entry, err = store.UndoTarget(); err != nil {
			return nil, ErrNothingToUndo
		}
	} else if entry, err = resolveBackup(store, opts.To); err != nil {
		return nil, err
	}
	_, old, err := store.Load(entry.ID)
	if err != nil {
		return nil, err
	}
	entries, err := store.List()
	if err != nil {
		return nil, err
	}
	later := laterChanges(entries, entry)
	also, notes, err := undoFiles(ctx, srv, cfg, store, append([]serverctl.BackupEntry{entry}, later...))
	if err != nil {
		return nil, err
	}
	if !opts.Force {
		if err := changedSince(entries, cfg.Path, cfg.Src, also); err != nil {
			return nil, err
		}
	}
	p := proposal(opts.Target, srv, cfg, &serverctl.Edit{Old: cfg.Src, New: old, Also: also, Notes: notes}, "undo: "+entry.Description)
	p.UndoOf, p.Undoing = entry.ID, &entry
	p.AlsoReverts = later
	return p, nil
}

// undoFiles is what an undo puts back in the other files the changes
// touched (Server 5.0/5.1's customsites file): for each, its text from
// before the oldest of changes (the one undone, then the later ones it
// reverts) that touched it. Each must still be a file the main config
// includes, so a damaged history cannot steer the write elsewhere. A file
// that no longer exists is left so, with a note: Server.app deletes the
// customsites file with the last custom site, and putting it back would
// bring back sites deleted since.
func undoFiles(ctx context.Context, srv *serverctl.Server, cfg *serverctl.Config, store serverctl.BackupStore, changes []serverctl.BackupEntry) ([]serverctl.FileEdit, []string, error) {
	// changes is the undone entry, then the later ones newest first:
	// the oldest backup of a file is the first seen in target, then
	// reverse order.
	order := append([]serverctl.BackupEntry{changes[0]}, reversed(changes[1:])...)
	var also []serverctl.FileEdit
	var notes []string
	seen := map[string]bool{}
	var included *serverctl.IncludedFiles
	for _, e := range order {
		if len(e.Files) == 0 {
			continue
		}
		texts, err := store.LoadFiles(e)
		if err != nil {
			return nil, nil, err
		}
		if included == nil {
			in, err := srv.Includes(ctx, cfg)
			if err != nil {
				return nil, nil, err
			}
			included = &in
		}
		for i, f := range e.Files {
			if seen[f.Path] {
				continue
			}
			seen[f.Path] = true
			if !included.Has(f.Path) {
				if _, err := os.Lstat(f.Path); errors.Is(err, os.ErrNotExist) {
					notes = append(notes, fmt.Sprintf("%s no longer exists (Server.app deletes it with the last custom site in it); undo leaves it so, rather than bring back the sites deleted with it", f.Path))
					continue
				}
				return nil, nil, fmt.Errorf("change %s also changed %s, which the config no longer includes; put it back by hand from %s", e.ID, f.Path, store.Dir)
			}
			cur, err := serverctl.ReadFile(f.Path)
			if err != nil {
				return nil, nil, fmt.Errorf("read %s: %w", f.Path, err)
			}
			also = append(also, serverctl.FileEdit{Path: f.Path, Old: cur, New: texts[i]})
		}
	}
	return also, notes, nil
}

func reversed(entries []serverctl.BackupEntry) []serverctl.BackupEntry {
	out := slices.Clone(entries)
	slices.Reverse(out)
	return out
}

// changedSince returns a *ChangedSinceError when the main config, or one
// of the other files the undo would write, no longer holds what
// Socketbar's newest change to that file wrote. Each file is compared with
// its own last change: an older change may have written a site file that
// the newest change left alone, and Server.app may have rewritten it since.
func changedSince(entries []serverctl.BackupEntry, mainPath string, main []byte, files []serverctl.FileEdit) error {
	if last := lastApplied(entries); last != nil && last.AfterSHA256 != "" && last.AfterSHA256 != elevate.SHA256(main) {
		return &ChangedSinceError{Last: *last, Path: mainPath}
	}
	for _, f := range files {
		if last, after := lastWrote(entries, f.Path); last != nil && after != elevate.SHA256(f.Old) {
			return &ChangedSinceError{Last: *last, Path: f.Path}
		}
	}
	return nil
}

// lastWrote is the newest change that took effect and wrote the other
// file path, with the hash of the text it wrote there.
func lastWrote(entries []serverctl.BackupEntry, path string) (*serverctl.BackupEntry, string) {
	for i := range entries { // newest first
		if !entries[i].Applied() {
			continue
		}
		for _, f := range entries[i].Files {
			if filepath.Clean(f.Path) == filepath.Clean(path) {
				return &entries[i], f.NewSHA256
			}
		}
	}
	return nil, ""
}

// lastApplied is the newest change in the history that took effect.
func lastApplied(entries []serverctl.BackupEntry) *serverctl.BackupEntry {
	for i := range entries {
		if entries[i].Applied() {
			return &entries[i]
		}
	}
	return nil
}

// laterChanges are the changes after target that still stand: putting back
// the config from before target takes them back too. Changes that wrote
// nothing have nothing to take back.
func laterChanges(entries []serverctl.BackupEntry, target serverctl.BackupEntry) []serverctl.BackupEntry {
	undone := serverctl.Undone(entries)
	var later []serverctl.BackupEntry
	for _, e := range entries { // newest first
		if e.ID == target.ID {
			break
		}
		if e.Applied() && e.UndoOf == "" && !undone[e.ID] && !e.WroteNothing() {
			later = append(later, e)
		}
	}
	return later
}

// ErrNothingToUndo means the history has no change left to undo.
var ErrNothingToUndo = errors.New("Socketbar has no change to undo")

// resolveBackup finds the entry whose ID is id or starts with it.
func resolveBackup(store serverctl.BackupStore, id string) (serverctl.BackupEntry, error) {
	entries, err := store.List()
	if err != nil {
		return serverctl.BackupEntry{}, err
	}
	var found []serverctl.BackupEntry
	for _, e := range entries {
		if e.ID == id {
			return e, nil
		}
		if strings.HasPrefix(e.ID, id) {
			found = append(found, e)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return serverctl.BackupEntry{}, &serverctl.InputError{Field: serverctl.FieldBackup, Remedy: serverctl.RemedyHistory,
			Msg: fmt.Sprintf("%q is not the ID of a change in %s", id, store.Dir)}
	}
	var ids []string
	for _, e := range found {
		ids = append(ids, e.ID)
	}
	return serverctl.BackupEntry{}, &serverctl.InputError{Field: serverctl.FieldBackup,
		Msg: fmt.Sprintf("%q starts %d IDs (%s); give more of it", id, len(found), strings.Join(ids, ", "))}
}

// ProposeReapply computes the change that puts back Socketbar's routes
// that vanished from the config, and lets go of those whose site is gone
// (see serverctl.Drift). Lost is nil when there is neither.
func (l *Local) ProposeReapply(ctx context.Context, t Target) (*Proposal, error) {
	if t.Host != "" {
		return proposeOnServer(ctx, l, t, (*Local).ProposeReapply)
	}
	srv, cfg, err := l.load(ctx, t)
	if err != nil {
		return nil, err
	}
	list, files, _ := siteSet(ctx, srv, cfg)
	d, err := serverctl.FindDrift(cfg, srv.Backups(cfg), list, files...)
	if err != nil {
		return nil, err
	}
	if d == nil {
		return proposal(t, srv, cfg, &serverctl.Edit{Old: cfg.Src, New: cfg.Src}, "reapply"), nil
	}
	edit, err := cfg.Reapply(d, srv.Apache, files...)
	if err != nil {
		return nil, err
	}
	var what []string
	if n := len(d.Missing); n > 0 {
		what = append(what, fmt.Sprintf("reapply %d route(s) lost since %s", n, d.Entry.ID))
	}
	if n := len(d.Gone); n > 0 {
		what = append(what, fmt.Sprintf("let go of %d route(s) whose site is gone", n))
	}
	desc := strings.Join(what, "; ")
	if len(d.Missing) == 0 {
		desc = "reapply: " + desc
	}
	p := proposal(t, srv, cfg, edit, desc)
	p.Lost, p.Forgets = d, d.Gone
	return p, nil
}

func proposal(t Target, srv *serverctl.Server, cfg *serverctl.Config, edit *serverctl.Edit, desc string) *Proposal {
	return &Proposal{Target: t, Config: cfg.Path, Old: edit.Old, New: edit.New, Also: edit.Also, Description: desc, Notes: edit.Notes, srv: srv, cfg: cfg}
}

// ApplyOptions tune how a proposal is put in place.
type ApplyOptions struct {
	// NoRestart writes the file (after the config test) without restarting.
	NoRestart bool
	// Timeout is how long the Service Proxy may take to come back (default 15 s).
	Timeout time.Duration
	// Progress hears each step as it starts. Through the administrator
	// prompt the steps run in another process: it hears StepElevate alone.
	Progress func(serverctl.Step)
}

// StepElevate is the step of a transaction that runs as root after the
// administrator prompt: test, backup, write, restart and verify in one.
const StepElevate serverctl.Step = "elevate"

// Applied says what a transaction did.
type Applied struct {
	BackupID  string
	Restarted bool
	PID       int
	Took      time.Duration
	// Endpoints are where the Service Proxy answered after the restart.
	Endpoints []string
	// Elevated is set when the change ran as root after the prompt.
	Elevated bool
	// Recovered says how a transaction that an earlier, killed Socketbar
	// left half-done was finished or rolled back first. When Apply fails
	// after such a recovery, its error is a *serverctl.AfterRecoveryError.
	Recovered string
}

// Apply puts a proposal in place through Socketbar's transaction: config
// test, backup, atomic write, restart, verify, rollback on failure. When
// this user may not write the config or its backups, the same transaction
// runs as root through the Elevator.
func (l *Local) Apply(ctx context.Context, p *Proposal, opts ApplyOptions) (*Applied, error) {
	if p != nil && p.Target.Host != "" {
		return l.applyOnServer(ctx, p, opts)
	}
	if p == nil || p.cfg == nil {
		return nil, errorf("apply needs a proposal from Propose…")
	}
	if opts.Timeout == 0 {
		opts.Timeout = 15 * time.Second
	}
	progress := opts.Progress
	if progress == nil {
		progress = func(serverctl.Step) {}
	}
	ch := serverctl.Change{Old: p.Old, New: p.New, Description: p.Description, UndoOf: p.UndoOf, Also: p.Also}
	for _, e := range p.AlsoReverts {
		ch.Reverts = append(ch.Reverts, e.ID)
	}
	if l.remote == nil {
		if err := checkDemoRuns(ctx, p.srv.Root, !opts.NoRestart); err != nil {
			return nil, err
		}
	}
	a, err := p.srv.Applier(p.cfg, serverctl.ApplyOptions{HTTPD: p.Target.HTTPD, NoRestart: opts.NoRestart, VerifyTimeout: opts.Timeout, Runner: l.Runner})
	if err != nil {
		return nil, err
	}
	if nr := needsRoot(p.Config, a.Backups.Dir, p.Also); nr != nil {
		if l.Elevator == nil || nr.ReadOnly {
			return nil, nr
		}
		progress(StepElevate)
		res, err := l.Elevator.Apply(ctx, elevate.Plan{Root: p.srv.Root, NoRestart: opts.NoRestart, Timeout: opts.Timeout}, ch)
		if err != nil {
			return nil, err
		}
		out := &Applied{BackupID: res.BackupID, Restarted: res.Restarted, PID: res.PID, Took: time.Duration(res.TookMS) * time.Millisecond, Endpoints: res.Endpoints, Elevated: true}
		if res.Recovered != nil {
			out.Recovered = res.Recovered.Recovery().String()
		}
		return out, nil
	}
	a.Progress, a.AfterStep = progress, l.AfterStep
	res, err := a.Apply(ctx, ch)
	if err != nil {
		return nil, err
	}
	out := &Applied{BackupID: res.Backup.ID, Restarted: res.Restarted, PID: res.PID, Took: res.Took}
	if res.Recovered != nil {
		out.Recovered = res.Recovered.String()
	}
	for _, e := range a.Endpoints {
		out.Endpoints = append(out.Endpoints, e.String())
	}
	return out, nil
}

// needsRoot says why this process cannot replace the config and write its
// backups without help, or nil when it can.
func needsRoot(config, backups string, also []serverctl.FileEdit) *NeedsRootError {
	check := []string{config, filepath.Dir(config)}
	for _, f := range also {
		check = append(check, f.Path, filepath.Dir(f.Path))
	}
	if _, err := os.Stat(backups); err == nil {
		check = append(check, backups)
	}
	for _, p := range check {
		if err := serverctl.WriteAccess(p); err != nil {
			return &NeedsRootError{Path: p, ReadOnly: errors.Is(err, serverctl.ErrReadOnlyFS)}
		}
	}
	return nil
}

// PortsOf turns VirtualHost names as people write them ("443", ":443",
// "*:443", "443,80") into ports, sorted and without repeats.
func PortsOf(names []string) []string {
	seen := map[string]bool{}
	var ports []string
	for _, n := range names {
		for _, part := range strings.Split(n, ",") {
			part = strings.TrimSpace(part)
			if i := strings.LastIndexByte(part, ':'); i >= 0 {
				part = part[i+1:]
			}
			if !seen[part] {
				seen[part] = true
				ports = append(ports, part)
			}
		}
	}
	sort.Strings(ports)
	return ports
}
