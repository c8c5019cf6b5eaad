package app

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/socketbar/socketbar/proxy/wstest"
	"github.com/socketbar/socketbar/serverctl/action"
)

// testView is the Connection Test window.
type testView struct {
	u                *ui
	w                fyne.Window
	url, origin      *widget.Entry
	connect          *widget.Entry
	headers          *widget.Entry
	insecure, expect *widget.Check
	run, copy        *widget.Button
	steps            *fyne.Container
	verdict, fix     *widget.Label
	busy             *widget.ProgressBarInfinite
	report           *wstest.Report
}

// showTest opens the Connection Test window; with a URL it runs the test
// at once, dialling connect (HOST:PORT) when it is set.
func (u *ui) showTest(url, connect string) {
	u.window(winTest, "Socketbar — Connection Test", fyne.NewSize(760, 560), func(w fyne.Window) fyne.CanvasObject {
		v := &testView{u: u, w: w, url: widget.NewEntry(), origin: widget.NewEntry(), connect: widget.NewEntry(), headers: widget.NewMultiLineEntry(),
			insecure: widget.NewCheck("Accept an untrusted certificate (still reported)", nil),
			expect:   widget.NewCheck("Require the echo", nil),
			steps:    container.NewVBox(), verdict: widget.NewLabel(""), fix: widget.NewLabel(""), busy: widget.NewProgressBarInfinite()}
		v.url.SetPlaceHolder("wss://server.example.com/ws/")
		v.origin.SetPlaceHolder("default: the URL's own origin")
		v.connect.SetPlaceHolder("optional HOST:PORT, e.g. 127.0.0.1:443: dial it, the URL's name still goes in SNI and Host")
		v.headers.SetPlaceHolder("Cookie: sessionid=…  (one header per line)")
		v.headers.SetMinRowsVisible(2)
		v.verdict.Wrapping, v.fix.Wrapping = fyne.TextWrapWord, fyne.TextWrapWord
		v.verdict.TextStyle = fyne.TextStyle{Bold: true}
		v.busy.Hide()
		v.run = widget.NewButtonWithIcon("Run", theme.MediaPlayIcon(), v.onRun)
		v.run.Importance = widget.HighImportance
		v.copy = widget.NewButtonWithIcon("Copy Report", theme.ContentCopyIcon(), v.onCopy)
		v.copy.Disable()
		v.url.OnSubmitted = func(string) { v.onRun() }
		form := widget.NewForm(
			widget.NewFormItem("URL", v.url),
			widget.NewFormItem("Connect to", v.connect),
			widget.NewFormItem("Origin", v.origin),
			widget.NewFormItem("Headers", v.headers),
			widget.NewFormItem("", container.NewHBox(v.insecure, v.expect)),
		)
		u.testView = v
		top := container.NewVBox(form, container.NewHBox(v.run, v.copy), v.busy)
		// The verdict first: it is what the person came for; the steps explain it.
		return container.NewBorder(top, nil, nil, nil, container.NewVScroll(container.NewVBox(v.verdict, v.fix, widget.NewSeparator(), v.steps)))
	})
	if v := u.testView; v != nil && url != "" {
		v.url.SetText(url)
		v.connect.SetText(connect)
		if loopback := url + " " + connect; strings.Contains(loopback, "127.0.0.1") || strings.Contains(loopback, "localhost") {
			v.insecure.SetChecked(true) // by loopback address no certificate name can match
		}
		v.onRun()
	}
}

// options are what the window asks the action layer to test. Headers are
// read one "Name: value" per line by the rules of the CLI's -H; a line
// that breaks them is refused with its message, never dropped.
func (v *testView) options() (action.TestOptions, error) {
	opts := action.TestOptions{URL: typed(v.url.Text), Connect: typed(v.connect.Text), Origin: typed(v.origin.Text), Insecure: v.insecure.Checked, ExpectEcho: v.expect.Checked, Timeout: 10 * time.Second}
	if s := v.u.current(); s != nil {
		opts.Target = s.target() // its config says which site answered
	}
	header, err := action.ParseHeaders(strings.Split(v.headers.Text, "\n"))
	opts.Header = header
	return opts, err
}

// typed is the text of a one-line field without the spaces and tabs
// around it, which a text box does not show. Anything else in it is left
// for the action layer's rules to judge, as the CLI leaves its arguments.
func typed(s string) string { return strings.Trim(s, " \t") }

// refused is the report shown for input refused before anything was sent.
func refused(url, cause string, err error) *wstest.Report {
	return &wstest.Report{URL: url, Diagnosis: wstest.Diagnosis{Cause: cause, Message: errorMessage(err)}}
}

func (v *testView) onRun() {
	opts, err := v.options()
	if err != nil {
		v.show(refused(opts.URL, wstest.CauseBadOption, err))
		return
	}
	v.run.Disable()
	v.busy.Show()
	v.busy.Start()
	go func() {
		r, err := v.u.actions.Test(v.u.ctx, opts)
		if err != nil {
			r = refused(opts.URL, wstest.CauseBadURL, err)
		}
		fyne.Do(func() {
			v.busy.Stop()
			v.busy.Hide()
			v.run.Enable()
			v.show(r)
			if _, open := v.u.windows[winTest]; !open {
				v.u.report(nil, "Connection Test", nil, r.Diagnosis.Message)
			}
		})
	}()
}

// show renders a report as a checklist with the diagnosis.
func (v *testView) show(r *wstest.Report) {
	v.report = r
	v.steps.RemoveAll()
	for _, s := range r.Steps {
		icon := theme.ConfirmIcon()
		if !s.OK {
			icon = theme.ErrorIcon()
		}
		detail := widget.NewLabel(s.Detail)
		detail.Wrapping = fyne.TextWrapWord
		name := widget.NewLabelWithStyle(fmt.Sprintf("%s  %.1f ms", strings.ToUpper(s.Name), s.MS), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		v.steps.Add(container.NewBorder(nil, nil, container.NewHBox(widget.NewIcon(icon), container.NewGridWrap(fyne.NewSize(120, name.MinSize().Height), name)), nil, detail))
	}
	if r.OK {
		v.verdict.SetText("✓ " + r.Diagnosis.Message)
		v.fix.SetText("")
	} else {
		v.verdict.SetText(fmt.Sprintf("✗ %s (%s)", r.Diagnosis.Message, r.Diagnosis.Cause))
		if r.Diagnosis.Fix != "" {
			v.fix.SetText("Fix: " + r.Diagnosis.Fix)
		} else {
			v.fix.SetText("")
		}
	}
	v.copy.Enable()
}

// reportText is the report as plain text, for the clipboard.
func reportText(r *wstest.Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Socketbar connection test: %s\n", r.URL)
	for _, s := range r.Steps {
		mark := "ok  "
		if !s.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(&b, "  %s %-8s %8.1f ms  %s\n", mark, s.Name, s.MS, s.Detail)
	}
	fmt.Fprintf(&b, "Result (%s): %s\n", r.Diagnosis.Cause, r.Diagnosis.Message)
	if r.Diagnosis.Fix != "" {
		fmt.Fprintf(&b, "Fix: %s\n", r.Diagnosis.Fix)
	}
	return b.String()
}

func (v *testView) onCopy() {
	if v.report != nil {
		v.u.app.Clipboard().SetContent(reportText(v.report))
	}
}
