package app

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/socketbar/socketbar/serverctl/action"
)

// Strategy choices as shown in the form.
const (
	choiceAuto    = "Auto"
	choiceTunnel  = "Tunnel: mod_proxy_wstunnel (Apache 2.4.5+)"
	choiceUpgrade = "Upgrade: upgrade=websocket (Apache 2.4.47+)"
)

// addRouteForm is the Add WebSocket Route window's state.
type addRouteForm struct {
	u                   *ui
	w                   fyne.Window
	path, backend       *widget.Entry
	pathMsg, backendMsg *widget.Label
	hosts               map[string]*widget.Check
	hostBox             *fyne.Container
	// sites has one checkbox per site, by the name AddOptions.Sites takes
	// ("default" for the default hosts); siteBox shows them.
	sites                 map[string]*widget.Check
	siteBox               *fyne.Container
	strategy              *widget.RadioGroup
	strategyWhy, applyMsg *widget.Label
	preview               *widget.TextGrid
	previewTitle          *widget.Label
	apply                 *widget.Button
	// useEcho fills in the demo's echo app as the backend, on a demo.
	useEcho  *widget.Button
	steps    *fyne.Container
	proposal *action.Proposal
	// gen counts the input's versions: a proposal worked out for an older
	// one is dropped when it arrives. want is what the newest input asks
	// for (nil: nothing to propose); proposing is set while a proposal is
	// worked out.
	gen       int
	want      *action.AddOptions
	proposing bool
	// applying is set while an Apply runs: it owns the message area and
	// the steps until it ends, whatever reloads happen meanwhile (its own
	// restart makes one, on a config that already has the route).
	applying bool
	// result is the last Apply's outcome; it stays on screen until the
	// person edits the form, also across reloads.
	result string
}

func (u *ui) showAddRoute(path, backend string) {
	u.window(winAdd, "Socketbar — Add WebSocket Route", fyne.NewSize(860, 740), func(w fyne.Window) fyne.CanvasObject {
		f := &addRouteForm{u: u, w: w, path: widget.NewEntry(), backend: widget.NewEntry(),
			pathMsg: widget.NewLabel(""), backendMsg: widget.NewLabel(""), hosts: map[string]*widget.Check{},
			hostBox: container.NewHBox(), sites: map[string]*widget.Check{}, siteBox: container.New(layout.NewRowWrapLayout()), strategyWhy: widget.NewLabel(""), applyMsg: widget.NewLabel(""),
			preview: widget.NewTextGrid(), steps: container.NewHBox()}
		f.path.SetPlaceHolder("/ws/")
		f.backend.SetPlaceHolder("http://127.0.0.1:8000/ws/")
		for _, l := range []*widget.Label{f.pathMsg, f.backendMsg, f.strategyWhy, f.applyMsg} {
			l.Wrapping = fyne.TextWrapWord
		}
		f.path.OnChanged = f.edited
		f.backend.OnChanged = f.edited
		f.strategy = widget.NewRadioGroup([]string{choiceAuto, choiceTunnel, choiceUpgrade}, f.edited)
		f.strategy.Selected = choiceAuto
		f.useEcho = widget.NewButton(useEchoLabel, f.onUseEcho)
		f.apply = widget.NewButtonWithIcon("Apply", theme.ConfirmIcon(), f.onApply)
		f.apply.Importance = widget.HighImportance
		f.pathMsg.Hide()
		f.backendMsg.Hide()
		form := widget.NewForm(
			// A field's message shows under it only while there is one:
			// an empty form has no gaps between its fields.
			widget.NewFormItem("Path", container.NewVBox(f.path, f.pathMsg)),
			widget.NewFormItem("Backend", container.NewVBox(container.NewBorder(nil, nil, nil, f.useEcho, f.backend), f.backendMsg)),
			widget.NewFormItem("VirtualHosts", f.hostBox),
			widget.NewFormItem("Sites", f.siteBox),
			widget.NewFormItem("Strategy", container.NewVBox(f.strategy, f.strategyWhy)),
		)
		bottom := container.NewVBox(widget.NewSeparator(), f.steps, container.NewBorder(nil, nil, nil, container.NewCenter(f.apply), scrolledMessage(f.applyMsg, 6)))
		f.previewTitle = widget.NewLabelWithStyle("Change to apache_serviceproxy.conf", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		previewBox := container.NewBorder(f.previewTitle, nil, nil, nil,
			container.NewScroll(f.preview))
		u.follow(winAdd, func(*Snapshot) {
			if !f.applying {
				f.setHosts()
				f.setSites()
			}
			f.recompute()
		})
		u.addForm = f
		return container.NewBorder(form, bottom, nil, nil, previewBox)
	})
	if f := u.addForm; f != nil && (path != "" || backend != "" || f.path.Text == "") {
		f.path.SetText(path)
		f.backend.SetText(backend)
		f.setHosts()
		f.setSites()
		f.recompute()
	}
}

// useEchoLabel is the button that offers the demo's echo app.
const useEchoLabel = "Use the demo's echo app"

// onUseEcho fills in the demo's echo app as the backend (and /echo/ as the
// path, if there is none yet).
func (f *addRouteForm) onUseEcho() {
	d := f.u.current().Demo
	if d == nil {
		return
	}
	if strings.TrimSpace(f.path.Text) == "" {
		f.path.SetText("/echo/")
	}
	f.backend.SetText(d.EchoURL)
}

// setHosts offers one checkbox per VirtualHost port, the web hosts checked.
func (f *addRouteForm) setHosts() {
	s := f.u.current()
	if s.Demo != nil {
		f.useEcho.Show()
	} else {
		f.useEcho.Hide()
	}
	f.hostBox.RemoveAll()
	if s.Config == "" {
		return
	}
	web := map[string]bool{}
	for _, p := range s.WebPorts {
		web[p] = true
	}
	var ports []string
	labels := map[string]string{}
	for _, vh := range s.VirtualHosts {
		for _, p := range vh.Ports {
			if _, ok := labels[p]; !ok {
				ports = append(ports, p)
				labels[p] = vh.Label
			}
		}
	}
	sort.SliceStable(ports, func(i, j int) bool { return web[ports[i]] && !web[ports[j]] })
	prev := f.hosts
	f.hosts = map[string]*widget.Check{}
	for _, p := range ports {
		c := widget.NewCheck(labels[p], func(bool) { f.edited("") })
		if old, ok := prev[p]; ok {
			c.Checked = old.Checked
		} else {
			c.Checked = web[p]
		}
		f.hosts[p] = c
		f.hostBox.Add(c)
	}
}

// defaultSite is the name AddOptions.Sites takes for the default hosts.
const defaultSite = "default"

// setSites offers one checkbox per site, the default hosts first, each
// ticked unless the person unticked it. A Server without custom sites
// has one line instead: there is nothing to choose.
func (f *addRouteForm) setSites() {
	s := f.u.current()
	f.siteBox.RemoveAll()
	prev := f.sites
	f.sites = map[string]*widget.Check{}
	if len(customSites(s.Sites)) == 0 {
		f.siteBox.Add(widget.NewLabel(noCustomSites))
		return
	}
	for _, site := range s.Sites {
		key, label, aliases := site.Name, site.Name, ""
		if site.Default {
			key, label = defaultSite, defaultHostsLabel(s)
		}
		if len(site.Aliases) > 0 {
			aliases = "also " + strings.Join(site.Aliases, ", ")
		}
		c := widget.NewCheck(label, func(bool) { f.edited("") })
		c.Checked = true
		if old, ok := prev[key]; ok {
			c.Checked = old.Checked
		}
		f.sites[key] = c
		if aliases == "" {
			f.siteBox.Add(c)
			continue
		}
		f.siteBox.Add(container.NewHBox(c, container.NewCenter(smallText(aliases))))
	}
}

// noCustomSites is the Sites line of a Server without custom websites.
const noCustomSites = "Default hosts (this Server has no custom websites)"

// defaultHostsLabel names the default hosts by the addresses of their web
// VirtualHosts: "Default hosts (*:443, *:80)".
func defaultHostsLabel(s *Snapshot) string {
	var addrs []string
	for _, p := range s.WebPorts {
		for _, vh := range s.VirtualHosts {
			if slices.Contains(vh.Ports, p) {
				addrs = append(addrs, vh.Addrs...)
				break
			}
		}
	}
	if len(addrs) == 0 {
		return "Default hosts"
	}
	return "Default hosts (" + strings.Join(addrs, ", ") + ")"
}

// customSites are the custom websites among sites, without the default hosts.
func customSites(sites []action.Site) []action.Site {
	var out []action.Site
	for _, s := range sites {
		if !s.Default {
			out = append(out, s)
		}
	}
	return out
}

// smallText is a caption: words that qualify the control beside them.
func smallText(text string) fyne.CanvasObject {
	return widget.NewRichText(&widget.TextSegment{Text: text, Style: widget.RichTextStyle{
		Inline: true, SizeName: theme.SizeNameCaptionText, ColorName: theme.ColorNamePlaceHolder}})
}

// selectedSites are the ticked sites' names as AddOptions.Sites takes
// them; nil when every site is ticked (what the action does by default),
// empty when none is.
func (f *addRouteForm) selectedSites() []string {
	names := []string{}
	all := true
	for _, site := range f.u.current().Sites {
		key := site.Name
		if site.Default {
			key = defaultSite
		}
		c, ok := f.sites[key]
		if !ok {
			continue
		}
		if c.Checked {
			names = append(names, key)
		} else {
			all = false
		}
	}
	if all {
		return nil
	}
	return names
}

// selectedPorts are the ticked VirtualHosts' ports; nil when they are the
// Server's web ports, which is what the action does by default.
func (f *addRouteForm) selectedPorts() []string {
	var ports []string
	for p, c := range f.hosts {
		if c.Checked {
			ports = append(ports, p)
		}
	}
	sort.Strings(ports)
	web := append([]string(nil), f.u.current().WebPorts...)
	sort.Strings(web)
	if slices.Equal(ports, web) {
		return nil
	}
	if ports == nil {
		ports = []string{}
	}
	return ports
}

func (f *addRouteForm) chosenStrategy() action.Strategy {
	switch f.strategy.Selected {
	case choiceTunnel:
		return action.StrategyTunnel
	case choiceUpgrade:
		return action.StrategyUpgrade
	}
	return action.StrategyAuto
}

// edited is any change to the input: the last Apply's result and steps
// are of other input, so they go.
func (f *addRouteForm) edited(string) {
	f.result = ""
	if !f.applying {
		f.steps.RemoveAll()
	}
	f.recompute()
}

// recompute checks the fields as the person types and previews the change.
// The message area follows the state: an Apply in flight, then its result
// until the input changes, else what the input needs. The proposal reads
// the config, so it is worked out off the UI goroutine, one at a time: the
// newest input's once the one under way lands.
func (f *addRouteForm) recompute() {
	if f.applying {
		return // its input is being applied; the steps and message are its
	}
	f.gen++
	msg, opts := f.check()
	f.say(msg)
	f.want = opts
	if opts != nil && !f.proposing {
		f.propose()
	}
}

// propose works out the proposal for f.want in the background and shows
// it, unless the input changed meanwhile: then it works out the newest.
func (f *addRouteForm) propose() {
	opts, gen := *f.want, f.gen
	f.proposing = true
	f.u.background(func() func() {
		p, err := f.u.actions.ProposeAdd(f.u.ctx, opts)
		return func() {
			f.proposing = false
			switch {
			case f.applying:
			case gen == f.gen:
				f.say(f.proposed(p, err))
			case f.want != nil:
				f.propose()
			}
		}
	})
}

// say shows msg in the message area, unless the last Apply's result is
// still there.
func (f *addRouteForm) say(msg string) {
	if f.result != "" {
		msg = f.result
	}
	f.applyMsg.SetText(msg)
}

// workingOut is the message while the change is worked out.
const workingOut = "Working out the change…"

// check validates the input as it stands and returns what the message
// area should say, and the options to propose when the input is complete.
func (f *addRouteForm) check() (string, *action.AddOptions) {
	s := f.u.current()
	f.proposal = nil
	f.apply.Disable()
	f.setMessage(f.pathMsg, "")
	f.setMessage(f.backendMsg, "")
	f.preview.SetText("")
	if s.Config == "" {
		return "There is no Service Proxy config to change. " + errText(s.Err), nil
	}
	path, backend := typed(f.path.Text), typed(f.backend.Text)
	strategy, why, serr := action.ResolveStrategy(f.chosenStrategy(), s.Server.Apache)
	if serr != nil {
		f.strategyWhy.SetText("⚠ " + errorMessage(serr))
	} else {
		f.strategyWhy.SetText(fmt.Sprintf("Writes %s: %s.", strategy, why))
	}
	// The action layer's own checks, so each field shows its own problem.
	if path != "" {
		if err := action.ValidatePath(path); err != nil {
			f.setMessage(f.pathMsg, "⚠ "+errorMessage(err))
		}
	}
	if backend != "" {
		if err := action.ValidateBackend(backend); err != nil {
			f.setMessage(f.backendMsg, "⚠ "+errorMessage(err))
		}
	}
	switch {
	case f.pathMsg.Text != "" || f.backendMsg.Text != "" || serr != nil:
		return fixMarked, nil
	case path == "" || backend == "":
		return "Fill in a path and a backend to see the change.", nil
	}
	ports := f.selectedPorts()
	if ports != nil && len(ports) == 0 {
		return "Choose at least one VirtualHost.", nil
	}
	chosen := f.selectedSites()
	if chosen != nil && len(chosen) == 0 {
		return "Tick at least one site: the route must reach somewhere.", nil
	}
	opts := f.addOptions(s, path, backend, ports)
	opts.Sites = chosen
	return workingOut, &opts
}

// fixMarked is the message while a field is marked.
const fixMarked = "Fix what is marked ⚠ to see the change."

// proposed shows the outcome of a proposal: its preview, with Apply
// enabled, or the refusal at its field. It returns what the message area
// should say.
func (f *addRouteForm) proposed(p *action.Proposal, err error) string {
	if err != nil {
		var in *action.InputError
		if errors.As(err, &in) && (in.Field == action.FieldBackend || in.Field == action.FieldPath) {
			msgLabel := f.backendMsg
			if in.Field == action.FieldPath {
				msgLabel = f.pathMsg
			}
			f.setMessage(msgLabel, "⚠ "+errorMessage(err))
			return fixMarked
		}
		return "⚠ " + errorMessage(err)
	}
	if !p.Changed() {
		return "The config already has this route; nothing to change."
	}
	f.proposal = p
	f.preview.SetText(p.Diff())
	f.previewTitle.SetText(previewTitle(p))
	f.apply.Enable()
	return strings.Join(p.Notes, "\n")
}

// addOptions is what the form asks of the action layer: the same options
// `socketbar add --root ROOT PATH BACKEND` gives it for the same input.
func (f *addRouteForm) addOptions(s *Snapshot, path, backend string, ports []string) action.AddOptions {
	return action.AddOptions{Target: s.target(), Path: path, Backend: backend, Ports: ports, Strategy: f.chosenStrategy()}
}

// setMessage shows a field's message under it, or hides it: a hidden
// message takes no room, so the window is laid out again when one comes
// or goes.
func (f *addRouteForm) setMessage(l *widget.Label, text string) {
	l.SetText(text)
	if (text != "") == l.Visible() {
		return
	}
	if text == "" {
		l.Hide()
	} else {
		l.Show()
	}
	if c := f.w.Content(); c != nil {
		c.Refresh()
	}
}

// scrolledMessage gives a message label a fixed height of lines lines,
// shown or not, so that the Apply button beside it never moves, and
// scrolls when the message has more lines than it shows. An add on Server
// 5.2+ has a note for each default host and each custom-site macro: six
// lines at the window's width.
func scrolledMessage(l *widget.Label, lines int) fyne.CanvasObject {
	probe := widget.NewLabel(strings.Repeat("X\n", lines-1) + "X")
	return container.New(&fixedHeight{h: probe.MinSize().Height}, container.NewVScroll(l))
}

// fixedHeight lays its objects over each other at a fixed height.
type fixedHeight struct{ h float32 }

func (f *fixedHeight) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var w float32
	for _, o := range objs {
		w = max(w, o.MinSize().Width)
	}
	return fyne.NewSize(w, f.h)
}

func (f *fixedHeight) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
}

// onApply runs the change through the transaction in the background,
// showing each step as it starts.
func (f *addRouteForm) onApply() {
	p := f.proposal
	if p == nil {
		return
	}
	labels := map[action.Step]*widget.Label{}
	f.steps.RemoveAll()
	for _, st := range action.Steps() {
		l := widget.NewLabel("○ " + st.Label())
		labels[st] = l
		f.steps.Add(l)
	}
	f.apply.Disable()
	f.result = ""
	f.applying = true
	f.applyMsg.SetText("Applying…")
	var current action.Step
	mark := func(st action.Step) {
		if l, ok := labels[current]; ok {
			l.SetText("✓ " + current.Label())
		}
		current = st
		if l, ok := labels[st]; ok {
			l.SetText("● " + st.Label() + "…")
		}
	}
	go func() {
		res, err := f.u.actions.Apply(f.u.ctx, p, action.ApplyOptions{Progress: func(st action.Step) { f.u.do(func() { mark(st) }) }})
		f.u.do(func() {
			f.applying = false
			if err != nil {
				if l, ok := labels[current]; ok {
					l.SetText("✗ " + current.Label())
				}
				f.result = "✗ " + errorMessage(err)
				f.applyMsg.SetText(f.result)
				f.u.report(f.w, "Add WebSocket Route", errors.New(errorMessage(err)), "")
			} else {
				mark("")
				msg := fmt.Sprintf("✓ Added. Backup %s.", res.BackupID)
				if res.Restarted {
					msg += fmt.Sprintf(" The Service Proxy runs again (pid %d) after %s.", res.PID, since(res.Took))
				}
				msg = recoveredFirst(res.Recovered, msg)
				f.result = msg
				f.applyMsg.SetText(msg)
				if _, open := f.u.windows[winAdd]; !open {
					f.u.report(nil, "Add WebSocket Route", nil, msg)
				}
			}
			f.u.reload()
		})
	}()
}

// previewTitle names the files a proposal changes: on Server 5.0/5.1 a
// route for a custom site also goes into the customsites file.
func previewTitle(p *action.Proposal) string {
	var names []string
	for _, f := range p.Files() {
		names = append(names, filepath.Base(f))
	}
	if len(names) == 1 {
		return "Change to " + names[0]
	}
	return "Change to " + strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1] + " (one transaction)"
}
