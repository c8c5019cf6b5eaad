package elevate

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/servertest"
)

// killed stands for the process dying at a step.
type killed struct{}

// interrupted is a Server 5.1 tree (main config and customsites file)
// where a change to both files was killed right after step, as a SIGKILL
// leaves it: the journal and the pending entry stay. After StepWrite the
// customsites file holds the new text and the main config the old.
type interrupted struct {
	root, conf, sites string
	backups           string
	ch                serverctl.Change
}

func interruptAt(t *testing.T, step serverctl.Step) *interrupted {
	t.Helper()
	root, conf := servertest.CopyWithHTTPD(t, "5.1.7-sites")
	it := &interrupted{root: root, conf: conf, sites: filepath.Join(filepath.Dir(conf), "apache_serviceproxy_customsites.conf"), backups: filepath.Join(filepath.Dir(conf), serverctl.BackupDirName)}
	ctx := context.Background()
	srv, err := serverctl.Discover(ctx, serverctl.Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := serverctl.ReadConfig(conf)
	if err != nil {
		t.Fatal(err)
	}
	a, err := srv.Applier(cfg, serverctl.ApplyOptions{NoRestart: true})
	if err != nil {
		t.Fatal(err)
	}
	it.ch = change(t, conf, "# killed change\n")
	old, err := os.ReadFile(it.sites)
	if err != nil {
		t.Fatal(err)
	}
	it.ch.Also = []serverctl.FileEdit{{Path: it.sites, Old: old, New: append(slices.Clone(old), "# killed change\n"...)}}
	a.AfterStep = func(s serverctl.Step) {
		if s == step {
			panic(killed{})
		}
	}
	func() {
		defer func() {
			if r := recover(); r != (killed{}) {
				t.Fatalf("the change was not killed after %s: %v", step, r)
			}
		}()
		a.Apply(ctx, it.ch)
	}()
	return it
}

// editJSON rewrites the JSON file at path through edit.
func editJSON(t *testing.T, path string, edit func(map[string]any)) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	if data, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	write(t, path, data)
}

// TestElevatedHalfRecoversOnlyIncludedFiles: a journal and history entry
// rewritten to name another file (here root's private one outside the
// Server) make the elevated half refuse before it writes anything, where
// it used to put the entry's "backup" over that file. The journal is
// rewritten as this release writes it and as the one before did.
func TestElevatedHalfRecoversOnlyIncludedFiles(t *testing.T) {
	for _, tt := range []struct {
		layout string
		point  func(j map[string]any, victim string, oldSum, newSum string)
	}{
		{"files", func(j map[string]any, victim, oldSum, newSum string) {
			files := j["files"].([]any)
			files[1] = map[string]string{"path": victim, "sha256": oldSum, "after_sha256": newSum}
		}},
		{"config and also", func(j map[string]any, victim, oldSum, newSum string) {
			main := j["files"].([]any)[0].(map[string]any)
			delete(j, "files")
			j["config"], j["old_sha256"], j["new_sha256"] = main["path"], main["sha256"], main["after_sha256"]
			j["also"] = []map[string]string{{"path": victim, "old_sha256": oldSum, "new_sha256": newSum}}
		}},
	} {
		t.Run(tt.layout, func(t *testing.T) {
			it := interruptAt(t, serverctl.StepWrite)
			victim := filepath.Join(t.TempDir(), "secret")
			const secret = "root's secret\n"
			write(t, victim, []byte(secret))
			payload := []byte("planted by the user\n")
			var id string
			editJSON(t, filepath.Join(it.backups, serverctl.JournalName), func(j map[string]any) {
				id = j["backup"].(string)
				tt.point(j, victim, SHA256(payload), SHA256([]byte(secret)))
			})
			editJSON(t, filepath.Join(it.backups, id+".json"), func(e map[string]any) {
				e["files"] = []map[string]string{{"path": victim, "sha256": SHA256(payload), "after_sha256": SHA256([]byte(secret))}}
			})
			write(t, filepath.Join(it.backups, id+".1.bak"), payload)
			main, _ := os.ReadFile(it.conf)

			_, err := Apply(context.Background(), &standIn{}, "/usr/local/bin/socketbar", Plan{Root: it.root, NoRestart: true}, change(t, it.conf, "# approved\n"))
			if got, _ := os.ReadFile(victim); string(got) != secret {
				t.Errorf("root's file was overwritten with %q", got)
			}
			if err == nil || !strings.Contains(err.Error(), victim) || !strings.Contains(err.Error(), "does not include") {
				t.Fatalf("err = %v; want a refusal naming %s", err, victim)
			}
			if got, _ := os.ReadFile(it.conf); string(got) != string(main) {
				t.Error("the main config was written")
			}
			if got, _ := os.ReadFile(it.sites); string(got) != string(it.ch.Also[0].New) {
				t.Error("the customsites file was written")
			}
		})
	}
}

// TestElevatedHalfTrustsOnlyRootsBackupFolder: a Server tree handed to a
// user (the config's folder, the backup folder and all in it are that
// user's), or a journal of another user in root's folder, leaves root
// nothing to trust: the elevated half settles no journal from it and
// writes nothing.
func TestElevatedHalfTrustsOnlyRootsBackupFolder(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give files to another user")
	}
	const nobody = 65534
	for _, tt := range []struct {
		name  string
		owned func(t *testing.T, it *interrupted) []string
	}{
		{"the tree handed to a user", func(t *testing.T, it *interrupted) []string {
			owned := []string{filepath.Dir(it.conf), it.backups}
			entries, err := os.ReadDir(it.backups)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				owned = append(owned, filepath.Join(it.backups, e.Name()))
			}
			return owned
		}},
		{"a journal of another user", func(_ *testing.T, it *interrupted) []string {
			return []string{filepath.Join(it.backups, serverctl.JournalName)}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			it := interruptAt(t, serverctl.StepWrite)
			for _, p := range tt.owned(t, it) {
				if err := os.Chown(p, nobody, nobody); err != nil {
					t.Fatal(err)
				}
			}
			main, _ := os.ReadFile(it.conf)
			_, err := Apply(context.Background(), &standIn{}, "/usr/local/bin/socketbar", Plan{Root: it.root, NoRestart: true}, change(t, it.conf, "# approved\n"))
			if got, _ := os.ReadFile(it.sites); string(got) != string(it.ch.Also[0].New) {
				t.Error("the customsites file was written from the user's journal")
			}
			if got, _ := os.ReadFile(it.conf); string(got) != string(main) {
				t.Error("the main config was written")
			}
			if err == nil || !strings.Contains(err.Error(), "trusts only root's") {
				t.Fatalf("err = %v; want a refusal of what the user owns", err)
			}
		})
	}
}

// TestElevatedHalfSaysWhatItsRecoveryDid: the elevated half's answer
// carries the recovery it ran first, when the approved change then fails
// (here because it was computed from the half-written files the recovery
// put back: the answer must not read as "nothing written") and when it
// goes through.
func TestElevatedHalfSaysWhatItsRecoveryDid(t *testing.T) {
	t.Run("the change then fails", func(t *testing.T) {
		it := interruptAt(t, serverctl.StepWrite)
		ch := change(t, it.conf, "# approved\n")
		ch.Also = []serverctl.FileEdit{{Path: it.sites, Old: it.ch.Also[0].New, New: append(slices.Clone(it.ch.Also[0].New), "# approved\n"...)}}
		_, err := Apply(context.Background(), &standIn{}, "/usr/local/bin/socketbar", Plan{Root: it.root, NoRestart: true}, ch)
		var after *serverctl.AfterRecoveryError
		if !errors.As(err, &after) || !errors.Is(err, serverctl.ErrChangedOnDisk) {
			t.Fatalf("err = %v; want the recovery with ErrChangedOnDisk", err)
		}
		if rec := after.Recovery; rec.Entry.Outcome != serverctl.OutcomeRolledBack || !rec.Partial || !slices.Equal(rec.Restored, []string{it.sites}) {
			t.Errorf("recovery = %+v; want the partial change rolled back by writing %s", rec, it.sites)
		}
		if got, _ := os.ReadFile(it.sites); string(got) != string(it.ch.Also[0].Old) {
			t.Error("the customsites file is not its old text")
		}
	})
	t.Run("the change goes through", func(t *testing.T) {
		it := interruptAt(t, serverctl.StepBackup)
		res, err := Apply(context.Background(), &standIn{}, "/usr/local/bin/socketbar", Plan{Root: it.root, NoRestart: true}, change(t, it.conf, "# approved\n"))
		if err != nil {
			t.Fatal(err)
		}
		if res.Recovered == nil || res.Recovered.Entry.Outcome != serverctl.OutcomeNotWritten {
			t.Errorf("recovered = %+v; want the killed change settled as not written", res.Recovered)
		}
	})
}
