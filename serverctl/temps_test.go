package serverctl

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// testerFunc is a ConfigTester made of a function.
type testerFunc func(ctx context.Context, path string) (string, error)

func (f testerFunc) Test(ctx context.Context, path string) (string, error) { return f(ctx, path) }

// names lists a folder's entries.
func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// TestConfigTestCopiesAreNotBesideTheConfig: while Apache's config test
// runs, which is when a kill leaves its copies behind, the config's folder
// holds only the Server's files and the backup folder, so a copy left there
// could never be read as part of the config; and none is left once the
// change is done.
func TestConfigTestCopiesAreNotBesideTheConfig(t *testing.T) {
	tf := newTwoFiles(t)
	dir := filepath.Dir(tf.main)
	store := BackupStoreFor(tf.main)
	var during []string
	var tested string
	a := &Applier{ConfigPath: tf.main, Backups: store, Tester: testerFunc(func(_ context.Context, path string) (string, error) {
		during, tested = names(t, dir), path
		return "Syntax OK", nil
	})}
	if _, err := a.Apply(context.Background(), tf.change); err != nil {
		t.Fatal(err)
	}
	if want := []string{"apache_serviceproxy.conf", "apache_serviceproxy_customsites.conf", BackupDirName}; !slices.Equal(during, want) {
		t.Errorf("during the config test the config's folder held %q, want only %q", during, want)
	}
	if !strings.HasPrefix(tested, store.Dir+string(filepath.Separator)) {
		t.Errorf("the config test read %s, want a copy in %s", tested, store.Dir)
	}
	if left, _ := filepath.Glob(filepath.Join(store.Dir, testDirPattern)); len(left) > 0 {
		t.Errorf("test copies left behind: %v", left)
	}
}

// killChildDirEnv names the folder of the change that
// TestKilledConfigTestLeavesNothingToRead's child makes and dies in.
const killChildDirEnv = "SERVERCTL_TEST_KILL_IN_CONFIG_TEST"

// TestKilledInConfigTestChild is that child: its config test SIGKILLs the
// process, as a kill while httpd -t runs would.
func TestKilledInConfigTestChild(t *testing.T) {
	dir := os.Getenv(killChildDirEnv)
	if dir == "" {
		t.Skip("run by TestKilledConfigTestLeavesNothingToRead")
	}
	main := filepath.Join(dir, "apache_serviceproxy.conf")
	site := filepath.Join(dir, "apache_serviceproxy_customsites.conf")
	oldMain, _ := os.ReadFile(main)
	oldSite, _ := os.ReadFile(site)
	a := &Applier{ConfigPath: main, Backups: BackupStoreFor(main), Tester: testerFunc(func(context.Context, string) (string, error) {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	})}
	a.Apply(context.Background(), Change{Old: oldMain, New: append(oldMain, "# changed\n"...), Also: []FileEdit{{Path: site, Old: oldSite, New: append(oldSite, "# route\n"...)}}})
	t.Fatal("the config test did not kill the process")
}

// TestKilledConfigTestLeavesNothingToRead SIGKILLs a two-file change in its
// config test: the config's folder holds only the Server's files and the
// backup folder, and restart, like the next change, removes what the kill
// left there and what older versions left beside the config, unless
// another Socketbar holds the lock.
func TestKilledConfigTestLeavesNothingToRead(t *testing.T) {
	if os.Getenv(killChildDirEnv) != "" {
		t.Skip("in the child")
	}
	tf := newTwoFiles(t)
	dir := filepath.Dir(tf.main)
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledInConfigTestChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), killChildDirEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child: %v, want it killed\n%s", err, out)
	}
	tf.want(t, tf.oldMain, tf.oldSite)
	if got, want := names(t, dir), []string{"apache_serviceproxy.conf", "apache_serviceproxy_customsites.conf", BackupDirName}; !slices.Equal(got, want) {
		t.Errorf("after the kill the config's folder holds %q, want only %q", got, want)
	}

	// What older versions left beside the config, and a new text whose
	// rename the kill prevented.
	legacy := []string{filepath.Join(dir, ".socketbar-test-123.conf"), filepath.Join(dir, ".apache_serviceproxy.conf.socketbar-456")}
	for _, p := range legacy {
		if err := os.WriteFile(p, []byte("Listen 81\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	store := BackupStoreFor(tf.main)
	stale := func() []string {
		left, _ := filepath.Glob(filepath.Join(store.Dir, testDirPattern))
		for _, p := range legacy {
			if _, err := os.Lstat(p); err == nil {
				left = append(left, p)
			}
		}
		return left
	}
	if left := stale(); len(left) != len(legacy)+1 {
		t.Fatalf("stale files %q, want the planted ones and the killed test's folder", left)
	}
	a := &Applier{ConfigPath: tf.main, Backups: store, Tester: okTester{}, Service: failingService{}}

	lock, err := lockFile(filepath.Join(store.Dir, ".lock"))
	if err != nil {
		t.Fatal(err)
	}
	before := stale()
	a.Restart(context.Background())
	if after := stale(); !slices.Equal(after, before) {
		t.Errorf("restart removed %q while another Socketbar held the lock; want them left", before)
	}
	lock.Close()

	a.Restart(context.Background())
	if left := stale(); len(left) > 0 {
		t.Errorf("after restart these are still there: %q", left)
	}
}

// TestRecoveryRemovesWhatTheKilledChangeLeft: a change killed while it
// wrote leaves the new text of another file (the customsites file) not
// yet renamed into place beside that file, or a history record or
// journal not yet renamed in the backup folder. Over SSH each of those
// is a round trip away from its rename, so a lost connection leaves them
// often. The recovery of the next command, whichever it is (a restart
// reads no change of its own), removes them, and nothing else.
func TestRecoveryRemovesWhatTheKilledChangeLeft(t *testing.T) {
	tf := newTwoFiles(t)
	a := &Applier{ConfigPath: tf.main, Tester: okTester{}, Backups: BackupStoreFor(tf.main)}
	killAt(t, a, tf.change, StepBackup)
	left := []string{
		filepath.Join(filepath.Dir(tf.site), "."+filepath.Base(tf.site)+".socketbar-77"),
		filepath.Join(a.Backups.Dir, "."+JournalName+".tmp-88"),
	}
	kept := filepath.Join(filepath.Dir(tf.site), ".someone-elses.socketbar-1")
	for _, p := range append(left, kept) {
		if err := os.WriteFile(p, tf.newSite, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rec, err := RecoverJournal(context.Background(), a)
	if err != nil || rec == nil {
		t.Fatalf("RecoverJournal = %v, %v; want the killed change settled", rec, err)
	}
	for _, p := range left {
		if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s was left: %v", p, err)
		}
	}
	if _, err := os.Lstat(kept); err != nil {
		t.Errorf("a file Socketbar did not write was removed: %v", err)
	}
	tf.want(t, tf.oldMain, tf.oldSite)
}
