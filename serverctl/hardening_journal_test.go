package serverctl

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// killAt runs ch and stops it as a SIGKILL would right after step: the
// journal and the pending entry stay, nothing is settled.
func killAt(t *testing.T, a *Applier, ch Change, step Step) {
	t.Helper()
	a.AfterStep = func(s Step) {
		if s == step {
			panic(killed{})
		}
	}
	defer func() {
		a.AfterStep = nil
		if r := recover(); r != (killed{}) {
			t.Fatalf("Apply was not killed after %s: %v", step, r)
		}
	}()
	a.Apply(context.Background(), ch)
}

// pointJournalAt rewrites the interrupted change's journal and history
// entry as someone who may write the backup folder could: its other file
// is victim, "new" there is what victim holds now, and the backup to put
// back is payload.
func pointJournalAt(t *testing.T, s BackupStore, victim string, payload []byte) {
	t.Helper()
	j, err := s.readJournal()
	if err != nil || j == nil || len(j.Files) != 2 {
		t.Fatalf("journal = %+v, %v; want one with one other file", j, err)
	}
	entry, _, err := s.Load(j.Backup)
	if err != nil {
		t.Fatal(err)
	}
	cur, err := os.ReadFile(victim)
	if err != nil {
		t.Fatal(err)
	}
	j.Files[1] = FileEdit{Path: victim, Old: payload, New: cur}.Record()
	if err := s.writeJournal(*j); err != nil {
		t.Fatal(err)
	}
	entry.Files[0] = j.Files[1]
	if err := os.WriteFile(s.backupPath(entry.ID, 1), payload, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetOutcome(entry, OutcomePending); err != nil {
		t.Fatal(err)
	}
}

// TestRecoveryWritesOnlyFilesTheConfigIncludes: a journal whose other
// file names a path the config does not include (here a private file
// elsewhere) is refused whole, by RecoverJournal and by the next change
// alike: that file, the config and the journal stay as they are.
func TestRecoveryWritesOnlyFilesTheConfigIncludes(t *testing.T) {
	for _, via := range []string{"RecoverJournal", "Apply"} {
		t.Run(via, func(t *testing.T) {
			tf := newTwoFiles(t)
			a := &Applier{ConfigPath: tf.main, Tester: okTester{}, Backups: BackupStoreFor(tf.main)}
			killAt(t, a, tf.change, StepWrite)
			victim := filepath.Join(t.TempDir(), "secret")
			if err := os.WriteFile(victim, []byte("root's secret\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			pointJournalAt(t, a.Backups, victim, []byte("planted\n"))
			var err error
			if via == "Apply" {
				_, err = a.Apply(context.Background(), Change{Old: tf.oldMain, New: tf.newMain, Description: "next"})
			} else {
				_, err = RecoverJournal(context.Background(), a)
			}
			if got, _ := os.ReadFile(victim); string(got) != "root's secret\n" {
				t.Errorf("the file the journal named was written: %q", got)
			}
			if err == nil || !strings.Contains(err.Error(), victim) || !strings.Contains(err.Error(), "does not include") {
				t.Fatalf("err = %v; want a refusal naming %s", err, victim)
			}
			tf.want(t, tf.oldMain, tf.newSite)
			if !a.Backups.Interrupted() {
				t.Error("the journal was removed; it is the evidence, and the person deletes it")
			}
		})
	}
}

// TestRecoveryTravelsWithTheError: a change killed between the site
// file's rename and the main config's is put back by the next change,
// which was computed from the half-written files and so fails. Its error
// still says what the recovery did: rolled back, which file it wrote.
func TestRecoveryTravelsWithTheError(t *testing.T) {
	tf := newTwoFiles(t)
	a := &Applier{ConfigPath: tf.main, Tester: okTester{}, Backups: BackupStoreFor(tf.main)}
	killAt(t, a, tf.change, StepWrite)
	tf.want(t, tf.oldMain, tf.newSite)
	next := Change{Old: tf.oldMain, New: tf.newMain, Also: []FileEdit{{Path: tf.site, Old: tf.newSite, New: append(slices.Clone(tf.newSite), "# next\n"...)}}, Description: "next"}
	_, err := a.Apply(context.Background(), next)
	var after *AfterRecoveryError
	if !errors.As(err, &after) {
		t.Fatalf("err = %v; want the recovery with it", err)
	}
	if !errors.Is(err, ErrChangedOnDisk) {
		t.Errorf("err = %v; want ErrChangedOnDisk for the change itself", err)
	}
	rec := after.Recovery
	if rec.Entry.Outcome != OutcomeRolledBack || !rec.Partial || !slices.Equal(rec.Restored, []string{tf.site}) {
		t.Errorf("recovery = %+v; want a partial change rolled back by writing %s", rec, tf.site)
	}
	tf.want(t, tf.oldMain, tf.oldSite)
	if !strings.HasPrefix(err.Error(), rec.String()) {
		t.Errorf("the error does not begin with what the recovery did:\n%v", err)
	}
}

// TestRootTrustsOnlyRootsBackupFolder: run as root, Socketbar settles a
// journal only from a backup folder and a journal that belong to root.
// Another user's, even one who owns the folder above (a Server tree
// handed to that user), could name any file for root to write.
func TestRootTrustsOnlyRootsBackupFolder(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give files to another user")
	}
	const nobody = 65534
	for _, tt := range []struct {
		name  string
		chown func(t *testing.T, tf *twoFiles, s BackupStore)
	}{
		{"folder of the user who owns its parent", func(t *testing.T, tf *twoFiles, s BackupStore) {
			for _, p := range []string{filepath.Dir(tf.main), s.Dir, s.journalPath(), filepath.Join(s.Dir, ".lock")} {
				if err := os.Chown(p, nobody, nobody); err != nil {
					t.Fatal(err)
				}
			}
		}},
		{"journal of another user", func(t *testing.T, tf *twoFiles, s BackupStore) {
			if err := os.Chown(s.journalPath(), nobody, nobody); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tf := newTwoFiles(t)
			a := &Applier{ConfigPath: tf.main, Tester: okTester{}, Backups: BackupStoreFor(tf.main)}
			killAt(t, a, tf.change, StepWrite)
			tt.chown(t, tf, a.Backups)
			for _, f := range []func() error{
				func() error { _, err := RecoverJournal(context.Background(), a); return err },
				func() error {
					_, err := a.Apply(context.Background(), Change{Old: tf.oldMain, New: tf.newMain, Description: "next"})
					return err
				},
			} {
				if err := f(); !errors.Is(err, ErrForeignOwner) {
					t.Errorf("err = %v; want ErrForeignOwner", err)
				}
				if got, _ := os.ReadFile(tf.site); !bytes.Equal(got, tf.newSite) {
					t.Error("a file was written from another user's journal")
				}
			}
		})
	}
}
