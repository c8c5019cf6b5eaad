package main

import (
	"bytes"
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

var addCommand = command{
	name: "add", args: []string{"PATH", "BACKEND"}, summary: "Add a WebSocket route to the Service Proxy.", help: addHelp,
	flags: func(c *cli, fs *flag.FlagSet) func([]string) error {
		t := c.targetFlags(fs, withRoot|withHTTPD|withApacheVersion)
		var ports listFlag
		fs.Var(&ports, "vhost", "`PORT` of a VirtualHost to change (repeatable; default: 443 and 80)")
		var siteNames listFlag
		fs.Var(&siteNames, "site", "`NAME` of a site to route (repeatable; default: every site): \"default\" for the default hosts, a custom site's domain or one of its aliases")
		strategy := fs.String("strategy", "auto", "how to write the route: `auto|tunnel|upgrade`")
		replace := fs.Bool("replace", false, "replace Socketbar's existing route for PATH")
		af := addApplyFlags(fs)
		return func(pos []string) error {
			p, err := c.actions.ProposeAdd(c.ctx, action.AddOptions{Target: *t, Path: pos[0], Backend: pos[1],
				Ports: action.PortsOf(ports), Strategy: serverctl.Strategy(*strategy), Replace: *replace, Sites: siteNames})
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "Strategy: %s (%s).\n", p.Strategy, p.StrategyWhy)
			return c.commit(p, af)
		}
	},
}

var removeCommand = command{
	name: "remove", args: []string{"PATH"}, summary: "Remove a route that Socketbar added.",
	help: "Removes Socketbar's route blocks for PATH (from every VirtualHost, or the ones named),\nthrough the same test, backup, restart and verification as add.\nRules Socketbar did not write are never removed.",
	flags: func(c *cli, fs *flag.FlagSet) func([]string) error {
		t := c.targetFlags(fs, withRoot|withHTTPD)
		var ports listFlag
		fs.Var(&ports, "vhost", "`PORT` of a VirtualHost to change (repeatable; default: every one)")
		var siteNames listFlag
		fs.Var(&siteNames, "site", "`NAME` of a site to remove the route from (repeatable; default: every site), as for add")
		af := addApplyFlags(fs)
		return func(pos []string) error {
			p, err := c.actions.ProposeRemove(c.ctx, action.RemoveOptions{Target: *t, Path: pos[0], Ports: action.PortsOf(ports), Sites: siteNames})
			if err != nil {
				return err
			}
			return c.commit(p, af)
		}
	},
}

var undoCommand = command{
	name: "undo", summary: "Put back the config as it was before Socketbar's last change.",
	help: "Or before change ID (see socketbar history; a unique start of the ID is enough), through\nthe same test, backup, restart and verification. Repeating undo walks further back.",
	flags: func(c *cli, fs *flag.FlagSet) func([]string) error {
		t := c.targetFlags(fs, withRoot|withHTTPD)
		to := fs.String("to", "", "`ID` of the change to undo (see socketbar history)")
		force := fs.Bool("force", false, "undo although the config was changed since Socketbar's last change (those edits are lost)")
		af := addApplyFlags(fs)
		return func([]string) error {
			opts := action.UndoOptions{Target: *t, To: *to, Force: *force}
			p, err := c.actions.ProposeUndo(c.ctx, opts)
			var since *action.ChangedSinceError
			if errors.As(err, &since) && af.dryRun {
				// A dry run loses nothing: show what the undo would
				// throw away instead of refusing to show it.
				fmt.Fprintf(c.stdout, "Warning: %v; the diff below shows them going (undo would need --force).\n", since)
				opts.Force = true
				p, err = c.actions.ProposeUndo(c.ctx, opts)
			}
			if err != nil {
				return err
			}
			e := p.Undoing
			fmt.Fprintf(c.stdout, "Undoing %s (%s, %s).\n", e.ID, e.Description, e.Time.Local().Format(time.DateTime))
			for _, later := range p.AlsoReverts {
				fmt.Fprintf(c.stdout, "This also takes back the later change %s (%s): undo puts back the whole config from before %s.\n", later.ID, later.Description, e.ID)
			}
			return c.commit(p, af)
		}
	},
}

var reapplyCommand = command{
	name: "reapply", summary: "Put back Socketbar routes that vanished from the config.",
	help: "Server.app rewrites the config on certificate changes and promotion, dropping\nSocketbar's routes; this puts them back as the last change left them.",
	flags: func(c *cli, fs *flag.FlagSet) func([]string) error {
		t := c.targetFlags(fs, withRoot|withHTTPD)
		af := addApplyFlags(fs)
		return func([]string) error {
			p, err := c.actions.ProposeReapply(c.ctx, *t)
			if err != nil {
				return err
			}
			if p.Lost == nil {
				fmt.Fprintln(c.stdout, "Every route Socketbar recorded is in the config; nothing to put back.")
				return nil
			}
			return c.commit(p, af)
		}
	},
}

// commit prints what a proposal does and, unless it is a dry run, puts it
// in place through the transaction.
func (c *cli) commit(p *action.Proposal, af *applyFlags) error {
	for _, n := range p.Notes {
		fmt.Fprintln(c.stdout, n)
	}
	if !p.Changed() {
		fmt.Fprintln(c.stdout, "The config already is that way; nothing to change.")
		return nil
	}
	if af.dryRun {
		fmt.Fprint(c.stdout, p.Diff())
		fmt.Fprintln(c.stdout, "Dry run: nothing was written.")
		return nil
	}
	progress := c.newProgress()
	res, err := c.actions.Apply(c.ctx, p, action.ApplyOptions{NoRestart: af.noRestart, Timeout: af.timeout, Progress: progress.step})
	progress.end(err == nil)
	if err != nil {
		return err
	}
	if res.Recovered != "" {
		fmt.Fprintln(c.stdout, res.Recovered)
	}
	fmt.Fprintf(c.stdout, "Backed up the old config as %s (see socketbar history).\nWrote %s.\n", res.BackupID, strings.Join(p.Files(), " and "))
	for _, f := range p.Also {
		if !bytes.Equal(f.Old, f.New) && bytes.Contains(f.New, []byte("# socketbar:begin ")) {
			fmt.Fprintf(c.stdout, "Server.app rewrites %s when sites or certificates change: if Socketbar's routes vanish from it, socketbar status says so and socketbar reapply puts them back.\n", filepath.Base(f.Path))
		}
	}
	if !res.Restarted {
		fmt.Fprintln(c.stdout, "Not restarted (--no-restart): the Service Proxy uses the new config from its next restart (socketbar restart).")
		return nil
	}
	fmt.Fprintf(c.stdout, "Restarted the Service Proxy (pid %d); it answers on %s. Took %s.\n", res.PID, orNone(strings.Join(res.Endpoints, ", ")), res.Took.Round(time.Millisecond))
	return nil
}

// killHook lets the tests kill the process right after a step, to prove
// the config is never left half-written. It is read from
// SOCKETBAR_TEST_KILL_AFTER (a step name: test, backup, write, …).
func killHook(getenv func(string) string) func(serverctl.Step) {
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

var restartCommand = command{
	name: "restart", summary: "Restart the Service Proxy and check that it came back.",
	help: "It must come back having reread its config (a new pid, or a new generation of the same\nhttpd) and answer HTTP on every port it listens on.",
	flags: func(c *cli, fs *flag.FlagSet) func([]string) error {
		t := c.targetFlags(fs, withRoot|withHTTPD)
		var timeout time.Duration
		durationVar(fs, &timeout, "timeout", 15*time.Second, false, "how long the Service Proxy may take to come back (`DURATION`)")
		return func([]string) error {
			r, err := c.actions.Restart(c.ctx, action.RestartOptions{Target: *t, Timeout: timeout})
			if err != nil {
				return err
			}
			if r.Recovered != "" {
				fmt.Fprintln(c.stdout, r.Recovered)
			}
			fmt.Fprintf(c.stdout, "Restarted the Service Proxy with %s (pid %d); it answers on %s. Took %s.\n",
				r.Service, r.PID, orNone(strings.Join(r.Endpoints, ", ")), r.Took.Round(time.Millisecond))
			return nil
		}
	},
}
