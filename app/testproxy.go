package app

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/socketbar/socketbar/serverctl/action"
)

// testProxy is the app's handle on the test proxy it started, and the
// last lines of its log.
type testProxy struct {
	mu sync.Mutex
	tp *action.TestProxy
	// starting is set while a start is under way.
	starting bool
	lines    []string
}

// Write keeps the last 200 log lines.
func (p *testProxy) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lines = append(p.lines, strings.TrimRight(string(b), "\n"))
	if len(p.lines) > 200 {
		p.lines = p.lines[len(p.lines)-200:]
	}
	return len(b), nil
}

func (p *testProxy) running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tp != nil
}

func (p *testProxy) status() (addr string, sessions int, lines []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tp != nil {
		addr, sessions = p.tp.URL(), p.tp.Sessions()
	}
	return addr, sessions, append([]string(nil), p.lines...)
}

// begin claims the start of the proxy; false when it runs or is starting.
func (p *testProxy) begin() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tp != nil || p.starting {
		return false
	}
	p.starting = true
	return true
}

// started ends a start: tp runs, or is nil when the start failed.
func (p *testProxy) started(tp *action.TestProxy) {
	p.mu.Lock()
	p.tp, p.starting = tp, false
	p.mu.Unlock()
	if tp != nil {
		p.Write([]byte(fmt.Sprintf("listening on %s with %d route(s)", tp.URL(), len(tp.Routes()))))
	}
}

// startProxy runs the test proxy on the Server's routes through the
// actions, off the UI goroutine (it reads the config and may make a
// certificate), then shows the outcome, reporting a failure in the Test
// Proxy window if it is open.
func (u *ui) startProxy(addr string) {
	p := u.proxy
	if !p.begin() {
		return
	}
	target := u.current().target()
	u.background(func() func() {
		tp, err := u.actions.StartTestProxy(u.ctx, action.ServeOptions{Target: target, UseServer: true, Addr: addr, Log: p})
		p.started(tp)
		return func() {
			if err != nil {
				u.report(u.windows[winProxy], "Test Proxy", err, "")
			}
			u.proxyChanged()
		}
	})
}

// stop closes every session with 1001 and waits for the proxy to end.
func (p *testProxy) stop() {
	p.mu.Lock()
	tp := p.tp
	p.tp = nil
	p.mu.Unlock()
	if tp != nil {
		if err := tp.Stop(); err != nil {
			p.Write([]byte("stopped: " + errorMessage(err)))
		}
	}
}

// toggleProxy starts or stops the test proxy on 127.0.0.1:8443.
func (u *ui) toggleProxy() {
	if u.proxy.running() {
		go func() { u.proxy.stop(); fyne.Do(u.proxyChanged) }()
		return
	}
	u.startProxy(action.DefaultProxyAddr)
}

// proxyChanged shows a start or stop of the test proxy in the menu and in
// its window, whose ticker runs only while the proxy does.
func (u *ui) proxyChanged() {
	u.buildMenu()
	if l := u.listeners[winProxy]; l != nil {
		l(u.current())
	}
}

// proxyWindow is the Test Proxy window: address, routes, live sessions,
// log. The session count and log change while the proxy runs, so while it
// runs and the window is open it refreshes every second.
type proxyWindow struct {
	u      *ui
	w      fyne.Window
	addr   *widget.Entry
	state  *widget.Label
	routes *widget.Label
	// served is what the proxy serves of the Server's routes, read off
	// the UI goroutine for each snapshot.
	served string
	logs   *widget.TextGrid
	button *widget.Button
	// stopTick, while the window ticks, stops its ticker.
	stopTick chan struct{}
}

func (u *ui) showProxy() {
	u.window(winProxy, "Socketbar — Test Proxy", fyne.NewSize(760, 520), func(w fyne.Window) fyne.CanvasObject {
		pw := &proxyWindow{u: u, w: w, addr: widget.NewEntry(), state: widget.NewLabel(""), routes: widget.NewLabel(""),
			logs: widget.NewTextGrid()}
		return pw.build()
	})
}

func (pw *proxyWindow) build() fyne.CanvasObject {
	pw.addr.SetText(action.DefaultProxyAddr)
	pw.state.Wrapping = fyne.TextWrapWord
	pw.routes.Wrapping = fyne.TextWrapWord
	pw.button = widget.NewButtonWithIcon("Start", theme.MediaPlayIcon(), pw.onStartStop)
	pw.button.Importance = widget.HighImportance
	pw.readRoutes(pw.u.current())
	pw.refresh()
	pw.u.follow(winProxy, func(s *Snapshot) {
		pw.readRoutes(s)
		pw.refresh()
	})
	pw.u.closers[winProxy] = func() { pw.ticking(false) }
	top := container.NewVBox(container.NewBorder(nil, nil, widget.NewLabel("Address"), pw.button, pw.addr), pw.state, pw.routes, widget.NewSeparator(),
		widget.NewLabelWithStyle("Log", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	return container.NewBorder(top, nil, nil, nil, container.NewScroll(pw.logs))
}

// ticking starts or stops the refresh every second; a stopped proxy
// changes nothing, so an open window of one costs no wake-ups.
func (pw *proxyWindow) ticking(on bool) {
	switch {
	case on && pw.stopTick == nil:
		pw.stopTick = make(chan struct{})
		go tick(pw.stopTick, pw.refresh)
	case !on && pw.stopTick != nil:
		close(pw.stopTick)
		pw.stopTick = nil
	}
}

// tick runs fn on the UI goroutine every second until stop closes.
func tick(stop <-chan struct{}, fn func()) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			fyne.Do(fn)
		}
	}
}

func (pw *proxyWindow) refresh() {
	a, n, lines := pw.u.proxy.status()
	_, open := pw.u.windows[winProxy]
	pw.ticking(a != "" && open)
	if a == "" {
		pw.state.SetText("Stopped. The test proxy serves the Service Proxy's routes on this machine, so a route can be tried without touching the Server.")
		pw.button.SetText("Start")
		pw.button.SetIcon(theme.MediaPlayIcon())
		pw.addr.Enable()
	} else {
		pw.state.SetText(fmt.Sprintf("Serving on %s — %d live WebSocket session(s).", a, n))
		pw.button.SetText("Stop")
		pw.button.SetIcon(theme.MediaStopIcon())
		pw.addr.Disable()
	}
	pw.routes.SetText("Routes: " + pw.served)
	if len(lines) > 12 {
		lines = lines[len(lines)-12:]
	}
	pw.logs.SetText(strings.Join(lines, "\n"))
}

func (pw *proxyWindow) onStartStop() {
	u := pw.u
	if u.proxy.running() {
		go func() { u.proxy.stop(); fyne.Do(func() { pw.refresh(); u.buildMenu() }) }()
		return
	}
	u.startProxy(typed(pw.addr.Text))
}

// readRoutes reads, off the UI goroutine, the routes the proxy serves of
// the Server of s, and shows them.
func (pw *proxyWindow) readRoutes(s *Snapshot) {
	if s.Config == "" {
		pw.served = proxyNoRoutes
		return
	}
	pw.served = "reading…"
	pw.u.background(func() func() {
		routes, err := pw.u.actions.TestProxyRoutes(pw.u.ctx, s.target())
		text := proxyNoRoutes
		switch {
		case err != nil:
			text = "unknown: " + errorMessage(err)
		case len(routes) > 0:
			var rl []string
			for _, r := range routes {
				rl = append(rl, r.Path+" → "+r.Backend)
			}
			text = strings.Join(rl, ",  ")
		}
		return func() {
			if pw.u.current() == s {
				pw.served = text
				pw.refresh()
			}
		}
	})
}

// proxyNoRoutes is the routes line of a Server with nothing to serve.
const proxyNoRoutes = "none: add a route first"
