package elevate

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/socketbar/socketbar/serverctl/run"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/servertest"
)

func TestOsascriptCommandPassesValuesAsArguments(t *testing.T) {
	hostile := []string{
		"/Applications/Socket bar.app/Contents/MacOS/socketbar",
		"apply-plan",
		"/tmp/it's \"quoted\"/$(rm -rf ~)/`id`/line\nbreak/plan.json",
	}
	cmd, err := OsascriptCommand(hostile)
	if err != nil {
		t.Fatal(err)
	}
	if cmd.Path != "/usr/bin/osascript" {
		t.Errorf("path = %s", cmd.Path)
	}
	// The script is fixed text: every -e line is one of ours, none holds a value.
	var lines []string
	i := 0
	for ; i+1 < len(cmd.Args) && cmd.Args[i] == "-e"; i += 2 {
		lines = append(lines, cmd.Args[i+1])
	}
	if !slices.Equal(lines, script) {
		t.Errorf("script = %q", lines)
	}
	if !slices.Equal(cmd.Args[i:], hostile) {
		t.Errorf("arguments after the script = %q, want the values unchanged", cmd.Args[i:])
	}
	joined := strings.Join(lines, "\n")
	if !strings.Contains(joined, "quoted form of") || !strings.Contains(joined, "with administrator privileges") {
		t.Error("script does not quote its arguments or does not ask for administrator rights")
	}
	for _, bad := range [][]string{{"relative/socketbar", "x"}, {"/bin/socketbar", "-e", "do shell script"}, {"/bin/socketbar", ""}} {
		if _, err := OsascriptCommand(bad); err == nil {
			t.Errorf("OsascriptCommand(%q) accepted", bad)
		}
	}
}

type runnerFunc func(context.Context, run.Command) ([]byte, error)

func (f runnerFunc) Run(ctx context.Context, c run.Command) ([]byte, error) { return f(ctx, c) }

func TestOnlyUserCancelIsCancelled(t *testing.T) {
	for _, tt := range []struct {
		out       string
		cancelled bool
	}{
		{"0:61: execution error: User canceled. (-128)", true},
		{"0:61: execution error: Benutzer hat abgebrochen. (-128)", true}, // localised text, same code
		{"0:61: execution error: The administrator user name or password was incorrect. (-60005)", false},
		{"osascript: no such file", false},
	} {
		r := runnerFunc(func(context.Context, run.Command) ([]byte, error) {
			return []byte(tt.out), errors.New("exit status 1")
		})
		_, err := Run(context.Background(), r, []string{"/bin/socketbar", "apply-plan"})
		if errors.Is(err, ErrCancelled) != tt.cancelled || err == nil {
			t.Errorf("%q: err = %v, cancelled want %v", tt.out, err, tt.cancelled)
		}
	}
}

// server copies the 5.3.1 fixture with a stand-in httpd as the launchd
// job's program.
func server(t *testing.T) (root, conf string) { return servertest.CopyWithHTTPD(t, "5.3.1") }

// standIn plays osascript after the password was typed: before running the
// elevated half (in-process, as root would run it) it calls tamper, which
// plays another process of the same user.
type standIn struct {
	tamper func(args []string)
	ran    []string
}

func (s *standIn) Run(ctx context.Context, cmd run.Command) ([]byte, error) {
	i := 0
	for i+1 < len(cmd.Args) && cmd.Args[i] == "-e" {
		i += 2
	}
	s.ran = cmd.Args[i:]
	if s.tamper != nil {
		s.tamper(s.ran)
	}
	if len(s.ran) < 2 || s.ran[1] != Command {
		return nil, errors.New("not an apply-plan command")
	}
	res := RunPlan(ctx, s.ran[2:])
	return json.Marshal(res)
}

func change(t *testing.T, conf string, extra string) serverctl.Change {
	t.Helper()
	old, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	return serverctl.Change{Old: old, New: append(append([]byte(nil), old...), extra...), Description: "test"}
}

func TestElevatedApplyRunsTheApprovedChange(t *testing.T) {
	root, conf := server(t)
	ch := change(t, conf, "# approved\n")
	s := &standIn{}
	res, err := Apply(context.Background(), s, "/usr/local/bin/socketbar", Plan{Root: root, NoRestart: true}, ch)
	if err != nil || !res.OK || res.BackupID == "" {
		t.Fatalf("Apply = %+v, %v", res, err)
	}
	if got, _ := os.ReadFile(conf); string(got) != string(ch.New) {
		t.Error("the config is not the approved text")
	}
	if len(s.ran) != 6 || s.ran[1] != Command {
		t.Errorf("elevated argv = %q", s.ran)
	}
	// The plan folder is private and gone afterwards.
	if _, err := os.Stat(filepath.Dir(s.ran[2])); !os.IsNotExist(err) {
		t.Errorf("plan folder left behind: %v", err)
	}
	// Computed from the old text: the same plan again must be refused.
	_, err = Apply(context.Background(), s, "/usr/local/bin/socketbar", Plan{Root: root, NoRestart: true}, ch)
	if !errors.Is(err, serverctl.ErrChangedOnDisk) {
		t.Errorf("stale plan: err = %v, want ErrChangedOnDisk through the wire", err)
	}
}

func TestElevatedApplyRefusesFilesSwappedAfterThePrompt(t *testing.T) {
	evil := []byte("# evil: ProxyPass / http://attacker/\n")
	for _, tt := range []struct {
		name   string
		tamper func(t *testing.T, args []string)
	}{
		{"new text rewritten", func(t *testing.T, a []string) { write(t, a[4], evil) }},
		{"plan rewritten", func(t *testing.T, a []string) {
			data, _ := os.ReadFile(a[2])
			write(t, a[2], []byte(strings.Replace(string(data), `"no_restart":true`, `"no_restart":false`, 1)))
		}},
		{"new text replaced by a link", func(t *testing.T, a []string) {
			other := filepath.Join(t.TempDir(), "other.conf")
			write(t, other, evil)
			os.Remove(a[4])
			if err := os.Symlink(other, a[4]); err != nil {
				t.Fatal(err)
			}
		}},
		{"plan removed", func(t *testing.T, a []string) { os.Remove(a[2]) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			root, conf := server(t)
			before, _ := os.ReadFile(conf)
			s := &standIn{tamper: func(a []string) { tt.tamper(t, a) }}
			_, err := Apply(context.Background(), s, "/usr/local/bin/socketbar", Plan{Root: root, NoRestart: true}, change(t, conf, "# approved\n"))
			if err == nil {
				t.Fatal("a swapped plan was applied")
			}
			if after, _ := os.ReadFile(conf); string(after) != string(before) {
				t.Error("the config changed")
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(conf), "socketbar-backups")); err == nil {
				entries, _ := os.ReadDir(filepath.Join(filepath.Dir(conf), "socketbar-backups"))
				for _, e := range entries {
					if strings.HasSuffix(e.Name(), ".bak") {
						t.Errorf("a backup was made: %s", e.Name())
					}
				}
			}
		})
	}
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestElevatedHalfRunsOnlyARootOwnedHTTPD(t *testing.T) {
	root, conf := server(t)
	// Anyone could swap what root runs; the stand-ins note each run.
	ran := filepath.Join(t.TempDir(), "ran")
	for _, p := range []string{"Applications/Server.app/Contents/ServerRoot/usr/sbin/httpd-server-wrapper", "usr/sbin/httpd"} {
		p = filepath.Join(root, p)
		write(t, p, []byte("#!/bin/sh\necho \"$0 $*\" >> "+ran+"\n"+servertest.FakeHTTPD[len("#!/bin/sh\n"):]))
		if err := os.Chmod(p, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	before, _ := os.ReadFile(conf)
	_, err := Apply(context.Background(), &standIn{}, "/usr/local/bin/socketbar", Plan{Root: root, NoRestart: true}, change(t, conf, "# approved\n"))
	if err == nil || !strings.Contains(err.Error(), "will not run as root") {
		t.Fatalf("err = %v, want a refusal to run a writable httpd", err)
	}
	if after, _ := os.ReadFile(conf); string(after) != string(before) {
		t.Error("the config changed")
	}
	if got, err := os.ReadFile(ran); err == nil {
		t.Errorf("root ran a program anyone may change:\n%s", got)
	}
}

func TestWireErrorsKeepTheirType(t *testing.T) {
	errs := []error{
		&serverctl.ConfigTestError{Output: "AH00526: Syntax error"},
		&serverctl.RestartError{Cause: errors.New("not running"), LogTail: "AH00072", Backup: serverctl.BackupEntry{ID: "20260101-000000"}, RollbackErr: errors.New("still down")},
		&serverctl.NotFoundError{Root: "/x", Looked: []string{"/x/a"}},
		&serverctl.NoHTTPDError{Looked: []string{"/x/httpd"}},
		&serverctl.InputError{Field: serverctl.FieldPath, Msg: "must start with /", Remedy: serverctl.RemedyReplace},
		&serverctl.OutcomeNotRecordedError{Entry: serverctl.BackupEntry{ID: "20260101-000000"}, Outcome: serverctl.OutcomeApplied, Err: errors.New("disk full")},
		&serverctl.RestartError{Cause: errors.New("not running"), Backup: serverctl.BackupEntry{ID: "20260101-000000"}, Restored: true,
			Unrecorded: &serverctl.OutcomeNotRecordedError{Entry: serverctl.BackupEntry{ID: "20260101-000000"}, Outcome: serverctl.OutcomeRolledBack, Err: errors.New("disk full")}},
	}
	for _, want := range errs {
		data, err := json.Marshal(NewWireError(want))
		if err != nil {
			t.Fatal(err)
		}
		var w WireError
		if err := json.Unmarshal(data, &w); err != nil {
			t.Fatal(err)
		}
		got := w.Err()
		if got.Error() != want.Error() {
			t.Errorf("round trip of %T: %q, want %q", want, got, want)
		}
		var ore *serverctl.OutcomeNotRecordedError
		if errors.As(want, &ore) && !errors.As(got, &ore) {
			t.Errorf("round trip of %T lost the *OutcomeNotRecordedError", want)
		}
	}
	w := NewWireError(errors.Join(errors.New("x"), serverctl.ErrChangedOnDisk))
	if !errors.Is(w.Err(), serverctl.ErrChangedOnDisk) {
		t.Error("ErrChangedOnDisk lost its identity")
	}
}

func TestOwnedByRootTrustsOnlyAdministratorsGroups(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give files to root and to other groups")
	}
	dir := filepath.Join(t.TempDir(), "Applications")
	httpd := filepath.Join(dir, "httpd")
	if err := os.Mkdir(dir, 0o775); err != nil {
		t.Fatal(err)
	}
	write(t, httpd, []byte(servertest.FakeHTTPD))
	for _, tt := range []struct {
		gid  int
		mode os.FileMode
		ok   bool
	}{
		{80, 0o775, true},    // macOS /Applications: root:admin 0775
		{1000, 0o775, false}, // any other group may swap the program
		{1000, 0o755, true},
		{80, 0o777, false}, // writable by all, not sticky
	} {
		if err := os.Chown(dir, 0, tt.gid); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, tt.mode); err != nil {
			t.Fatal(err)
		}
		err := ownedByRootTrusting(httpd, map[uint32]bool{0: true, 80: true})
		if (err == nil) != tt.ok {
			t.Errorf("folder gid %d mode %o: err = %v, want ok %v", tt.gid, tt.mode, err, tt.ok)
		}
	}
}

// TestElevatedHalfWritesOnlyIncludedFiles: a change that spans the main
// config and Server 5.1's customsites file goes through one prompt; a plan
// that names any other file (here one beside the config that the config
// does not include) is refused, and neither file is written.
func TestElevatedHalfWritesOnlyIncludedFiles(t *testing.T) {
	root, conf := servertest.CopyWithHTTPD(t, "5.1.7-sites")
	sites := filepath.Join(filepath.Dir(conf), "apache_serviceproxy_customsites.conf")
	other := filepath.Join(filepath.Dir(conf), "not_included.conf")
	write(t, other, []byte("# not read by Apache\n"))
	for _, tt := range []struct {
		name   string
		target string
		ok     bool
	}{
		{"an included file", sites, true},
		{"a file the config does not include", other, false},
		{"the main config twice", conf, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ch := change(t, conf, "# approved\n")
			old, err := os.ReadFile(tt.target)
			if err != nil {
				t.Fatal(err)
			}
			ch.Also = []serverctl.FileEdit{{Path: tt.target, Old: old, New: append(append([]byte(nil), old...), "# also approved\n"...)}}
			_, err = Apply(context.Background(), &standIn{}, "/usr/local/bin/socketbar", Plan{Root: root, NoRestart: true}, ch)
			if tt.ok {
				if err != nil {
					t.Fatal(err)
				}
				if got, _ := os.ReadFile(tt.target); string(got) != string(ch.Also[0].New) {
					t.Error("the included file is not the approved text")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "not a file the Service Proxy's config includes") {
				t.Fatalf("err = %v; want a refusal", err)
			}
			if got, _ := os.ReadFile(conf); string(got) != string(ch.Old) {
				t.Error("the main config was written")
			}
			if got, _ := os.ReadFile(tt.target); string(got) != string(old) {
				t.Error("the named file was written")
			}
		})
	}
}

// TestElevatedHalfFollowsALinkedSiteFile: a customsites file that is a link
// (put there by root or an administrator) is read and written through the
// link, as without the prompt, and stays a link.
func TestElevatedHalfFollowsALinkedSiteFile(t *testing.T) {
	root, conf := servertest.CopyWithHTTPD(t, "5.1.7-sites")
	sites := filepath.Join(filepath.Dir(conf), "apache_serviceproxy_customsites.conf")
	real := filepath.Join(root, "elsewhere.conf")
	old, err := os.ReadFile(sites)
	if err != nil {
		t.Fatal(err)
	}
	write(t, real, old)
	if err := os.Remove(sites); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, sites); err != nil {
		t.Fatal(err)
	}
	ch := change(t, conf, "# approved\n")
	ch.Also = []serverctl.FileEdit{{Path: sites, Old: old, New: append(append([]byte(nil), old...), "# also approved\n"...)}}
	if _, err := Apply(context.Background(), &standIn{}, "/usr/local/bin/socketbar", Plan{Root: root, NoRestart: true}, ch); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(real); string(got) != string(ch.Also[0].New) {
		t.Error("the link's target is not the approved text")
	}
	if fi, err := os.Lstat(sites); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the customsites file is no longer a link: %v", err)
	}
}

// TestElevatedApplyRefusesASwappedSiteText: the new text of a file other
// than the main config travels beside the plan, tied to it by the hash the
// plan records; one rewritten after the prompt is refused, and neither
// file is written.
func TestElevatedApplyRefusesASwappedSiteText(t *testing.T) {
	root, conf := servertest.CopyWithHTTPD(t, "5.1.7-sites")
	sites := filepath.Join(filepath.Dir(conf), "apache_serviceproxy_customsites.conf")
	old, err := os.ReadFile(sites)
	if err != nil {
		t.Fatal(err)
	}
	ch := change(t, conf, "# approved\n")
	ch.Also = []serverctl.FileEdit{{Path: sites, Old: old, New: append(append([]byte(nil), old...), "# also approved\n"...)}}
	s := &standIn{tamper: func(a []string) {
		write(t, filepath.Join(filepath.Dir(a[2]), "new-1.conf"), []byte("# evil: ProxyPass / http://attacker/\n"))
	}}
	_, err = Apply(context.Background(), s, "/usr/local/bin/socketbar", Plan{Root: root, NoRestart: true}, ch)
	if !errors.Is(err, ErrTampered) {
		t.Fatalf("err = %v; want ErrTampered", err)
	}
	if got, _ := os.ReadFile(conf); string(got) != string(ch.Old) {
		t.Error("the main config was written")
	}
	if got, _ := os.ReadFile(sites); string(got) != string(old) {
		t.Error("the customsites file was written")
	}
}
