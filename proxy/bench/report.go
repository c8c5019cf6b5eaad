package main

import (
	"fmt"
	"io"
	"sort"
	"time"
)

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

// report prints the table and the targets' checks.
func report(w io.Writer, r *result) {
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%-10s %6s %12s %10s %10s %10s\n", "target", "conns", "msgs/s", "p50", "p99", "vs direct")
	direct := map[int]loadResult{}
	for _, l := range r.loads {
		if l.target == "direct" && l.err == nil {
			direct[l.conns] = l
		}
	}
	for _, l := range r.loads {
		if l.err != nil {
			fmt.Fprintf(w, "%-10s %6d  failed: %v\n", l.target, l.conns, l.err)
			continue
		}
		ratio := "-"
		if d, ok := direct[l.conns]; ok && d.rate() > 0 {
			ratio = fmt.Sprintf("%.2f", l.rate()/d.rate())
		}
		fmt.Fprintf(w, "%-10s %6d %12.0f %10s %10s %10s\n", l.target, l.conns, l.rate(), ms(l.p50), ms(l.p99), ratio)
	}
	if r.apacheMode != "" {
		fmt.Fprintf(w, "(apache: %s)\n", r.apacheMode)
	}
	fmt.Fprintln(w)
	find := func(target string, conns int) (loadResult, bool) {
		for _, l := range r.loads {
			if l.target == target && l.conns == conns && l.err == nil {
				return l, true
			}
		}
		return loadResult{}, false
	}
	if s, ok := find("socketbar", 100); ok {
		if d, ok := find("direct", 100); ok {
			fmt.Fprintf(w, "At 100 clients Socketbar moves %.2f of direct's messages per second (target ≥ 0.80).\n", s.rate()/d.rate())
			if n, ok := find("nginx", 100); ok {
				fmt.Fprintf(w, "At 100 clients Socketbar moves %.2f of nginx's (target ≥ 1.00); nginx %.2f of direct.\n", s.rate()/n.rate(), n.rate()/d.rate())
				fmt.Fprintf(w, "p99 added to direct at 100 clients: Socketbar %s, nginx %s (target: Socketbar ≤ nginx).\n", ms(s.p99-d.p99), ms(n.p99-d.p99))
			}
		}
	}
	if r.idle > 0 {
		fmt.Fprintf(w, "%d idle TLS sessions through socketbar serve: RSS grew %.1f MiB, %.1f KiB per session (target ≤ 40 KiB).\n",
			r.idle, float64(r.idleBytes)/(1<<20), float64(r.idleBytes)/float64(r.idle)/1024)
	}
	if len(r.testTimes) > 0 {
		t := append([]time.Duration(nil), r.testTimes...)
		sort.Slice(t, func(i, j int) bool { return t[i] < t[j] })
		fmt.Fprintf(w, "socketbar test on a healthy route through socketbar serve, whole process: median %s of %d runs (target < 50 ms).\n", ms(t[len(t)/2]), len(t))
	}
	for _, s := range r.skipped {
		fmt.Fprintf(w, "note: %s\n", s)
	}
}
