package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/action"
)

const addHelp = `Writes the route into the Service Proxy's *:443 and *:80 VirtualHosts, as one
block per VirtualHost marked with begin/end comments and placed before the catch-all
"ProxyPass /". Every other byte of the file stays as it was.

Sites: without --site the route reaches every site, the default hosts and each custom
website (Server 5.2+ builds those from the VHost443/VHost80 macros in the same file, so
the block goes into both macros too). --site NAME (repeatable) limits it: "default" is
the default hosts, any other name a custom site (an alias selects its site); a custom
site's block is guarded by a RewriteCond on the Host; adding the same route for another
site extends that block to it. See socketbar routes for the sites.
On Server 5.0/5.1 each custom site has whole VirtualHosts in
apache_serviceproxy_customsites.conf: the block goes into the chosen sites' own
VirtualHosts there, with no Host condition. The change, in one file or both, is tested
with one Apache config test, backed up, written atomically, and the Service Proxy
restarted and verified; if it does not come back, every file is restored.
When the config belongs to root, macOS asks once for an administrator's password.

PATH is the public URL path (/ws/). BACKEND is the app's URL: http, https, ws or wss,
for example http://127.0.0.1:8000/ws/. Without a path, BACKEND keeps PATH
(http://127.0.0.1:8000 means http://127.0.0.1:8000/ws/).

Strategies: tunnel writes RewriteCond/RewriteRule [P] to ws:// (mod_proxy_wstunnel,
Apache 2.4.5+) plus ProxyPass for plain requests; upgrade writes one ProxyPass with
upgrade=websocket (Apache 2.4.47+ only); auto picks upgrade when Apache is known to be
2.4.47 or later, tunnel otherwise.`

// AddOptions are the options of socketbar add.
type AddOptions struct {
	Target  action.Target
	Path    string
	Backend string
	// VHosts are the ports of the VirtualHosts to change (--vhost);
	// empty means 443 and 80.
	VHosts []string
	// Sites are the sites to route (--site); empty means every site.
	Sites    []string
	Strategy serverctl.Strategy
	Replace  bool
	ChangeOptions
}

func bindAdd(e *Env, fs *flag.FlagSet) runFunc {
	opts := &AddOptions{}
	targetFlags(e, fs, &opts.Target, withRoot|withHTTPD|withApacheVersion|withHost)
	fs.Var((*listFlag)(&opts.VHosts), "vhost", "`PORT` of a VirtualHost to change (repeatable; default: 443 and 80)")
	fs.Var((*listFlag)(&opts.Sites), "site", "`NAME` of a site to route (repeatable; default: every site): \"default\" for the default hosts, a custom site's domain or one of its aliases")
	fs.StringVar((*string)(&opts.Strategy), "strategy", "auto", "how to write the route: `auto|tunnel|upgrade`")
	fs.BoolVar(&opts.Replace, "replace", false, "replace Socketbar's existing route for PATH")
	changeFlags(fs, &opts.ChangeOptions)
	return func(ctx context.Context, pos []string) error {
		opts.Path, opts.Backend = pos[0], pos[1]
		return addRun(ctx, e, opts)
	}
}

func addRun(ctx context.Context, e *Env, opts *AddOptions) error {
	forget, err := e.passwordStdin(ctx, opts.PasswordStdin, opts.Target.Host)
	if err != nil {
		return err
	}
	defer forget()
	p, err := e.Actions.ProposeAdd(ctx, action.AddOptions{Target: opts.Target, Path: opts.Path, Backend: opts.Backend,
		Ports: action.PortsOf(opts.VHosts), Strategy: opts.Strategy, Replace: opts.Replace, Sites: opts.Sites})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.Stdout, "Strategy: %s (%s).\n", p.Strategy, p.StrategyWhy)
	return commit(ctx, e, p, opts.ChangeOptions)
}

const removeHelp = "Removes Socketbar's route blocks for PATH (from every VirtualHost, or the ones named),\nthrough the same test, backup, restart and verification as add.\nRules Socketbar did not write are never removed."

// RemoveOptions are the options of socketbar remove.
type RemoveOptions struct {
	Target action.Target
	Path   string
	// VHosts are the ports of the VirtualHosts to change; empty means
	// every one.
	VHosts []string
	// Sites are the sites to remove the route from; empty means every site.
	Sites []string
	ChangeOptions
}

func bindRemove(e *Env, fs *flag.FlagSet) runFunc {
	opts := &RemoveOptions{}
	targetFlags(e, fs, &opts.Target, withRoot|withHTTPD|withHost)
	fs.Var((*listFlag)(&opts.VHosts), "vhost", "`PORT` of a VirtualHost to change (repeatable; default: every one)")
	fs.Var((*listFlag)(&opts.Sites), "site", "`NAME` of a site to remove the route from (repeatable; default: every site), as for add")
	changeFlags(fs, &opts.ChangeOptions)
	return func(ctx context.Context, pos []string) error {
		opts.Path = pos[0]
		return removeRun(ctx, e, opts)
	}
}

func removeRun(ctx context.Context, e *Env, opts *RemoveOptions) error {
	forget, err := e.passwordStdin(ctx, opts.PasswordStdin, opts.Target.Host)
	if err != nil {
		return err
	}
	defer forget()
	p, err := e.Actions.ProposeRemove(ctx, action.RemoveOptions{Target: opts.Target, Path: opts.Path, Ports: action.PortsOf(opts.VHosts), Sites: opts.Sites})
	if err != nil {
		return err
	}
	return commit(ctx, e, p, opts.ChangeOptions)
}

const undoHelp = "Or before change ID (see socketbar history; a unique start of the ID is enough), through\nthe same test, backup, restart and verification. Repeating undo walks further back."

// UndoOptions are the options of socketbar undo.
type UndoOptions struct {
	Target action.Target
	// To is the ID of the change to undo; "" is the newest not yet undone.
	To string
	// Force undoes although the config changed since Socketbar's last change.
	Force bool
	ChangeOptions
}

func bindUndo(e *Env, fs *flag.FlagSet) runFunc {
	opts := &UndoOptions{}
	targetFlags(e, fs, &opts.Target, withRoot|withHTTPD|withHost)
	fs.StringVar(&opts.To, "to", "", "`ID` of the change to undo (see socketbar history)")
	fs.BoolVar(&opts.Force, "force", false, "undo although the config was changed since Socketbar's last change (those edits are lost)")
	changeFlags(fs, &opts.ChangeOptions)
	return func(ctx context.Context, _ []string) error { return undoRun(ctx, e, opts) }
}

func undoRun(ctx context.Context, e *Env, opts *UndoOptions) error {
	forget, err := e.passwordStdin(ctx, opts.PasswordStdin, opts.Target.Host)
	if err != nil {
		return err
	}
	defer forget()
	uo := action.UndoOptions{Target: opts.Target, To: opts.To, Force: opts.Force}
	p, err := e.Actions.ProposeUndo(ctx, uo)
	var since *action.ChangedSinceError
	if errors.As(err, &since) && opts.DryRun {
		// A dry run loses nothing: show what the undo would
		// throw away instead of refusing to show it.
		fmt.Fprintf(e.Stdout, "Warning: %s; the diff below shows them going (undo would need --force).\n", changedSince(since))
		uo.Force = true
		p, err = e.Actions.ProposeUndo(ctx, uo)
	}
	if err != nil {
		return err
	}
	u := p.Undoing
	fmt.Fprintf(e.Stdout, "Undoing %s (%s, %s).\n", u.ID, u.Description, u.Time.Local().Format(time.DateTime))
	for _, later := range p.AlsoReverts {
		fmt.Fprintf(e.Stdout, "This also takes back the later change %s (%s): undo puts back the whole config from before %s.\n", later.ID, later.Description, u.ID)
	}
	return commit(ctx, e, p, opts.ChangeOptions)
}

const reapplyHelp = "Server.app rewrites the config on certificate changes and promotion, dropping\nSocketbar's routes; this puts them back as the last change left them. Routes of a site\ndeleted in Server.app have nowhere to go back to: reapply lets go of them (and takes\ntheir Host condition out of the custom sites' macro on Server 5.2+)."

// ReapplyOptions are the options of socketbar reapply.
type ReapplyOptions struct {
	Target action.Target
	ChangeOptions
}

func bindReapply(e *Env, fs *flag.FlagSet) runFunc {
	opts := &ReapplyOptions{}
	targetFlags(e, fs, &opts.Target, withRoot|withHTTPD|withHost)
	changeFlags(fs, &opts.ChangeOptions)
	return func(ctx context.Context, _ []string) error { return reapplyRun(ctx, e, opts) }
}

func reapplyRun(ctx context.Context, e *Env, opts *ReapplyOptions) error {
	forget, err := e.passwordStdin(ctx, opts.PasswordStdin, opts.Target.Host)
	if err != nil {
		return err
	}
	defer forget()
	p, err := e.Actions.ProposeReapply(ctx, opts.Target)
	if err != nil {
		return err
	}
	if p.Lost == nil {
		fmt.Fprintln(e.Stdout, "Every route Socketbar recorded is in the config; nothing to put back.")
		return nil
	}
	return commit(ctx, e, p, opts.ChangeOptions)
}

// commit prints what a proposal does and, unless it is a dry run, puts it
// in place through the transaction.
func commit(ctx context.Context, e *Env, p *action.Proposal, o ChangeOptions) error {
	for _, n := range p.Notes {
		fmt.Fprintln(e.Stdout, n)
	}
	if !p.Changed() && !p.RecordOnly() {
		fmt.Fprintln(e.Stdout, "The config already is that way; nothing to change.")
		return nil
	}
	if o.DryRun {
		fmt.Fprint(e.Stdout, p.Diff())
		fmt.Fprintln(e.Stdout, "Dry run: nothing was written.")
		return nil
	}
	progress := e.newProgress()
	res, err := e.Actions.Apply(ctx, p, action.ApplyOptions{NoRestart: o.NoRestart, Timeout: o.Timeout, Progress: progress.step})
	progress.end(err == nil)
	if err != nil {
		return err
	}
	if res.Recovered != "" {
		fmt.Fprintln(e.Stdout, res.Recovered)
	}
	if p.RecordOnly() {
		fmt.Fprintf(e.Stdout, "No file to change: recorded as %s (see socketbar history); the Service Proxy was not restarted.\n", res.BackupID)
		return nil
	}
	fmt.Fprintf(e.Stdout, "Backed up the old config as %s (see socketbar history).\nWrote %s.\n", res.BackupID, strings.Join(p.Files(), " and "))
	for _, f := range p.Also {
		if !bytes.Equal(f.Old, f.New) && bytes.Contains(f.New, []byte("# socketbar:begin ")) {
			fmt.Fprintf(e.Stdout, "Server.app rewrites %s when sites or certificates change: if Socketbar's routes vanish from it, socketbar status says so and socketbar reapply puts them back.\n", filepath.Base(f.Path))
		}
	}
	if !res.Restarted {
		fmt.Fprintln(e.Stdout, "Not restarted (--no-restart): the Service Proxy uses the new config from its next restart (socketbar restart).")
		return nil
	}
	fmt.Fprintf(e.Stdout, "Restarted the Service Proxy (pid %d); it answers on %s. Took %s.\n", res.PID, orNone(strings.Join(res.Endpoints, ", ")), res.Took.Round(time.Millisecond))
	return nil
}

// KillHook lets the tests kill the process right after a step, to prove
// the config is never left half-written: main sets it as the actions'
// AfterStep. It is read from SOCKETBAR_TEST_KILL_AFTER (a step name: test,
// backup, write, …); without it, it is nil.
func KillHook(getenv func(string) string) func(serverctl.Step) {
	at := getenv("SOCKETBAR_TEST_KILL_AFTER")
	if at == "" {
		return nil
	}
	return func(s serverctl.Step) {
		if string(s) == at {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
	}
}

const restartHelp = "It must come back having reread its config (a new pid, or a new generation of the same\nhttpd) and answer HTTP on every port it listens on."

// RestartOptions are the options of socketbar restart.
type RestartOptions struct {
	Target action.Target
	// Timeout is how long the Service Proxy may take to come back.
	Timeout time.Duration
	// PasswordStdin reads the password for sudo on a Server reached over
	// SSH from standard input.
	PasswordStdin bool
}

func bindRestart(e *Env, fs *flag.FlagSet) runFunc {
	opts := &RestartOptions{}
	targetFlags(e, fs, &opts.Target, withRoot|withHTTPD|withHost)
	durationVar(fs, &opts.Timeout, "timeout", 15*time.Second, false, "how long the Service Proxy may take to come back (`DURATION`)")
	passwordStdinFlag(fs, &opts.PasswordStdin)
	return func(ctx context.Context, _ []string) error { return restartRun(ctx, e, opts) }
}

func restartRun(ctx context.Context, e *Env, opts *RestartOptions) error {
	forget, err := e.passwordStdin(ctx, opts.PasswordStdin, opts.Target.Host)
	if err != nil {
		return err
	}
	defer forget()
	r, err := e.Actions.Restart(ctx, action.RestartOptions{Target: opts.Target, Timeout: opts.Timeout})
	if err != nil {
		return err
	}
	if r.Recovered != "" {
		fmt.Fprintln(e.Stdout, r.Recovered)
	}
	fmt.Fprintf(e.Stdout, "Restarted the Service Proxy with %s (pid %d); it answers on %s. Took %s.\n",
		r.Service, r.PID, orNone(strings.Join(r.Endpoints, ", ")), r.Took.Round(time.Millisecond))
	return nil
}
