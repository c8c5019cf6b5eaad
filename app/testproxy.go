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
	mu    sync.Mutex
	tp    *action.TestProxy
	lines []string
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

// start runs the test proxy on the Server's routes through the actions.
func (u *ui) startProxy(addr string) error {
	p := u.proxy
	tp, err := u.actions.StartTestProxy(u.ctx, action.ServeOptions{Target: u.current().target(), UseServer: true, Addr: addr, Log: p})
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.tp = tp
	p.mu.Unlock()
	p.Write([]byte(fmt.Sprintf("listening on %s with %d route(s)", tp.URL(), len(tp.Routes()))))
	return nil
}

// stop closes every session with 1001 and waits for the proxy to end.
func (p *testProxy) stop() {
	p.mu.Lock()
	tp := p.tp
	p.tp = nil
	p.mu.Unlock()
	if tp != nil {
		if err := tp.Stop(); err != nil {
			p.Write([]byte("stopped: " + err.Error()))
		}
	}
}

// serveRoutes lists what the test proxy would serve, for the window.
func (u *ui) serveRoutes() []string {
	s := u.current()
	if s.Config == nil {
		return nil
	}
	var routes []string
	for _, r := range s.Config.ServeRoutes() {
		routes = append(routes, r.Path+" → "+r.Backend)
	}
	return routes
}

// toggleProxy starts or stops the test proxy on 127.0.0.1:8443.
func (u *ui) toggleProxy() {
	if u.proxy.running() {
		go func() { u.proxy.stop(); fyne.Do(u.buildMenu) }()
		return
	}
	if err := u.startProxy(action.DefaultProxyAddr); err != nil {
		u.report(u.windows[winProxy], "Test Proxy", err, "")
		return
	}
	u.buildMenu()
}

// showProxy is the Test Proxy window: address, routes, live sessions, log.
func (u *ui) showProxy() {
	u.window(winProxy, "Socketbar — Test Proxy", fyne.NewSize(760, 520), func(w fyne.Window) fyne.CanvasObject {
		addr := widget.NewEntry()
		addr.SetText(action.DefaultProxyAddr)
		state := widget.NewLabel("")
		state.Wrapping = fyne.TextWrapWord
		routes := widget.NewLabel("")
		routes.Wrapping = fyne.TextWrapWord
		logs := widget.NewTextGrid()
		var button *widget.Button
		refresh := func() {
			a, n, lines := u.proxy.status()
			if a == "" {
				state.SetText("Stopped. The test proxy serves the Service Proxy's routes on this machine, so a route can be tried without touching the Server.")
				button.SetText("Start")
				button.SetIcon(theme.MediaPlayIcon())
				addr.Enable()
			} else {
				state.SetText(fmt.Sprintf("Serving on %s — %d live WebSocket session(s).", a, n))
				button.SetText("Stop")
				button.SetIcon(theme.MediaStopIcon())
				addr.Disable()
			}
			var rl []string
			rl = append(rl, u.serveRoutes()...)
			if len(rl) == 0 {
				rl = []string{"none: add a route first"}
			}
			routes.SetText("Routes: " + strings.Join(rl, ",  "))
			if len(lines) > 12 {
				lines = lines[len(lines)-12:]
			}
			logs.SetText(strings.Join(lines, "\n"))
		}
		button = widget.NewButtonWithIcon("Start", theme.MediaPlayIcon(), func() {
			if u.proxy.running() {
				go func() { u.proxy.stop(); fyne.Do(func() { refresh(); u.buildMenu() }) }()
				return
			}
			if err := u.startProxy(strings.TrimSpace(addr.Text)); err != nil {
				u.report(w, "Test Proxy", err, "")
			}
			refresh()
			u.buildMenu()
		})
		button.Importance = widget.HighImportance
		refresh()
		// The session count and log change while the window is open.
		stop := make(chan struct{})
		go func() {
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					fyne.Do(refresh)
				}
			}
		}()
		u.follow(winProxy, func(*Snapshot) { refresh() })
		w.SetOnClosed(func() {
			close(stop)
			delete(u.windows, winProxy)
			delete(u.listeners, winProxy)
		})
		top := container.NewVBox(container.NewBorder(nil, nil, widget.NewLabel("Address"), button, addr), state, routes, widget.NewSeparator(),
			widget.NewLabelWithStyle("Log", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		return container.NewBorder(top, nil, nil, nil, container.NewScroll(logs))
	})
}
