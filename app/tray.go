package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// Menu item labels, used by the menu and its tests.
const (
	itemRoutes       = "WebSocket Routes"
	itemAdd          = "Add WebSocket Route…"
	itemTest         = "Test Connection…"
	itemProxyStart   = "Start Test Proxy on :8443"
	itemProxyStop    = "Stop Test Proxy"
	itemRestart      = "Restart Service Proxy"
	itemUndo         = "Undo Last Change"
	itemLog          = "Show Log"
	itemOpenConfig   = "Open Config"
	itemDemo         = "Start Demo Server"
	itemAllRoutes    = "All Routes…"
	itemAbout        = "About Socketbar"
	itemQuit         = "Quit Socketbar"
	itemServer       = "Server: "
	noWebSocketRoute = "No WebSocket routes yet"
)

// buildMenu fills the tray menu from the current snapshot: a status line,
// the routes, and one item per action.
func (u *ui) buildMenu() {
	s := u.current()
	status := fyne.NewMenuItem(s.StatusLine(), nil)
	status.Disabled = true

	var routeItems []*fyne.MenuItem
	seen := map[string]bool{}
	for _, r := range s.Routes {
		label := routeLabel(r)
		if r.Path == "/" || seen[label] || !(r.WebSocket || r.Managed) {
			continue
		}
		seen[label] = true
		path := r.Path
		routeItems = append(routeItems, fyne.NewMenuItem(label, func() { u.showRoutesAt(path) }))
	}
	if len(routeItems) == 0 {
		none := fyne.NewMenuItem(noWebSocketRoute, nil)
		none.Disabled = true
		routeItems = append(routeItems, none)
	}
	routeItems = append(routeItems, fyne.NewMenuItemSeparator(), fyne.NewMenuItem(itemAllRoutes, u.showRoutes))
	routes := fyne.NewMenuItem(itemRoutes, nil)
	routes.ChildMenu = fyne.NewMenu("", routeItems...)

	// Right under the status line: which Server it is about, and the
	// others to choose from.
	servers := fyne.NewMenuItem(itemServer+u.selected.name(), nil)
	servers.ChildMenu = fyne.NewMenu(itemServers, u.serverItems()...)

	items := []*fyne.MenuItem{status, servers, fyne.NewMenuItemSeparator()}
	items = append(items, u.actionItems(s, routes)...)
	u.menu.Items = items
	u.menu.Refresh()
	// The routes window's menu bar offers the same actions (its window
	// is the routes list), for desktops without a tray.
	u.mainMenu.Items[0].Items = u.actionItems(s, nil)
	u.mainMenu.Items[1].Items = u.serverItems()
	u.mainMenu.Refresh()
}

// actionItems are the menu's actions for snapshot s, made anew for each
// menu that shows them; routes, when not nil, goes before them.
func (u *ui) actionItems(s *Snapshot, routes *fyne.MenuItem) []*fyne.MenuItem {
	proxyLabel := itemProxyStart
	if u.proxy.running() {
		proxyLabel = itemProxyStop
	}
	hasConfig := s.Config != ""
	var items []*fyne.MenuItem
	if s.NoServer() || s.demoStopped() {
		items = append(items, actionItem(itemDemo, func() { u.startDemo(u.anyWindow()) }, true))
	}
	if routes != nil {
		items = append(items, enable(routes, hasConfig))
	}
	quit := actionItem(itemQuit, u.quit, true)
	quit.IsQuit = true // Fyne adds no Quit of its own to a menu bar that has this one
	return append(items,
		actionItem(itemAdd, func() { u.showAddRoute("", "") }, hasConfig),
		actionItem(itemTest, func() { u.showTest("", "") }, true),
		// The proxy may run on routes of a config that has since become
		// unreadable: it can always be stopped.
		actionItem(proxyLabel, u.toggleProxy, hasConfig || u.proxy.running()),
		fyne.NewMenuItemSeparator(),
		actionItem(itemRestart, u.restartService, hasConfig),
		actionItem(itemUndo, func() { u.undoLast(u.anyWindow()) }, hasConfig && len(s.History) > 0),
		actionItem(itemLog, u.showLog, hasConfig),
		actionItem(itemOpenConfig, u.openConfig, hasConfig),
		fyne.NewMenuItemSeparator(),
		actionItem(itemAbout, u.showAbout, true),
		quit,
	)
}

// actionItem is a menu item, enabled when the state allows its action.
func actionItem(label string, action func(), enabled bool) *fyne.MenuItem {
	return enable(fyne.NewMenuItem(label, action), enabled)
}

func enable(it *fyne.MenuItem, enabled bool) *fyne.MenuItem {
	it.Disabled = !enabled
	return it
}

// anyWindow is an open window to hang dialogs on, or nil.
func (u *ui) anyWindow() fyne.Window {
	for _, w := range u.windows {
		return w
	}
	return nil
}

func (u *ui) showAbout() {
	u.window(winAbout, "About Socketbar", fyne.NewSize(420, 220), func(w fyne.Window) fyne.CanvasObject {
		text := widget.NewLabel("Socketbar " + u.version + "\n\nPuts WebSocket routes where macOS Server 5 needs them: in the Service Proxy, " +
			"the Apache in front of every website, written the way the installed Apache tunnels them — tested, backed up, " +
			"and rolled back if the Service Proxy does not come back.")
		text.Wrapping = fyne.TextWrapWord
		icon := widget.NewIcon(u.app.Icon())
		return container.NewBorder(nil, widget.NewButton("Close", w.Close), container.NewGridWrap(fyne.NewSize(64, 64), icon), nil, text)
	})
}

// newBusy is an indeterminate progress bar with a caption.
func newBusy(caption string) fyne.CanvasObject {
	return container.NewVBox(widget.NewLabel(caption), widget.NewProgressBarInfinite())
}
