package app

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/socketbar/socketbar/serverctl/action"
)

// routesView is the Routes window: every route of the Service Proxy with
// its flags and actions, and lint's findings under it.
type routesView struct {
	u   *ui
	w   fyne.Window
	add *widget.Button
	// top is what stands above the list: the status, the buttons, the
	// config's path.
	top     fyne.CanvasObject
	buttons *fyne.Container
	// columns holds the header, rows the routes; table sizes their
	// columns, and tableView shows both compact.
	columns   *fyne.Container
	table     *table
	tableView *container.ThemeOverride
	// site filters the rows by site; it shows only when the Server has
	// custom websites.
	site     *widget.Select
	header   *widget.Label
	path     *widget.Label
	body     *fyne.Container
	scroll   *container.Scroll
	rows     *fyne.Container
	findings *fyne.Container
	empty    *fyne.Container
	focus    string
	// siteWidth keeps the site filter wide enough for its longest choice.
	siteWidth *atLeast
	// removeOnly and removeEvery are the open remove dialog's choices on
	// a Server with custom sites.
	removeOnly, removeEvery *widget.Button
	// reapply puts back drifted routes and lets go of those whose site is
	// gone; it shows while there are any.
	reapply *widget.Button
}

func (u *ui) showRoutes() { u.showRoutesAt("") }

// showRoutesAt opens the Routes window, highlighting path.
func (u *ui) showRoutesAt(path string) {
	var v *routesView
	u.window(winRoutes, "Socketbar — Service Proxy Routes", fyne.NewSize(minRoutesWidth, minRoutesHeight), func(w fyne.Window) fyne.CanvasObject {
		v = &routesView{u: u, w: w, header: widget.NewLabel(""), path: widget.NewLabel(""), findings: container.NewVBox(), empty: container.NewVBox(),
			rows: container.New(layout.NewCustomPaddedVBoxLayout(theme.Padding() / 2)), table: &table{gap: 2 * theme.Padding()}}
		v.header.Wrapping = fyne.TextWrapWord
		u.routesView = v
		// A path wraps mid-name: shortPath shortens it by whole folders,
		// and a window narrower still cuts it with an ellipsis.
		v.path.Truncation = fyne.TextTruncateEllipsis
		v.add = widget.NewButtonWithIcon("Add WebSocket Route…", theme.ContentAddIcon(), func() { u.showAddRoute("", "") })
		v.add.Importance = widget.HighImportance
		v.columns = container.NewStack()
		v.site = widget.NewSelect(nil, func(string) { v.update(u.current()) })
		v.site.Hide()
		v.siteWidth = &atLeast{}
		v.buttons = container.NewHBox(container.New(v.siteWidth, v.site), v.add,
			widget.NewButtonWithIcon("Test…", theme.MediaPlayIcon(), func() { u.showTest("", "") }),
			widget.NewButtonWithIcon("Reload", theme.ViewRefreshIcon(), u.reload))
		top := container.NewBorder(nil, nil, nil, v.buttons, v.header)
		top = container.NewVBox(top, v.path) // the path has the window's width
		w.SetMainMenu(u.mainMenu)
		if !u.tray {
			top = container.NewVBox(noTrayNotice(), top)
		}
		v.top = top
		v.tableView = container.NewThemeOverride(container.NewVBox(v.columns, v.rows), compact{fyne.CurrentApp().Settings().Theme()})
		v.body = container.NewVBox(v.empty, v.tableView, widget.NewSeparator(), v.findings)
		v.scroll = container.NewVScroll(v.body)
		u.follow(winRoutes, v.update)
		return container.NewBorder(top, nil, nil, nil, v.scroll)
	})
	if v != nil {
		v.focus = path
		v.update(u.current())
		v.openAtFirstSize()
	}
}

// The Routes window opens at least this big, and at most as big as a
// small Mac's screen holds (a 13-inch MacBook's 1440×900, less the menu
// bar and the window's title).
const (
	minRoutesWidth, minRoutesHeight = 900, 560
	maxRoutesWidth, maxRoutesHeight = 1400, 820
)

// openAtFirstSize sizes the new window to its content: every column as
// wide as its text and every route in view, within the bounds above.
func (v *routesView) openAtFirstSize() {
	pad := theme.Padding()
	width := theme.ScrollBarSize() + 4*pad
	for _, w := range v.table.widths {
		width += w
	}
	if v.u.current().Config != "" {
		// The status line on one line beside the buttons; an explanation
		// without a config wraps instead.
		status := fyne.MeasureText(v.header.Text, theme.TextSize(), v.header.TextStyle).Width + 2*theme.InnerPadding()
		width = max(width, status+v.buttons.MinSize().Width+4*pad)
	}
	width = min(max(width, minRoutesWidth), maxRoutesWidth)
	// The status and the notice above wrap at the window's width: lay
	// them out at it before their height is measured.
	v.w.Resize(fyne.NewSize(width, minRoutesHeight))
	height := v.top.MinSize().Height + v.body.MinSize().Height + 4*pad
	v.w.Resize(fyne.NewSize(width, min(max(height, minRoutesHeight), maxRoutesHeight)))
}

// demoText says where the demo's parts answer.
func demoText(d *action.DemoInfo) string {
	return fmt.Sprintf("Demo Server · WebSocket echo app: %s · Service Proxy: %s and %s", d.EchoURL, d.HTTPSURL, d.HTTPURL)
}

// noTrayNotice says why the app has no menu-bar icon here and where its
// actions are instead.
func noTrayNotice() fyne.CanvasObject {
	l := widget.NewLabel(noTrayText)
	l.Wrapping = fyne.TextWrapWord
	l.Importance = widget.WarningImportance
	return l
}

// noTrayText is the notice's text.
const noTrayText = "This desktop shows no tray icons, so Socketbar has no menu-bar icon: every action is in the Socketbar menu above, " +
	"and closing the last window quits Socketbar (stopping the demo Server it started)."

// Site filter choices besides the custom sites' names.
const (
	allSites     = "All sites"
	defaultHosts = "Default hosts"
)

// routeHeader is the table's header, its Site column first when the
// Server has custom websites; the Backend column is the one that gives
// up width in a narrow window.
func (v *routesView) routeHeader(withSite bool) fyne.CanvasObject {
	titles := []string{"VirtualHost", "Path", "Backend", "Carries", "Notes"}
	if withSite {
		titles = append([]string{"Site"}, titles...)
	}
	var cells []fyne.CanvasObject
	for i, t := range titles {
		cells = append(cells, widget.NewLabelWithStyle(t, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		if t == "Backend" {
			v.table.flex = i
		}
	}
	v.table.flexMin = fyne.MeasureText("http://127.0.0.1:8000/", theme.TextSize(), fyne.TextStyle{}).Width
	return v.table.row(cells...)
}

// setSiteFilter offers "All sites", "Default hosts" and each custom site,
// keeping the choice while that site exists; without custom sites there
// is nothing to filter and the choice hides.
func (v *routesView) setSiteFilter(s *Snapshot) {
	custom := customSites(s.Sites)
	if len(custom) == 0 {
		v.site.Hide()
		v.site.Options, v.site.Selected = nil, ""
		return
	}
	opts := []string{allSites, defaultHosts}
	for _, c := range custom {
		opts = append(opts, c.Name)
	}
	sel := v.site.Selected
	if !slices.Contains(opts, sel) {
		sel = allSites
	}
	// Set the fields, not SetSelected: that would call OnChanged, which
	// fills the window again.
	v.site.Options, v.site.Selected = opts, sel
	v.siteWidth.width = 0
	for _, o := range opts {
		// The text, the drop-down icon and the padding around both.
		w := fyne.MeasureText(o, theme.TextSize(), fyne.TextStyle{}).Width + theme.IconInlineSize() + 6*theme.Padding()
		v.siteWidth.width = max(v.siteWidth.width, w)
	}
	v.site.Show()
	v.site.Refresh()
}

// shows reports whether the site filter lets r through.
func (v *routesView) shows(r action.Route) bool {
	switch v.site.Selected {
	case "", allSites:
		return true
	case defaultHosts:
		return r.Site == ""
	}
	return strings.EqualFold(r.Site, v.site.Selected)
}

func (v *routesView) update(s *Snapshot) {
	v.fill(s)
	// Rows came and went: lay the list out again, or the findings stay
	// where the old rows ended (over new rows, or under a gap).
	v.scroll.Refresh()
	v.body.Refresh()
}

func (v *routesView) fill(s *Snapshot) {
	v.path.SetText("")
	v.path.Hide()
	v.rows.RemoveAll()
	v.findings.RemoveAll()
	v.reapply = nil
	v.empty.RemoveAll()
	v.add.Enable()
	v.setSiteFilter(s)
	withSite := v.site.Visible()
	v.columns.Objects = []fyne.CanvasObject{v.routeHeader(withSite)}
	v.columns.Refresh()
	v.columns.Show()
	switch {
	case s.NoServer():
		v.add.Disable()
		v.columns.Hide()
		v.header.SetText("No macOS Server was found on this machine. Start the demo Server to try Socketbar for real: a stand-in Service Proxy and Websites tier on this machine's Apache.")
		demo := widget.NewButtonWithIcon("Start Demo Server", theme.MediaPlayIcon(), func() { v.u.startDemo(v.w) })
		demo.Importance = widget.HighImportance
		v.empty.Add(demo)
		return
	case s.Config == "":
		v.add.Disable()
		v.columns.Hide()
		v.header.SetText("The Service Proxy config could not be read: " + errText(s.Err))
		return
	}
	v.header.SetText(s.StatusLine())
	v.path.SetText(shortPath(s.Config, 90))
	v.path.Show()
	if d := s.Demo; d != nil {
		v.empty.Add(widget.NewLabel(demoText(d)))
		if s.demoStopped() {
			start := widget.NewButtonWithIcon("Start Demo Server", theme.MediaPlayIcon(), func() { v.u.startDemo(v.w) })
			start.Importance = widget.HighImportance
			v.empty.Add(container.NewHBox(start))
		}
	}
	for _, r := range s.Routes {
		if v.shows(r) {
			v.rows.Add(v.row(s, r, withSite))
		}
	}
	v.tableView.Refresh() // the new rows take its theme, before they are measured
	v.table.fit(append([]fyne.CanvasObject{v.columns.Objects[0]}, v.rows.Objects...))
	v.fillFindings(s)
}

// fillFindings says, under the routes, what became of Socketbar's routes
// (vanished, or their site gone, with Reapply for both) and lint's findings.
func (v *routesView) fillFindings(s *Snapshot) {
	if s.DriftErr != nil {
		msg := widget.NewLabel("⚠ Socketbar cannot tell whether its routes are still in the config: " + errorMessage(s.DriftErr))
		msg.Wrapping = fyne.TextWrapWord
		v.findings.Add(msg)
	}
	if d := s.Drift; d != nil {
		var lost []string
		for _, m := range d.Missing {
			lost = append(lost, m.Path+" in "+m.VHost)
		}
		if len(lost) > 0 {
			msg := widget.NewLabel(fmt.Sprintf("⚠ %d Socketbar route(s) vanished when the config was rewritten (%s): %s.", len(d.Missing), d.Changed.Local().Format("2 Jan 15:04"), strings.Join(lost, ", ")))
			msg.Wrapping = fyne.TextWrapWord
			v.findings.Add(msg)
		}
		for _, g := range d.GoneByPath() {
			msg := widget.NewLabel(fmt.Sprintf("Site gone: %s. Reapply lets Socketbar's route go with it.", g))
			msg.Wrapping = fyne.TextWrapWord
			v.findings.Add(msg)
		}
		v.reapply = widget.NewButtonWithIcon("Reapply", theme.ViewRefreshIcon(), func() { v.reapplyDrift(s) })
		v.findings.Add(container.NewHBox(v.reapply))
	}
	if len(s.Findings) == 0 {
		v.findings.Add(widget.NewLabel("Lint: no problems found."))
		return
	}
	v.findings.Add(widget.NewLabelWithStyle(fmt.Sprintf("Lint: %d finding(s)", len(s.Findings)), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	for _, f := range s.Findings {
		where := fmt.Sprintf("line %d", f.Line)
		if f.File != s.Config {
			where = filepath.Base(f.File) + ", " + where // the customsites file, a Websites-tier site
		}
		l := widget.NewLabel(fmt.Sprintf("%s, %s: %s\nFix: %s", strings.ToUpper(string(f.Severity[:1]))+string(f.Severity[1:]), where, f.Message, f.Fix))
		l.Wrapping = fyne.TextWrapWord
		v.findings.Add(l)
	}
}

func (v *routesView) row(s *Snapshot, r action.Route, withSite bool) fyne.CanvasObject {
	carries := "HTTP"
	if r.WebSocket {
		carries = "WebSocket"
	}
	var notes []string
	if r.Managed {
		notes = append(notes, "Socketbar")
	}
	if r.Shadowed {
		notes = append(notes, fmt.Sprintf("never runs (line %d first)", r.ShadowedBy))
	}
	path := widget.NewLabel(r.Path)
	if r.Path == v.focus {
		path.TextStyle = fyne.TextStyle{Bold: true}
	}
	backend := widget.NewLabel(r.Backend)
	backend.Truncation = fyne.TextTruncateEllipsis
	test := widget.NewButtonWithIcon("", theme.MediaPlayIcon(), func() { v.u.showTest(r.TestURL, r.TestConnect) })
	remove := widget.NewButtonWithIcon("", theme.DeleteIcon(), func() { v.confirmRemove(s, r) })
	if !r.Managed {
		remove.Disable()
	}
	cells := []fyne.CanvasObject{widget.NewLabel(r.VHostLabel), path, backend, widget.NewLabel(carries),
		container.NewBorder(nil, nil, nil, container.NewHBox(test, remove), widget.NewLabel(strings.Join(notes, ", ")))}
	if !withSite {
		return v.table.row(cells...)
	}
	site := widget.NewLabel(r.Site)
	if r.Site == "" {
		site.SetText(defaultHosts)
	}
	return v.table.row(append([]fyne.CanvasObject{site}, cells...)...)
}

func (v *routesView) confirmRemove(s *Snapshot, r action.Route) {
	if len(customSites(s.Sites)) == 0 {
		v.remove(s, r, nil, fmt.Sprintf("Remove Socketbar's route for %s from every VirtualHost and restart the Service Proxy?", r.Path))
		return
	}
	// With custom sites the row is one site's view of the route: offer to
	// take it from that site alone, or from every site.
	site, key := siteName(r.Site), r.Site
	if key == "" {
		key = "default"
	}
	var d dialog.Dialog
	only := widget.NewButton("Only for "+site, func() {
		d.Hide()
		v.remove(s, r, []string{key}, "")
	})
	every := widget.NewButton("From every site", func() {
		d.Hide()
		v.remove(s, r, nil, "")
	})
	every.Importance = widget.DangerImportance
	text := widget.NewLabel(fmt.Sprintf("Remove Socketbar's route for %s, then restart the Service Proxy.\nTaking it from one site keeps it for the others.", r.Path))
	text.Wrapping = fyne.TextWrapWord
	d = dialog.NewCustom("Remove route", "Cancel", container.NewVBox(text, container.NewHBox(only, every)), v.w)
	d.Resize(fyne.NewSize(520, 0))
	d.Show()
	v.removeOnly, v.removeEvery = only, every
}

// remove proposes taking r's path from the given sites (nil: every one)
// off the UI goroutine, then applies it, after confirm says yes when it
// is set.
func (v *routesView) remove(s *Snapshot, r action.Route, sites []string, confirm string) {
	v.u.propose(v.w, func() (*action.Proposal, error) {
		return v.u.actions.ProposeRemove(v.u.ctx, action.RemoveOptions{Target: s.target(), Path: r.Path, Sites: sites})
	}, func(p *action.Proposal) { v.confirmRemoval(p, r, sites, confirm) })
}

// confirmRemoval applies the removal p of r, after confirm says yes when
// it is set.
func (v *routesView) confirmRemoval(p *action.Proposal, r action.Route, sites []string, confirm string) {
	done := "Removed " + r.Path + "."
	if len(sites) > 0 {
		done = fmt.Sprintf("Removed %s for %s.", r.Path, siteName(r.Site))
	}
	if confirm == "" {
		v.u.applyInBackground(v.w, p, done)
		return
	}
	dialog.ShowConfirm("Remove route", confirm, func(ok bool) {
		if ok {
			v.u.applyInBackground(v.w, p, done)
		}
	}, v.w)
}

// reapplyDrift puts back Socketbar's routes that vanished and lets go of
// those whose site was deleted, as socketbar reapply does.
func (v *routesView) reapplyDrift(s *Snapshot) {
	v.u.propose(v.w, func() (*action.Proposal, error) { return v.u.actions.ProposeReapply(v.u.ctx, s.target()) }, func(p *action.Proposal) {
		done := "Socketbar's routes are back in the config."
		if p.RecordOnly() {
			done = "Socketbar no longer expects the routes of deleted sites; no file needed to change."
		}
		v.u.applyInBackground(v.w, p, done)
	})
}

// propose works out a change off the UI goroutine (it reads the config
// and the history), then hands it to then on the UI goroutine, or shows
// why it cannot be made in w.
func (u *ui) propose(w fyne.Window, compute func() (*action.Proposal, error), then func(*action.Proposal)) {
	u.background(func() func() {
		p, err := compute()
		return func() {
			if err != nil {
				dialog.ShowError(errors.New(errorMessage(err)), w)
				return
			}
			then(p)
		}
	})
}

// siteName names a site for people: "the default hosts" or its name.
func siteName(name string) string {
	if name == "" {
		return "the default hosts"
	}
	return name
}

// applyInBackground runs a proposal through the transaction off the UI
// thread and reports.
func (u *ui) applyInBackground(w fyne.Window, p *action.Proposal, success string) {
	busy := dialog.NewCustomWithoutButtons("Applying", newBusy("Testing, backing up, writing and restarting…"), w)
	busy.Show()
	go func() {
		res, err := u.actions.Apply(u.ctx, p, action.ApplyOptions{})
		fyne.Do(func() {
			busy.Hide()
			msg := success
			if res != nil && res.Restarted {
				msg += fmt.Sprintf(" The Service Proxy runs again (pid %d) after %s.", res.PID, since(res.Took))
			}
			if res != nil {
				msg = recoveredFirst(res.Recovered, msg)
			}
			u.report(w, "Socketbar", err, msg)
			u.reload()
		})
	}()
}

func errText(err error) string {
	if err == nil {
		return "unknown error"
	}
	return errorMessage(err)
}

// atLeast lays out its one object at least width wide, and takes no room
// while the object is hidden.
type atLeast struct{ width float32 }

func (a *atLeast) MinSize(objs []fyne.CanvasObject) fyne.Size {
	if len(objs) == 0 || !objs[0].Visible() {
		return fyne.Size{}
	}
	s := objs[0].MinSize()
	s.Width = max(s.Width, a.width)
	return s
}

func (a *atLeast) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
}
