package app

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/socketbar/socketbar/serverctl/action"
)

// Labels of the Add Server window.
const (
	itemTestServer = "Test Connection"
	itemAdd1Server = "Add Server"
	fieldHost      = "Host"
	fieldRoot      = "Folder for /"
)

// addServerForm is the Add Server window: a host to reach over SSH, a
// test of it, and Add.
type addServerForm struct {
	u          *ui
	w          fyne.Window
	host, root *widget.Entry
	hostMsg    *widget.Label
	test, add  *widget.Button
	result     *widget.Label
	// tests counts the tests started: what an older one found, for
	// other input, is not shown.
	tests int
}

// showAddServer opens the Add Server window, with host filled in.
func (u *ui) showAddServer(host string) {
	u.window(winAddServer, itemAddServer, fyne.NewSize(560, 340), func(w fyne.Window) fyne.CanvasObject {
		f := &addServerForm{u: u, w: w}
		u.addServerForm = f
		return f.build(host)
	})
}

func (f *addServerForm) build(host string) fyne.CanvasObject {
	f.host = widget.NewEntry()
	f.host.SetPlaceHolder("admin@server.example.com, or an alias from ~/.ssh/config")
	f.root = widget.NewEntry()
	f.root.SetPlaceHolder("/ (the Server's own; another folder for a copy of one)")
	f.hostMsg = widget.NewLabel("")
	f.hostMsg.Wrapping = fyne.TextWrapWord
	f.hostMsg.Hide()
	f.result = widget.NewLabel("")
	f.result.Wrapping = fyne.TextWrapWord
	f.test = widget.NewButton(itemTestServer, f.runTest)
	f.add = widget.NewButton(itemAdd1Server, f.submit)
	f.add.Importance = widget.HighImportance
	f.host.OnChanged = func(string) { f.check() }
	f.root.OnChanged = func(string) { f.check() }
	f.host.OnSubmitted = func(string) { f.submit() }
	f.host.SetText(host)
	f.check()
	intro := widget.NewLabel("Socketbar reaches the Server with this Mac's ssh, as you would: your ~/.ssh/config, keys and known_hosts apply, and nothing is installed on the Server.")
	intro.Wrapping = fyne.TextWrapWord
	form := widget.NewForm(widget.NewFormItem(fieldHost, f.host), widget.NewFormItem(fieldRoot, f.root))
	buttons := container.NewHBox(f.test, f.add)
	return container.NewVBox(intro, form, f.hostMsg, buttons, f.result)
}

// server is the form's Server, or the words that say what is wrong.
func (f *addServerForm) server() (server, string) {
	text := strings.TrimSpace(f.host.Text)
	if _, err := action.ParseHost(text); err != nil {
		return server{}, fieldHost + ": " + errorMessage(err)
	}
	for _, s := range f.u.servers {
		if s.Host == text {
			return server{}, fmt.Sprintf("%s: %s is in the Servers menu already.", fieldHost, text)
		}
	}
	root := f.root.Text
	if root != "" && (!strings.HasPrefix(root, "/") || strings.ContainsAny(root, "\n\r\x00")) {
		return server{}, fieldRoot + " must be a folder on the Server written from its / (such as /Volumes/Copy), on one line; leave it empty for the Server itself."
	}
	return server{Host: text, Root: root}, ""
}

// check shows what is wrong with the input as it is typed, and enables
// Test and Add only for a host that can be used.
func (f *addServerForm) check() {
	_, problem := f.server()
	if problem != "" && f.host.Text != "" {
		f.hostMsg.SetText(problem)
		f.hostMsg.Show()
	} else {
		f.hostMsg.Hide()
	}
	if problem != "" {
		f.test.Disable()
		f.add.Disable()
	} else {
		f.test.Enable()
		f.add.Enable()
	}
}

// runTest reads the Server over SSH (a Status) and says what it found,
// or why it could not: a host key never seen is asked about, and the test
// runs again once it is trusted.
func (f *addServerForm) runTest() {
	s, problem := f.server()
	if problem != "" {
		f.result.SetText(problem)
		return
	}
	f.tests++
	n := f.tests
	f.result.SetText("Connecting to " + s.Host + "…")
	t := action.Target{Host: s.Host, Root: s.Root}
	f.u.background(func() func() {
		ctx, cancel := context.WithTimeout(f.u.ctx, statusTimeout)
		defer cancel()
		st, err := f.u.actions.Status(ctx, t)
		return func() {
			if n != f.tests || f.u.addServerForm != f {
				return // newer input, or the window closed
			}
			if e, ok := isHostKey(err); ok {
				f.result.SetText("This Mac does not know the Server's host key yet: compare its fingerprint in the window that opened, and trust it if it matches.")
				f.u.askHostKey(e, f.runTest)
				return
			}
			f.result.SetText(testedWords(s.Host, st, err))
		}
	})
}

// testedWords says what a Status of a new Server found.
func testedWords(host string, st *action.Status, err error) string {
	if err != nil {
		return "✗ " + errorMessage(err)
	}
	server := "a macOS Server"
	if st.Server.ServerVersion != "" {
		server = "macOS Server " + st.Server.ServerVersion
	}
	apache := "Apache version unknown"
	if st.Server.Apache != (action.Version{}) {
		apache = "Apache " + st.Server.Apache.String()
	}
	if st.ConfigErr != nil {
		return fmt.Sprintf("✓ Reached %s: %s, %s; but its Service Proxy config cannot be read: %s", host, server, apache, errorMessage(st.ConfigErr))
	}
	svc := "the Service Proxy is stopped"
	switch {
	case st.ServiceErr != nil:
		svc = "the Service Proxy's state is unknown (" + action.Text(st.ServiceErr) + ")"
	case st.Service.Running:
		svc = "the Service Proxy runs"
	}
	n := st.Counts()
	return fmt.Sprintf("✓ Reached %s: %s, %s, %d routes (%d WebSocket); %s.", host, server, apache, n.Routes, n.WebSocket, svc)
}

// submit adds the Server, selects it and closes the window.
func (f *addServerForm) submit() {
	s, problem := f.server()
	if problem != "" {
		f.hostMsg.SetText(problem)
		f.hostMsg.Show()
		return
	}
	f.u.addServer(s)
	f.w.Close()
}
