package serverctl_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"github.com/socketbar/socketbar/serverctl/service"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/apacheconf/loader"
	"github.com/socketbar/socketbar/serverctl/apachetest"
	"github.com/socketbar/socketbar/serverctl/servertest"
	"github.com/socketbar/socketbar/serverctl/sites"
)

// killChildEnv names the Server root for the child transaction that
// TestKilledTransactionsRecover runs (and kills) in a copy of this binary.
const killChildEnv = "SERVERCTL_TEST_KILL_CHILD_ROOT"

// killAfterEnv makes the child SIGKILL itself right after a step
// completes (StepWrite completes between the site file's rename and the
// main config's), instead of waiting for the parent's random kill.
const killAfterEnv = "SERVERCTL_TEST_KILL_AFTER"

// toggleRoute returns the change the child makes: add /kill/ when it is
// not there, else remove it, on the hosts on ports, in the main config and
// the site files it includes (Server 5.0/5.1's customsites file).
func toggleRoute(t testing.TB, srv *serverctl.Server, cfg *serverctl.Config, ports []string) serverctl.Change {
	files := siteFilesOf(t, srv, cfg)
	for _, f := range append([]*serverctl.Config{cfg}, files...) {
		for _, r := range f.ManagedRoutes() {
			if r.Path == "/kill/" {
				e, err := cfg.RemoveRouteFromSet("/kill/", ports, serverctl.RemoveOptions{}, files)
				if err != nil {
					t.Fatal(err)
				}
				return serverctl.Change{Old: e.Old, New: e.New, Also: e.Also, Description: "remove /kill/"}
			}
		}
	}
	e, err := cfg.AddRouteToSet(serverctl.AddRequest{Path: "/kill/", Backend: "http://127.0.0.1:9/kill/", Ports: ports, Strategy: serverctl.StrategyTunnel, Apache: srv.Apache}, files)
	if err != nil {
		t.Fatal(err)
	}
	return serverctl.Change{Old: e.Old, New: e.New, Also: e.Also, Description: "add /kill/"}
}

// siteFilesOf reads the site files cfg includes, as the action layer does.
func siteFilesOf(t testing.TB, srv *serverctl.Server, cfg *serverctl.Config) []*serverctl.Config {
	lc, err := loader.Load(context.Background(), cfg.Path, loader.Options{Root: srv.Root, Vars: srv.Vars()})
	if err != nil {
		t.Fatal(err)
	}
	files, err := serverctl.SiteFiles(lc, sites.Read(lc, srv.Root))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// readSet reads the main config and the files a change touches.
func readSet(t testing.TB, ch serverctl.Change, main string) [][]byte {
	var texts [][]byte
	for _, p := range append([]string{main}, pathsOf(ch.Also)...) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, b)
	}
	return texts
}

func pathsOf(files []serverctl.FileEdit) []string {
	var paths []string
	for _, f := range files {
		paths = append(paths, f.Path)
	}
	return paths
}

// setIs reports whether every file holds the old text (which false) or
// the new one (which true).
func setIs(texts [][]byte, ch serverctl.Change, which bool) bool {
	want := [][]byte{ch.Old}
	if which {
		want = [][]byte{ch.New}
	}
	for _, f := range ch.Also {
		if which {
			want = append(want, f.New)
		} else {
			want = append(want, f.Old)
		}
	}
	for i := range texts {
		if !bytes.Equal(texts[i], want[i]) {
			return false
		}
	}
	return true
}

func loadApplier(t testing.TB, root string) (*serverctl.Server, *serverctl.Config, *serverctl.Applier) {
	srv, err := serverctl.Discover(context.Background(), serverctl.Options{Root: root, ApacheVersion: "2.4.23"})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := serverctl.ReadConfig(srv.HostPath(srv.ConfigPath))
	if err != nil {
		t.Fatal(err)
	}
	a, err := srv.Applier(cfg, serverctl.ApplyOptions{VerifyTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return srv, cfg, a
}

// TestKillChildTransaction is the child of TestKilledTransactionsRecover:
// it runs one transaction and prints each step as it starts.
func TestKillChildTransaction(t *testing.T) {
	root := os.Getenv(killChildEnv)
	if root == "" {
		t.Skip("run by TestKilledTransactionsRecover")
	}
	srv, cfg, a := loadApplier(t, root)
	a.Progress = func(s serverctl.Step) { fmt.Printf("step %s\n", s) }
	if after := serverctl.Step(os.Getenv(killAfterEnv)); after != "" {
		a.AfterStep = func(s serverctl.Step) {
			if s == after {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
			}
		}
	}
	_, err := a.Apply(context.Background(), toggleRoute(t, srv, cfg, strings.Fields(os.Getenv(killChildEnv+"_PORTS"))))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("step done")
}

// TestKilledTransactionsRecover SIGKILLs a transaction against the real
// httpd at random points (after a random step has started, plus a random
// delay), ten times. After each kill the config must be the old or the new
// file; after RecoverJournal the Service Proxy must run and answer on every
// endpoint, and no drift may be reported.
//
// On Server 5.1.7 with two custom sites the change spans the main config
// and the customsites file; besides the random kills, one round kills the
// child right after each step, StepWrite among them, which leaves the
// customsites file new and the main config old. After recovery the two
// files must be both old or both new.
func TestKilledTransactionsRecover(t *testing.T) {
	if os.Getenv(killChildEnv) != "" {
		t.Skip("in the child")
	}
	for _, version := range []string{"5.3.1", "5.1.7-sites"} {
		t.Run(version, func(t *testing.T) { killedTransactionsRecover(t, version) })
	}
}

func killedTransactionsRecover(t *testing.T, version string) {
	h := apachetest.Require(t)
	fixture, _ := filepath.Abs(filepath.Join("testdata", "servers", version))
	site := apachetest.LocalizeTree(t, h, fixture)
	if customsites := filepath.Join(site.Root, "Library/Server/Web/Config/Proxy/apache_serviceproxy_customsites.conf"); fileExists(customsites) {
		site.LocalizeIncluded(t, customsites)
	}
	apachetest.StartWebsites(t, h, site)
	ctx := context.Background()
	_, _, a := loadApplier(t, site.Root)
	svc, ok := a.Service.(service.HTTPD)
	if !ok {
		t.Fatalf("service is %T, want the httpd driver", a.Service)
	}
	t.Cleanup(func() { apachetest.StopHTTPD(t, h, svc.ConfigFile, site.Env, svc.PidFile) })
	if _, err := a.Restart(ctx); err != nil {
		t.Fatalf("start the Service Proxy: %v\n%s", err, a.ErrorLogTail())
	}
	ports := fmt.Sprintf("%d %d", site.Ports[443], site.Ports[80])
	steps := []string{"test", "backup", "write", "restart", "restart", "restart", "verify"}
	type round struct {
		step  string // the parent kills the child this long after the step starts
		delay time.Duration
		after string // or the child kills itself after this step
	}
	var rounds []round
	if strings.HasSuffix(version, "-sites") {
		for _, s := range []string{"test", "backup", "write", "restart", "verify"} {
			rounds = append(rounds, round{after: s})
		}
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 10))
	for i := 0; i < 10; i++ {
		rounds = append(rounds, round{step: steps[rng.IntN(len(steps))], delay: time.Duration(rng.IntN(40)) * time.Millisecond})
	}
	deadline := time.Now().Add(90 * time.Second)
	killedAt := map[string]int{}
	for i, rd := range rounds {
		if time.Now().After(deadline) {
			break
		}
		srv, cfg, _ := loadApplier(t, site.Root)
		ch := toggleRoute(t, srv, cfg, strings.Fields(ports))
		if strings.HasSuffix(version, "-sites") && len(ch.Also) == 0 {
			t.Fatal("the change does not touch the customsites file")
		}
		what := fmt.Sprintf("killed during %s + %v", rd.step, rd.delay)
		if rd.after != "" {
			what = "killed after " + rd.after
		}

		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		cmd := exec.CommandContext(cctx, os.Args[0], "-test.run=^TestKillChildTransaction$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), killChildEnv+"="+site.Root, killChildEnv+"_PORTS="+ports, killAfterEnv+"="+rd.after)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var log bytes.Buffer
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
			if rd.step != "" && sc.Text() == "step "+rd.step {
				time.AfterFunc(rd.delay, func() { cmd.Process.Kill() })
			}
		}
		werr := cmd.Wait()
		cancel()
		killed := werr != nil && strings.Contains(werr.Error(), "killed")
		if killed {
			killedAt[rd.step+rd.after]++
		} else if werr != nil {
			t.Fatalf("round %d: child failed: %v\n%s", i, werr, log.String())
		} else if rd.after != "" {
			t.Fatalf("round %d: the child was to kill itself after %s but finished\n%s", i, rd.after, log.String())
		}

		got := readSet(t, ch, cfg.Path)
		for j, text := range got {
			old, new := ch.Old, ch.New
			if j > 0 {
				old, new = ch.Also[j-1].Old, ch.Also[j-1].New
			}
			if !bytes.Equal(text, old) && !bytes.Equal(text, new) {
				t.Fatalf("round %d (%s): file %d is neither its old nor its new text", i, what, j)
			}
		}

		_, now, ra := loadApplier(t, site.Root)
		// A child the killed process was forking (httpd -k, the config
		// test) holds the lock until its exec closes the descriptor;
		// RecoverJournal then leaves the journal to that "other
		// Socketbar". Retry until the lock is free.
		var rec *serverctl.Recovery
		servertest.Eventually(t, "the lock to be free for recovery", func() bool {
			var err error
			if rec, err = serverctl.RecoverJournal(ctx, ra); err != nil {
				t.Fatalf("round %d: recover: %v", i, err)
			}
			return rec != nil || !ra.Backups.Interrupted()
		})
		if rd.after == "write" && (rec == nil || !rec.Partial || rec.Entry.Outcome != serverctl.OutcomeRolledBack) {
			t.Fatalf("round %d (%s): recovery = %v; want a partial change rolled back", i, what, rec)
		}
		if rec != nil {
			t.Logf("round %d, %s: %s", i, what, rec)
			if now, err = serverctl.ReadConfig(cfg.Path); err != nil {
				t.Fatal(err)
			}
		}
		if after := readSet(t, ch, cfg.Path); !setIs(after, ch, false) && !setIs(after, ch, true) {
			t.Fatalf("round %d (%s): after recovery the files are neither all old nor all new", i, what)
		}
		st, err := ra.Service.State(ctx)
		if err != nil || !st.Running {
			t.Fatalf("round %d (%s): the Service Proxy is not running after recovery: %+v %v", i, what, st, err)
		}
		if _, err := service.Verify(ctx, ra.Service, service.State{}, ra.Endpoints); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		srvNow, _, _ := loadApplier(t, site.Root)
		if d, err := serverctl.FindDrift(now, ra.Backups, nil, siteFilesOf(t, srvNow, now)...); err != nil || d != nil {
			t.Fatalf("round %d (%s): drift reported after recovery: %+v %v", i, what, d, err)
		}
		if ra.Backups.Interrupted() {
			t.Fatalf("round %d: the journal is still there", i)
		}
	}
	keys := make([]string, 0, len(killedAt))
	for k := range killedAt {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		t.Logf("killed during %s: %d", k, killedAt[k])
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
