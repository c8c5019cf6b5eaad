package serverctl

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// BackupDirName is the folder beside the config where Socketbar keeps the
// file as it was before each change. Its name matches none of the patterns
// Apple's config includes (apache_serviceproxy_customsites*.conf).
const BackupDirName = "socketbar-backups"

// DefaultKeepBackups is how many backups a store keeps.
const DefaultKeepBackups = 20

// ManagedRoute is a Socketbar route as recorded in the history, so that a
// route that vanished (Server.app rewrote the file) can be put back.
type ManagedRoute struct {
	VHost    string   `json:"vhost"`
	Path     string   `json:"path"`
	Backend  string   `json:"backend"`
	Strategy Strategy `json:"strategy"`
	// Hosts are the host names a block in the custom sites' macro is
	// limited to, space-separated; "" for a block that serves every
	// request of its VirtualHost. (A string keeps the type comparable.)
	Hosts string `json:"hosts,omitempty"`
}

// BackupEntry is one change in the history: the config as it was before the
// change, and what the change was meant to leave.
type BackupEntry struct {
	ID          string    `json:"id"`
	Time        time.Time `json:"time"`
	Description string    `json:"description"`
	// SHA256 is the hash of the backed-up config text.
	SHA256 string `json:"sha256"`
	// UndoOf names the entry this change undid, if it was an undo.
	UndoOf string `json:"undo_of,omitempty"`
	// Reverts names the later changes an undo reverted with UndoOf (an undo
	// puts back the config from before UndoOf, so everything after goes too).
	Reverts []string `json:"reverts,omitempty"`
	// AfterSHA256 is the hash of the config the change wrote: a config that
	// no longer has it was changed since (by hand, or by Server.app).
	AfterSHA256 string `json:"after_sha256,omitempty"`
	// Routes are Socketbar's routes in the config after the change.
	Routes []ManagedRoute `json:"routes"`
	// Outcome says whether the change took effect; empty (entries written
	// before outcomes were recorded) means applied. Only applied changes
	// count for drift and undo.
	Outcome Outcome `json:"outcome,omitempty"`
	// Files are the other files the change touched (Server 5.0/5.1's
	// customsites file), each backed up beside the main config's text.
	// (SHA256 and AfterSHA256 are the main config's record, where the
	// entries have held it from the start.)
	Files []FileEdit `json:"files,omitempty"`
}

// Outcome is what became of a change in the history.
type Outcome string

// The outcomes. A change is pending from its backup until it is verified
// or rolled back; a pending change whose process died is settled by
// RecoverJournal.
const (
	OutcomeApplied    Outcome = "applied"
	OutcomePending    Outcome = "pending"
	OutcomeRolledBack Outcome = "rolled back"
	// OutcomeNotWritten: the transaction stopped before the new config
	// reached the file (refused, or killed before the rename).
	OutcomeNotWritten Outcome = "not written"
	// OutcomeSuperseded: another writer replaced the file while the
	// change was being verified or rolled back; Socketbar left theirs.
	OutcomeSuperseded Outcome = "superseded by another writer"
)

// Applied reports whether the change took effect.
func (e BackupEntry) Applied() bool { return e.Outcome == "" || e.Outcome == OutcomeApplied }

// WroteNothing reports whether the change only recorded something in the
// history and left every file as it was: a reapply or remove that let go
// of routes whose site is gone. Undo passes over it: there is nothing of
// it to take back.
func (e BackupEntry) WroteNothing() bool {
	return e.AfterSHA256 != "" && e.SHA256 == e.AfterSHA256 && len(e.Files) == 0
}

// BackupStore keeps backups in Dir: ID.bak holds the old config, ID.json
// the entry.
type BackupStore struct {
	Dir  string
	Keep int
	// host is the machine whose files Dir and the config are; nil is this
	// one.
	host Disk
	// paths, for a Server reached over SSH, maps the paths in the records
	// (the Server's) to the ones Socketbar works with here (the mirror's)
	// and back; nil keeps them as they are.
	paths *pathSwap
}

// storedFiles are files as a record names them: with the Server's paths.
func (s BackupStore) storedFiles(files []FileEdit) ([]FileEdit, error) {
	if s.paths == nil || len(files) == 0 {
		return files, nil
	}
	out := make([]FileEdit, len(files))
	for i, f := range files {
		r, ok := s.paths.toRemote(f.Path)
		if !ok {
			return nil, errorf("%s is not a file of the Server", f.Path)
		}
		out[i] = f
		out[i].Path = r
	}
	return out, nil
}

// loadedFiles are a record's files with the paths Socketbar works with. A
// path outside the Server's folder stays as it is: it then names no file
// of the config, which recovery and undo refuse.
func (s BackupStore) loadedFiles(files []FileEdit) []FileEdit {
	if s.paths == nil {
		return files
	}
	for i := range files {
		if l, ok := s.paths.toLocal(files[i].Path); ok {
			files[i].Path = l
		}
	}
	return files
}

// marshalEntry is the JSON of e as the store keeps it.
func (s BackupStore) marshalEntry(e BackupEntry) ([]byte, error) {
	files, err := s.storedFiles(e.Files)
	if err != nil {
		return nil, err
	}
	e.Files = files
	return json.MarshalIndent(e, "", "  ")
}

// disk is where the store's files are.
func (s BackupStore) disk() Disk {
	if s.host == nil {
		return localDisk{}
	}
	return s.host
}

// BackupStoreFor returns the store that belongs to the config at path.
func BackupStoreFor(configPath string) BackupStore {
	return BackupStore{Dir: filepath.Join(filepath.Dir(configPath), BackupDirName), Keep: DefaultKeepBackups}
}

// Save writes a new entry e for a change to files, the main config first:
// each file's old text is kept (ID.bak, then ID.1.bak, ID.2.bak, … for the
// others) with the file's mode, and the entry records the hashes of both
// texts of each (see FileEdit.Record). It drops the oldest entries beyond
// Keep.
func (s BackupStore) Save(e BackupEntry, files ...FileEdit) (BackupEntry, error) {
	if len(files) == 0 {
		return e, errorf("a history entry needs the config's text")
	}
	d := s.disk()
	if err := ensureDir(d, s.Dir, 0o755); err != nil {
		return e, errorf("create backup folder: %w", err)
	}
	rec := records(files)
	e.SHA256, e.AfterSHA256, e.Files = rec[0].OldSHA256, rec[0].NewSHA256, rec[1:]
	if len(e.Files) == 0 {
		e.Files = nil
	}
	id, err := s.newID(e.Time)
	if err != nil {
		return e, err
	}
	e.ID = id
	meta, err := s.marshalEntry(e)
	if err != nil {
		return e, err
	}
	for i, f := range files {
		perm := os.FileMode(0o600)
		if f.info != nil {
			perm = f.info.Mode().Perm()
		}
		if err := d.WriteNew(s.backupPath(e.ID, i), f.Old, perm, nil); err != nil {
			return e, errorf("write backup of %s: %w", f.Path, err)
		}
	}
	if err := d.WriteNew(filepath.Join(s.Dir, e.ID+".json"), append(meta, '\n'), 0o644, nil); err != nil {
		return e, errorf("write backup entry: %w", err)
	}
	s.prune()
	return e, nil
}

// newID names a new entry after its time, with a number after it when
// another entry has that name (two changes within one clock tick).
func (s BackupStore) newID(at time.Time) (string, error) {
	base := at.UTC().Format("20060102T150405.000000000Z")
	id := base
	for i := 1; ; i++ {
		_, err := s.disk().Stat(s.backupPath(id, 0))
		if errors.Is(err, fs.ErrNotExist) {
			return id, nil
		}
		if err != nil {
			return "", errorf("name the backup: %w", err)
		}
		id = fmt.Sprintf("%s-%d", base, i)
	}
}

// backupPath is where the backup of an entry's i-th file is: ID.bak for
// the main config, ID.1.bak, ID.2.bak, … for the others.
func (s BackupStore) backupPath(id string, i int) string {
	if i == 0 {
		return filepath.Join(s.Dir, id+".bak")
	}
	return filepath.Join(s.Dir, fmt.Sprintf("%s.%d.bak", id, i))
}

// LoadFiles returns the backed-up texts of e's other files, in the order
// of e.Files, each checked against its hash.
func (s BackupStore) LoadFiles(e BackupEntry) ([][]byte, error) {
	var texts [][]byte
	for i, f := range e.Files {
		data, _, err := s.disk().ReadFile(s.backupPath(e.ID, i+1), true)
		if err != nil {
			return nil, errorf("read backup %s of %s: %w", e.ID, f.Path, err)
		}
		if sha256Hex(data) != f.OldSHA256 {
			return nil, errorf("backup %s of %s does not match its recorded hash: it was changed after it was written, so Socketbar will not put it back; undo another change from the history, or restore %s by hand", e.ID, f.Path, f.Path)
		}
		texts = append(texts, data)
	}
	return texts, nil
}

// SetOutcome records what became of the change e.
func (s BackupStore) SetOutcome(e BackupEntry, o Outcome) (BackupEntry, error) {
	e.Outcome = o
	meta, err := s.marshalEntry(e)
	if err != nil {
		return e, err
	}
	if err := writeFileAtomic(s.disk(), filepath.Join(s.Dir, e.ID+".json"), append(meta, '\n'), 0o644); err != nil {
		return e, &OutcomeNotRecordedError{Entry: e, Outcome: o, Err: err}
	}
	return e, nil
}

// List returns the entries, newest first. Entries whose files are damaged
// (or are not regular files) are left out. Text that reaches a terminal
// (descriptions, routes) has its control characters made visible, since
// anyone who could write the folder could otherwise send escape sequences
// to whoever runs `socketbar history`.
func (s BackupStore) List() ([]BackupEntry, error) {
	d := s.disk()
	names, err := d.List(s.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		if fi, lerr := d.Lstat(s.Dir); lerr == nil && !fi.IsDir() {
			err = notDirError(s.Dir, fi)
		}
		return nil, errorf("read the history: %w", err)
	}
	var entries []BackupEntry
	for _, n := range names {
		id, ok := strings.CutSuffix(n, ".json")
		if !ok {
			continue
		}
		data, _, err := d.ReadFile(filepath.Join(s.Dir, n), true)
		if err != nil {
			continue
		}
		var e BackupEntry
		if json.Unmarshal(data, &e) != nil || e.ID != id {
			continue
		}
		e.Files = s.loadedFiles(e.Files)
		entries = append(entries, sanitizeEntry(e))
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].ID > entries[j].ID })
	return entries, nil
}

// Load returns an entry and its backed-up text, checked against its hash.
func (s BackupStore) Load(id string) (BackupEntry, []byte, error) {
	if id == "" || strings.ContainsAny(id, `/\`) || strings.HasPrefix(id, ".") {
		return BackupEntry{}, nil, errorf("%q is not a backup ID; see socketbar history", id)
	}
	entries, err := s.List()
	if err != nil {
		return BackupEntry{}, nil, err
	}
	for _, e := range entries {
		if e.ID != id {
			continue
		}
		data, _, err := s.disk().ReadFile(s.backupPath(id, 0), true)
		if err != nil {
			return e, nil, errorf("read backup %s: %w", id, err)
		}
		if sha256Hex(data) != e.SHA256 {
			return e, nil, errorf("backup %s does not match its recorded hash; it was changed after it was written", id)
		}
		return e, data, nil
	}
	return BackupEntry{}, nil, errorf("no backup %q in %s; see socketbar history", id, s.Dir)
}

// UndoTarget returns the newest change that has not been undone, is not
// itself an undo and wrote something, so that repeated undos walk back
// through the history.
func (s BackupStore) UndoTarget() (BackupEntry, error) {
	entries, err := s.List()
	if err != nil {
		return BackupEntry{}, err
	}
	undone := Undone(entries)
	for _, e := range entries {
		if e.UndoOf == "" && !undone[e.ID] && e.Applied() && !e.WroteNothing() {
			return e, nil
		}
	}
	return BackupEntry{}, errorf("nothing to undo in %s", s.Dir)
}

// Undone returns the IDs of the entries that a later change, which took
// effect, undid or reverted with the change it undid.
func Undone(entries []BackupEntry) map[string]bool {
	undone := map[string]bool{}
	for _, e := range entries {
		if e.UndoOf != "" && e.Applied() {
			undone[e.UndoOf] = true
			for _, id := range e.Reverts {
				undone[id] = true
			}
		}
	}
	return undone
}

// prune drops the oldest entries beyond Keep. It is tidying: an entry it
// cannot remove stays in the history, and the next change tries again.
func (s BackupStore) prune() {
	keep := s.Keep
	if keep <= 0 {
		keep = DefaultKeepBackups
	}
	entries, err := s.List()
	if err != nil {
		return
	}
	d := s.disk()
	for _, e := range entries[min(keep, len(entries)):] {
		for i := range len(e.Files) + 1 {
			d.Remove(s.backupPath(e.ID, i))
		}
		d.Remove(filepath.Join(s.Dir, e.ID+".json"))
	}
}

// ManagedRoutes returns Socketbar's routes in the config, one per block.
func (c *Config) ManagedRoutes() []ManagedRoute {
	blocks, err := c.Blocks()
	if err != nil {
		return nil
	}
	var routes []ManagedRoute
	for _, b := range blocks {
		routes = append(routes, ManagedRoute{VHost: b.Host.Label(), Path: b.Path, Backend: b.Backend, Strategy: b.Strategy, Hosts: strings.Join(b.Hosts, " ")})
	}
	return routes
}

// sanitizeEntry makes the entry's free text safe to print.
func sanitizeEntry(e BackupEntry) BackupEntry {
	e.Description = SanitizeText(e.Description)
	e.UndoOf = SanitizeText(e.UndoOf)
	e.Outcome = Outcome(SanitizeText(string(e.Outcome)))
	routes := make([]ManagedRoute, len(e.Routes))
	for i, r := range e.Routes {
		routes[i] = ManagedRoute{VHost: SanitizeText(r.VHost), Path: SanitizeText(r.Path), Backend: SanitizeText(r.Backend), Strategy: Strategy(SanitizeText(string(r.Strategy))), Hosts: SanitizeText(r.Hosts)}
	}
	if e.Routes != nil {
		e.Routes = routes
	}
	files := make([]FileEdit, len(e.Files))
	for i, f := range e.Files {
		files[i] = FileEdit{Path: SanitizeText(f.Path), OldSHA256: SanitizeText(f.OldSHA256), NewSHA256: SanitizeText(f.NewSHA256)}
	}
	if e.Files != nil {
		e.Files = files
	}
	return e
}

// SanitizeText replaces every control character (C0 and C1, including
// ESC, CR, LF and DEL) and every bidirectional-override character with its
// Go escape (\x1b, \u202e), so text read from a file can be printed on a
// terminal without moving the cursor, changing colours or reordering text.
// Invalid UTF-8 becomes U+FFFD.
func SanitizeText(s string) string {
	clean := true
	for _, r := range s {
		if unsafeRune(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
			b.WriteRune(utf8.RuneError)
		case unsafeRune(r) && r < 0x100:
			fmt.Fprintf(&b, "\\x%02x", r)
		case unsafeRune(r):
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == utf8.RuneError || r == '\u2028' || r == '\u2029'
}
