package action

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/socketbar/socketbar/internal/sshtest"
	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/agent"
	"github.com/socketbar/socketbar/serverctl/apachetest"
	"github.com/socketbar/socketbar/serverctl/mirror"
	"github.com/socketbar/socketbar/serverctl/remote"
	"github.com/socketbar/socketbar/serverctl/servertest"
	"github.com/socketbar/socketbar/serverctl/service"
)

// The guarantees of a change made over SSH, proven by killing what
// carries it: the local ssh of the root agent, the agent's perl on the
// Server, or the whole SSH connection (its master), after each step of
// the transaction and at random moments; and by another writer and a
// second admin changing the same Server meanwhile. The Server is this
// machine's real Apache, reached through a real sshd as an account whose
// sudo asks a password.

// killTimeout bounds a killed change, and separately the command after
// it: a kill must turn into an error, never a hang.
const killTimeout = 60 * time.Second

// verifyBound is the killed changes' ApplyOptions.Timeout: a change
// whose agent died during the verify polls until it (15 s by default).
const verifyBound = 5 * time.Second

// killWhat is what a test kills.
type killWhat string

const (
	killSSH    killWhat = "the agent's ssh"
	killPerl   killWhat = "the agent's perl"
	killMaster killWhat = "the ssh master"
)

// rig is a Server tree run by real Apache here, reached over SSH as a sudo
// account.
type rig struct {
	h    apachetest.HTTPD
	site *apachetest.Site
	// files are the main config, then the customsites file if the tree
	// has one.
	files []string
	sshd  *sshtest.Server
	user  sshtest.SudoUser
	// dirs are the folders of files, and what each held at the start.
	dirs    map[string][]string
	backend string
	ports   []string
	target  Target
}

func newRig(t *testing.T, version string) *rig {
	t.Helper()
	h := apachetest.Require(t)
	site := apachetest.LocalizeTree(t, h, servertest.Dir(t, version))
	r := &rig{h: h, site: site, files: []string{site.ConfigPath}, dirs: map[string][]string{}}
	customsites := filepath.Join(site.Root, "Library/Server/Web/Config/Proxy/apache_serviceproxy_customsites.conf")
	if _, err := os.Stat(customsites); err == nil {
		site.LocalizeIncluded(t, customsites)
		r.files = append(r.files, customsites)
	}
	apachetest.StartWebsites(t, h, site)
	t.Cleanup(func() {
		apachetest.StopHTTPD(t, h, site.ConfigPath, site.Env, filepath.Join(site.Root, "var/run/service_proxy.pid"))
	})
	// The account the sshd logs in as reads the tree (its root agent
	// writes it, as root, through sudo).
	servertest.Readable(t, site.Root)
	if _, err := (&Local{}).Restart(context.Background(), RestartOptions{Target: Target{Root: site.Root}}); err != nil {
		t.Fatalf("start the Service Proxy: %v", err)
	}
	for _, f := range r.files {
		names, err := os.ReadDir(filepath.Dir(f))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			r.dirs[filepath.Dir(f)] = append(r.dirs[filepath.Dir(f)], n.Name())
		}
	}
	r.sshd = sshtest.Start(t)
	r.user = r.sshd.NewSudoUser(t)
	r.backend = echoWS(t)
	r.ports = []string{strconv.Itoa(site.Ports[443]), strconv.Itoa(site.Ports[80])}
	r.target = Target{Host: sshtest.Alias, Root: site.Root}
	return r
}

// spy hears what one command's Local starts on its way: the masters of
// its SSH connections and its root agents.
type spy struct {
	mu      sync.Mutex
	masters []int
	agents  []*agent.Agent
	// agentUp, if set, hears each agent once it said hello.
	agentUp func(*agent.Agent)
}

func (s *spy) lastAgent() *agent.Agent {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.agents) == 0 {
		return nil
	}
	return s.agents[len(s.agents)-1]
}

func (s *spy) lastMaster() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.masters) == 0 {
		return 0
	}
	return s.masters[len(s.masters)-1]
}

// local is a Local for one command, as the CLI makes it: a new SSH
// connection for each action, the root agent through sudo with the
// account's password, and after hearing each finished step.
func (r *rig) local(t *testing.T, user sshtest.SudoUser, after func(serverctl.Step)) (*Local, *spy) {
	sp := &spy{}
	ssh := []string{"ssh", "-F", user.ConfigFile}
	root := defaultRootStarter(remote.Host{Name: sshtest.Alias})
	l := &Local{
		AfterStep: after,
		Password:  func(context.Context, string) ([]byte, error) { return []byte(user.Password), nil },
		Connect: func(ctx context.Context, h remote.Host) (mirror.Conn, func(), error) {
			before := childProcesses("ControlMaster=yes")
			c, err := remote.Open(ctx, h, remote.Config{SSH: ssh})
			if err != nil {
				return nil, nil, err
			}
			if pid := newProcess(before, childProcesses("ControlMaster=yes")); pid > 0 {
				sp.mu.Lock()
				sp.masters = append(sp.masters, pid)
				sp.mu.Unlock()
			}
			return c, func() { c.Close() }, nil
		},
		startRoot: func(ctx context.Context, conn mirror.Conn, sudo remote.Sudo) (RootSession, error) {
			s, err := root(ctx, conn, sudo)
			if err != nil {
				return nil, err
			}
			a := s.(*agent.Agent)
			sp.mu.Lock()
			sp.agents = append(sp.agents, a)
			up := sp.agentUp
			sp.mu.Unlock()
			if up != nil {
				up(a)
			}
			return a, nil
		},
	}
	return l, sp
}

// kill SIGKILLs what names in the command sp spies on, and says which
// process it was (0: none was running).
func (sp *spy) kill(what killWhat) (int, error) {
	pid := 0
	switch what {
	case killSSH:
		// The agent's local ssh: this process's child whose command line
		// holds the agent's boot. One agent runs at a time.
		for p := range childProcesses("socketbar-agent") {
			pid = p
		}
	case killPerl:
		if a := sp.lastAgent(); a != nil && a.Err() == nil {
			pid = a.PID()
		}
	case killMaster:
		pid = sp.lastMaster()
	}
	if pid <= 0 {
		return 0, nil
	}
	return pid, syscall.Kill(pid, syscall.SIGKILL)
}

// childProcesses are the processes this process started whose command
// line holds marker (this reads Linux's /proc).
func childProcesses(marker string) map[int]bool {
	found := map[int]bool{}
	entries, _ := os.ReadDir("/proc")
	me := strconv.Itoa(os.Getpid())
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, _ := os.ReadFile("/proc/" + e.Name() + "/stat")
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(stat[i+1:]))
		// A zombie has exited already, though it is not yet reaped.
		if len(fields) < 2 || fields[1] != me || fields[0] == "Z" {
			continue
		}
		cmdline, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if bytes.Contains(cmdline, []byte(marker)) {
			found[pid] = true
		}
	}
	return found
}

// newProcess is the one process of after that is not in before, or 0.
func newProcess(before, after map[int]bool) int {
	found := 0
	for pid := range after {
		if !before[pid] {
			if found != 0 {
				return 0
			}
			found = pid
		}
	}
	return found
}

// read is what the files hold now.
func (r *rig) read(t *testing.T) [][]byte {
	t.Helper()
	var texts [][]byte
	for _, f := range r.files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, b)
	}
	return texts
}

// texts are the files' texts before (new false) or after a change.
func (r *rig) texts(t *testing.T, p *Proposal, new bool) [][]byte {
	t.Helper()
	out := make([][]byte, len(r.files))
	cur := r.read(t)
	for i, f := range r.files {
		out[i] = cur[i] // a file the change leaves alone
		switch {
		case f == p.Config && new:
			out[i] = p.New
		case f == p.Config:
			out[i] = p.Old
		}
		for _, a := range p.Also {
			if a.Path == f && new {
				out[i] = a.New
			} else if a.Path == f {
				out[i] = a.Old
			}
		}
	}
	return out
}

func sameTexts(a, b [][]byte) bool {
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return len(a) == len(b)
}

// propose computes the next change: /kill/ added when it is not in the
// config, else removed. It spans both files of a tree with custom sites.
func (r *rig) propose(t *testing.T, ctx context.Context, path string) *Proposal {
	t.Helper()
	l, _ := r.local(t, r.user, nil)
	var p *Proposal
	var err error
	if r.hasRoute(t, path) {
		p, err = l.ProposeRemove(ctx, RemoveOptions{Target: r.target, Path: path, Ports: r.ports})
	} else {
		p, err = l.ProposeAdd(ctx, AddOptions{Target: r.target, Path: path, Backend: r.backend + path, Ports: r.ports})
	}
	if err != nil {
		t.Fatalf("propose a change of %s over SSH: %v", path, err)
	}
	if len(r.files) > 1 && len(p.Also) == 0 {
		t.Fatal("the change does not span the customsites file")
	}
	return p
}

// hasRoute says whether the main config has Socketbar's route for path.
func (r *rig) hasRoute(t *testing.T, path string) bool {
	t.Helper()
	cfg, err := serverctl.ReadConfig(r.site.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range cfg.ManagedRoutes() {
		if m.Path == path {
			return true
		}
	}
	return false
}

// history is the Server's history, newest first.
func (r *rig) history(t *testing.T) []serverctl.BackupEntry {
	t.Helper()
	entries, err := serverctl.BackupStoreFor(r.site.ConfigPath).List()
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

func (r *rig) backups() string {
	return filepath.Join(filepath.Dir(r.site.ConfigPath), serverctl.BackupDirName)
}

// settled checks what every command must leave, whatever happened to the
// one before: the files all p's old texts or all its new ones, as the
// history records p's outcome (if p got an entry); a config httpd -t
// accepts; the Service Proxy running and answering; every history entry
// settled; no journal; nothing beside the config or in the backup folder
// but the files and the history; the lock free.
func (r *rig) settled(t *testing.T, p *Proposal, known map[string]bool, what string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), killTimeout)
	defer cancel()
	cur := r.read(t)
	isOld, isNew := sameTexts(cur, r.texts(t, p, false)), sameTexts(cur, r.texts(t, p, true))
	if !isOld && !isNew {
		t.Errorf("%s: the files are neither all the change's old texts nor all its new ones", what)
	}
	for _, e := range r.history(t) {
		if e.Outcome == serverctl.OutcomePending {
			t.Errorf("%s: history entry %s (%s) is still pending", what, e.ID, e.Description)
		}
		if known[e.ID] || e.Description != p.Description {
			continue
		}
		if applied := e.Outcome == serverctl.OutcomeApplied; applied != isNew {
			t.Errorf("%s: the history says the change was %s, but the files hold its new texts: %v", what, e.Outcome, isNew)
		}
	}
	if out, err := r.site.ConfigTest(r.h); err != nil {
		t.Errorf("%s: httpd -t: %v\n%s", what, err, out)
	}
	srv, err := serverctl.Discover(ctx, serverctl.Options{Root: r.site.Root})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := serverctl.ReadConfig(srv.HostPath(srv.ConfigPath))
	if err != nil {
		t.Fatal(err)
	}
	a, err := srv.Applier(cfg, serverctl.ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := a.Service.State(ctx); err != nil || !st.Running {
		t.Errorf("%s: the Service Proxy does not run: %+v %v", what, st, err)
	} else if _, err := service.Verify(ctx, a.Service, service.State{}, a.Endpoints); err != nil {
		t.Errorf("%s: the Service Proxy does not answer: %v", what, err)
	}
	if a.Backups.Interrupted() {
		t.Errorf("%s: the journal is still there", what)
	}
	for dir, before := range r.dirs {
		names, _ := os.ReadDir(dir)
		for _, n := range names {
			if n.Name() != serverctl.BackupDirName && !contains(before, n.Name()) {
				t.Errorf("%s: %s was left in %s", what, n.Name(), dir)
			}
		}
	}
	names, _ := os.ReadDir(r.backups())
	for _, n := range names {
		name := n.Name()
		history := strings.HasSuffix(name, ".bak") || strings.HasSuffix(name, ".json") && !strings.HasPrefix(name, ".")
		if name != ".lock" && name != serverctl.JournalName && !history {
			t.Errorf("%s: %s was left in the backup folder", what, name)
		}
	}
	if f, err := os.Open(filepath.Join(r.backups(), ".lock")); err == nil {
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			t.Errorf("%s: the lock is held: %v", what, err)
		}
		f.Close()
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ids are the history's entries now.
func (r *rig) ids(t *testing.T) map[string]bool {
	known := map[string]bool{}
	for _, e := range r.history(t) {
		known[e.ID] = true
	}
	return known
}

// clearDeath says whether err is the clear error of a change whose root
// agent or connection was killed.
func clearDeath(err error) bool {
	var died *agent.DiedError
	return errors.As(err, &died) || errors.Is(err, remote.ErrClosed)
}

// killed is a change over SSH killed by kill, and the command after it.
type killed struct {
	// step, if set, is the step after which kill runs; else it runs
	// delay after the agent said hello.
	step  serverctl.Step
	delay time.Duration
	what  killWhat
	// nextIsChange makes the next command a change (the next toggle of
	// /kill/) instead of a restart.
	nextIsChange bool
}

func (k killed) String() string {
	if k.step != "" {
		return fmt.Sprintf("%s killed after %s", k.what, k.step)
	}
	return fmt.Sprintf("%s killed %v into the transaction", k.what, k.delay)
}

// figures are what a kill cost.
type figures struct {
	hit               bool
	toError, toSettle time.Duration
}

// run makes the change, kills it as k says, runs the next command, and
// checks what it left.
func (r *rig) run(t *testing.T, k killed) figures {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), killTimeout)
	defer cancel()
	p := r.propose(t, ctx, "/kill/")
	known := r.ids(t)
	var (
		mu       sync.Mutex
		killedAt time.Time
		pid      int
		killErr  error
	)
	doKill := func(sp *spy) {
		mu.Lock()
		defer mu.Unlock()
		if !killedAt.IsZero() {
			return
		}
		pid, killErr = sp.kill(k.what)
		if pid > 0 {
			killedAt = time.Now()
		}
	}
	var sp *spy
	l, sp := r.local(t, r.user, func(s serverctl.Step) {
		if s == k.step {
			doKill(sp)
		}
	})
	var timer *time.Timer
	if k.step == "" {
		sp.agentUp = func(*agent.Agent) { timer = time.AfterFunc(k.delay, func() { doKill(sp) }) }
	}
	// A restart and verify here take well under a second; a verify that
	// polls a dead agent only gives up at this bound.
	_, err := l.Apply(ctx, p, ApplyOptions{Timeout: verifyBound})
	returned := time.Now()
	if timer != nil {
		timer.Stop()
	}
	mu.Lock()
	at, hit := killedAt, pid > 0
	mu.Unlock()
	if killErr != nil {
		t.Fatalf("%s: kill %d: %v", k, pid, killErr)
	}
	if ctx.Err() != nil {
		t.Fatalf("%s: the change ran into the test's deadline: %v", k, err)
	}
	var f figures
	switch {
	case k.step != "" && !hit:
		t.Fatalf("%s: nothing to kill (%v)", k, err)
	case hit && err == nil:
		// A kill after the outcome was recorded (at random) costs
		// nothing; one before must fail the change.
		if e := r.history(t); len(e) == 0 || e[0].Outcome != serverctl.OutcomeApplied {
			t.Errorf("%s: the change says it succeeded, but the history says otherwise", k)
		}
	case hit:
		f.hit, f.toError = true, returned.Sub(at)
		if !clearDeath(err) {
			t.Errorf("%s: the change failed with %v, want an error that says the agent or the connection died", k, err)
		}
		t.Logf("%s: the change failed %v after the kill: %v", k, f.toError, err)
	case err != nil:
		t.Fatalf("%s: the change failed with no kill: %v", k, err)
	}
	interrupted := serverctl.BackupStoreFor(r.site.ConfigPath).Interrupted()

	// The next command, a new one: it settles what the killed one left.
	nctx, ncancel := context.WithTimeout(context.Background(), killTimeout)
	defer ncancel()
	next, _ := r.local(t, r.user, nil)
	recovered, ref := "", p
	if k.nextIsChange {
		known = r.ids(t)
		recovered, ref = r.nextChange(t, nctx, next)
	} else {
		res, err := next.Restart(nctx, RestartOptions{Target: r.target})
		if err != nil {
			t.Fatalf("%s: the restart after the kill: %v", k, err)
		}
		recovered = res.Recovered
	}
	if hit {
		f.toSettle = time.Since(at)
	}
	if interrupted && recovered == "" {
		t.Errorf("%s: a journal was left, but the next command says it recovered nothing", k)
	}
	if recovered != "" {
		t.Logf("%s: %s", k, recovered)
	}
	if k.nextIsChange {
		// The killed change is settled (no entry is pending); the files
		// are the next change's new texts.
		r.settled(t, ref, known, k.String()+", then a change")
	} else {
		r.settled(t, p, known, k.String())
	}
	return f
}

// nextChange makes the next change over SSH with l, and returns what it
// said it recovered and the change. A change computed from files a
// killed change left half-written is refused after the recovery put
// them back; it is computed again then, and must go through.
func (r *rig) nextChange(t *testing.T, ctx context.Context, l *Local) (string, *Proposal) {
	t.Helper()
	recovered := ""
	for range 2 {
		p := r.propose(t, ctx, "/next/")
		res, err := l.Apply(ctx, p, ApplyOptions{})
		var after *serverctl.AfterRecoveryError
		switch {
		case err == nil:
			return cmp.Or(recovered, res.Recovered), p
		case recovered == "" && errors.As(err, &after) && errors.Is(err, ErrChangedOnDisk):
			t.Logf("the next change, computed from half-written files: %v", err)
			recovered = after.Recovery.String()
		default:
			t.Fatalf("the next change: %v", err)
		}
	}
	return recovered, nil
}

// A change over SSH whose agent's ssh, agent's perl on the Server, or
// whole SSH connection is SIGKILLed after each step of the transaction
// fails with an error that says so, in bounded time; the next command (a
// restart, from a new connection) finishes or rolls it back. On Server
// 5.1.7 with custom sites each change spans the main config and the
// customsites file: a kill after StepWrite, between their renames, must be
// rolled back in both.
func TestKillsOverSSHAtEveryStepAreSettledByTheNextCommand(t *testing.T) {
	r := newRig(t, "5.1.7-sites")
	steps := []serverctl.Step{serverctl.StepTest, serverctl.StepBackup, serverctl.StepWrite, serverctl.StepRestart, serverctl.StepVerify}
	var worst figures
	for _, what := range []killWhat{killSSH, killPerl, killMaster} {
		for _, step := range steps {
			k := killed{step: step, what: what}
			f := r.run(t, k)
			worst.toError = max(worst.toError, f.toError)
			worst.toSettle = max(worst.toSettle, f.toSettle)
			if t.Failed() {
				t.Fatalf("stopped after %s", k)
			}
		}
	}
	t.Logf("worst: the change failed %v after its kill; the next command had settled it %v after", worst.toError, worst.toSettle)
}

// killSeedEnv, if set, is the seed of the random kills, to run again the
// moments a failure logged.
const killSeedEnv = "SOCKETBAR_TEST_KILL_SEED"

// A change over SSH killed at random moments of its transaction (after
// its agent said hello), its agent's ssh or its agent's perl alike, is
// settled by the next command: a restart, or the next change.
func TestKillsOverSSHAtRandomMomentsAreSettledByTheNextCommand(t *testing.T) {
	r := newRig(t, "5.1.7-sites")
	// How long a transaction takes here, from the agent's hello to
	// Apply's return: the kills land within it.
	ctx, cancel := context.WithTimeout(context.Background(), killTimeout)
	defer cancel()
	p := r.propose(t, ctx, "/kill/")
	l, sp := r.local(t, r.user, nil)
	var up time.Time
	sp.agentUp = func(*agent.Agent) { up = time.Now() }
	if _, err := l.Apply(ctx, p, ApplyOptions{}); err != nil {
		t.Fatalf("a change with no kill: %v", err)
	}
	span := time.Since(up)

	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(killSeedEnv); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("%s: %v", killSeedEnv, err)
		}
	}
	t.Logf("seed %d (%s=%d runs these kills again); a transaction takes %v", seed, killSeedEnv, seed, span)
	rng := rand.New(rand.NewPCG(seed, 17))
	var hits int
	var worst figures
	for i := range 8 {
		k := killed{
			what:         []killWhat{killSSH, killPerl}[rng.IntN(2)],
			delay:        time.Duration(rng.Int64N(int64(span))),
			nextIsChange: i%2 == 1,
		}
		f := r.run(t, k)
		if f.hit {
			hits++
		}
		worst.toError = max(worst.toError, f.toError)
		worst.toSettle = max(worst.toSettle, f.toSettle)
		if t.Failed() {
			t.Fatalf("stopped after round %d: %s (seed %d)", i, k, seed)
		}
	}
	t.Logf("%d of 8 kills landed before the change ended; worst: failed %v after the kill, settled %v after", hits, worst.toError, worst.toSettle)
}

// Another writer (an admin's editor, Server.app) that writes a file of
// the change on the Server after the change read it and before its
// rename loses nothing: the change refuses with ErrChangedOnDisk and the
// file is byte for byte the other writer's. The moments: after the
// backup (before any rename), and right before the main config's rename
// (the customsites file already renamed, which is then put back).
func TestAnotherWriterOnTheServerLosesNothing(t *testing.T) {
	r := newRig(t, "5.1.7-sites")
	for _, tt := range []struct {
		step serverctl.Step
		file int // which of r.files the writer writes
	}{
		{serverctl.StepBackup, 0},
		{serverctl.StepBackup, 1},
		{serverctl.StepWrite, 0},
	} {
		what := fmt.Sprintf("%s written after %s", filepath.Base(r.files[tt.file]), tt.step)
		ctx, cancel := context.WithTimeout(context.Background(), killTimeout)
		p := r.propose(t, ctx, "/kill/")
		before := r.read(t)
		edited := append([]byte("# an admin's edit\n"), before[tt.file]...)
		l, _ := r.local(t, r.user, func(s serverctl.Step) {
			if s == tt.step {
				if err := os.WriteFile(r.files[tt.file], edited, 0o644); err != nil {
					t.Error(err)
				}
			}
		})
		_, err := l.Apply(ctx, p, ApplyOptions{})
		cancel()
		if !errors.Is(err, ErrChangedOnDisk) {
			t.Errorf("%s: the change returned %v, want ErrChangedOnDisk", what, err)
		}
		want := slices.Clone(before)
		want[tt.file] = edited
		if got := r.read(t); !sameTexts(got, want) {
			t.Errorf("%s: the files are not the other writer's and the old texts", what)
		}
		if h := r.history(t); len(h) == 0 || h[0].Description != p.Description || h[0].Outcome != serverctl.OutcomeNotWritten {
			t.Errorf("%s: the history's newest entry is %+v, want the change not written", what, h[0])
		}
		if out, err := r.site.ConfigTest(r.h); err != nil {
			t.Errorf("%s: httpd -t: %v\n%s", what, err, out)
		}
		// The next one starts from the original texts.
		for i, f := range r.files {
			if err := os.WriteFile(f, before[i], 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// Two admins change the same Server at once, each over their own SSH
// connection as their own sudo account, started together. Whichever
// takes the Server's lock first is held inside it until the other has
// tried: the other is refused with ErrLocked's words, and nothing is lost
// silently. The config then holds exactly the change that succeeded; the
// refused one, applied again as it was computed, is refused because the
// config changed, and computed again it goes through: both are in.
func TestTwoAdminsChangingOneServerLoseNothing(t *testing.T) {
	r := newRig(t, "5.1.7-sites")
	users := []sshtest.SudoUser{r.user, r.sshd.NewSudoUser(t)}
	ctx, cancel := context.WithTimeout(context.Background(), killTimeout)
	defer cancel()
	paths := []string{"/alice/", "/bob/"}
	props := []*Proposal{r.propose(t, ctx, paths[0]), r.propose(t, ctx, paths[1])}

	inside := make(chan int, 1) // which admin holds the lock
	release := make(chan struct{})
	var once sync.Once
	type result struct {
		who int
		err error
	}
	results := make(chan result, 2)
	start := make(chan struct{})
	for who := range 2 {
		l, _ := r.local(t, users[who], func(serverctl.Step) {
			// The first step either admin finishes is inside the lock.
			first := false
			once.Do(func() { first = true })
			if !first {
				return
			}
			inside <- who
			select {
			case <-release:
			case <-ctx.Done():
			}
		})
		go func() {
			<-start
			_, err := l.Apply(ctx, props[who], ApplyOptions{})
			results <- result{who, err}
		}()
	}
	close(start)
	// The one holding the lock stops at its first step; the other may be
	// refused before or after that step is reached: both orders are the
	// same overlap.
	winner, gotFirst := -1, false
	var first result
	for winner < 0 || !gotFirst {
		select {
		case winner = <-inside:
		case first = <-results:
			gotFirst = true
		case <-ctx.Done():
			t.Fatalf("neither admin reached the lock, or the second neither waited nor was refused (holder %d)", winner)
		}
	}
	loser := 1 - winner
	if first.who != loser {
		t.Fatalf("the admin holding the lock returned first: %v", first.err)
	}
	if !errors.Is(first.err, serverctl.ErrLocked) || !strings.Contains(first.err.Error(), "another Socketbar is applying a change") {
		t.Errorf("the second admin's change: %v, want the lock's refusal", first.err)
	}
	close(release)
	var second result
	select {
	case second = <-results:
	case <-ctx.Done():
		t.Fatal("the first admin's change did not finish")
	}
	if second.err != nil {
		t.Fatalf("the change holding the lock: %v", second.err)
	}
	if !sameTexts(r.read(t), r.texts(t, props[winner], true)) {
		t.Errorf("the config is not exactly the change that succeeded (%s)", paths[winner])
	}
	t.Logf("%s held the lock; %s was refused: %v", paths[winner], paths[loser], first.err)

	// The refused change, as it was computed, is refused again: the
	// config changed since. Computed again, it goes through.
	l, _ := r.local(t, users[loser], nil)
	if _, err := l.Apply(ctx, props[loser], ApplyOptions{}); !errors.Is(err, ErrChangedOnDisk) {
		t.Errorf("the refused change applied again: %v, want ErrChangedOnDisk", err)
	}
	again := r.propose(t, ctx, paths[loser])
	if _, err := l.Apply(ctx, again, ApplyOptions{}); err != nil {
		t.Fatalf("the refused change computed again: %v", err)
	}
	for _, p := range paths {
		if !r.hasRoute(t, p) {
			t.Errorf("%s is not in the config", p)
		}
	}
	r.settled(t, again, r.ids(t), "after both admins")
}
