package serverctl

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The mirror's paths and the Server's map both ways, and nothing outside
// either is taken for one of them: a path that only starts like the
// mirror, a relative one, or one that climbs out.
func TestPathSwapMapsOnlyTheServersFiles(t *testing.T) {
	for _, c := range []struct {
		name          string
		swap          pathSwap
		local, remote string
		ok            bool
	}{
		{"a Mac's file", pathSwap{"/tmp/m/root", "/"}, "/tmp/m/root/Library/a.conf", "/Library/a.conf", true},
		{"the root itself", pathSwap{"/tmp/m/root", "/"}, "/tmp/m/root", "/", true},
		{"a tree's file", pathSwap{"/tmp/m/root", "/srv/tree"}, "/tmp/m/root/Library/a.conf", "/srv/tree/Library/a.conf", true},
		{"a name that starts like the mirror", pathSwap{"/tmp/m/root", "/"}, "/tmp/m/rootkit/a", "", false},
		{"a climb out of the mirror", pathSwap{"/tmp/m/root", "/"}, "/tmp/m/root/../x", "", false},
		{"a relative path", pathSwap{"/tmp/m/root", "/"}, "root/a", "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := c.swap.toRemote(c.local)
			if ok != c.ok || got != c.remote {
				t.Errorf("toRemote(%s) = %q, %v; want %q, %v", c.local, got, ok, c.remote, c.ok)
			}
			if !c.ok {
				return
			}
			back, ok := c.swap.toLocal(got)
			if !ok || back != filepath.Clean(c.local) {
				t.Errorf("toLocal(%s) = %q, %v; want %q", got, back, ok, c.local)
			}
		})
	}
	tree := pathSwap{"/tmp/m/root", "/srv/tree"}
	for _, p := range []string{"/srv/treehouse/a", "/etc/passwd", "srv/tree/a", "/srv"} {
		if got, ok := tree.toLocal(p); ok {
			t.Errorf("toLocal(%s) = %q; want it refused: not below /srv/tree", p, got)
		}
	}
	if got := tree.arg("ServerRoot=/tmp/m/root/usr"); got != "ServerRoot=/srv/tree/usr" {
		t.Errorf("arg NAME=PATH = %q", got)
	}
	if got := tree.arg("/tmp/m/rootkit"); got != "/tmp/m/rootkit" {
		t.Errorf("arg of a look-alike = %q, want it kept", got)
	}
}

// The Disk seen through the swap never reaches a file outside the mirror,
// whatever path the transaction hands it, and names the mirror's paths in
// its errors.
func TestSwapDiskRefusesPathsOutsideTheMirror(t *testing.T) {
	mirror, server := t.TempDir(), t.TempDir()
	d := swapDisk{d: localDisk{}, swap: &pathSwap{local: mirror, remote: server}}
	if err := os.WriteFile(filepath.Join(server, "a.conf"), []byte("Listen 80\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	data, _, err := d.ReadFile(filepath.Join(mirror, "a.conf"), true)
	if err != nil || string(data) != "Listen 80\n" {
		t.Fatalf("read through the swap: %q, %v", data, err)
	}
	outside := filepath.Join(t.TempDir(), "x")
	if err := d.WriteNew(outside, []byte("x"), 0o644, nil); err == nil {
		t.Error("WriteNew outside the mirror was allowed")
	}
	if _, err := os.Stat(outside); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a file was written outside the mirror: %v", err)
	}
	_, _, err = d.ReadFile(filepath.Join(mirror, "missing.conf"), true)
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe.Path != filepath.Join(mirror, "missing.conf") || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error of a missing file = %v; want a PathError naming the mirror's path", err)
	}
	// A link on the Server that leads out of its folder is not followed
	// into a path of this machine.
	if err := os.Symlink("/etc", filepath.Join(server, "out")); err != nil {
		t.Fatal(err)
	}
	if got, err := d.Resolve(filepath.Join(mirror, "out")); err == nil {
		t.Errorf("Resolve of a link out of the Server's folder = %q; want an error", got)
	}
}

// A history written through the swap names the Server's paths, and reads
// back as the mirror's: another Mac, or the Server itself, reads it alike.
func TestRecordsKeepTheServersPaths(t *testing.T) {
	mirror, server := t.TempDir(), t.TempDir()
	swap := &pathSwap{local: mirror, remote: server}
	store := BackupStore{Dir: filepath.Join(mirror, BackupDirName), Keep: 5, host: swapDisk{d: localDisk{}, swap: swap}, paths: swap}
	local := filepath.Join(mirror, "custom.conf")
	e, err := store.Save(BackupEntry{Description: "test"}, FileEdit{Path: filepath.Join(mirror, "main.conf"), Old: []byte("a")}, FileEdit{Path: local, Old: []byte("b")})
	if err != nil {
		t.Fatal(err)
	}
	e.Files = []FileEdit{{Path: local, OldSHA256: "x"}}
	if _, err := store.SetOutcome(e, OutcomeApplied); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(server, BackupDirName, e.ID+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(server, "custom.conf"); !strings.Contains(string(raw), want) || strings.Contains(string(raw), mirror) {
		t.Errorf("the record on the Server:\n%s\nwant %s, never the mirror's %s", raw, want, mirror)
	}
	list, err := store.List()
	if err != nil || len(list) != 1 || len(list[0].Files) != 1 || list[0].Files[0].Path != local {
		t.Errorf("read back: %+v, %v; want the mirror's %s", list, err, local)
	}
}
