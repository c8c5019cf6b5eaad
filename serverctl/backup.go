package serverctl

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
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
	// Routes are Socketbar's routes in the config after the change.
	Routes []ManagedRoute `json:"routes"`
}

// BackupStore keeps backups in Dir: ID.bak holds the old config, ID.json
// the entry.
type BackupStore struct {
	Dir  string
	Keep int
}

// BackupStoreFor returns the store that belongs to the config at path.
func BackupStoreFor(configPath string) BackupStore {
	return BackupStore{Dir: filepath.Join(filepath.Dir(configPath), BackupDirName), Keep: DefaultKeepBackups}
}

// Save writes old under a new entry and drops the oldest beyond Keep.
func (s BackupStore) Save(old []byte, e BackupEntry, perm os.FileMode) (BackupEntry, error) {
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return e, fmt.Errorf("serverctl: create backup folder: %w", err)
	}
	sum := sha256.Sum256(old)
	e.SHA256 = hex.EncodeToString(sum[:])
	e.ID = e.Time.UTC().Format("20060102T150405.000000000Z")
	for i := 1; ; i++ { // two changes within one nanosecond tick still get their own entry
		if _, err := os.Stat(filepath.Join(s.Dir, e.ID+".bak")); errors.Is(err, os.ErrNotExist) {
			break
		}
		e.ID = fmt.Sprintf("%s-%d", e.Time.UTC().Format("20060102T150405.000000000Z"), i)
	}
	meta, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return e, err
	}
	if err := writeFileSynced(filepath.Join(s.Dir, e.ID+".bak"), old, perm); err != nil {
		return e, fmt.Errorf("serverctl: write backup: %w", err)
	}
	if err := writeFileSynced(filepath.Join(s.Dir, e.ID+".json"), append(meta, '\n'), 0o644); err != nil {
		return e, fmt.Errorf("serverctl: write backup entry: %w", err)
	}
	s.prune()
	return e, nil
}

// List returns the entries, newest first. Entries whose files are damaged
// are left out.
func (s BackupStore) List() ([]BackupEntry, error) {
	names, err := filepath.Glob(filepath.Join(s.Dir, "*.json"))
	if err != nil {
		return nil, err
	}
	var entries []BackupEntry
	for _, n := range names {
		data, err := os.ReadFile(n)
		if err != nil {
			continue
		}
		var e BackupEntry
		if json.Unmarshal(data, &e) != nil || e.ID != strings.TrimSuffix(filepath.Base(n), ".json") {
			continue
		}
		entries = append(entries, e)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].ID > entries[j].ID })
	return entries, nil
}

// Load returns an entry and its backed-up text, checked against its hash.
func (s BackupStore) Load(id string) (BackupEntry, []byte, error) {
	if id == "" || strings.ContainsAny(id, `/\`) || strings.HasPrefix(id, ".") {
		return BackupEntry{}, nil, fmt.Errorf("serverctl: %q is not a backup ID; see socketbar history", id)
	}
	entries, err := s.List()
	if err != nil {
		return BackupEntry{}, nil, err
	}
	for _, e := range entries {
		if e.ID != id {
			continue
		}
		data, err := os.ReadFile(filepath.Join(s.Dir, id+".bak"))
		if err != nil {
			return e, nil, fmt.Errorf("serverctl: read backup %s: %w", id, err)
		}
		sum := sha256.Sum256(data)
		if hex.EncodeToString(sum[:]) != e.SHA256 {
			return e, nil, fmt.Errorf("serverctl: backup %s does not match its recorded hash; it was changed after it was written", id)
		}
		return e, data, nil
	}
	return BackupEntry{}, nil, fmt.Errorf("serverctl: no backup %q in %s; see socketbar history", id, s.Dir)
}

// UndoTarget returns the newest change that has not been undone and is not
// itself an undo, so that repeated undos walk back through the history.
func (s BackupStore) UndoTarget() (BackupEntry, error) {
	entries, err := s.List()
	if err != nil {
		return BackupEntry{}, err
	}
	undone := map[string]bool{}
	for _, e := range entries {
		if e.UndoOf != "" {
			undone[e.UndoOf] = true
		}
	}
	for _, e := range entries {
		if e.UndoOf == "" && !undone[e.ID] {
			return e, nil
		}
	}
	return BackupEntry{}, fmt.Errorf("serverctl: nothing to undo in %s", s.Dir)
}

func (s BackupStore) prune() {
	keep := s.Keep
	if keep <= 0 {
		keep = DefaultKeepBackups
	}
	entries, err := s.List()
	if err != nil {
		return
	}
	for _, e := range entries[min(keep, len(entries)):] {
		os.Remove(filepath.Join(s.Dir, e.ID+".bak"))
		os.Remove(filepath.Join(s.Dir, e.ID+".json"))
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
		routes = append(routes, ManagedRoute{VHost: b.Host.Label(), Path: b.Path, Backend: b.Backend, Strategy: b.Strategy})
	}
	return routes
}
