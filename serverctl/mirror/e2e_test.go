package mirror

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/socketbar/socketbar/serverctl/action"
)

// statusView is what status shows, in a form two statuses can be compared
// in: errors as their text, and without the target (the folders differ).
type statusView struct {
	action.Status
	ConfigErr, SitesErr, DriftErr, HistoryErr, ServiceErr string
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func viewStatus(st *action.Status) statusView {
	v := statusView{Status: *st, ConfigErr: errText(st.ConfigErr), SitesErr: errText(st.SitesErr),
		DriftErr: errText(st.DriftErr), HistoryErr: errText(st.HistoryErr), ServiceErr: errText(st.ServiceErr)}
	v.Status.ConfigErr, v.Status.SitesErr, v.Status.DriftErr, v.Status.HistoryErr, v.Status.ServiceErr = nil, nil, nil, nil, nil
	v.Status.Target = action.Target{}
	v.Status.ModTime = time.Time{} // compared apart: the mirror keeps microseconds
	return v
}

// same compares two results as JSON, with the folder each was read from
// written as ROOT.
func same(t *testing.T, what string, here any, root string, there any, dir string) {
	t.Helper()
	a, err := json.MarshalIndent(here, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(there, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	sa := strings.ReplaceAll(string(a), root, "ROOT")
	sb := strings.ReplaceAll(string(b), dir, "ROOT")
	if sa != sb {
		t.Errorf("%s differs between the Server read here and through its mirror:\nhere:\n%s\nthrough the mirror:\n%s", what, sa, sb)
	}
}

// The read actions give the same answers from a mirror fetched over SSH,
// with commands run on the Server, as from the Server's files read here.
func TestReadActionsOnTheMirrorMatchTheServer(t *testing.T) {
	conn := connect(t)
	for _, version := range []string{"5.3.1-sites", "5.1.7-sites"} {
		t.Run(version, func(t *testing.T) {
			root := serve(t, version)
			c := &Counter{Conn: conn}
			m := fetch(t, c, root)
			ctx := testContext(t)
			local := &action.Local{}
			viaSSH := &action.Local{Runner: m.Runner(c)}
			here, there := action.Target{Root: root}, action.Target{Root: m.Dir}

			st1, err := local.Status(ctx, here)
			if err != nil {
				t.Fatal(err)
			}
			before := c.RoundTrips()
			st2, err := viaSSH.Status(ctx, there)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: fetch %d round trips, %d bytes; status %d round trips more", version, m.RoundTrips, m.Bytes, c.RoundTrips()-before)
			// What the comparison stands on: a Server with routes, sites
			// and an Apache version that httpd -v told over SSH.
			if len(st2.Routes) == 0 || len(st2.Sites) < 3 || st2.Server.Apache.String() != "2.4.23" {
				t.Fatalf("through the mirror: %d routes, sites %v (%v), Apache %v (%s)", len(st2.Routes), st2.Sites, st2.SitesErr, st2.Server.Apache, st2.Server.ApacheError)
			}
			same(t, "status", viewStatus(st1), root, viewStatus(st2), m.Dir)
			if !sameTime(st1.ModTime, st2.ModTime) {
				t.Errorf("the config's time: %v here, %v through the mirror", st1.ModTime, st2.ModTime)
			}

			r1, err1 := local.Routes(ctx, here)
			r2, err2 := viaSSH.Routes(ctx, there)
			if err1 != nil || err2 != nil {
				t.Fatalf("Routes: %v / %v", err1, err2)
			}
			same(t, "routes", r1, root, r2, m.Dir)

			l1, err1 := local.Lint(ctx, action.LintOptions{Target: here})
			l2, err2 := viaSSH.Lint(ctx, action.LintOptions{Target: there})
			if err1 != nil || err2 != nil {
				t.Fatalf("Lint: %v / %v", err1, err2)
			}
			same(t, "lint", l1, root, l2, m.Dir)
		})
	}
}
