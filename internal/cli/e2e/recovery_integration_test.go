package e2e

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/apachetest"
	"github.com/socketbar/socketbar/serverctl/servertest"
)

// TestRecoveryIsSaidWhenTheNextChangeFails: on Server 5.1 with custom
// sites a change spans the main config and the customsites file. Killed
// between the customsites rename and the main config's, it leaves the
// files half-written. The next add puts both back (history: rolled back),
// then fails, since it was worked out from the half-written files; its
// message must still say that the interrupted change was rolled back, and
// the same add run again goes through.
func TestRecoveryIsSaidWhenTheNextChangeFails(t *testing.T) {
	h := apachetest.Require(t)
	fixture := servertest.Dir(t, "5.1.7-sites")
	s := apachetest.LocalizeTree(t, h, fixture)
	customsites := filepath.Join(s.Root, "Library/Server/Web/Config/Proxy/apache_serviceproxy_customsites.conf")
	s.LocalizeIncluded(t, customsites)
	apachetest.StartWebsites(t, h, s)
	t.Cleanup(func() {
		apachetest.StopHTTPD(t, h, s.ConfigPath, s.Env, filepath.Join(s.Root, "var/run/service_proxy.pid"))
	})
	if r := run(t, nil, "restart", "--root", s.Root); r.code != 0 {
		t.Fatalf("start the front: %s%s", r.stdout, r.stderr)
	}
	backend := echoBackend(t)
	web := []string{"--vhost", fmt.Sprint(s.Ports[443]), "--vhost", fmt.Sprint(s.Ports[80])}
	original, originalSites := readFile(t, s.ConfigPath), readFile(t, customsites)
	add := func(path string, env ...string) result {
		return run(t, env, append([]string{"add", path, backend.URL + path, "--root", s.Root}, web...)...)
	}

	if r := add("/kill/", "SOCKETBAR_TEST_KILL_AFTER=write"); r.code != -1 {
		t.Fatalf("add killed after write: exit %d, want killed\n%s%s", r.code, r.stdout, r.stderr)
	}
	if readFile(t, s.ConfigPath) != original || readFile(t, customsites) == originalSites {
		t.Fatal("the kill did not leave the customsites file new and the main config old")
	}

	next := add("/next/")
	if readFile(t, s.ConfigPath) != original || readFile(t, customsites) != originalSites {
		t.Errorf("after the next add the files are not both the originals (exit %d)", next.code)
	}
	killed := historyEntry(t, s.Root, "add /kill/")
	if killed.Outcome != serverctl.OutcomeRolledBack {
		t.Errorf("the killed change is recorded as %q, want rolled back", killed.Outcome)
	}
	said := next.stdout + next.stderr
	for _, want := range []string{"was interrupted", killed.ID, "put the previous config back in all of them"} {
		if !strings.Contains(said, want) {
			t.Errorf("the next add (exit %d) does not say what the recovery did (%q):\n%s", next.code, want, said)
		}
	}
	if next.code != 0 {
		if again := add("/next/"); again.code != 0 {
			t.Errorf("the add run again: exit %d\n%s%s", again.code, again.stdout, again.stderr)
		}
	}
}

// historyEntry is the newest change in socketbar history whose
// description starts with desc.
func historyEntry(t *testing.T, root, desc string) serverctl.BackupEntry {
	t.Helper()
	r := run(t, nil, "history", "--root", root, "--json")
	var hist struct{ Entries []serverctl.BackupEntry }
	if err := json.Unmarshal([]byte(r.stdout), &hist); err != nil {
		t.Fatalf("history: %v\n%s%s", err, r.stdout, r.stderr)
	}
	for _, e := range hist.Entries {
		if strings.HasPrefix(e.Description, desc) {
			return e
		}
	}
	t.Fatalf("no change %q in the history:\n%s", desc, r.stdout)
	return serverctl.BackupEntry{}
}
