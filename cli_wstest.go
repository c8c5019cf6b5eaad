package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/socketbar/socketbar/proxy/wstest"
	"github.com/socketbar/socketbar/serverctl/action"
)

var testCommand = command{
	name: "test", args: []string{"[URL]"}, summary: "Test a WebSocket step by step and say what is wrong and where.",
	help: `Connects to a WebSocket as a browser would and reports each step with its timing —
DNS, TCP, TLS, the upgrade, an echo, ping/pong, the close — then says in plain words
what is wrong and how to fix it. Exits 0 only when the connection works.

With --route PATH instead of a URL, tests the route at every tier: straight to its
backend, through each Service Proxy VirtualHost that has it (HTTPS and HTTP), and
through socketbar serve if it runs; and says at which tier it breaks.`,
	flags: func(c *cli, fs *flag.FlagSet) func([]string) error {
		t := c.targetFlags(fs, withRoot)
		var hdr headerFlag
		fs.Var(&hdr, "H", "extra request header `'Name: value'` (repeatable)")
		origin := fs.String("origin", "", "`ORIGIN` header to send (default: the URL's own origin)")
		insecure := fs.Bool("insecure", false, "accept a certificate that is not trusted or not for this name (still reported)")
		var timeout time.Duration
		durationVar(fs, &timeout, "timeout", 10*time.Second, false, "time for the whole test (`DURATION`)")
		message := fs.String("message", "", "`TEXT` for the echo step (default: a random token)")
		expectEcho := fs.Bool("expect-echo", false, "fail unless the message comes back")
		asJSON := jsonFlag(fs)
		route := fs.String("route", "", "test this route `PATH` of the Service Proxy config at every tier")
		proxyAddr := new(string)
		addrVar(fs, proxyAddr, "proxy-addr", action.DefaultProxyAddr, false, "`HOST:PORT` where socketbar serve listens, for --route")
		return func(pos []string) error {
			opts := action.TestOptions{Origin: *origin, Header: hdr.h, Insecure: *insecure, Timeout: timeout, Message: *message, ExpectEcho: *expectEcho}
			if (*route == "") == (len(pos) == 0) {
				return usageErrorf("give either a URL or --route PATH")
			}
			if *route != "" {
				return c.checkRoute(action.CheckRouteOptions{Target: *t, Path: *route, ProxyAddr: *proxyAddr, Test: opts}, *asJSON)
			}
			opts.URL = pos[0]
			r, err := c.actions.Test(c.ctx, opts)
			if err != nil {
				return err
			}
			if *asJSON {
				if err := c.writeJSON(r); err != nil {
					return err
				}
			} else {
				printReport(c.stdout, r, "")
			}
			if !r.OK {
				return errReported
			}
			return nil
		}
	},
}

// printReport writes a report as a checklist with the diagnosis.
func printReport(w io.Writer, r *wstest.Report, indent string) {
	fmt.Fprintf(w, "%sTesting %s\n", indent, r.URL)
	for _, s := range r.Steps {
		mark := "✓"
		if !s.OK {
			mark = "✗"
		}
		fmt.Fprintf(w, "%s  %s %-8s %8.1f ms  %s\n", indent, mark, s.Name, s.MS, s.Detail)
	}
	if r.OK {
		fmt.Fprintf(w, "%s%s\n", indent, r.Diagnosis.Message)
		return
	}
	fmt.Fprintf(w, "%sProblem (%s): %s\n", indent, r.Diagnosis.Cause, r.Diagnosis.Message)
	if r.Diagnosis.Fix != "" {
		fmt.Fprintf(w, "%sFix: %s\n", indent, r.Diagnosis.Fix)
	}
}

// tierSummary says in one sentence where a route breaks.
var tierSummary = map[string]string{
	"":                      "The route works at every tier that was tested.",
	action.TierBackend:      "It breaks at the app itself: fix the backend before the proxies (they can only pass on what it answers).",
	action.TierServiceProxy: "The app works, but not through the Service Proxy: the problem is in apache_serviceproxy.conf.",
	action.TierServe:        "The app and the Service Proxy work; only the test proxy fails.",
}

func (c *cli) checkRoute(opts action.CheckRouteOptions, asJSON bool) error {
	rep, err := c.actions.CheckRoute(c.ctx, opts)
	if err != nil {
		return err
	}
	summary := tierSummary[rep.BreaksAt]
	if rep.BreaksAt == action.TierServiceProxy && rep.BreaksAtVHost != "" {
		summary = fmt.Sprintf("The app works, but not through the Service Proxy's VirtualHost %s: the problem is in apache_serviceproxy.conf.", rep.BreaksAtVHost)
	}
	if asJSON {
		if err := c.writeJSON(struct {
			*action.TierReport
			Summary string `json:"summary"`
		}{rep, summary}); err != nil {
			return err
		}
	} else {
		rt := rep.Route
		fmt.Fprintf(c.stdout, "Route %s → %s (%s, line %d)\n\n", rep.Path, rt.Backend, rt.VHost, rt.Line)
		for _, t := range rep.Tiers {
			if t.VHost != "" {
				fmt.Fprintf(c.stdout, "[%s, VirtualHost %s]\n", t.Tier, t.VHost)
			} else {
				fmt.Fprintf(c.stdout, "[%s]\n", t.Tier)
			}
			if t.Skipped != "" {
				fmt.Fprintf(c.stdout, "  skipped: %s\n\n", t.Skipped)
				continue
			}
			printReport(c.stdout, t.Report, "  ")
			fmt.Fprintln(c.stdout)
		}
		fmt.Fprintln(c.stdout, summary)
		for _, f := range rep.Lint {
			fmt.Fprintf(c.stdout, "Line %d: %s\n  fix: %s\n", f.Line, f.Message, f.Fix)
		}
		if len(rep.ErrorLog) > 0 {
			fmt.Fprintf(c.stdout, "The Service Proxy's error log says:\n  %s\n", strings.Join(rep.ErrorLog, "\n  "))
		}
	}
	if !rep.OK {
		return errReported
	}
	return nil
}
