//go:build unix

package serverctl

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestBackupFolderThatIsNotAFolder: a file or a FIFO where the backup
// folder goes makes a change fail before anything is written, with an
// error that says what is there instead of a folder and how to fix it.
func TestBackupFolderThatIsNotAFolder(t *testing.T) {
	for _, tc := range []struct {
		kind  string
		plant func(string) error
	}{
		{"a file", func(p string) error { return os.WriteFile(p, []byte("not a folder\n"), 0o644) }},
		{"a FIFO", func(p string) error { return syscall.Mkfifo(p, 0o644) }},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			tf := newTwoFiles(t)
			store := BackupStoreFor(tf.main)
			if err := tc.plant(store.Dir); err != nil {
				t.Fatal(err)
			}
			a := &Applier{ConfigPath: tf.main, Tester: okTester{}, Backups: store}
			_, err := a.Apply(context.Background(), tf.change)
			want := store.Dir + " is " + tc.kind + ", not a folder; move it away (or delete it) so that Socketbar can make the folder"
			if !errors.Is(err, ErrNotDir) || !strings.Contains(err.Error(), want) {
				t.Errorf("err = %v, want ErrNotDir saying %q", err, want)
			}
			tf.want(t, tf.oldMain, tf.oldSite)
			if names, _ := filepath.Glob(filepath.Join(filepath.Dir(tf.main), "*")); len(names) != 3 {
				t.Errorf("the config's folder holds %q after the refusal", names)
			}
		})
	}
}
