// Command bench measures Socketbar's test proxy on loopback against a
// direct connection to the backend, nginx and Apache (when installed), all
// in one run, and prints the figures the targets are judged by.
//
//	go run ./proxy/bench                       # 1, 100 and 1000 clients, 5 s each, 10,000 idle sessions
//	go run ./proxy/bench -duration 2s -conns 1,100 -idle 1000
//
// Every proxy runs in its own process with TLS towards the clients, like
// the Service Proxy; the echo backend is a separate process too, and the
// clients run here. Quote ratios from one run: the machine is shared.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	duration  time.Duration
	conns     []int
	idle      int
	socketbar string
	only      map[string]bool // target names to run; empty means all found
}

func main() {
	if os.Getenv("SOCKETBAR_BENCH_BACKEND") == "1" {
		runBackend()
		return
	}
	var opts options
	flag.DurationVar(&opts.duration, "duration", 5*time.Second, "how long each load runs")
	connList := flag.String("conns", "1,100,1000", "concurrent clients, comma-separated")
	flag.IntVar(&opts.idle, "idle", 10000, "idle TLS sessions for the memory figure (0 skips it)")
	flag.StringVar(&opts.socketbar, "socketbar", "", "socketbar binary (default: built from this checkout)")
	only := flag.String("only", "", "comma-separated targets to run (direct, socketbar, nginx, apache)")
	flag.Parse()
	for _, s := range strings.Split(*connList, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "bench: -conns: %q is not a positive number\n", s)
			os.Exit(2)
		}
		opts.conns = append(opts.conns, n)
	}
	if *only != "" {
		opts.only = map[string]bool{}
		for _, s := range strings.Split(*only, ",") {
			opts.only[strings.TrimSpace(s)] = true
		}
	}
	ctx, stop := signalContext()
	defer stop()
	res, err := run(ctx, opts, os.Stdout)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
	report(os.Stdout, res)
}

// result holds one run's figures.
type result struct {
	loads      []loadResult
	idle       int
	idleBytes  int64 // RSS growth of socketbar serve over the idle sessions
	testTimes  []time.Duration
	skipped    []string
	apacheMode string
}

type loadResult struct {
	target   string
	conns    int
	msgs     int
	duration time.Duration
	p50, p99 time.Duration
	err      error
}

func (l loadResult) rate() float64 { return float64(l.msgs) / l.duration.Seconds() }

// run starts the backend and every target, loads each, and measures memory.
func run(ctx context.Context, opts options, progress *os.File) (*result, error) {
	raiseFileLimit(4*opts.idle + 4096)
	dir, err := os.MkdirTemp("", "socketbar-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	certFile, keyFile, err := writeCert(dir)
	if err != nil {
		return nil, err
	}
	backend, stopBackend, err := startBackend()
	if err != nil {
		return nil, err
	}
	defer stopBackend()
	if opts.socketbar == "" {
		opts.socketbar = filepath.Join(dir, "socketbar")
		build := exec.Command("go", "build", "-o", opts.socketbar, "github.com/socketbar/socketbar")
		if out, err := build.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("build socketbar (run bench from the Socketbar checkout, or pass -socketbar PATH): %v\n%s", err, out)
		}
	}

	res := &result{}
	targets, stopTargets := startTargets(opts, res, dir, backend, certFile, keyFile)
	defer stopTargets()
	for _, n := range opts.conns {
		for _, t := range targets {
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			fmt.Fprintf(progress, "… %s with %d client(s)\n", t.name, n)
			l := load(ctx, t.url, n, opts.duration)
			l.target = t.name
			res.loads = append(res.loads, l)
		}
	}
	for _, t := range targets {
		if t.name == "socketbar" {
			measureSocketbar(ctx, opts, t, res, progress)
		}
	}
	return res, nil
}

// startTargets starts the targets opts asks for, each in front of backend:
// the backend itself (direct), socketbar serve, nginx and Apache. One that
// cannot start is noted in res.skipped. stop stops those that started.
func startTargets(opts options, res *result, dir, backend, certFile, keyFile string) (targets []target, stop func()) {
	var stops []func()
	want := func(name string) bool { return opts.only == nil || opts.only[name] }
	if want("direct") {
		targets = append(targets, target{name: "direct", url: "ws://" + backend + "/echo"})
	}
	starters := []struct {
		name  string
		start func(dir, backend, cert, key string) (target, func(), error)
	}{{"socketbar", func(d, b, c, k string) (target, func(), error) { return startSocketbar(opts.socketbar, d, b, c, k) }},
		{"nginx", startNginx}, {"apache", startApache}}
	for _, s := range starters {
		if !want(s.name) {
			continue
		}
		t, stopOne, err := s.start(dir, backend, certFile, keyFile)
		if err != nil {
			res.skipped = append(res.skipped, fmt.Sprintf("%s: %v", s.name, err))
			continue
		}
		stops = append(stops, stopOne)
		if s.name == "apache" {
			res.apacheMode = t.note
		}
		targets = append(targets, t)
	}
	return targets, func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
}

// measureSocketbar adds the figures only socketbar serve is judged by: the
// memory its idle TLS sessions hold, and how long socketbar test takes
// through it.
func measureSocketbar(ctx context.Context, opts options, t target, res *result, progress *os.File) {
	if opts.idle > 0 {
		idle := opts.idle
		if fit := fileLimit()/2 - 64; idle > fit {
			// A proxied session holds two descriptors in the proxy.
			res.skipped = append(res.skipped, fmt.Sprintf("idle sessions: %d asked, %d measured: the open-file limit here is %d and each proxied session needs two", idle, fit, fileLimit()))
			idle = fit
		}
		fmt.Fprintf(progress, "… %d idle TLS sessions through socketbar serve\n", idle)
		res.idle = idle
		var err error
		if res.idleBytes, err = idleMemory(ctx, t, idle); err != nil {
			res.skipped = append(res.skipped, "idle memory: "+err.Error())
			res.idle = 0
		}
	}
	for i := 0; i < 5; i++ {
		start := time.Now()
		cmd := exec.CommandContext(ctx, opts.socketbar, "test", "--insecure", "--expect-echo", t.url)
		if out, err := cmd.CombinedOutput(); err != nil {
			res.skipped = append(res.skipped, fmt.Sprintf("socketbar test: %v\n%s", err, out))
			break
		}
		res.testTimes = append(res.testTimes, time.Since(start))
	}
}

// target is a URL clients load, served by a process we started (or none).
type target struct {
	name string
	url  string
	pid  int
	note string
}

func signalContext() (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	return ctx, cancel
}

// raiseFileLimit lifts RLIMIT_NOFILE so thousands of sessions fit; root
// may raise the hard limit too. Children inherit the hard limit.
func raiseFileLimit(want int) {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) != nil {
		return
	}
	if uint64(want) > l.Max {
		up := syscall.Rlimit{Cur: uint64(want), Max: uint64(want)}
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &up) == nil {
			return
		}
	}
	l.Cur = l.Max
	syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
}

// fileLimit is the hard RLIMIT_NOFILE, which the proxy's own limit can reach.
func fileLimit() int {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) != nil {
		return 1024
	}
	return int(l.Max)
}

// rss returns a process's resident set size from /proc.
func rss(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", pid)
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p)
	return sorted[i]
}

func sortDurations(d []time.Duration) {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
}
