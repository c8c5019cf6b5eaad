package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/socketbar/socketbar/proxy"
)

// testProxy runs Socketbar's embedded proxy for the app and keeps the last
// lines of its log.
type testProxy struct {
	mu     sync.Mutex
	srv    *proxy.Server
	cancel context.CancelFunc
	done   chan struct{}
	lines  []string
}

func newTestProxy() *testProxy { return &testProxy{} }

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
	return p.srv != nil
}

func (p *testProxy) status() (addr string, sessions int, lines []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.srv != nil {
		addr, sessions = p.srv.URL(), p.srv.Sessions()
	}
	return addr, sessions, append([]string(nil), p.lines...)
}

// start serves routes on addr with the self-signed certificate.
func (p *testProxy) start(addr string, routes []proxy.Route) error {
	if len(routes) == 0 {
		return errors.New("the Service Proxy config has no routes to serve; add one first")
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return err
	}
	cert, _, _, err := proxy.SelfSignedCert(filepath.Join(dir, "socketbar"), time.Now())
	if err != nil {
		return err
	}
	srv := &proxy.Server{Addr: addr, Routes: routes, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}, Log: log.New(p, "", log.Ltime)}
	if err := srv.Listen(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ctx); err != nil {
			p.Write([]byte("stopped: " + err.Error()))
		}
		p.mu.Lock()
		p.srv = nil
		p.mu.Unlock()
	}()
	p.mu.Lock()
	p.srv, p.cancel, p.done = srv, cancel, done
	p.mu.Unlock()
	p.Write([]byte(fmt.Sprintf("listening on %s with %d route(s)", srv.URL(), len(routes))))
	return nil
}

// stop closes every session with 1001 and waits for the server to end.
func (p *testProxy) stop() {
	p.mu.Lock()
	cancel, done := p.cancel, p.done
	p.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

func (u *ui) serveRoutes() []proxy.Route {
	s := u.current()
	if s.Config == nil {
		return nil
	}
	var routes []proxy.Route
	for _, r := range s.Config.ServeRoutes() {
		if pr, err := proxy.NewRoute(r.Path, r.Backend); err == nil {
			routes = append(routes, pr)
		}
	}
	return routes
}

// toggleProxy starts or stops the test proxy on 127.0.0.1:8443.
func (u *ui) toggleProxy() {
	if u.proxy.running() {
		go func() { u.proxy.stop(); fyne.Do(u.buildMenu) }()
		return
	}
	if err := u.proxy.start("127.0.0.1:8443", u.serveRoutes()); err != nil {
		u.report(u.windows["proxy"], "Test Proxy", err, "")
		return
	}
	u.buildMenu()
}

// showProxy is the Test Proxy window: address, routes, live sessions, log.
func (u *ui) showProxy() {
	u.window("proxy", "Socketbar — Test Proxy", fyne.NewSize(760, 520), func(w fyne.Window) fyne.CanvasObject {
		addr := widget.NewEntry()
		addr.SetText("127.0.0.1:8443")
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
			for _, r := range u.serveRoutes() {
				rl = append(rl, r.String())
			}
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
			if err := u.proxy.start(strings.TrimSpace(addr.Text), u.serveRoutes()); err != nil {
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
		u.follow("proxy", func(*Snapshot) { refresh() })
		w.SetOnClosed(func() {
			close(stop)
			delete(u.windows, "proxy")
			delete(u.listeners, "proxy")
		})
		top := container.NewVBox(container.NewBorder(nil, nil, widget.NewLabel("Address"), button, addr), state, routes, widget.NewSeparator(),
			widget.NewLabelWithStyle("Log", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		return container.NewBorder(top, nil, nil, nil, container.NewScroll(logs))
	})
}
