package serverctl

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/socketbar/socketbar/serverctl/servertest"
)

// legacyID is the history entry in testdata/legacy-journal.
const legacyID = "20261205T234906.946227776Z"

// TestRecoversAJournalOfTheReleaseBefore: testdata/legacy-journal is the
// backup folder that the release before this one left when a change to a
// Server 5.1's main config and customsites file was killed between the two
// renames (its journal held the main config at the top and the other files
// under "also"; @ROOT@ stands for the Server's root). This release reads
// that journal and entry, and puts the customsites file back.
func TestRecoversAJournalOfTheReleaseBefore(t *testing.T) {
	root, conf := servertest.CopyWithHTTPD(t, "5.1.7-sites")
	sites := filepath.Join(filepath.Dir(conf), "apache_serviceproxy_customsites.conf")
	backups := filepath.Join(filepath.Dir(conf), BackupDirName)
	from := filepath.Join("testdata", "legacy-journal")
	read := func(name string) []byte {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(from, name))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	if err := os.Mkdir(backups, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{JournalName, legacyID + ".json", legacyID + ".bak", legacyID + ".1.bak"} {
		data := read(name)
		if strings.HasSuffix(name, ".json") {
			data = bytes.ReplaceAll(data, []byte("@ROOT@"), []byte(root))
		}
		if err := os.WriteFile(filepath.Join(backups, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	oldMain, oldSite, killedSite := read(legacyID+".bak"), read(legacyID+".1.bak"), read("customsites-at-kill.conf")
	for p, text := range map[string][]byte{conf: oldMain, sites: killedSite} {
		if err := os.WriteFile(p, text, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	store := BackupStoreFor(conf)
	j, err := store.readJournal()
	if err != nil {
		t.Fatal(err)
	}
	want := []FileEdit{
		{Path: conf, OldSHA256: sha256Hex(oldMain), NewSHA256: "9a6ad15ba662a58b79a4dd697d23966b523996352c40e4f2c228f1c3a11eb1b9"},
		{Path: sites, OldSHA256: sha256Hex(oldSite), NewSHA256: sha256Hex(killedSite)},
	}
	if j == nil || j.Backup != legacyID || j.Phase != phaseWrite || !reflect.DeepEqual(j.Files, want) {
		t.Fatalf("journal = %+v; want backup %s, phase write, files %+v", j, legacyID, want)
	}

	ctx := context.Background()
	srv, err := Discover(ctx, Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ReadConfig(conf)
	if err != nil {
		t.Fatal(err)
	}
	a, err := srv.Applier(cfg, ApplyOptions{NoRestart: true})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := RecoverJournal(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if rec == nil || rec.Entry.Outcome != OutcomeRolledBack || !rec.Partial || !slices.Equal(rec.Restored, []string{sites}) {
		t.Fatalf("recovery = %+v; want the partial change rolled back by writing %s", rec, sites)
	}
	if got, _ := os.ReadFile(sites); !bytes.Equal(got, oldSite) {
		t.Error("the customsites file does not hold its old text")
	}
	if got, _ := os.ReadFile(conf); !bytes.Equal(got, oldMain) {
		t.Error("the main config changed")
	}
	if store.Interrupted() {
		t.Error("the journal is still there")
	}

	entries, err := store.List()
	if err != nil || len(entries) != 1 {
		t.Fatalf("history = %+v, %v; want the one entry", entries, err)
	}
	e := entries[0]
	if e.ID != legacyID || e.Outcome != OutcomeRolledBack || e.SHA256 != want[0].OldSHA256 || e.AfterSHA256 != want[0].NewSHA256 || !reflect.DeepEqual(e.Files, want[1:]) {
		t.Errorf("entry = %+v; want %s rolled back, with the hashes of both files", e, legacyID)
	}
	if texts, err := store.LoadFiles(e); err != nil || len(texts) != 1 || !bytes.Equal(texts[0], oldSite) {
		t.Errorf("backups of the other files = %q, %v; want the customsites file's old text", texts, err)
	}
}
