package cli

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/action"
)

// doneLabel is a step's name once it has finished ("tested config").
var doneLabel = map[serverctl.Step]string{
	serverctl.StepTest: "tested config", serverctl.StepBackup: "backed up", serverctl.StepWrite: "wrote the config",
	serverctl.StepRestart: "restarted", serverctl.StepVerify: "verified", serverctl.StepRollback: "rolled back",
}

// progressPrinter shows the steps of a transaction as they run. On a
// terminal a step's line reads "… testing config" while it runs and is
// rewritten in place as "✓ tested config (27 ms)" when the next step
// starts (or "✗ testing config (27 ms)" when the change fails there).
// Anywhere else (a pipe, a log file) each step is one plain line, written
// when it starts and never rewritten: "… testing config".
type progressPrinter struct {
	w        io.Writer
	terminal bool
	cur      serverctl.Step // the step running now, "" when none
	started  time.Time
}

func (e *Env) newProgress() *progressPrinter {
	return &progressPrinter{w: e.Stdout, terminal: e.isTerminal()}
}

// isTerminal reports whether stdout is a terminal (a character device),
// where lines may be rewritten.
func (e *Env) isTerminal() bool {
	if e.Terminal != nil {
		return e.Terminal()
	}
	f, ok := e.Stdout.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// step is the transaction's Progress: s starts now.
func (p *progressPrinter) step(s serverctl.Step) {
	p.end(true)
	if s == action.StepElevate {
		fmt.Fprintln(p.w, "The config belongs to root: asking for an administrator's password.")
		return
	}
	if !p.terminal {
		fmt.Fprintf(p.w, "… %s\n", s.Label())
		return
	}
	p.cur, p.started = s, time.Now()
	fmt.Fprintf(p.w, "… %s", s.Label())
}

// end finishes the running step's line, if any: ✓ with its time when ok,
// ✗ when the transaction failed in it.
func (p *progressPrinter) end(ok bool) {
	if p.cur == "" {
		return
	}
	took := time.Since(p.started).Milliseconds()
	label := doneLabel[p.cur]
	if label == "" {
		label = p.cur.Label()
	}
	if ok {
		fmt.Fprintf(p.w, "\r\x1b[K✓ %s (%d ms)\n", label, took)
	} else {
		fmt.Fprintf(p.w, "\r\x1b[K✗ %s (%d ms)\n", p.cur.Label(), took)
	}
	p.cur = ""
}
