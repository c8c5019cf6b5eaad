package serverctl

import (
	"bytes"
	"context"
	"errors"
	"github.com/socketbar/socketbar/serverctl/service"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// editingTester is a config test during which another program (Server.app)
// writes the config.
type editingTester struct {
	path string
	text []byte
}

func (e editingTester) Test(context.Context, string) (string, error) {
	return "Syntax OK", os.WriteFile(e.path, e.text, 0o644)
}

type okTester struct{}

func (okTester) Test(context.Context, string) (string, error) { return "Syntax OK", nil }

// TestApplyNeverLosesAnotherWritersEdit: whether the other edit lands
// during the config test or between the test and the rename, Apply writes
// nothing, says ErrChangedOnDisk, and the other edit is on disk byte for
// byte; the history does not count the change as applied.
func TestApplyNeverLosesAnotherWritersEdit(t *testing.T) {
	old, mine, theirs := []byte("Listen 80\n"), []byte("Listen 81\n"), []byte("Listen 80\n# Server.app was here\n")
	for _, tt := range []struct {
		name   string
		tester func(path string) ConfigTester
		after  Step // the other writer writes after this step
	}{
		{"during the config test", func(p string) ConfigTester { return editingTester{p, theirs} }, ""},
		{"after the config test", func(string) ConfigTester { return okTester{} }, StepTest},
		{"after the backup", func(string) ConfigTester { return okTester{} }, StepBackup},
		{"right before the rename", func(string) ConfigTester { return okTester{} }, StepWrite},
	} {
		t.Run(tt.name, func(t *testing.T) {
			conf := filepath.Join(t.TempDir(), "apache_serviceproxy.conf")
			if err := os.WriteFile(conf, old, 0o644); err != nil {
				t.Fatal(err)
			}
			a := &Applier{ConfigPath: conf, Tester: tt.tester(conf), Backups: BackupStoreFor(conf)}
			if tt.after != "" {
				a.AfterStep = func(s Step) {
					if s == tt.after {
						if err := os.WriteFile(conf, theirs, 0o644); err != nil {
							t.Error(err)
						}
					}
				}
			}
			_, err := a.Apply(context.Background(), Change{Old: old, New: mine})
			if !errors.Is(err, ErrChangedOnDisk) || !strings.Contains(err.Error(), "nothing written") {
				t.Fatalf("err = %v, want ErrChangedOnDisk", err)
			}
			if got, _ := os.ReadFile(conf); !bytes.Equal(got, theirs) {
				t.Errorf("config = %q, want the other writer's %q (%d bytes lost)", got, theirs, len(theirs)-len(got))
			}
			entries, _ := a.Backups.List()
			for _, e := range entries {
				if e.Applied() {
					t.Errorf("history counts %s as applied", e.ID)
				}
			}
			if a.Backups.Interrupted() {
				t.Error("the journal is left behind")
			}
		})
	}
}

// failingService never comes back; restart runs hook first.
type failingService struct{ hook func() }

func (failingService) Name() string { return "fake" }
func (failingService) State(context.Context) (service.State, error) {
	return service.State{}, nil
}
func (f failingService) Restart(context.Context) error {
	if f.hook != nil {
		f.hook()
	}
	return errors.New("does not start")
}

// TestRollbackLeavesAnotherWritersEdit: when the new config does not come
// up and another program wrote the file after the rename, the rollback
// does not write the old text over theirs, and says so.
func TestRollbackLeavesAnotherWritersEdit(t *testing.T) {
	old, mine, theirs := []byte("Listen 80\n"), []byte("Listen 81\n"), []byte("Listen 82\n# Server.app\n")
	conf := filepath.Join(t.TempDir(), "apache_serviceproxy.conf")
	if err := os.WriteFile(conf, old, 0o644); err != nil {
		t.Fatal(err)
	}
	first := true
	svc := failingService{hook: func() {
		if first {
			first = false
			os.WriteFile(conf, theirs, 0o644)
		}
	}}
	a := &Applier{ConfigPath: conf, Tester: okTester{}, Backups: BackupStoreFor(conf), Service: svc, VerifyTimeout: 1}
	_, err := a.Apply(context.Background(), Change{Old: old, New: mine})
	var rse *RestartError
	if !errors.As(err, &rse) || !errors.Is(rse.RollbackErr, ErrChangedOnDisk) {
		t.Fatalf("err = %v, want a RestartError whose rollback refused with ErrChangedOnDisk", err)
	}
	if got, _ := os.ReadFile(conf); !bytes.Equal(got, theirs) {
		t.Errorf("config = %q, want the other writer's %q", got, theirs)
	}
	if rse.Backup.Outcome != OutcomeSuperseded {
		t.Errorf("outcome = %q", rse.Backup.Outcome)
	}
}

// TestReplaceFileKeepsSymlink: a config that is a link stays a link, and
// the file it points to gets the new text.
func TestReplaceFileKeepsSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real", "apache_serviceproxy.conf")
	link := filepath.Join(dir, "apache_serviceproxy.conf")
	os.MkdirAll(filepath.Dir(real), 0o755)
	if err := os.WriteFile(real, []byte("Listen 80\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real/apache_serviceproxy.conf", link); err != nil {
		t.Fatal(err)
	}
	a := &Applier{ConfigPath: link, Tester: okTester{}, Backups: BackupStoreFor(link)}
	if _, err := a.Apply(context.Background(), Change{Old: []byte("Listen 80\n"), New: []byte("Listen 81\n")}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(link)
	if err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the config is no longer a link: %v %v", fi.Mode(), err)
	}
	if got, _ := os.ReadFile(real); string(got) != "Listen 81\n" {
		t.Errorf("link target = %q", got)
	}
	if fi, _ := os.Stat(real); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode = %v", fi.Mode())
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "real", ".*")); len(left) != 0 {
		t.Errorf("left %v", left)
	}
}

// TestHistorySanitisesDescriptions: control characters written into a
// backup's metadata never reach the terminal raw.
func TestHistorySanitisesDescriptions(t *testing.T) {
	s := BackupStore{Dir: t.TempDir()}
	hostile := "add /ws\x1b]0;pwned\x07\r\nFAKE LINE\x1b[2J\u202eevil\u009b"
	e, err := s.Save(BackupEntry{Time: time.Now(), Description: hostile, Routes: []ManagedRoute{{Path: "/a\x1b[31m"}}}, FileEdit{Old: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := s.List()
	_, _, lerr := s.Load(e.ID)
	if lerr != nil {
		t.Fatal(lerr)
	}
	if len(entries) != 1 {
		t.Fatalf("%d entries", len(entries))
	}
	for _, text := range []string{entries[0].Description, entries[0].Routes[0].Path} {
		for _, r := range text {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u202e' {
				t.Errorf("%q holds control character %U", text, r)
			}
		}
	}
	if !strings.Contains(entries[0].Description, `\x1b]0;pwned`) || !strings.Contains(entries[0].Description, "FAKE LINE") {
		t.Errorf("description = %q; want the text kept with the control characters escaped", entries[0].Description)
	}
}

const handConf = "<VirtualHost *:443>\n\tServerName a\n\tProxyPass / http://127.0.0.1:34543/\n</VirtualHost>\n"

func addedBlock(t *testing.T) []byte {
	t.Helper()
	e, err := mustParse(t, handConf).AddRoute(AddRequest{Path: "/ws", Backend: "http://127.0.0.1:8000", Strategy: StrategyTunnel})
	if err != nil {
		t.Fatal(err)
	}
	return e.New
}

// TestRemoveRefusesHandAddedLines: a line added by hand inside a block is
// never dropped silently; the error names it, and KeepHandLines keeps it.
func TestRemoveRefusesHandAddedLines(t *testing.T) {
	src := strings.Replace(string(addedBlock(t)), "\tRewriteEngine On\n", "\tRewriteEngine On\n\tHeader set X-Admin yes\n", 1)
	c := mustParse(t, src)
	_, err := c.RemoveRoute("/ws", nil)
	var he *HandEditedError
	if !errors.As(err, &he) || len(he.Lines) != 1 || he.Lines[0].Text != "Header set X-Admin yes" || !strings.Contains(err.Error(), "line 5: Header set X-Admin yes") {
		t.Fatalf("err = %v, want a HandEditedError naming line 5", err)
	}
	if _, err := c.AddRoute(AddRequest{Path: "/ws", Backend: "http://127.0.0.1:9000", Strategy: StrategyTunnel, Replace: true}); !errors.As(err, &he) {
		t.Errorf("replace: err = %v, want a HandEditedError", err)
	}
	e, err := c.RemoveRouteWith("/ws", nil, RemoveOptions{KeepHandLines: true})
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Replace(handConf, "\tProxyPass /", "\tHeader set X-Admin yes\n\tProxyPass /", 1); string(e.New) != want {
		t.Errorf("kept:\n%s\nwant:\n%s", e.New, want)
	}
}

// TestBlockShowsItsRulesBackend: when the begin marker names another
// backend than the block's rules, the rules' backend is what is shown.
func TestBlockShowsItsRulesBackend(t *testing.T) {
	src := strings.Replace(string(addedBlock(t)), "/ws -> http://127.0.0.1:8000/ws ", "/ws -> http://evil.example:1/ws ", 1)
	if !strings.Contains(src, "evil.example") {
		t.Fatalf("marker not rewritten:\n%s", src)
	}
	c := mustParse(t, src)
	blocks, err := c.Blocks()
	if err != nil || len(blocks) != 1 {
		t.Fatalf("blocks = %v, %v", blocks, err)
	}
	if blocks[0].Backend != "http://127.0.0.1:8000/ws" || blocks[0].Strategy != StrategyTunnel {
		t.Errorf("backend = %s (%s), want the rules' http://127.0.0.1:8000/ws (tunnel)", blocks[0].Backend, blocks[0].Strategy)
	}
	if e, err := c.RemoveRoute("/ws", nil); err != nil || string(e.New) != handConf {
		t.Errorf("remove: %v\n%s", err, e.New)
	}
}

// TestDriftIgnoresChangesThatNeverCompleted: a rolled-back, unwritten or
// pending change does not make the config look drifted.
func TestDriftIgnoresChangesThatNeverCompleted(t *testing.T) {
	src := addedBlock(t)
	c := mustParse(t, string(src))
	for _, o := range []Outcome{OutcomeRolledBack, OutcomeNotWritten, OutcomeSuperseded, OutcomePending} {
		s := BackupStore{Dir: t.TempDir()}
		base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		if _, err := s.Save(BackupEntry{Time: base, Routes: c.ManagedRoutes()}, FileEdit{New: src}); err != nil {
			t.Fatal(err)
		}
		// The newer change would have added /other, but did not complete.
		routes := append(c.ManagedRoutes(), ManagedRoute{VHost: "*:443", Path: "/other", Backend: "http://127.0.0.1:1/other", Strategy: StrategyTunnel})
		if _, err := s.Save(BackupEntry{Time: base.Add(time.Second), Routes: routes, Outcome: o}, FileEdit{Old: src}); err != nil {
			t.Fatal(err)
		}
		if d, err := FindDrift(c, s, nil); err != nil || d != nil {
			t.Errorf("%s: drift = %+v, %v; want none", o, d, err)
		}
		if u, err := s.UndoTarget(); err != nil || u.Outcome != "" {
			t.Errorf("%s: undo target = %+v, %v; want the applied change", o, u, err)
		}
	}
}

// TestRecoverSettlesPendingWithoutJournal: a process killed between the
// backup and the journal leaves a pending entry; RecoverJournal marks it
// not written, so drift detection works again.
func TestRecoverSettlesPendingWithoutJournal(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "apache_serviceproxy.conf")
	os.WriteFile(conf, []byte("Listen 80\n"), 0o644)
	a := &Applier{ConfigPath: conf, Tester: okTester{}, Backups: BackupStoreFor(conf)}
	if _, err := a.Backups.Save(BackupEntry{Time: time.Now(), Outcome: OutcomePending}, FileEdit{Old: []byte("Listen 80\n")}); err != nil {
		t.Fatal(err)
	}
	if _, err := RecoverJournal(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	entries, _ := a.Backups.List()
	if len(entries) != 1 || entries[0].Outcome != OutcomeNotWritten {
		t.Errorf("entries = %+v, want one marked not written", entries)
	}
}

// stoppedService restarts without error but never runs.
type stoppedService struct{}

func (stoppedService) Name() string                                 { return "fake" }
func (stoppedService) State(context.Context) (service.State, error) { return service.State{}, nil }
func (stoppedService) Restart(context.Context) error                { return nil }

// TestRollbackOfAServiceThatWasDownSaysSo: the Service Proxy was stopped
// before the change and stays down with either config. The old config is
// back (Restored), so undo would change nothing, and the cause says the
// service was down before.
func TestRollbackOfAServiceThatWasDownSaysSo(t *testing.T) {
	old, mine := []byte("Listen 80\n"), []byte("Listen 81\n")
	conf := filepath.Join(t.TempDir(), "apache_serviceproxy.conf")
	if err := os.WriteFile(conf, old, 0o644); err != nil {
		t.Fatal(err)
	}
	a := &Applier{ConfigPath: conf, Tester: okTester{}, Backups: BackupStoreFor(conf), Service: stoppedService{}, VerifyTimeout: time.Millisecond}
	_, err := a.Apply(context.Background(), Change{Old: old, New: mine})
	var rse *RestartError
	if !errors.As(err, &rse) || !rse.Restored || rse.RollbackErr == nil || !errors.Is(rse.Cause, ErrWasStopped) {
		t.Fatalf("err = %#v, want a RestartError: restored, still down, down before", err)
	}
	if got, _ := os.ReadFile(conf); !bytes.Equal(got, old) {
		t.Errorf("config = %q, want the old text back", got)
	}
	if strings.Contains(rse.Error(), "undo to it") {
		t.Errorf("the message advises an undo that changes nothing:\n%s", rse.Error())
	}
}
