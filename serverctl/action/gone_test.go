package action

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/socketbar/socketbar/serverctl/servertest"
)

// withoutLines is text without the lines that contain any of names.
func withoutLines(text string, names ...string) string {
	var keep []string
	for _, l := range strings.SplitAfter(text, "\n") {
		if !slices.ContainsFunc(names, func(n string) bool { return strings.Contains(l, n) }) {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "")
}

// withoutVHosts is a 5.0/5.1 customsites text without the VirtualHosts
// of the site name, as Server.app writes it after the site was deleted.
func withoutVHosts(text, name string) string {
	var out []string
	for _, vh := range strings.SplitAfter(text, "</VirtualHost>\n") {
		if !strings.Contains(vh, "ServerName "+name+":") {
			out = append(out, vh)
		}
	}
	return strings.Join(out, "")
}

// TestRouteOfADeletedSiteIsGoneNotDrift: when Server.app deletes a site
// (or an alias of one) that a Socketbar route served, status calls the
// route gone, not missing; reapply lets go of it (taking the deleted names
// out of the custom sites' macro on 5.2+, recording alone on 5.0/5.1) and
// puts back what did drift; afterwards status has nothing to report.
func TestRouteOfADeletedSiteIsGoneNotDrift(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name, fixture string
		// sites are the --site of each add, one add per entry.
		sites [][]string
		// deleteSites does what Server.app does to the customsites file.
		deleteSites func(text string) (string, bool)
		// gone are the names status must say are gone, missing how many
		// routes it must call missing.
		gone    []string
		missing int
		// recordOnly: reapply writes no file.
		recordOnly bool
		// after checks the files reapply leaves.
		after func(t *testing.T, main, customsites string)
	}{
		{
			name: "5.1, the last site goes and the file with it", fixture: "5.1.7-sites",
			sites:       [][]string{{"chat.example.com"}},
			deleteSites: func(string) (string, bool) { return "", false },
			gone:        []string{"chat.example.com"}, recordOnly: true,
		},
		{
			name: "5.1, one site goes, the other's blocks are dropped", fixture: "5.1.7-sites",
			sites:       [][]string{nil},
			deleteSites: func(text string) (string, bool) { return withoutVHosts(text, "chat.example.com"), true },
			gone:        []string{"chat.example.com"}, missing: 2,
			after: func(t *testing.T, _, customsites string) {
				if strings.Contains(customsites, "chat.example.com") || strings.Count(customsites, "socketbar:begin") != 2 {
					t.Errorf("customsites after reapply: want shop's two blocks back and no chat:\n%s", customsites)
				}
			},
		},
		{
			name: "5.2+, the site's Use lines go", fixture: "5.3.1-sites",
			sites:       [][]string{{"chat.example.com"}},
			deleteSites: func(text string) (string, bool) { return withoutLines(text, "chat.example.com"), true },
			gone:        []string{"chat.example.com", "www.chat.example.com"},
			after: func(t *testing.T, main, _ string) {
				if strings.Contains(main, "socketbar:begin") {
					t.Errorf("the macro still holds the blocks of the deleted site")
				}
			},
		},
		{
			name: "5.2+, a shared block keeps the other site", fixture: "5.6.3-sites",
			sites:       [][]string{{"chat.example.com"}, {"shop.example.com"}},
			deleteSites: func(text string) (string, bool) { return withoutLines(text, "chat.example.com"), true },
			gone:        []string{"chat.example.com", "www.chat.example.com", "chat.example.net"},
			after: func(t *testing.T, main, _ string) {
				if strings.Count(main, "socketbar:begin") != 2 || strings.Contains(main, `chat\.example`) || !strings.Contains(main, `shop\.example\.com`) {
					t.Errorf("the macro blocks should serve shop.example.com alone:\n%s", main)
				}
			},
		},
		{
			name: "5.2+, an alias is taken from the site", fixture: "5.3.1-sites",
			sites: [][]string{{"chat.example.com"}},
			deleteSites: func(text string) (string, bool) {
				return strings.ReplaceAll(text, `"ServerAlias www.chat.example.com"`, `""`), true
			},
			gone: []string{"www.chat.example.com"},
			after: func(t *testing.T, main, _ string) {
				if strings.Count(main, "socketbar:begin") != 2 || strings.Contains(main, "www.chat") || !strings.Contains(main, `chat\.example\.com`) {
					t.Errorf("the macro blocks should serve chat.example.com without the alias:\n%s", main)
				}
			},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			root, config := servertest.CopyWithHTTPD(t, tt.fixture)
			customsites := filepath.Join(filepath.Dir(config), "apache_serviceproxy_customsites.conf")
			orig, err := os.ReadFile(customsites)
			if err != nil {
				t.Fatal(err)
			}
			l := &Local{}
			tg := Target{Root: root}
			for _, sites := range tt.sites {
				p, err := l.ProposeAdd(ctx, AddOptions{Target: tg, Path: "/chat/stream/", Backend: "http://127.0.0.1:8001/chat/stream/", Sites: sites})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := l.Apply(ctx, p, ApplyOptions{NoRestart: true}); err != nil {
					t.Fatal(err)
				}
			}
			text, keep := tt.deleteSites(string(orig))
			if keep {
				err = os.WriteFile(customsites, []byte(text), 0o644)
			} else {
				err = os.Remove(customsites)
			}
			if err != nil {
				t.Fatal(err)
			}

			st, err := l.Status(ctx, tg)
			if err != nil {
				t.Fatal(err)
			}
			d := st.Drift
			if d == nil {
				t.Fatal("status reports nothing gone")
			}
			if len(d.Missing) != tt.missing {
				t.Errorf("missing %+v; want %d", d.Missing, tt.missing)
			}
			if len(d.Gone) == 0 {
				t.Fatalf("gone is empty; want the routes of %v", tt.gone)
			}
			for _, g := range d.Gone {
				if g.Path != "/chat/stream/" || strings.Join(g.Sites, " ") != strings.Join(tt.gone, " ") {
					t.Errorf("gone %+v; want /chat/stream/ for %v", g, tt.gone)
				}
			}

			p, err := l.ProposeReapply(ctx, tg)
			if err != nil {
				t.Fatal(err)
			}
			if p.RecordOnly() != tt.recordOnly || len(p.Forgets) != len(d.Gone) {
				t.Errorf("reapply: record only %v (want %v), lets go of %d (want %d)", p.RecordOnly(), tt.recordOnly, len(p.Forgets), len(d.Gone))
			}
			if notes := strings.Join(p.Notes, "\n"); !strings.Contains(notes, tt.gone[0]) {
				t.Errorf("reapply's notes do not name %s:\n%s", tt.gone[0], notes)
			}
			res, err := l.Apply(ctx, p, ApplyOptions{NoRestart: true})
			if err != nil {
				t.Fatal(err)
			}
			st, err = l.Status(ctx, tg)
			if err != nil {
				t.Fatal(err)
			}
			if st.Drift != nil {
				t.Errorf("status after reapply: %+v; want nothing missing or gone", st.Drift)
			}
			if p, err := l.ProposeReapply(ctx, tg); err != nil || p.Lost != nil {
				t.Errorf("a second reapply: %+v, %v; want nothing to do", p, err)
			}
			if tt.after != nil {
				main, _ := os.ReadFile(config)
				sites, _ := os.ReadFile(customsites)
				tt.after(t, string(main), string(sites))
			}
			// A change that wrote nothing is not what undo takes back.
			u, err := l.ProposeUndo(ctx, UndoOptions{Target: tg})
			if err != nil {
				t.Fatal(err)
			}
			if tt.recordOnly == (u.UndoOf == res.BackupID) {
				t.Errorf("undo after reapply targets %s (%s); the reapply was %s, record only %v", u.UndoOf, u.Undoing.Description, res.BackupID, tt.recordOnly)
			}
		})
	}
}

// TestAChangeRecordsTheRoutesOfFilesItLeaves: on Server 5.0/5.1 a change
// that writes only the main config still records the routes of the
// customsites file, so that Server.app dropping them later is drift.
func TestAChangeRecordsTheRoutesOfFilesItLeaves(t *testing.T) {
	ctx := context.Background()
	root, config := servertest.CopyWithHTTPD(t, "5.1.7-sites")
	customsites := filepath.Join(filepath.Dir(config), "apache_serviceproxy_customsites.conf")
	orig, err := os.ReadFile(customsites)
	if err != nil {
		t.Fatal(err)
	}
	l := &Local{}
	tg := Target{Root: root}
	for _, sites := range [][]string{{"chat.example.com"}, {"default"}} {
		p, err := l.ProposeAdd(ctx, AddOptions{Target: tg, Path: "/ws/", Backend: "http://127.0.0.1:8001/ws/", Sites: sites})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Apply(ctx, p, ApplyOptions{NoRestart: true}); err != nil {
			t.Fatal(err)
		}
	}
	h, err := l.History(ctx, tg)
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, r := range h.Entries[0].Routes {
		labels = append(labels, r.VHost)
	}
	if len(labels) != 4 {
		t.Errorf("the second change (main config only) records routes in %q; want the default hosts' and chat's", labels)
	}
	if err := os.WriteFile(customsites, orig, 0o644); err != nil { // Server.app regenerates it
		t.Fatal(err)
	}
	st, err := l.Status(ctx, tg)
	if err != nil {
		t.Fatal(err)
	}
	if st.Drift == nil || len(st.Drift.Missing) != 2 || len(st.Drift.Gone) != 0 {
		t.Fatalf("drift %+v; want chat's two routes missing", st.Drift)
	}
	for _, r := range st.Drift.Missing {
		if !strings.HasPrefix(r.VHost, "chat.example.com:") {
			t.Errorf("missing %+v; want chat's", r)
		}
	}
}

// TestRemoveLetsGoOfARouteWhoseSiteIsGone: remove PATH, for a route that
// went with its site, records that and says so; without such a route it
// still says there is nothing to remove.
func TestRemoveLetsGoOfARouteWhoseSiteIsGone(t *testing.T) {
	ctx := context.Background()
	root, config := servertest.CopyWithHTTPD(t, "5.1.7-sites")
	l := &Local{}
	tg := Target{Root: root}
	p, err := l.ProposeAdd(ctx, AddOptions{Target: tg, Path: "/ws/", Backend: "http://127.0.0.1:8001/ws/", Sites: []string{"chat.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Apply(ctx, p, ApplyOptions{NoRestart: true}); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(filepath.Dir(config), "apache_serviceproxy_customsites.conf")); err != nil {
		t.Fatal(err)
	}
	if _, err := l.ProposeRemove(ctx, RemoveOptions{Target: tg, Path: "/other/"}); err == nil {
		t.Error("remove of a path Socketbar never routed: no error")
	}
	rm, err := l.ProposeRemove(ctx, RemoveOptions{Target: tg, Path: "/ws/"})
	if err != nil {
		t.Fatal(err)
	}
	if !rm.RecordOnly() || len(rm.Forgets) != 2 || !strings.Contains(strings.Join(rm.Notes, "\n"), "chat.example.com is no longer a site") {
		t.Fatalf("remove: record only %v, lets go of %+v, notes %q", rm.RecordOnly(), rm.Forgets, rm.Notes)
	}
	before, _ := os.ReadFile(config)
	res, err := l.Apply(ctx, rm, ApplyOptions{NoRestart: true})
	if err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(config); string(after) != string(before) || res.Restarted {
		t.Error("a remove that lets go of a gone route wrote the config or restarted")
	}
	h, err := l.History(ctx, tg)
	if err != nil {
		t.Fatal(err)
	}
	if e := h.Entries[0]; e.ID != res.BackupID || !e.WroteNothing() || !e.Applied() || len(e.Routes) != 0 {
		t.Errorf("history entry %+v; want an applied one that wrote nothing and records no route", e)
	}
	if st, err := l.Status(ctx, tg); err != nil || st.Drift != nil {
		t.Errorf("status after remove: %+v, %v; want nothing gone", st.Drift, err)
	}
}
