package app

import (
	"context"
	"fmt"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/socketbar/socketbar/serverctl/action"
)

// Labels of the password window.
const (
	itemPasswordOK     = "Run sudo"
	itemPasswordCancel = "Cancel"
)

// PasswordPrompt returns what action.Local.Password asks: the password of
// the account Socketbar logs in as on host, for sudo there. It opens a
// window with a masked field, and blocks the calling goroutine (an
// action's, never the UI's) until the person answers, cancels (an error
// wrapping action.ErrCancelled, which says nothing was changed) or ctx
// ends. The password goes to the caller alone: the field is emptied and
// nothing keeps it.
func PasswordPrompt(a fyne.App) func(ctx context.Context, host string) ([]byte, error) {
	return func(ctx context.Context, host string) ([]byte, error) {
		return askPassword(ctx, a, fyne.Do, host, nil)
	}
}

// passwordView is an open password window, for the tests.
type passwordView struct {
	w          fyne.Window
	entry      *widget.Entry
	ok, cancel *widget.Button
}

// askPassword is PasswordPrompt's work; do runs on the UI goroutine, and
// shown, when not nil, hears of the window once it is open.
func askPassword(ctx context.Context, a fyne.App, do func(func()), host string, shown func(*passwordView)) ([]byte, error) {
	answer := make(chan []byte, 1) // nil: cancelled
	var once sync.Once
	send := func(p []byte) { once.Do(func() { answer <- p }) }
	var w fyne.Window
	do(func() {
		w = a.NewWindow("Password for sudo on " + host)
		v := &passwordView{w: w, entry: widget.NewPasswordEntry()}
		why := widget.NewLabel(fmt.Sprintf("To change the Service Proxy config on %s, Socketbar runs sudo there, "+
			"and sudo asks for the password of the account Socketbar logs in as. Socketbar hands it to sudo for this change and keeps it nowhere.", host))
		why.Wrapping = fyne.TextWrapWord
		give := func() {
			p := []byte(v.entry.Text)
			v.entry.SetText("")
			send(p)
			w.Close()
		}
		v.entry.OnSubmitted = func(string) { give() }
		v.ok = widget.NewButton(itemPasswordOK, give)
		v.ok.Importance = widget.HighImportance
		v.cancel = widget.NewButton(itemPasswordCancel, func() { v.entry.SetText(""); send(nil); w.Close() })
		w.SetOnClosed(func() { send(nil) }) // closing the window cancels
		w.SetContent(container.NewVBox(why, widget.NewForm(widget.NewFormItem("Password", v.entry)), container.NewHBox(v.cancel, v.ok)))
		w.Resize(fyne.NewSize(480, 200))
		w.Show()
		w.RequestFocus()
		if shown != nil {
			shown(v)
		}
	})
	select {
	case p := <-answer:
		if p == nil {
			return nil, fmt.Errorf("the password for sudo on %s: %w", host, action.ErrCancelled)
		}
		return p, nil
	case <-ctx.Done():
		do(func() {
			if w != nil {
				w.Close()
			}
		})
		return nil, fmt.Errorf("the password for sudo on %s: %w", host, ctx.Err())
	}
}
