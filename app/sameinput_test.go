package app

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/socketbar/socketbar/internal/validate"
	"github.com/socketbar/socketbar/internal/validate/validatetest"
	"github.com/socketbar/socketbar/serverctl/action"
	"github.com/socketbar/socketbar/serverctl/servertest"
)

// The app refuses exactly the inputs the validator refuses, and so the
// CLI (internal/cli/sameinput_test.go types the same table into its
// flags): each refusal is shown at the form, naming the field typed into,
// and nothing refused is tested, served or proposed.
func TestAppRefusesWhatTheValidatorRefuses(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir()) // the test proxy's self-signed certificate
	t.Setenv("HOME", t.TempDir())
	root := servertest.Copy(t, "5.3.1")
	// The Connection Test runs on a cancelled context: an accepted input
	// fails at once, at its first step, without a lookup or a connection.
	tests := newUI(test.NewTempApp(t), Options{Root: root, Actions: &action.Local{}, Tray: noTray})
	tests.cancel()
	tests.showTest("", "")
	forms := newTestUI(test.NewTempApp(t), Options{Root: root, Actions: &action.Local{}, Tray: noTray})
	forms.showProxy()
	forms.showAddRoute("", "")
	for _, c := range validatetest.Cases() {
		var shown string
		var refused bool
		switch c.Field {
		case validate.FieldURL, validate.FieldConnect, validate.FieldOrigin, validate.FieldHeader:
			shown, refused = typeIntoTest(t, tests.testView, c)
		case validate.FieldAddr:
			shown, refused = typeIntoProxy(t, forms, c.Input)
		case validate.FieldPath:
			forms.showAddRoute(c.Input, "http://127.0.0.1:8000")
			shown = forms.addForm.pathMsg.Text
			refused = shown != ""
		case validate.FieldBackend:
			forms.showAddRoute(backendPath(c.Input), c.Input)
			shown = forms.addForm.backendMsg.Text
			refused = shown != ""
		default:
			t.Fatalf("no form takes %s", c.Field)
		}
		field := formField[c.Field]
		switch {
		case c.Refusal != "" && (!refused || !strings.Contains(shown, field+" ") || !strings.Contains(shown, c.Refusal)):
			t.Errorf("%s %q: refused %v, shown %q; want it refused naming %s and saying %q", c.Field, c.Input, refused, shown, field, c.Refusal)
		case c.Refusal == "" && refused:
			t.Errorf("%s %q refused: %s", c.Field, c.Input, shown)
		}
	}
}

// typeIntoTest runs the Connection Test with c's input in its field and
// returns the verdict, and whether the input was refused: nothing was
// tried, not even the first step.
func typeIntoTest(t *testing.T, v *testView, c validatetest.Case) (string, bool) {
	t.Helper()
	v.url.SetText("ws://127.0.0.1:1/")
	for _, e := range []*widget.Entry{v.connect, v.origin, v.headers} {
		e.SetText("")
	}
	switch c.Field {
	case validate.FieldURL:
		v.url.SetText(c.Input)
	case validate.FieldConnect:
		v.connect.SetText(c.Input)
	case validate.FieldOrigin:
		v.origin.SetText(c.Input)
	case validate.FieldHeader:
		v.headers.SetText(c.Input)
	}
	v.copy.Disable() // show enables it when it has shown the verdict
	test.Tap(v.run)
	servertest.Eventually(t, "the verdict", func() bool { return !v.copy.Disabled() })
	return v.verdict.Text, len(v.report.Steps) == 0
}

// typeIntoProxy starts the test proxy from its window at addr and returns
// the error shown, and whether the address was refused: the proxy did not
// start. One that starts is stopped again.
func typeIntoProxy(t *testing.T, u *ui, addr string) (string, bool) {
	t.Helper()
	w := u.windows[winProxy]
	entry, start := find[*widget.Entry](w.Content()), find[*widget.Button](w.Content())
	entry.SetText(addr)
	test.Tap(start)
	drain(t, u) // the proxy starts in the background
	if u.proxy.running() {
		test.Tap(start) // Stop
		drain(t, u)
		servertest.Eventually(t, "the test proxy to stop", func() bool { return !u.proxy.running() })
		return "", false
	}
	top := w.Canvas().Overlays().Top()
	if top == nil {
		t.Fatalf("the proxy at %q neither started nor said why", addr)
	}
	w.Canvas().Overlays().Remove(top)
	return canvasText(top), true
}

// find returns the first T in o, depth first.
func find[T fyne.CanvasObject](o fyne.CanvasObject) T {
	var found T
	var walk func(fyne.CanvasObject) bool
	walk = func(o fyne.CanvasObject) bool {
		if v, ok := o.(T); ok {
			found = v
			return true
		}
		switch v := o.(type) {
		case *fyne.Container:
			for _, c := range v.Objects {
				if walk(c) {
					return true
				}
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(v).Objects() {
				if walk(c) {
					return true
				}
			}
		}
		return false
	}
	walk(o)
	return found
}

// backendPath is a route path that agrees with backend on a trailing
// slash, so that only the backend's own rules can refuse the route.
func backendPath(backend string) string {
	if strings.HasSuffix(backend, "/") {
		return "/ws/"
	}
	return "/ws"
}
