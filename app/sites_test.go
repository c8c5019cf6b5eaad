package app

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/socketbar/socketbar/serverctl/action"
	"github.com/socketbar/socketbar/serverctl/action/actiontest"
	"github.com/socketbar/socketbar/serverctl/apacheconf/loader"
	"github.com/socketbar/socketbar/serverctl/servertest"
	"github.com/socketbar/socketbar/serverctl/sites"
)

// fixtureSites lists the sites of the tree at root as the sites package
// reads them, to compare what the app offers with.
func fixtureSites(t *testing.T, root string) []*sites.Site {
	t.Helper()
	conf := filepath.Join(root, "Library/Server/Web/Config/Proxy/apache_serviceproxy.conf")
	lc, err := loader.Load(context.Background(), conf, loader.Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	return sites.Read(lc, root).Sites
}

// siteChecks returns the Add form's site checkboxes in the order shown.
func siteChecks(f *addRouteForm) []*widget.Check {
	var out []*widget.Check
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch o := o.(type) {
		case *widget.Check:
			out = append(out, o)
		case *fyne.Container:
			for _, c := range o.Objects {
				walk(c)
			}
		}
	}
	walk(f.siteBox)
	return out
}

// richText collects the text of the rich texts in o.
func richText(o fyne.CanvasObject) string {
	var parts []string
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch o := o.(type) {
		case *widget.RichText:
			parts = append(parts, o.String())
		case *fyne.Container:
			for _, c := range o.Objects {
				walk(c)
			}
		}
	}
	walk(o)
	return strings.Join(parts, "\n")
}

// lastAdd is the options of the newest ProposeAdd the form made.
func lastAdd(t *testing.T, rec *actiontest.Recorder) action.AddOptions {
	t.Helper()
	calls := rec.Calls("ProposeAdd")
	if len(calls) == 0 {
		t.Fatal("the form never asked for a proposal")
	}
	return calls[len(calls)-1].Opts.(action.AddOptions)
}

func TestAddRouteOffersEverySiteTicked(t *testing.T) {
	root := servertest.Copy(t, "5.3.1-sites")
	want := fixtureSites(t, root)
	rec := newFake()
	u := newTestUI(test.NewTempApp(t), Options{Root: root, Actions: rec, Tray: noTray})
	u.showAddRoute(actiontest.SameAddPath, actiontest.SameAddBackend)
	f := u.addForm
	settle(t, f)

	checks := siteChecks(f)
	if len(checks) != len(want) {
		t.Fatalf("%d site checkboxes, the Server has %d sites", len(checks), len(want))
	}
	for i, s := range want {
		c := checks[i]
		if !c.Checked {
			t.Errorf("site %d (%q) is not ticked", i, c.Text)
		}
		switch {
		case s.Default && !strings.HasPrefix(c.Text, "Default hosts (*:443, *:80)"):
			t.Errorf("the first checkbox is %q, want the default hosts with their addresses", c.Text)
		case !s.Default && c.Text != s.Name:
			t.Errorf("checkbox %d is %q, want %q", i, c.Text, s.Name)
		}
		for _, a := range s.Aliases {
			if !strings.Contains(canvasText(f.siteBox)+richText(f.siteBox), a) {
				t.Errorf("alias %s of %s is not shown", a, s.Name)
			}
		}
	}
	if got := lastAdd(t, rec); got.Sites != nil {
		t.Errorf("every site ticked, the form asked for Sites %q; want nil (every site)", got.Sites)
	}
	if f.apply.Disabled() {
		t.Errorf("Apply disabled with every site ticked: %s", f.applyMsg.Text)
	}
}

func TestUntickingSitesNarrowsTheRoute(t *testing.T) {
	root := servertest.Copy(t, "5.3.1-sites")
	all := fixtureSites(t, root)
	rec := newFake()
	u := newTestUI(test.NewTempApp(t), Options{Root: root, Actions: rec, Tray: noTray})
	u.showAddRoute(actiontest.SameAddPath, actiontest.SameAddBackend)
	f := u.addForm
	settle(t, f)
	checks := siteChecks(f)
	everywhere := f.preview.Text()

	// Untick the last custom site: the others are asked for by name.
	test.Tap(checks[len(checks)-1])
	settle(t, f)
	var want []string
	for _, s := range all[:len(all)-1] {
		if s.Default {
			want = append(want, "default")
		} else {
			want = append(want, s.Name)
		}
	}
	if got := lastAdd(t, rec).Sites; !slices.Equal(got, want) {
		t.Errorf("after unticking %s the form asked for Sites %q, want %q", all[len(all)-1].Name, got, want)
	}
	if f.preview.Text() == everywhere || f.apply.Disabled() {
		t.Errorf("the preview did not follow the ticks (apply disabled %v): %s", f.apply.Disabled(), f.applyMsg.Text)
	}

	// Only one custom site left ticked.
	test.Tap(checks[0])
	settle(t, f)
	if got := lastAdd(t, rec).Sites; !slices.Equal(got, want[1:]) {
		t.Errorf("without the default hosts the form asked for Sites %q, want %q", got, want[1:])
	}

	// None ticked: nothing to propose, and Apply says why it is off.
	calls := len(rec.Calls("ProposeAdd"))
	for _, c := range checks {
		if c.Checked {
			test.Tap(c)
		}
	}
	settle(t, f)
	if !f.apply.Disabled() || f.proposal != nil {
		t.Error("Apply is enabled with no site ticked")
	}
	if msg := f.applyMsg.Text; !strings.Contains(msg, "site") || strings.Contains(msg, "\n") {
		t.Errorf("with no site ticked the message is %q, want one line naming the sites", msg)
	}
	if n := len(rec.Calls("ProposeAdd")); n != calls {
		t.Errorf("with no site ticked the form still asked for %d proposal(s)", n-calls)
	}

	// Every site ticked again: every site, as the CLI asks without --site.
	for _, c := range checks {
		test.Tap(c)
	}
	settle(t, f)
	if got := lastAdd(t, rec); got.Sites != nil || f.apply.Disabled() {
		t.Errorf("every site ticked again: Sites %q, apply disabled %v", got.Sites, f.apply.Disabled())
	}
}

func TestAddRouteWithoutCustomSitesShowsNoSiteCheckboxes(t *testing.T) {
	u := newTestUI(test.NewTempApp(t), Options{Root: servertest.Copy(t, "5.3.1"), Actions: newFake(), Tray: noTray})
	u.showAddRoute(actiontest.SameAddPath, actiontest.SameAddBackend)
	if n := len(siteChecks(u.addForm)); n != 0 {
		t.Errorf("a Server without custom sites shows %d site checkboxes", n)
	}
	if len(u.addForm.siteBox.Objects) > 1 {
		t.Errorf("a Server without custom sites has %d things in the Sites row", len(u.addForm.siteBox.Objects))
	}
}

func TestRoutesWindowFiltersBySite(t *testing.T) {
	root := servertest.Copy(t, "5.3.1-sites")
	all := fixtureSites(t, root)
	var chat string
	for _, s := range all {
		if !s.Default {
			chat = s.Name
			break
		}
	}
	// A route for one custom site only.
	l := &action.Local{}
	p, err := l.ProposeAdd(context.Background(), action.AddOptions{Target: action.Target{Root: root}, Path: "/only/", Backend: "http://127.0.0.1:8000/only/", Sites: []string{chat}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.Config, p.New, 0o644); err != nil {
		t.Fatal(err)
	}
	u := newTestUI(test.NewTempApp(t), Options{Root: root, Actions: newFake(), Tray: noTray})
	u.showRoutes()
	v := u.routesView
	if !v.site.Visible() {
		t.Fatal("no site filter on a Server with custom sites")
	}
	wantOpts := []string{allSites, defaultHosts}
	for _, s := range all {
		if !s.Default {
			wantOpts = append(wantOpts, s.Name)
		}
	}
	if !slices.Equal(v.site.Options, wantOpts) || v.site.Selected != allSites {
		t.Errorf("filter offers %q (selected %q), want %q", v.site.Options, v.site.Selected, wantOpts)
	}
	rows := func() []string {
		var out []string
		for _, r := range v.rows.Objects {
			out = append(out, strings.ReplaceAll(canvasText(r), "\n", " | "))
		}
		return out
	}
	has := func(rows []string, site, path string) bool {
		return slices.ContainsFunc(rows, func(r string) bool {
			return strings.HasPrefix(r, site+" | ") && strings.Contains(r, " | "+path+" | ")
		})
	}
	for _, tc := range []struct {
		choice   string
		wantOnly string // every row shown is this site's
		only     bool   // the /only/ route shows
	}{
		{allSites, "", true},
		{defaultHosts, defaultHosts, false},
		{chat, chat, true},
		{wantOpts[len(wantOpts)-1], wantOpts[len(wantOpts)-1], false},
	} {
		v.site.SetSelected(tc.choice)
		got := rows()
		if len(got) == 0 {
			t.Errorf("%s: no rows", tc.choice)
		}
		for _, r := range got {
			if tc.wantOnly != "" && !strings.HasPrefix(r, tc.wantOnly+" | ") {
				t.Errorf("%s: shows another site's route %q", tc.choice, r)
			}
		}
		if has(got, chat, "/only/") != tc.only {
			t.Errorf("%s: %s's /only/ route shown = %v, want %v:\n%s", tc.choice, chat, !tc.only, tc.only, strings.Join(got, "\n"))
		}
	}
	// The choice survives a reload.
	v.site.SetSelected(chat)
	u.setSnapshot(load(u.ctx, u.actions, root))
	if v.site.Selected != chat || !has(rows(), chat, "/only/") {
		t.Errorf("after a reload the filter is %q", v.site.Selected)
	}
}

// On Server 5.1.7 a route for every site also goes into the customsites
// file: the preview's title names both files and the diff shows both.
func TestAddRoutePreviewNamesEveryFileItChanges(t *testing.T) {
	root := servertest.Copy(t, "5.1.7-sites")
	u := newTestUI(test.NewTempApp(t), Options{Root: root, Actions: newFake(), Tray: noTray})
	u.showAddRoute(actiontest.SameAddPath, actiontest.SameAddBackend)
	f := u.addForm
	settle(t, f)
	if f.proposal == nil {
		t.Fatalf("no preview: %s", f.applyMsg.Text)
	}
	if got := f.previewTitle.Text; !strings.Contains(got, "apache_serviceproxy.conf") || !strings.Contains(got, "apache_serviceproxy_customsites.conf") {
		t.Errorf("preview title %q; want both files named", got)
	}
	if !strings.Contains(f.preview.Text(), "apache_serviceproxy_customsites.conf (new)") {
		t.Error("the preview does not show the customsites file's diff")
	}
}

// On a Server with custom sites, removing a route from the Routes window
// offers to take it from the row's site alone or from every site, and the
// choice reaches the action layer; only the first narrows the shared block.
func TestRemoveOffersTheRowsSiteAlone(t *testing.T) {
	root := servertest.Copy(t, "5.3.1-sites")
	l := &action.Local{}
	for _, site := range []string{"chat.example.com", "shop.example.com"} {
		p, err := l.ProposeAdd(context.Background(), action.AddOptions{Target: action.Target{Root: root}, Path: "/c/", Backend: "http://127.0.0.1:8000/c/", Sites: []string{site}})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p.Config, p.New, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rec := newFake()
	u := newTestUI(test.NewTempApp(t), Options{Root: root, Actions: rec, Tray: noTray})
	u.showRoutes()
	s := u.current()
	var chatRoute *action.Route
	for i, r := range s.Routes {
		if r.Path == "/c/" && r.Site == "chat.example.com" {
			chatRoute = &s.Routes[i]
			break
		}
	}
	if chatRoute == nil {
		t.Fatal("no /c/ route for chat.example.com in the snapshot")
	}
	v := u.routesView
	v.confirmRemove(s, *chatRoute)
	if v.removeOnly == nil || !strings.Contains(v.removeOnly.Text, "chat.example.com") {
		t.Fatal("the remove dialog does not offer chat.example.com alone")
	}
	test.Tap(v.removeOnly)
	drain(t, u)
	calls := rec.Calls("ProposeRemove")
	if len(calls) != 1 || !slices.Equal(calls[0].Opts.(action.RemoveOptions).Sites, []string{"chat.example.com"}) {
		t.Fatalf("ProposeRemove calls = %+v; want one for chat.example.com", calls)
	}
	servertest.Eventually(t, "the apply", func() bool { return len(rec.Applied()) == 1 })
	if p := rec.Applied()[0]; !strings.Contains(string(p.New), `shop\.example\.com`) || strings.Contains(string(p.New), `chat\.example\.com`) {
		t.Error("removing for chat alone did not narrow the block to shop")
	}
}

// The site filter is as wide as its longest choice, so a long site name
// is not cut short in the Routes window.
func TestSiteFilterFitsTheLongestSiteName(t *testing.T) {
	root := servertest.Copy(t, "5.6.3-sites")
	u := newTestUI(test.NewTempApp(t), Options{Root: root, Actions: newFake(), Tray: noTray})
	u.showRoutes()
	v := u.routesView
	longest := ""
	for _, o := range v.site.Options {
		if len(o) > len(longest) {
			longest = o
		}
	}
	v.site.SetSelected(longest)
	v.w.Resize(fyne.NewSize(1000, 600))
	need := fyne.MeasureText(longest, theme.TextSize(), fyne.TextStyle{}).Width + theme.IconInlineSize()
	if got := v.site.Size().Width; got < need {
		t.Errorf("the site filter is %.0f wide; %q and its icon need %.0f", got, longest, need)
	}
}

// When Server.app deleted the site a Socketbar route served, the Routes
// window says the site is gone (not that routes vanished, and the status
// line has no warning), and its Reapply button lets go of the route
// without writing a file.
func TestRoutesWindowSaysASiteIsGone(t *testing.T) {
	ctx := context.Background()
	root, config := servertest.CopyWithHTTPD(t, "5.1.7-sites")
	l := &action.Local{}
	p, err := l.ProposeAdd(ctx, action.AddOptions{Target: action.Target{Root: root}, Path: "/c/", Backend: "http://127.0.0.1:8000/c/", Sites: []string{"chat.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Apply(ctx, p, action.ApplyOptions{NoRestart: true}); err != nil {
		t.Fatal(err)
	}
	// Server.app deletes the last custom sites, and their file with them.
	if err := os.Remove(filepath.Join(filepath.Dir(config), "apache_serviceproxy_customsites.conf")); err != nil {
		t.Fatal(err)
	}
	rec := newFake()
	u := newTestUI(test.NewTempApp(t), Options{Root: root, Actions: rec, Tray: noTray})
	if line := u.current().StatusLine(); strings.HasPrefix(line, "⚠") {
		t.Errorf("status line %q warns about a site that was deleted", line)
	}
	u.showRoutes()
	text := canvasText(u.windows[winRoutes].Content())
	if !strings.Contains(text, "Site gone: /c/") || !strings.Contains(text, "chat.example.com is no longer a site") || strings.Contains(text, "vanished") {
		t.Fatalf("the Routes window does not say the site is gone:\n%s", text)
	}
	v := u.routesView
	if v.reapply == nil {
		t.Fatal("no Reapply button")
	}
	test.Tap(v.reapply)
	drain(t, u)
	servertest.Eventually(t, "the reapply", func() bool { return len(rec.Applied()) == 1 })
	if a := rec.Applied()[0]; !a.RecordOnly() || len(a.Forgets) != 2 {
		t.Errorf("the app applied %q (record only %v, lets go of %d); want reapply letting go of chat's two routes", a.Description, a.RecordOnly(), len(a.Forgets))
	}
}
