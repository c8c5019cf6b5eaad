package mirror

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"time"
)

// Limits bound what a Fetch accepts from a Server, whatever the Server
// sends. A zero field takes its default.
type Limits struct {
	// Files bounds the records (files, folders, missing paths) of the
	// whole fetch. Default 10000; a Server's Web/Config with Socketbar's
	// 20 backups holds under 100.
	Files int
	// FileSize bounds one file's content: a larger file is recorded as
	// KindTooLarge, as the readers here refuse it. Default 16 MiB, the
	// readers' own limit (serverctl.MaxFileSize, loader.DefaultMaxFileSize).
	FileSize int64
	// Total bounds the bytes the Server sends over the whole fetch.
	// Default 64 MiB.
	Total int64
	// Path bounds a path's and a link target's length in bytes. Default
	// 1024, macOS's PATH_MAX.
	Path int
	// Tail is how much of the end of the error log is fetched. Default
	// 64 KiB: the readers show its last 50 lines at most.
	Tail int64
	// Depth bounds how deep the Server's side descends into folders.
	// Default 16, as the loader bounds includes.
	Depth int
	// Rounds bounds the round trips: the first fetches the known files,
	// each further one what the config turned out to include. Default 4.
	Rounds int
	// Timeout bounds the whole fetch. Default 2 minutes.
	Timeout time.Duration
}

func (l Limits) orDefaults() Limits {
	if l.Files <= 0 {
		l.Files = 10000
	}
	if l.FileSize <= 0 {
		l.FileSize = 16 << 20
	}
	if l.Total <= 0 {
		l.Total = 64 << 20
	}
	if l.Path <= 0 {
		l.Path = 1024
	}
	if l.Tail <= 0 {
		l.Tail = 64 << 10
	}
	if l.Depth <= 0 {
		l.Depth = 16
	}
	if l.Rounds <= 0 {
		l.Rounds = 4
	}
	if l.Timeout <= 0 {
		l.Timeout = 2 * time.Minute
	}
	return l
}

// Mirror is a private local copy of the files Socketbar reads from a
// Server, laid out as a --root tree: Dir stands for the Server's "/", so
// serverctl.Discover, the loader and every reader work on it unchanged
// with Root = Dir.
type Mirror struct {
	// Dir is the local folder that stands for the Server's "/".
	Dir string
	// RemoteRoot is the folder on the Server that stands for "/": "/" on
	// a real Server, a test's tree elsewhere.
	RemoteRoot string
	// Files are the paths the Server answered for, by Mac path (the path
	// below RemoteRoot, as the config names it): what was fetched, and
	// what was asked for and is missing or unreadable.
	Files map[string]*File
	// RoundTrips is how many commands the fetch ran on the Server.
	RoundTrips int
	// Bytes is how many bytes the Server sent.
	Bytes int64
	// Unfetched lists paths the config still needed when Limits.Rounds
	// ran out; the readers report them as missing.
	Unfetched []string

	limits  Limits
	asked   []request
	records int
	created bool // Dir was made by Fetch, and goes with Remove
}

// File is one path as the Server answered for it. The write step uses it
// to check that a file is unchanged since it was read, and to write
// through a symlink as the local path does.
type File struct {
	// Path is the Mac path; Remote the path on the Server.
	Path, Remote string
	Kind         Kind
	// Mode is the mode on the Server (the mirror's own copy is readable
	// by this user only, whatever it says).
	Mode    fs.FileMode
	Size    int64
	ModTime time.Time
	// SHA256 is the hex SHA-256 of the content fetched: the whole file
	// for KindFile, the end held for KindTail; empty for other kinds.
	SHA256 string
	// Link is the symlink's target when Path is a symlink on the Server;
	// the other fields describe the file it points to.
	Link string
	// Err says why a KindUnreadable path could not be read.
	Err string
}

// LocalPath is where the Mac path p is in the mirror.
func (m *Mirror) LocalPath(p string) string {
	return filepath.Join(m.Dir, filepath.FromSlash(p))
}

// RemotePath is the Mac path p on the Server, below RemoteRoot.
func (m *Mirror) RemotePath(p string) string { return remotePath(m.RemoteRoot, p) }

func remotePath(root, p string) string { return path.Join(root, p) }

// MacPath turns a path in the mirror back into the Mac path it stands for;
// ok is false for a path outside the mirror.
func (m *Mirror) MacPath(local string) (p string, ok bool) { return macPath(m.Dir, local) }

func macPath(dir, local string) (string, bool) {
	rel, err := filepath.Rel(dir, local)
	if err != nil || !filepath.IsAbs(local) {
		return "", false
	}
	if rel == "." {
		return "/", true
	}
	if !filepath.IsLocal(rel) {
		return "", false
	}
	return "/" + filepath.ToSlash(rel), true
}

// Paths lists the Mac paths of Files, sorted.
func (m *Mirror) Paths() []string {
	ps := make([]string, 0, len(m.Files))
	for p := range m.Files {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return ps
}

// Remove deletes the mirror: the folder when Fetch made it, else what
// Fetch wrote into it. The mirror holds no symlinks, so nothing outside
// it is touched.
func (m *Mirror) Remove() error {
	if m.created {
		return os.RemoveAll(m.Dir)
	}
	entries, err := os.ReadDir(m.Dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(m.Dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}
