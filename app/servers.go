package app

import (
	"context"
	"encoding/json"
	"errors"
	"log"
	"time"

	"fyne.io/fyne/v2"

	"github.com/socketbar/socketbar/serverctl/action"
)

// The Servers the app manages: This Mac (the Server under Options.Root,
// or the demo) and the Servers reached over SSH that the admin added.
// The selected one is the single source of the Target every window acts
// on: the snapshot is read from it, and each window builds its Target
// from the snapshot.

// server is a Server the app manages; Host "" is This Mac.
type server struct {
	// Host is [USER@]HOST[:PORT] or an ~/.ssh/config alias.
	Host string `json:"host"`
	// Root is the folder that stands for "/" on the Server ("": "/").
	Root string `json:"root,omitempty"`
}

func (s server) remote() bool { return s.Host != "" }

// name is what the menus call the Server.
func (s server) name() string {
	if !s.remote() {
		return thisMac
	}
	return s.Host
}

// The preferences that remember the Servers across starts.
const (
	prefServers  = "servers"  // JSON list of the remote Servers
	prefSelected = "selected" // the selected Server's Host; "" is This Mac
)

// Labels of the Servers menu.
const (
	itemServers      = "Servers"
	itemAddServer    = "Add Server…"
	itemRemoveServer = "Remove Server"
	thisMac          = "This Mac"
)

// remoteEvery is how often the app reads each Server over SSH: one Status
// over the open connection (a few round trips), cheap for the Server and
// the network, while a change made there shows within this time.
const remoteEvery = 15 * time.Second

// retryFirst and retryMax bound the waits between tries to reach a Server
// that cannot be reached: doubled from the first to the last.
const (
	retryFirst = 2 * time.Second
	retryMax   = time.Minute
)

// statusTimeout bounds one read of a Server over SSH: a connection that
// stalls counts as lost instead of holding the watcher.
const statusTimeout = time.Minute

// timing is how often the watchers of remote Servers read them; tests
// make it shorter.
type timing struct {
	every, retryFirst, retryMax time.Duration
}

// link is what the app knows of a remote Server's connection. Only the
// UI goroutine touches it, apart from wake and stop.
type link struct {
	srv server
	// err is the last read's error ("": it was read).
	err error
	// wake asks the watcher to read the Server now.
	wake chan struct{}
	stop context.CancelFunc
	// asked is set once the host key question (or warning) was shown for
	// the last error, so that the watcher does not ask every round.
	asked bool
}

// poke asks the watcher of l to read its Server now.
func (l *link) poke() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// linkProblem says, in a few words for the Servers menu and the status
// line, why the Server could not be read over SSH, and whether the
// watcher should try again soon; "" when the connection was fine (the
// Server may still have no readable config: the snapshot says so).
func linkProblem(err error) (words string, retry bool) {
	var (
		unknown *action.HostKeyError
		changed *action.HostKeyChangedError
		auth    *action.AuthError
		dial    *action.DialError
		stalled *action.LoginTimeoutError
		noisy   *action.StartupOutputError
		sshErr  *action.SSHError
		host    *action.HostError
		cmd     *action.SSHCommandError
	)
	switch {
	case err == nil:
		return "", false
	case errors.As(err, &unknown):
		return "host key not trusted yet", false
	case errors.As(err, &changed):
		return "host key changed — not connecting", false
	case errors.As(err, &auth):
		return "login refused", false
	case errors.As(err, &host), errors.As(err, &cmd):
		return "cannot be used", false
	// Each try would leave another shell waiting in the startup files.
	case errors.As(err, &stalled) && stalled.LoggedIn:
		return "its shell startup hangs", false
	case errors.As(err, &noisy):
		return "its shell startup prints too much", false
	case errors.As(err, &stalled):
		return "SSH does not answer — retrying", true
	case errors.As(err, &dial), errors.As(err, &sshErr), errors.Is(err, action.ErrClosed), errors.Is(err, context.DeadlineExceeded):
		return "unreachable — retrying", true
	}
	return "", false
}

// restoreServers reads the Servers and the selection from the preferences.
func (u *ui) restoreServers() {
	p := u.app.Preferences()
	var list []server
	if text := p.String(prefServers); text != "" {
		if err := json.Unmarshal([]byte(text), &list); err != nil {
			log.Printf("socketbar: the list of Servers in the preferences cannot be read (%v); starting with This Mac alone", err)
			list = nil
		}
	}
	sel := p.String(prefSelected)
	seen := map[string]bool{}
	for _, s := range list {
		if _, err := action.ParseHost(s.Host); err != nil || seen[s.Host] {
			continue // written by hand, or by another version: leave it out
		}
		seen[s.Host] = true
		u.servers = append(u.servers, s)
		if s.Host == sel {
			u.selected = s
		}
	}
}

// saveServers writes the Servers and the selection to the preferences.
func (u *ui) saveServers() {
	list := u.servers
	if list == nil {
		list = []server{}
	}
	text, _ := json.Marshal(list) // strings only: cannot fail
	p := u.app.Preferences()
	p.SetString(prefServers, string(text))
	p.SetString(prefSelected, u.selected.Host)
}

// target is the Target of the selected Server.
func (u *ui) selectedTarget() action.Target {
	if u.selected.remote() {
		return action.Target{Host: u.selected.Host, Root: u.selected.Root}
	}
	return action.Target{Root: u.localRoot}
}

// isSelected reports whether t is the selected Server's Target: what
// lands from the background for another Server is not shown.
func (u *ui) isSelected(t action.Target) bool { return t == u.selectedTarget() }

// selectServer makes s the Server the app shows and acts on.
func (u *ui) selectServer(s server) {
	u.selected = s
	u.saveServers()
	if !s.remote() {
		u.setSnapshot(&Snapshot{Root: u.localRoot, connecting: true})
		u.reload()
		return
	}
	u.setSnapshot(&Snapshot{Host: s.Host, Root: s.Root, connecting: true})
	if l := u.links[s.Host]; l != nil {
		l.asked = false // chosen again: ask again
		l.poke()
	}
}

// addServer adds s to the list, starts following it and selects it.
func (u *ui) addServer(s server) {
	for _, have := range u.servers {
		if have.Host == s.Host {
			u.selectServer(have)
			return
		}
	}
	u.servers = append(u.servers, s)
	u.followServer(s)
	u.selectServer(s)
}

// removeServer stops following the Server of host and forgets it; This
// Mac becomes the selected Server if it was.
func (u *ui) removeServer(host string) {
	for i, s := range u.servers {
		if s.Host == host {
			u.servers = append(u.servers[:i:i], u.servers[i+1:]...)
			break
		}
	}
	if l := u.links[host]; l != nil {
		l.stop()
		delete(u.links, host)
	}
	if u.forget != nil {
		u.forget(host)
	}
	if u.selected.Host == host {
		u.selectServer(server{})
		return
	}
	u.saveServers()
	u.buildMenu()
}

// followServers starts a watcher for each remote Server.
func (u *ui) followServers() {
	for _, s := range u.servers {
		u.followServer(s)
	}
}

// follow starts the watcher of a remote Server.
func (u *ui) followServer(s server) {
	ctx, cancel := context.WithCancel(u.ctx)
	l := &link{srv: s, wake: make(chan struct{}, 1), stop: cancel}
	u.links[s.Host] = l
	go u.watchServer(ctx, l)
}

// watchServer reads the Server of l over SSH now, then every
// timing.every, and sooner when poked; after a lost connection it tries
// again after retryFirst, doubling the wait up to retryMax. What it read
// lands on the UI goroutine. It ends with ctx (the Server was removed, or
// the app quits).
func (u *ui) watchServer(ctx context.Context, l *link) {
	t := u.timing
	timer := time.NewTimer(0)
	defer timer.Stop()
	retry := t.retryFirst
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-l.wake:
			timer.Stop()
		}
		rctx, cancel := context.WithTimeout(ctx, statusTimeout)
		s := loadTarget(rctx, u.actions, action.Target{Host: l.srv.Host, Root: l.srv.Root})
		cancel()
		if ctx.Err() != nil {
			return
		}
		u.do(func() { u.landServer(l, s) })
		next := t.every
		if _, again := linkProblem(s.Err); again {
			next = retry
			retry = min(2*retry, t.retryMax)
		} else {
			retry = t.retryFirst
		}
		timer.Reset(next)
	}
}

// landServer shows what the watcher of l read: the link's state in the
// Servers menu and, for the selected Server, the snapshot. It asks about
// an unknown host key, or warns of a changed one, once per selection.
func (u *ui) landServer(l *link, s *Snapshot) {
	if u.links[l.srv.Host] != l {
		return // removed meanwhile
	}
	l.err = s.Err
	if !u.isSelected(s.target()) {
		u.buildMenu()
		return
	}
	u.setSnapshot(s)
	if l.asked {
		return
	}
	var unknown *action.HostKeyError
	var changed *action.HostKeyChangedError
	switch {
	case errors.As(s.Err, &unknown):
		l.asked = true
		u.askHostKey(unknown, func() { l.poke() })
	case errors.As(s.Err, &changed):
		l.asked = true
		u.warnHostKeyChanged(changed)
	}
}

// serverItems are the Servers menu's items: each Server, checked when
// selected and with its connection's trouble, then Add and Remove.
func (u *ui) serverItems() []*fyne.MenuItem {
	local := fyne.NewMenuItem(thisMac, func() { u.selectServer(server{}) })
	if u.localNone {
		local.Label = thisMac + " — no Server (choose to start the demo)"
	}
	local.Checked = !u.selected.remote()
	items := []*fyne.MenuItem{local}
	var removes []*fyne.MenuItem
	for _, s := range u.servers {
		label := s.Host
		if l := u.links[s.Host]; l != nil {
			if words, _ := linkProblem(l.err); words != "" {
				label += " — " + words
			}
		}
		it := fyne.NewMenuItem(label, func() { u.selectServer(s) })
		it.Checked = u.selected.Host == s.Host
		items = append(items, it)
		host := s.Host
		removes = append(removes, fyne.NewMenuItem(host, func() { u.removeServer(host) }))
	}
	items = append(items, fyne.NewMenuItemSeparator(), fyne.NewMenuItem(itemAddServer, func() { u.showAddServer("") }))
	if len(removes) > 0 {
		rm := fyne.NewMenuItem(itemRemoveServer, nil)
		rm.ChildMenu = fyne.NewMenu("", removes...)
		items = append(items, rm)
	}
	return items
}
