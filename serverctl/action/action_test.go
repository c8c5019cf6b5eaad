package action

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/elevate"
	"github.com/socketbar/socketbar/serverctl/servertest"
)

func TestParseRouteRefusesWhatAddRefuses(t *testing.T) {
	for _, bad := range []string{"ws", "/x=ftp://h/", "/x=http:///p", "/x", "/x=http://127.0.0.1:0/x",
		"/x=http://127.0.0.1:99999/x", "/x\n=http://h/x", "/a/../b=http://h/b", "/x=http://u:p@h/x", "/x=127.0.0.1:5020"} {
		if _, err := ParseRoute(bad); err == nil {
			t.Errorf("ParseRoute(%q) accepted", bad)
		}
	}
	if r, err := ParseRoute("/ws/=http://127.0.0.1:8000/ws/"); err != nil || r.Path != "/ws/" {
		t.Errorf("a good route: %+v, %v", r, err)
	}
}

// history makes n changes under root without restarting and returns
// their IDs, newest first.
func history(t *testing.T, l *Local, root string, paths ...string) []string {
	t.Helper()
	for _, p := range paths {
		prop, err := l.ProposeAdd(context.Background(), AddOptions{Target: Target{Root: root}, Path: p, Backend: "http://127.0.0.1:8000" + p})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Apply(context.Background(), prop, ApplyOptions{NoRestart: true}); err != nil {
			t.Fatal(err)
		}
	}
	h, err := l.History(context.Background(), Target{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range h.Entries {
		ids = append(ids, e.ID)
	}
	return ids
}

func TestUndoTakesAUniquePrefixOfAnID(t *testing.T) {
	root, _ := servertest.CopyWithHTTPD(t, "5.3.1")
	l := &Local{}
	ids := history(t, l, root, "/a/", "/b/")
	undo := func(to string) (*Proposal, error) {
		return l.ProposeUndo(context.Background(), UndoOptions{Target: Target{Root: root}, To: to})
	}
	if p, err := undo(ids[1]); err != nil || p.UndoOf != ids[1] {
		t.Errorf("whole ID: %+v, %v", p, err)
	}
	common := commonPrefix(ids[0], ids[1])
	unique := ids[0][:len(common)+1]
	if p, err := undo(unique); err != nil || p.UndoOf != ids[0] {
		t.Errorf("unique prefix %q: %v, %v", unique, p, err)
	}
	var in *serverctl.InputError
	if _, err := undo(common); !errors.As(err, &in) || in.Field != serverctl.FieldBackup || !strings.Contains(in.Msg, "starts 2 IDs") {
		t.Errorf("ambiguous prefix %q: %v", common, err)
	}
	if _, err := undo("../../etc/passwd"); !errors.As(err, &in) || in.Remedy != serverctl.RemedyHistory {
		t.Errorf("a path as ID: %v", err)
	}
}

func commonPrefix(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return a[:i]
}

// promptRecorder fails the test if a prompt is shown.
type promptRecorder struct{ asked int }

func (p *promptRecorder) Apply(context.Context, elevate.Plan, serverctl.Change) (*elevate.Result, error) {
	p.asked++
	return nil, errors.New("prompted")
}

func TestReadOnlyFileSystemNeverPrompts(t *testing.T) {
	root, _ := servertest.CopyWithHTTPD(t, "5.3.1")
	proxyDir := filepath.Join(root, "Library/Server/Web/Config/Proxy")
	// A read-only bind mount of the config's folder: as root too, the
	// kernel refuses every write with EROFS.
	if out, err := exec.Command("mount", "--bind", "-o", "ro", proxyDir, proxyDir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount read-only here: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", proxyDir).Run() })
	if err := exec.Command("mount", "-o", "remount,ro,bind", proxyDir).Run(); err != nil {
		t.Skipf("cannot remount read-only: %v", err)
	}
	prompt := &promptRecorder{}
	l := &Local{Elevator: prompt}
	p, err := l.ProposeAdd(context.Background(), AddOptions{Target: Target{Root: root}, Path: "/ws/", Backend: "http://127.0.0.1:8000/ws/"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Apply(context.Background(), p, ApplyOptions{NoRestart: true})
	var nr *NeedsRootError
	if !errors.As(err, &nr) || !nr.ReadOnly || prompt.asked != 0 {
		t.Errorf("err = %v (read-only %v), prompted %d times; want a read-only refusal and no prompt", err, nr != nil && nr.ReadOnly, prompt.asked)
	}
}

func TestUndoToAnOlderChangeSaysAndRecordsWhatElseItTakesBack(t *testing.T) {
	root, conf := servertest.CopyWithHTTPD(t, "5.3.1")
	l := &Local{}
	ids := history(t, l, root, "/o1/", "/o2/") // newest first: o2, o1
	p, err := l.ProposeUndo(context.Background(), UndoOptions{Target: Target{Root: root}, To: ids[1]})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.AlsoReverts) != 1 || p.AlsoReverts[0].ID != ids[0] {
		t.Fatalf("AlsoReverts = %+v, want the later change %s", p.AlsoReverts, ids[0])
	}
	if _, err := l.Apply(context.Background(), p, ApplyOptions{NoRestart: true}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(conf); strings.Contains(string(b), "/o1/") || strings.Contains(string(b), "/o2/") {
		t.Error("the config still has a route the undo took back")
	}
	h, err := l.History(context.Background(), Target{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	undone := map[string]bool{}
	for _, e := range h.Entries {
		undone[e.ID] = e.Undone
		if e.Undone != (e.State() == "undone") {
			t.Errorf("entry %s: undone %v, state %q", e.ID, e.Undone, e.State())
		}
	}
	if !undone[ids[0]] || !undone[ids[1]] {
		t.Errorf("history marks undone %v, want both %v", undone, ids)
	}
	if rp, err := l.ProposeReapply(context.Background(), Target{Root: root}); err != nil || rp.Lost != nil {
		t.Errorf("reapply after the undo: %+v, %v; want nothing lost", rp, err)
	}
}

func TestUndoRefusesToDropEditsMadeSince(t *testing.T) {
	root, conf := servertest.CopyWithHTTPD(t, "5.3.1")
	l := &Local{}
	history(t, l, root, "/u1/")
	f, err := os.OpenFile(conf, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("# an admin's edit after Socketbar's change\n")
	f.Close()
	_, err = l.ProposeUndo(context.Background(), UndoOptions{Target: Target{Root: root}})
	var since *ChangedSinceError
	if !errors.As(err, &since) {
		t.Fatalf("err = %v, want ChangedSinceError", err)
	}
	p, err := l.ProposeUndo(context.Background(), UndoOptions{Target: Target{Root: root}, Force: true})
	if err != nil || !p.Changed() {
		t.Fatalf("forced undo: %+v, %v", p, err)
	}
}
