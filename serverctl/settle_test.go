package serverctl

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// blockEntry makes the history entry of the change in progress impossible
// to rewrite, as a full disk or a failing one would: a folder stands where
// its JSON is. The returned func puts the file back.
func blockEntry(t *testing.T, s BackupStore) (restore func()) {
	t.Helper()
	j, err := s.readJournal()
	if err != nil || j == nil {
		t.Fatalf("journal = %v, %v", j, err)
	}
	path := filepath.Join(s.Dir, j.Backup+".json")
	saved, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	return func() {
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, saved, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAnOutcomeThatCannotBeRecordedSaysSo: when the history cannot record
// what became of a change, Apply says so with an *OutcomeNotRecordedError (a
// change that went through comes with its Result), and the journal stays,
// so that the next command records the true outcome instead of the
// history saying pending, or "not written" for a change that is in place.
func TestAnOutcomeThatCannotBeRecordedSaysSo(t *testing.T) {
	old, mine := []byte("Listen 80\n"), []byte("Listen 81\n")
	for _, tt := range []struct {
		name    string
		service bool
		want    Outcome
		text    []byte
	}{
		{"applied", false, OutcomeApplied, mine},
		{"rolled back", true, OutcomeRolledBack, old},
	} {
		t.Run(tt.name, func(t *testing.T) {
			conf := filepath.Join(t.TempDir(), "apache_serviceproxy.conf")
			if err := os.WriteFile(conf, old, 0o644); err != nil {
				t.Fatal(err)
			}
			a := &Applier{ConfigPath: conf, Tester: okTester{}, Backups: BackupStoreFor(conf)}
			if tt.service {
				a.Service = failingService{}
			}
			var restore func()
			a.AfterStep = func(s Step) {
				if s == StepBackup {
					restore = blockEntry(t, a.Backups)
				}
			}
			res, err := a.Apply(context.Background(), Change{Old: old, New: mine, Description: "unrecorded"})
			var ore *OutcomeNotRecordedError
			if !errors.As(err, &ore) || ore.Outcome != tt.want {
				t.Fatalf("err = %v; want an *OutcomeNotRecordedError for %s", err, tt.want)
			}
			if tt.service {
				var rse *RestartError
				if !errors.As(err, &rse) || rse.Unrecorded == nil || !strings.Contains(err.Error(), "could not record") {
					t.Errorf("err = %v; want the RestartError saying the rollback was not recorded", err)
				}
			} else if res == nil || res.Backup.ID == "" || res.Backup.ID != ore.Entry.ID {
				t.Errorf("result = %+v; want the change's Result with the error", res)
			}
			if got, _ := os.ReadFile(conf); !bytes.Equal(got, tt.text) {
				t.Errorf("config = %q, want %q", got, tt.text)
			}
			if !a.Backups.Interrupted() {
				t.Fatal("the journal was removed; the next command could no longer settle the change")
			}

			restore()
			a.Service, a.AfterStep = nil, nil
			rec, err := RecoverJournal(context.Background(), a)
			if err != nil || rec == nil {
				t.Fatalf("recover: %+v, %v", rec, err)
			}
			entries, err := a.Backups.List()
			if err != nil || len(entries) != 1 || entries[0].Outcome != tt.want {
				t.Errorf("history = %+v, %v; want the change %s", entries, err, tt.want)
			}
		})
	}
}

// TestAJournalThatCannotBeRemovedSaysSo: a change recorded as applied
// whose journal cannot be removed says so, rather than leave a journal
// that makes the next command settle (and restart) it again unannounced.
func TestAJournalThatCannotBeRemovedSaysSo(t *testing.T) {
	old, mine := []byte("Listen 80\n"), []byte("Listen 81\n")
	conf := filepath.Join(t.TempDir(), "apache_serviceproxy.conf")
	if err := os.WriteFile(conf, old, 0o644); err != nil {
		t.Fatal(err)
	}
	a := &Applier{ConfigPath: conf, Tester: okTester{}, Backups: BackupStoreFor(conf)}
	a.AfterStep = func(s Step) {
		if s != StepWrite {
			return
		}
		// A folder with something in it cannot be removed as a file.
		j := a.Backups.journalPath()
		if err := os.Remove(j); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(j, "x"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	res, err := a.Apply(context.Background(), Change{Old: old, New: mine})
	var ore *OutcomeNotRecordedError
	if !errors.As(err, &ore) || ore.Outcome != OutcomeApplied || !strings.Contains(err.Error(), JournalName) {
		t.Fatalf("err = %v; want an *OutcomeNotRecordedError naming the journal", err)
	}
	if res == nil || res.Backup.Outcome != OutcomeApplied {
		t.Errorf("result = %+v; want the change recorded as applied", res)
	}
}

// TestHalfWrittenChangeKeepsItsJournal: when a two-file change fails at
// the main config's rename and the file renamed before cannot get its old
// text back, the error says so, and the journal and the pending entry stay
// for the next command to finish the rollback, instead of the history
// saying "not written" for a file that holds the new text.
func TestHalfWrittenChangeKeepsItsJournal(t *testing.T) {
	tf := newTwoFiles(t)
	a := &Applier{ConfigPath: tf.main, Tester: okTester{}, Backups: BackupStoreFor(tf.main)}
	a.AfterStep = func(s Step) {
		if s != StepWrite {
			return
		}
		// Another writer changes the main config, so its rename is
		// refused, and something that is no file stands where the
		// site file was, so it cannot be put back.
		if err := os.WriteFile(tf.main, []byte("Listen 82\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(tf.site); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(tf.site, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	_, err := a.Apply(context.Background(), tf.change)
	if !errors.Is(err, ErrChangedOnDisk) || !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "next Socketbar command") {
		t.Fatalf("err = %v; want the refused rename and the failed put-back", err)
	}
	if !a.Backups.Interrupted() {
		t.Error("the journal was removed")
	}
	entries, err := a.Backups.List()
	if err != nil || len(entries) != 1 || entries[0].Outcome != OutcomePending {
		t.Errorf("history = %+v, %v; want the change still pending", entries, err)
	}
}

// TestRecoveryReportsAnUnreadableHistory: where the backup folder should
// be stands a file, so Socketbar cannot tell whether a change was
// interrupted; RecoverJournal says so instead of answering "nothing to
// recover".
func TestRecoveryReportsAnUnreadableHistory(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "apache_serviceproxy.conf")
	if err := os.WriteFile(conf, []byte("Listen 80\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	a := &Applier{ConfigPath: conf, Tester: okTester{}, Backups: BackupStoreFor(conf)}
	if err := os.WriteFile(a.Backups.Dir, []byte("not a folder\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rec, err := RecoverJournal(context.Background(), a)
	if !errors.Is(err, ErrNotDir) || rec != nil {
		t.Errorf("recover = %+v, %v; want ErrNotDir", rec, err)
	}
	if _, err := a.Backups.List(); !errors.Is(err, ErrNotDir) {
		t.Errorf("List: err = %v; want ErrNotDir", err)
	}
}
