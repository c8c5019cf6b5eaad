package cli

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/action"
	"github.com/socketbar/socketbar/serverctl/servertest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// The output of status, routes, history and lint, in text and JSON, is a
// contract with the scripts that read it: it is compared byte for byte
// with golden files written before the action layer returned views. The
// tree is a Server with custom sites, a Socketbar route, a route that
// vanished since Socketbar's last change (drift), and a history with an
// applied, a rolled-back and an undone change, and its modules' folder
// holds one of them.
func TestOutputIsTheContractScriptsRead(t *testing.T) {
	utc := time.Local
	time.Local = time.UTC // the text prints local times
	t.Cleanup(func() { time.Local = utc })
	ctx := context.Background()
	root := servertest.Copy(t, "5.3.1-sites")
	conf := filepath.Join(root, proxyConf)
	p, err := (&action.Local{}).ProposeAdd(ctx, action.AddOptions{Target: action.Target{Root: root}, Path: "/ws/", Backend: "http://127.0.0.1:8000/ws/", Strategy: serverctl.StrategyTunnel})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, p.New, 0o644); err != nil {
		t.Fatal(err)
	}
	store := serverctl.BackupStoreFor(conf)
	at := func(min int) time.Time { return time.Date(2024, 5, 6, 7, min, 9, 0, time.UTC) }
	ws := serverctl.ManagedRoute{VHost: "*:443", Path: "/ws/", Backend: "ws://127.0.0.1:8000/ws/", Strategy: serverctl.StrategyTunnel}
	gone := serverctl.ManagedRoute{VHost: "*:443", Path: "/gone/", Backend: "ws://127.0.0.1:8001/gone/", Strategy: serverctl.StrategyTunnel}
	save := func(e serverctl.BackupEntry) serverctl.BackupEntry {
		t.Helper()
		e, err := store.Save(e, serverctl.FileEdit{Path: conf, Old: p.Old, New: p.New})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	added := save(serverctl.BackupEntry{Time: at(1), Description: "add /ws/ and /gone/", Routes: []serverctl.ManagedRoute{ws, gone}, Outcome: serverctl.OutcomeApplied})
	save(serverctl.BackupEntry{Time: at(2), Description: "add /rb/", Routes: []serverctl.ManagedRoute{ws, gone}, Outcome: serverctl.OutcomeRolledBack})
	// The module folder exists with one module in it: the others are missing.
	mods := filepath.Join(root, "usr/libexec/apache2")
	if err := os.MkdirAll(mods, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mods, "mod_authn_file.so"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	changed := at(3)
	if err := os.Chtimes(conf, changed, changed); err != nil {
		t.Fatal(err)
	}
	outputs := map[string][]string{
		"status":  {"status", "--root", root},
		"routes":  {"routes", "--root", root},
		"lint":    {"lint", "--root", root},
		"history": {"history", "--root", root},
	}
	check := func(name string, args []string) {
		t.Helper()
		r := runIn(t, &action.Local{}, nil, args...)
		got := strings.ReplaceAll(r.stdout, root, "$ROOT") + "-- exit " + string(rune('0'+r.code)) + "\n"
		golden := filepath.Join("testdata", "contract", name+".txt")
		if *update {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run with -update)", err)
		}
		if got != string(want) {
			t.Errorf("socketbar %s differs from %s:\n got:\n%s\nwant:\n%s", strings.Join(args, " "), golden, got, want)
		}
	}
	for name, args := range outputs {
		check(name, args)
		check(name+".json", append([]string{args[0], "--json"}, args[1:]...))
	}
	// An undo that took effect: the change it undid is undone.
	save(serverctl.BackupEntry{Time: at(4), Description: "undo: add /ws/ and /gone/", UndoOf: added.ID, Outcome: serverctl.OutcomeApplied})
	check("history-undone", outputs["history"])
	check("history-undone.json", []string{"history", "--json", "--root", root})
}
