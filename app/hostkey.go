package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/socketbar/socketbar/serverctl/action"
)

// Labels of the host key question.
const (
	hostKeyQuestion = "Trust this key?"
	itemTrustKey    = "Yes, Trust This Key"
	itemDontTrust   = "No"
)

// acceptTimeout bounds recording a key (ssh -G, then a write).
const acceptTimeout = 30 * time.Second

// hostKeyView is an open host key question, for the tests.
type hostKeyView struct {
	text     *widget.Label
	yes, no  *widget.Button
	errLabel *widget.Label
}

// hostKeyWindow names the question's window for one Server: one question
// per Server at a time.
func hostKeyWindow(name string) windowID { return windowID("hostkey:" + name) }

// askHostKey shows the fingerprint of a Server's key that no known_hosts
// file holds and asks whether to trust it. Yes records it (Accept) and
// then runs retry; No leaves everything as it was. Nothing is trusted
// without the person's Yes.
func (u *ui) askHostKey(e *action.HostKeyError, retry func()) *hostKeyView {
	name := e.Host.String()
	if v := u.hostKeys[name]; v != nil {
		u.windows[hostKeyWindow(name)].RequestFocus()
		return v
	}
	v := &hostKeyView{}
	u.hostKeys[name] = v
	u.closers[hostKeyWindow(name)] = func() { delete(u.hostKeys, name) }
	u.window(hostKeyWindow(name), "Trust the key of "+name+"?", fyne.NewSize(560, 300), func(w fyne.Window) fyne.CanvasObject {
		var fps strings.Builder
		for _, f := range e.Fingerprints {
			fmt.Fprintf(&fps, "\n    %s  %s", f.Type, f.SHA256)
		}
		v.text = widget.NewLabel(fmt.Sprintf("Socketbar has not connected to %s before: no known_hosts file holds its key. It offers:%s\n\n"+
			"Compare this with the Server's own fingerprint before you trust it: on the Server, run\n    ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\n"+
			"(or ask its administrator). If they differ, someone may be in between: answer No.\n\n%s",
			hostPort(e.Name, e.Port), fps.String(), hostKeyQuestion))
		v.text.Wrapping = fyne.TextWrapWord
		v.errLabel = widget.NewLabel("")
		v.errLabel.Wrapping = fyne.TextWrapWord
		v.errLabel.Hide()
		v.no = widget.NewButton(itemDontTrust, w.Close)
		v.yes = widget.NewButton(itemTrustKey, func() {
			v.yes.Disable()
			u.background(func() func() {
				ctx, cancel := context.WithTimeout(u.ctx, acceptTimeout)
				defer cancel()
				err := e.Accept(ctx)
				return func() {
					if err != nil {
						v.yes.Enable()
						v.errLabel.SetText("The key could not be recorded: " + action.Text(err))
						v.errLabel.Show()
						return
					}
					w.Close()
					retry()
				}
			})
		})
		v.yes.Importance = widget.HighImportance
		return container.NewBorder(nil, container.NewVBox(v.errLabel, container.NewHBox(v.no, v.yes)), nil, nil, v.text)
	})
	return v
}

// warnHostKeyChanged says that a Server offers another key than the one
// known_hosts holds, and what to check. It offers no way to trust the new
// key: that is done by hand, after checking, as the words say.
func (u *ui) warnHostKeyChanged(e *action.HostKeyChangedError) {
	u.window(hostKeyWindow(e.Host.String()), "The key of "+e.Host.String()+" changed", fyne.NewSize(560, 260), func(w fyne.Window) fyne.CanvasObject {
		text := widget.NewLabel("⚠ " + errorMessage(e))
		text.Wrapping = fyne.TextWrapWord
		return container.NewBorder(nil, container.NewHBox(widget.NewButton("Close", w.Close)), nil, nil, text)
	})
}

// hostPort writes a host and port as ssh names them in known_hosts.
func hostPort(name string, port int) string {
	if port == 0 || port == 22 {
		return name
	}
	if strings.Contains(name, ":") {
		return fmt.Sprintf("[%s]:%d", name, port)
	}
	return fmt.Sprintf("%s:%d", name, port)
}

// isHostKey reports whether err is a host key to ask about.
func isHostKey(err error) (*action.HostKeyError, bool) {
	var e *action.HostKeyError
	return e, errors.As(err, &e)
}
