package app

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"

	_ "github.com/socketbar/socketbar/app/posixlocale" // before Fyne's lang init
	"github.com/socketbar/socketbar/assets"
	"github.com/socketbar/socketbar/serverctl/action"
)

// ID is the application identifier (also in FyneApp.toml).
const ID = "com.socketbar.app"

// Options configure the app.
type Options struct {
	// Root is the directory that stands for "/" when looking for the Server.
	Root string
	// Version is Socketbar's, shown in About.
	Version string
	// Actions does the work: the same action layer as the CLI's.
	Actions action.Actions
	// Show opens these windows at start ("routes", "add", "test", "proxy",
	// "log", "about", "server"), for scripts and screenshots;
	// "add:PATH=BACKEND", "test:URL" and "server:HOST" fill in the form (a
	// test also runs), "proxy:start" starts the test proxy; "none" (any other name) opens nothing when there is
	// a tray.
	Show []string
	// Tray reports whether the desktop shows tray icons (nil: ask the
	// platform). Without them every action is in the routes window's menu
	// and the app quits when its last window closes.
	Tray func(context.Context) bool
	// Forget, when set, is told of a Server over SSH the person removed
	// from the Servers menu, so that its connection closes (see
	// action.Pool.Forget) rather than at quit.
	Forget func(host string)
}

// ui is the running app: the state it shows and the windows it has open.
type ui struct {
	app     fyne.App
	actions action.Actions
	// ctx ends when the app quits: the watcher and any work in flight stop.
	ctx     context.Context
	cancel  context.CancelFunc
	version string
	// tray is set when the desktop shows the app's tray menu; without
	// one the app lives in its windows and quits with the last.
	tray bool
	// stopOnce makes stop safe to call from Quit and from OnStopped.
	stopOnce sync.Once

	mu   sync.Mutex // guards snap for the watcher goroutine
	snap *Snapshot

	menu *fyne.Menu
	// mainMenu is the routes window's menu bar: every tray action, for
	// desktops without a tray.
	mainMenu *fyne.MainMenu
	windows  map[windowID]fyne.Window
	// closers run when their window closes (a window's own goroutines).
	closers map[windowID]func()
	// listeners are the open windows that follow the snapshot.
	listeners map[windowID]func(*Snapshot)
	proxy     *testProxy
	// demo is the demo Server this app started; it stops with the app.
	demo *action.Demo
	// do runs a function on the UI goroutine (fyne.Do); what background
	// starts lands through it, and the tests run that on their own
	// goroutine instead. pending counts background's work under way.
	do      func(func())
	pending atomic.Int32
	// routesView, addForm and testView are the open windows' views.
	routesView *routesView
	addForm    *addRouteForm
	testView   *testView

	// servers are the Servers over SSH the admin added, in the Servers
	// menu's order; selected is the one shown (Host "" is This Mac).
	servers  []server
	selected server
	// links are the watchers of the servers, by Host.
	links map[string]*link
	// localRoot is This Mac's Server's folder for "/" (Options.Root, or
	// the demo's); localNone says none was found there.
	localRoot string
	localNone bool
	timing    timing
	forget    func(host string)
	// hostKeys are the open host key questions, by Server; addServerForm
	// is the open Add Server window's form.
	hostKeys      map[string]*hostKeyView
	addServerForm *addServerForm
}

// Run builds the app and runs it until it quits.
func Run(a fyne.App, opts Options) {
	u := newUI(a, opts)
	u.followServers()
	a.Lifecycle().SetOnStarted(func() {
		if runtime.GOOS == "darwin" {
			setMenuBarOnly() // no Dock icon: Socketbar lives in the menu bar
		}
		go u.watch()
	})
	a.Lifecycle().SetOnStopped(u.stop)
	switch {
	case len(opts.Show) > 0:
		for _, name := range opts.Show {
			u.show(name)
		}
	case runtime.GOOS == "darwin" && u.tray && !u.current().NoServer():
		// A menu-bar app: nothing opens until the person asks.
	default:
		// A new Linux user looks for a window, and a Mac without a
		// Server should see the offer of the demo: open the routes window.
		u.showRoutes()
	}
	if !u.tray && len(u.windows) == 0 {
		u.showRoutes() // without a tray, a windowless app could not be reached
	}
	a.Run()
}

// stop ends what the app started: its watcher, the test proxy and the
// demo. It runs once, whether Quit or the end of the app calls it.
func (u *ui) stop() {
	u.stopOnce.Do(func() {
		u.cancel()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		u.proxy.stop()
		if u.demo != nil {
			if err := u.demo.Stop(ctx); err != nil {
				// The app is ending: a log line is all that can say it.
				log.Printf("socketbar: stop the demo: %v", err)
			}
			u.demo = nil
		}
	})
}

// quit stops what the app started, then the app.
func (u *ui) quit() {
	u.stop()
	u.app.Quit()
}

func newUI(a fyne.App, opts Options) *ui {
	if opts.Actions == nil {
		opts.Actions = &action.Local{}
	}
	if opts.Tray == nil {
		opts.Tray = trayHosted
	}
	u := &ui{app: a, actions: opts.Actions, version: opts.Version, windows: map[windowID]fyne.Window{},
		listeners: map[windowID]func(*Snapshot){}, closers: map[windowID]func(){},
		links: map[string]*link{}, hostKeys: map[string]*hostKeyView{}, timing: timing{every: remoteEvery, retryFirst: retryFirst, retryMax: retryMax},
		forget: opts.Forget, localRoot: opts.Root}
	u.ctx, u.cancel = context.WithCancel(context.Background())
	u.do = fyne.Do
	u.proxy = &testProxy{}
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))
	u.restoreServers()
	u.snap = load(u.ctx, u.actions, opts.Root)
	if u.snap.NoServer() && opts.Root == "" {
		if d, _ := u.actions.RunningDemo(u.ctx); d != nil {
			u.localRoot = d.Root
			u.snap = load(u.ctx, u.actions, d.Root) // the CLI's demo: show it
		}
	}
	u.localNone = u.snap.NoServer()
	if u.selected.remote() {
		// Read over SSH by its watcher, off this goroutine.
		u.snap = &Snapshot{Host: u.selected.Host, Root: u.selected.Root, connecting: true}
	}
	u.tray = opts.Tray(u.ctx)
	u.menu = fyne.NewMenu("Socketbar")
	u.mainMenu = fyne.NewMainMenu(fyne.NewMenu("Socketbar"), fyne.NewMenu(itemServers))
	u.buildMenu()
	// Fyne's tray keeps a hidden window open so that the app outlives its
	// windows: only ask for it when there is a tray to reach the app by.
	if desk, ok := a.(desktop.App); ok && u.tray {
		desk.SetSystemTrayIcon(trayIcon())
		desk.SetSystemTrayMenu(u.menu)
	}
	return u
}

// trayIcon is the menu-bar icon. On macOS it is a template image (black
// on transparent, tinted for light and dark menu bars), which Fyne's tray
// makes of a ThemedResource; @2x serves Retina and is scaled down. The
// resource stays PNG because the menu bar of the Server's macOS versions
// cannot load SVG; Fyne logs once that it could not recolour it. Other
// systems take the picture as it is.
func trayIcon() fyne.Resource {
	png := fyne.NewStaticResource("tray@2x.png", assets.Tray2x)
	if runtime.GOOS == "darwin" {
		return theme.NewThemedResource(png)
	}
	return png
}

// show opens a window by name.
func (u *ui) show(spec string) {
	name, arg, _ := strings.Cut(spec, ":")
	switch windowID(name) {
	case winRoutes:
		u.showRoutes()
	case winAdd:
		path, backend, _ := strings.Cut(arg, "=")
		u.showAddRoute(path, backend)
	case winTest:
		url, connect, _ := strings.Cut(arg, " ")
		u.showTest(url, connect)
	case winProxy:
		u.showProxy()
		if arg == "start" && !u.proxy.running() {
			u.toggleProxy()
		}
	case winLog:
		u.showLog()
	case winAbout:
		u.showAbout()
	case winAddServer:
		u.showAddServer(arg)
	}
}

// window returns the open window of a kind, or makes it with build; each
// kind is open at most once.
func (u *ui) window(name windowID, title string, size fyne.Size, build func(w fyne.Window) fyne.CanvasObject) fyne.Window {
	if w, ok := u.windows[name]; ok {
		w.Show()
		w.RequestFocus()
		return w
	}
	w := u.app.NewWindow(title)
	u.windows[name] = w // before build, which may look for its window
	w.SetContent(build(w))
	w.Resize(size)
	w.SetOnClosed(func() { u.closed(name) })
	w.Show()
	return w
}

// closed forgets a window that closed; without a tray, the last one to
// close quits the app, stopping the demo it started.
func (u *ui) closed(name windowID) {
	if fn := u.closers[name]; fn != nil {
		fn()
	}
	delete(u.windows, name)
	delete(u.listeners, name)
	delete(u.closers, name)
	if name == winRoutes {
		u.routesView = nil
	}
	if name == winAdd {
		u.addForm = nil
	}
	if name == winTest {
		u.testView = nil
	}
	if name == winAddServer {
		u.addServerForm = nil
	}
	if !u.tray && len(u.windows) == 0 {
		u.quit()
	}
}

// current returns the snapshot the UI shows.
func (u *ui) current() *Snapshot {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.snap
}

// setSnapshot shows s everywhere: the menu and every window that follows it.
// It must run on the UI goroutine.
func (u *ui) setSnapshot(s *Snapshot) {
	u.mu.Lock()
	u.snap = s
	u.mu.Unlock()
	u.buildMenu()
	for _, l := range u.listeners {
		l(s)
	}
}

// follow makes the window called name hear every new snapshot while open.
func (u *ui) follow(name windowID, fn func(*Snapshot)) { u.listeners[name] = fn }

// background runs work off the UI goroutine (it reads files, runs
// programs or connects) and then, on the UI goroutine, what work returns.
func (u *ui) background(work func() (land func())) {
	u.pending.Add(1)
	go func() {
		defer u.pending.Add(-1)
		land := work()
		u.do(land)
	}()
}

// reload reads the selected Server again in the background and shows the
// result, unless another Server was chosen meanwhile.
func (u *ui) reload() {
	t := u.selectedTarget()
	u.background(func() func() {
		s := loadTarget(u.ctx, u.actions, t)
		return func() {
			if !u.isSelected(t) {
				return
			}
			if t.Host == "" {
				u.localNone = s.NoServer()
			} else if l := u.links[t.Host]; l != nil {
				l.err = s.Err
			}
			u.setSnapshot(s)
		}
	})
}

// watchEvery is how often the watcher looks: the state shown is at most
// this old (plus a read), well within the 3 s a person notices.
const watchEvery = 2 * time.Second

// watch keeps the snapshot true: it reloads when the config file changes
// on disk (Server.app, an editor, the CLI) and otherwise re-reads only the
// Service Proxy's state, which a restart from elsewhere changes without
// touching the file. Each round is one action.Pulse: a stat and a pid file
// read.
func (u *ui) watch() {
	t := time.NewTicker(watchEvery)
	defer t.Stop()
	for {
		select {
		case <-u.ctx.Done():
			return
		case <-t.C:
		}
		base := u.current()
		fresh, full := u.poll(u.ctx, base)
		if fresh == nil {
			continue
		}
		fyne.Do(func() {
			// A state-only update is of base: a reload meanwhile knows
			// better; nor is This Mac's shown once another is chosen.
			if !u.isSelected(fresh.target()) {
				return
			}
			if full || u.current() == base {
				u.setSnapshot(fresh)
			}
		})
	}
}

// poll returns a newer snapshot than s, or nil when nothing changed: a
// full reload (full) when the config file changed or can no longer be
// read, else s with the Service Proxy's state read again.
func (u *ui) poll(ctx context.Context, s *Snapshot) (fresh *Snapshot, full bool) {
	if s.Config == "" || s.Host != "" {
		// A Server over SSH has a watcher of its own (watchServer).
		return nil, false
	}
	p, err := u.actions.Pulse(ctx, s.target())
	if err != nil || !p.ModTime.Equal(s.ModTime) {
		return load(ctx, u.actions, s.Root), true
	}
	if p.Service == s.Service && (p.ServiceErr == nil) == (s.ServiceErr == nil) {
		return nil, false
	}
	return s.withService(p.Service, p.ServiceErr), false
}

// report tells the person how long work ended: in the window if it is
// open, else as a notification. An error is worded for people here.
func (u *ui) report(w fyne.Window, title string, err error, success string) {
	if err != nil {
		err = errors.New(errorMessage(err))
	}
	open := false
	for _, ww := range u.windows {
		if ww == w {
			open = true
		}
	}
	switch {
	case open && err != nil:
		dialog.ShowError(err, w)
	case open:
		dialog.ShowInformation(title, success, w)
	case err != nil:
		u.app.SendNotification(fyne.NewNotification(title, err.Error()))
	default:
		u.app.SendNotification(fyne.NewNotification(title, success))
	}
}

// openConfig reveals the config file's folder in the file manager.
func (u *ui) openConfig() {
	s := u.current()
	if s.Config == "" {
		return
	}
	u.app.OpenURL(&url.URL{Scheme: "file", Path: filepath.Dir(s.Config)})
}

func (u *ui) restartService() {
	s := u.current()
	if !s.found() {
		return
	}
	go func() {
		r, err := u.actions.Restart(u.ctx, action.RestartOptions{Target: s.target()})
		u.do(func() {
			u.app.SendNotification(fyne.NewNotification("Restart Service Proxy", restartMessage(r, err)))
			u.reload()
		})
	}()
}

func restartMessage(r *action.Restarted, err error) string {
	if err != nil {
		return "The Service Proxy did not come back: " + errorMessage(err)
	}
	return recoveredFirst(r.Recovered, fmt.Sprintf("The Service Proxy runs again (pid %d) and answers on its ports.", r.PID))
}

// undoLast reverts the newest change not yet undone, after asking. The
// proposal reads the history and the backups, so it is worked out off the
// UI goroutine.
func (u *ui) undoLast(parent fyne.Window) {
	s := u.current()
	if s.Config == "" {
		return
	}
	u.background(func() func() {
		p, err := u.actions.ProposeUndo(u.ctx, action.UndoOptions{Target: s.target()})
		return func() {
			if err != nil {
				u.app.SendNotification(fyne.NewNotification("Undo", errorMessage(err)))
				return
			}
			u.confirmUndo(parent, p)
		}
	})
}

// confirmUndo asks before it applies the undo p (at once without a window
// to ask in) and says how it went.
func (u *ui) confirmUndo(parent fyne.Window, p *action.Proposal) {
	run := func() {
		go func() {
			res, err := u.actions.Apply(u.ctx, p, action.ApplyOptions{})
			u.do(func() {
				var msg string
				if err != nil {
					msg = "Undo failed: " + errorMessage(err)
				} else {
					msg = recoveredFirst(res.Recovered, "Undid “"+p.Undoing.Description+"”; the Service Proxy runs with the previous config.")
				}
				u.app.SendNotification(fyne.NewNotification("Undo", msg))
				u.reload()
			})
		}()
	}
	if parent == nil {
		run()
		return
	}
	dialog.ShowConfirm("Undo last change", fmt.Sprintf("Undo “%s” from %s?", p.Undoing.Description, p.Undoing.Time.Local().Format("2 Jan 15:04")), func(ok bool) {
		if ok {
			run()
		}
	}, parent)
}

// startDemo starts the demo Server and switches the app to it.
func (u *ui) startDemo(parent fyne.Window) {
	var prog dialog.Dialog // none from the tray menu with no window open
	if parent != nil {
		prog = dialog.NewCustomWithoutButtons("Starting the demo Server", newBusy("Extracting the demo and starting its Apache…"), parent)
		prog.Show()
	}
	// A stopped demo starts again from its own folder.
	var dir string
	if s := u.current(); s.Demo != nil {
		dir = s.Root
	}
	go func() {
		d, err := u.actions.StartDemo(u.ctx, action.DemoOptions{Dir: dir})
		var s *Snapshot
		if d != nil {
			s = load(u.ctx, u.actions, d.Root)
		}
		var running *action.DemoRunningError
		if errors.As(err, &running) {
			err = nil // another Socketbar's demo: show it, leave it running
			d = nil
		}
		fyne.Do(func() {
			if prog != nil {
				prog.Hide()
			}
			if err == nil && d != nil {
				u.demo = d
			}
			if s != nil {
				// The demo is This Mac's Server now: show it.
				u.localRoot, u.localNone = s.Root, false
				u.selected = server{}
				u.saveServers()
				u.setSnapshot(s)
			}
			if err != nil {
				u.report(parent, "Demo Server", err, "")
			}
		})
	}()
}

func routeLabel(r action.Route) string {
	return r.Path + " → " + r.BaseBackend()
}

// windowID names a kind of window; each is open at most once.
type windowID string

// The app's windows. Their names are also what Options.Show takes.
const (
	winRoutes windowID = "routes"
	winAdd    windowID = "add"
	winTest   windowID = "test"
	winProxy  windowID = "proxy"
	winLog    windowID = "log"
	winAbout  windowID = "about"
	// winAddServer is the Add Server window ("server:HOST" fills it in).
	winAddServer windowID = "server"
)
