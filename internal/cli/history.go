package cli

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/socketbar/socketbar/serverctl/action"
)

const historyHelp = "Socketbar's changes to the Service Proxy config, newest first, with the backups\nthat undo uses (the last 20 are kept)."

// HistoryOptions are the options of socketbar history.
type HistoryOptions struct {
	Target action.Target
	JSON   bool
}

func bindHistory(e *Env, fs *flag.FlagSet) runFunc {
	opts := &HistoryOptions{}
	targetFlags(e, fs, &opts.Target, withRoot|withHost)
	jsonFlag(fs, &opts.JSON)
	return func(ctx context.Context, _ []string) error { return historyRun(ctx, e, opts) }
}

func historyRun(ctx context.Context, e *Env, opts *HistoryOptions) error {
	h, err := e.Actions.History(ctx, opts.Target)
	if err != nil {
		return err
	}
	if opts.JSON {
		return e.writeJSON(h)
	}
	if len(h.Entries) == 0 {
		fmt.Fprintln(e.Stdout, "Socketbar has not changed the Service Proxy config yet.")
		return nil
	}
	w := tabwriter.NewWriter(e.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tWHEN\tCHANGE")
	for _, c := range h.Entries {
		desc := c.Description
		if c.Undone {
			desc += " (undone)"
		}
		if !c.Applied() {
			desc += " (" + string(c.Outcome) + ")"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", c.ID, c.Time.Local().Format(time.DateTime), desc)
	}
	w.Flush()
	fmt.Fprintf(e.Stdout, "\nBackups are in %s. `socketbar undo` reverts the newest change not yet undone; `socketbar undo --to ID` a chosen one.\n", h.Dir)
	return nil
}
