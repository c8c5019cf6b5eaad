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
	"testing"
	"time"

	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/apachetest"
)

// killChildEnv names the Server root for the child transaction that
// TestKilledTransactionsRecover runs (and kills) in a copy of this binary.
const killChildEnv = "SERVERCTL_TEST_KILL_CHILD_ROOT"

// toggleRoute returns the change the child makes: add /kill/ when it is
// not there, else remove it, on the hosts on ports.
func toggleRoute(t testing.TB, cfg *serverctl.Config, ports []string, apache serverctl.Version) []byte {
	for _, r := range cfg.ManagedRoutes() {
		if r.Path == "/kill/" {
			e, err := cfg.RemoveRoute("/kill/", ports)
			if err != nil {
				t.Fatal(err)
			}
			return e.New
		}
	}
	e, err := cfg.AddRoute(serverctl.AddRequest{Path: "/kill/", Backend: "http://127.0.0.1:9/kill/", Ports: ports, Strategy: serverctl.StrategyTunnel, Apache: apache})
	if err != nil {
		t.Fatal(err)
	}
	return e.New
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
	_, err := a.Apply(context.Background(), serverctl.Change{Old: cfg.Src, New: toggleRoute(t, cfg, strings.Fields(os.Getenv(killChildEnv+"_PORTS")), srv.Apache), Description: "toggle /kill/"})
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
func TestKilledTransactionsRecover(t *testing.T) {
	if os.Getenv(killChildEnv) != "" {
		t.Skip("in the child")
	}
	h := apachetest.Require(t)
	fixture, _ := filepath.Abs(filepath.Join("testdata", "servers", "5.3.1"))
	site := apachetest.LocalizeTree(t, h, fixture)
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
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 10))
	deadline := time.Now().Add(60 * time.Second)
	killedAt := map[string]int{}
	for i := 0; i < 10 && time.Now().Before(deadline); i++ {
		srv, cfg, _ := loadApplier(t, site.Root)
		old := cfg.Src
		want := toggleRoute(t, cfg, strings.Fields(ports), srv.Apache)
		step, delay := steps[rng.IntN(len(steps))], time.Duration(rng.IntN(40))*time.Millisecond

		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		cmd := exec.CommandContext(cctx, os.Args[0], "-test.run=^TestKillChildTransaction$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), killChildEnv+"="+site.Root, killChildEnv+"_PORTS="+ports)
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
			if sc.Text() == "step "+step {
				time.AfterFunc(delay, func() { cmd.Process.Kill() })
			}
		}
		werr := cmd.Wait()
		cancel()
		killed := werr != nil && strings.Contains(werr.Error(), "killed")
		if killed {
			killedAt[step]++
		} else if werr != nil {
			t.Fatalf("round %d: child failed: %v\n%s", i, werr, log.String())
		}

		got, err := os.ReadFile(cfg.Path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, old) && !bytes.Equal(got, want) {
			t.Fatalf("round %d (killed during %s + %v): the config is neither the old nor the new file", i, step, delay)
		}

		_, now, ra := loadApplier(t, site.Root)
		rec, err := serverctl.RecoverJournal(ctx, ra)
		if err != nil {
			t.Fatalf("round %d: recover: %v", i, err)
		}
		if rec != nil {
			t.Logf("round %d, killed during %s + %v: %s", i, step, delay, rec)
			if now, err = serverctl.ReadConfig(cfg.Path); err != nil {
				t.Fatal(err)
			}
		}
		st, err := ra.Service.State(ctx)
		if err != nil || !st.Running {
			t.Fatalf("round %d (killed during %s + %v): the Service Proxy is not running after recovery: %+v %v", i, step, delay, st, err)
		}
		if _, err := service.Verify(ctx, ra.Service, service.State{}, ra.Endpoints); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		if d, err := serverctl.FindDrift(now, ra.Backups); err != nil || d != nil {
			t.Fatalf("round %d (killed during %s + %v): drift reported after recovery: %+v %v", i, step, delay, d, err)
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
