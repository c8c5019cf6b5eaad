package serverctl

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A history entry that cannot take its outcome says which change and
// which outcome, with why, as data: the front ends word it, and the
// elevated half sends it back as such.
func TestSetOutcomeThatCannotWriteIsOutcomeNotRecorded(t *testing.T) {
	store := BackupStore{Dir: t.TempDir()}
	entry := BackupEntry{ID: "20240102T030405.000000000Z", Description: "add /ws/"}
	// A folder where the entry goes: the rename onto it fails, as root too.
	blocker := filepath.Join(store.Dir, entry.ID+".json")
	if err := os.MkdirAll(filepath.Join(blocker, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := store.SetOutcome(entry, OutcomeApplied)
	var onr *OutcomeNotRecordedError
	if !errors.As(err, &onr) || onr.Entry.ID != entry.ID || onr.Outcome != OutcomeApplied || onr.Err == nil {
		t.Fatalf("err = %#v; want an OutcomeNotRecordedError for %s, applied, with its cause", err, entry.ID)
	}
	if !strings.HasPrefix(err.Error(), "serverctl: change "+entry.ID+" was applied") {
		t.Errorf("Error() = %q", err)
	}
}

// A route that is already there refuses the add as data, and still is an
// input error about the path with the way out of replacing it, so a form
// marks the Path field.
func TestAddOfAnExistingRouteIsRouteExists(t *testing.T) {
	c := fixtureConfig(t, "5.3.1")
	add, err := c.AddRoute(AddRequest{Path: "/ws/", Backend: "http://127.0.0.1:8000/ws/", Strategy: StrategyTunnel})
	if err != nil {
		t.Fatal(err)
	}
	c2, err := ParseConfig(c.Path, add.New)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c2.AddRoute(AddRequest{Path: "/ws/", Backend: "http://127.0.0.1:9000/ws/", Strategy: StrategyTunnel})
	var ex *RouteExistsError
	var in *InputError
	if !errors.As(err, &ex) || ex.Path != "/ws/" || ex.Backend != "http://127.0.0.1:8000/ws/" || ex.Strategy != StrategyTunnel || ex.VHost == "" || ex.Line == 0 {
		t.Fatalf("err = %#v; want a RouteExistsError naming the route that is there", err)
	}
	if !errors.As(err, &in) || in.Field != FieldPath || in.Remedy != RemedyReplace {
		t.Errorf("err = %v; want it to be an input error about the path, with RemedyReplace", err)
	}
}
