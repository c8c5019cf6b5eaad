package action

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/socketbar/socketbar/serverctl/servertest"
)

// TestCustomsitesFileOnServer51 drives Server 5.1.7, whose custom sites
// have whole VirtualHosts in the customsites file: an add for every site
// writes both files in one change; Server.app regenerating the
// customsites file is drift that status reports and reapply puts back
// there; an undo gives both files back byte for byte; --site reaches only
// that site's VirtualHosts and works with every strategy.
func TestCustomsitesFileOnServer51(t *testing.T) {
	ctx := context.Background()
	root, config := servertest.CopyWithHTTPD(t, "5.1.7-sites")
	customsites := filepath.Join(filepath.Dir(config), "apache_serviceproxy_customsites.conf")
	read := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	origMain, origSites := read(config), read(customsites)
	l := &Local{}
	tg := Target{Root: root}

	p, err := l.ProposeAdd(ctx, AddOptions{Target: tg, Path: "/chat/stream/", Backend: "http://127.0.0.1:8001/chat/stream/"})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Also) != 1 || p.Also[0].Path != customsites {
		t.Fatalf("the proposal touches %+v besides the main config; want the customsites file", p.Also)
	}
	if d := p.Diff(); !strings.Contains(d, customsites) || strings.Count(d, "socketbar:begin") != 6 {
		t.Errorf("diff does not show the 6 new blocks in both files:\n%s", d)
	}
	if _, err := l.Apply(ctx, p, ApplyOptions{NoRestart: true}); err != nil {
		t.Fatal(err)
	}
	added := read(customsites)
	if strings.Count(added, "socketbar:begin") != 4 {
		t.Fatalf("customsites file after add has %d blocks; want one per site and port (4)", strings.Count(added, "socketbar:begin"))
	}
	// What Socketbar writes there passes lint's checks of the sites' own
	// VirtualHosts.
	lr, err := l.Lint(ctx, LintOptions{Target: tg})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range lr.Findings {
		if f.File == customsites {
			t.Errorf("lint finds in the customsites file after add: %+v", f)
		}
	}

	// Server.app regenerates the file from its plist: the blocks vanish.
	if err := os.WriteFile(customsites, []byte(origSites), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := l.Status(ctx, tg)
	if err != nil {
		t.Fatal(err)
	}
	if st.Drift == nil || len(st.Drift.Missing) != 4 {
		t.Fatalf("status drift = %+v; want the 4 routes of the customsites file missing", st.Drift)
	}
	for _, r := range st.Drift.Missing {
		if !strings.HasPrefix(r.VHost, "chat.example.com:") && !strings.HasPrefix(r.VHost, "shop.example.com:") {
			t.Errorf("missing route names %q; want the site and port", r.VHost)
		}
	}
	re, err := l.ProposeReapply(ctx, tg)
	if err != nil {
		t.Fatal(err)
	}
	if re.Old == nil || string(re.Old) != string(re.New) || len(re.Also) != 1 {
		t.Fatalf("reapply should change only the customsites file; it changes main: %v, others: %d", string(re.Old) != string(re.New), len(re.Also))
	}
	if _, err := l.Apply(ctx, re, ApplyOptions{NoRestart: true}); err != nil {
		t.Fatal(err)
	}
	if got := read(customsites); got != added {
		t.Errorf("after reapply the customsites file differs from after add:\n%s", got)
	}

	// Undo the reapply, then the add: both files as they were.
	for i := 0; i < 2; i++ {
		u, err := l.ProposeUndo(ctx, UndoOptions{Target: tg})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Apply(ctx, u, ApplyOptions{NoRestart: true}); err != nil {
			t.Fatal(err)
		}
	}
	if read(config) != origMain || read(customsites) != origSites {
		t.Fatal("after undoing both changes the files differ from the originals")
	}

	// One site, with the upgrade strategy: only its own VirtualHosts.
	// (Apache 2.4.47+ is where upgrade=websocket exists.)
	one, err := l.ProposeAdd(ctx, AddOptions{Target: Target{Root: root, ApacheVersion: "2.4.71"}, Path: "/chat/stream/", Backend: "http://127.0.0.1:8001/chat/stream/", Sites: []string{"www.chat.example.com"}, Strategy: "upgrade"})
	if err != nil {
		t.Fatal(err)
	}
	if string(one.Old) != string(one.New) || len(one.Also) != 1 {
		t.Fatalf("--site chat changes main: %v, others: %d; want only the customsites file", string(one.Old) != string(one.New), len(one.Also))
	}
	text := string(one.Also[0].New)
	chat, shop := text[:strings.Index(text, "shop.example.com")], text[strings.Index(text, "shop.example.com"):]
	if strings.Count(chat, "upgrade=websocket") != 2 || strings.Contains(shop, "socketbar:begin") || strings.Contains(text, "HTTP_HOST") {
		t.Errorf("the route for chat alone should be in chat's two VirtualHosts, as upgrade, with no Host condition:\n%s", text)
	}
	if _, err := l.Apply(ctx, one, ApplyOptions{NoRestart: true}); err != nil {
		t.Fatal(err)
	}
	rm, err := l.ProposeRemove(ctx, RemoveOptions{Target: tg, Path: "/chat/stream/"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Apply(ctx, rm, ApplyOptions{NoRestart: true}); err != nil {
		t.Fatal(err)
	}
	if read(config) != origMain || read(customsites) != origSites {
		t.Fatal("after remove the files differ from the originals")
	}
}

// TestUndoKeepsServerAppsSiteFile undoes an older change that wrote the
// customsites file after Server.app regenerated that file, while the
// newest change touched only the main config: the undo would put back the
// file from before the older change and lose Server.app's text, so it is
// refused (naming the file) unless forced, and nothing is written.
func TestUndoKeepsServerAppsSiteFile(t *testing.T) {
	ctx := context.Background()
	root, config := servertest.CopyWithHTTPD(t, "5.1.7-sites")
	customsites := filepath.Join(filepath.Dir(config), "apache_serviceproxy_customsites.conf")
	l := &Local{}
	tg := Target{Root: root}
	apply := func(p *Proposal, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Apply(ctx, p, ApplyOptions{NoRestart: true}); err != nil {
			t.Fatal(err)
		}
	}
	apply(l.ProposeAdd(ctx, AddOptions{Target: tg, Path: "/every/", Backend: "http://127.0.0.1:8001/every/"}))
	apply(l.ProposeAdd(ctx, AddOptions{Target: tg, Path: "/default/", Backend: "http://127.0.0.1:8001/default/", Sites: []string{"default"}}))
	h, err := l.History(ctx, tg)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Entries) != 2 || len(h.Entries[1].Files) != 1 || len(h.Entries[0].Files) != 0 {
		t.Fatalf("history %+v; want the first change to touch the customsites file and the second not", h.Entries)
	}
	first := h.Entries[1].ID

	// Server.app regenerates the customsites file: its own text now.
	regenerated := "# regenerated by Server.app\n"
	if err := os.WriteFile(customsites, []byte(regenerated), 0o644); err != nil {
		t.Fatal(err)
	}
	mainBefore, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}

	_, err = l.ProposeUndo(ctx, UndoOptions{Target: tg, To: first})
	var since *ChangedSinceError
	if !errors.As(err, &since) {
		t.Fatalf("undo of %s after Server.app rewrote the customsites file: err = %v; want ChangedSinceError", first, err)
	}
	if since.Path != customsites {
		t.Errorf("the refusal names %q; want the file that changed, %s", since.Path, customsites)
	}
	if b, _ := os.ReadFile(customsites); string(b) != regenerated {
		t.Error("the refused undo changed the customsites file")
	}
	if b, _ := os.ReadFile(config); string(b) != string(mainBefore) {
		t.Error("the refused undo changed the main config")
	}
	p, err := l.ProposeUndo(ctx, UndoOptions{Target: tg, To: first, Force: true})
	if err != nil || len(p.Also) != 1 || string(p.Also[0].Old) != regenerated {
		t.Fatalf("forced undo: %+v, %v; want it to replace Server.app's text", p, err)
	}
}

func TestProposalFilesAreTheFilesItChanges(t *testing.T) {
	root, config := servertest.CopyWithHTTPD(t, "5.1.7-sites")
	l := &Local{}
	for _, tt := range []struct {
		sites []string
		want  []string
	}{
		{nil, []string{config, filepath.Join(filepath.Dir(config), "apache_serviceproxy_customsites.conf")}},
		{[]string{"default"}, []string{config}},
		{[]string{"shop.example.com"}, []string{filepath.Join(filepath.Dir(config), "apache_serviceproxy_customsites.conf")}},
	} {
		p, err := l.ProposeAdd(context.Background(), AddOptions{Target: Target{Root: root}, Path: "/ws/", Backend: "http://127.0.0.1:8001/ws/", Sites: tt.sites})
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Files(); strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("sites %q: files %q, want %q", tt.sites, got, tt.want)
		}
	}
}

// TestASiteLimitedRouteCountsOnceAndSaysTunnel: on Server 5.2+ a route for
// one site goes into the macros as mod_rewrite rules (ws:// for upgrades,
// http:// for the rest): status counts it as one managed WebSocket route,
// and the history says tunnel, which is what was written, even when
// upgrade was asked for.
func TestASiteLimitedRouteCountsOnceAndSaysTunnel(t *testing.T) {
	ctx := context.Background()
	root, _ := servertest.CopyWithHTTPD(t, "5.3.1-sites")
	l := &Local{}
	tg := Target{Root: root, ApacheVersion: "2.4.71"}
	p, err := l.ProposeAdd(ctx, AddOptions{Target: tg, Path: "/chat/stream/", Backend: "http://127.0.0.1:8001/chat/stream/", Sites: []string{"chat.example.com"}, Strategy: "upgrade"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Strategy != "tunnel" || !strings.Contains(p.Description, "(tunnel)") {
		t.Errorf("strategy %q, description %q; want tunnel, as written", p.Strategy, p.Description)
	}
	if n := strings.Count(strings.Join(p.Notes, "\n"), "written with mod_rewrite"); n != 1 {
		t.Errorf("the note on mod_rewrite appears %d times; want once:\n%s", n, strings.Join(p.Notes, "\n"))
	}
	if _, err := l.Apply(ctx, p, ApplyOptions{NoRestart: true}); err != nil {
		t.Fatal(err)
	}
	st, err := l.Status(ctx, tg)
	if err != nil {
		t.Fatal(err)
	}
	if c := st.Counts(); c.Managed != 1 || c.WebSocket < 1 {
		t.Errorf("counts = %+v; want one managed route, a WebSocket one", c)
	}
}
