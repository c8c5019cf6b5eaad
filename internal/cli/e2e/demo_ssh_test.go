package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/socketbar/socketbar/internal/sshtest"
	"github.com/socketbar/socketbar/serverctl/apachetest"
	"github.com/socketbar/socketbar/serverctl/demo"
	"github.com/socketbar/socketbar/serverctl/servertest"
)

// demoStartTimeout bounds how long socketbar demo may take to print its
// lines (two httpds, an sshd and its keys).
const demoStartTimeout = 60 * time.Second

// runningDemo is a socketbar demo process and what it printed.
type runningDemo struct {
	cmd *exec.Cmd
	dir string
	// lines are the demo's stdout up to "Press Ctrl-C".
	lines []string
	exit  chan error
}

// startDemo runs socketbar demo --dir dir and reads its lines until it says
// how to stop it; the test's cleanup stops whatever it left running.
func startDemo(t *testing.T, dir string) *runningDemo {
	t.Helper()
	apachetest.Require(t)
	sshtest.Require(t) // under CI a missing sshd fails
	cmd := exec.Command(binary, "demo", "--dir", dir)
	cmd.Env = append(os.Environ(), "SOCKETBAR_ROOT=", "LANG=C.UTF-8")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &runningDemo{cmd: cmd, dir: dir, exit: make(chan error, 1)}
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-d.exit
		// A demo killed with SIGKILL leaves its httpds running.
		if st, err := demo.Load(dir); err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			st.Stop(ctx)
		}
	})
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		said := false
		for sc.Scan() {
			if !said {
				d.lines = append(d.lines, sc.Text())
				if strings.HasPrefix(sc.Text(), "Press Ctrl-C") {
					said = true
					close(ready)
				}
			}
		}
		io.Copy(io.Discard, stdout)
		d.exit <- cmd.Wait()
	}()
	select {
	case <-ready:
	case err := <-d.exit:
		d.exit <- err
		t.Fatalf("socketbar demo exited (%v) before it was ready:\n%s\n%s", err, strings.Join(d.lines, "\n"), stderr.String())
	case <-time.After(demoStartTimeout):
		t.Fatalf("socketbar demo printed no Press Ctrl-C within %v:\n%s", demoStartTimeout, strings.Join(d.lines, "\n"))
	}
	return d
}

// hostBlock is the Host block the demo printed for ~/.ssh/config, as the
// user would paste it, and the command to try after it.
func (d *runningDemo) hostBlock(t *testing.T) (block, try string) {
	t.Helper()
	var b []string
	for i, l := range d.lines {
		if strings.HasPrefix(l, "  Host ") {
			for _, l := range d.lines[i:] {
				if !strings.HasPrefix(l, "  ") {
					break
				}
				b = append(b, strings.TrimPrefix(l, "  "))
			}
			break
		}
	}
	for i, l := range d.lines {
		if l == "then try:" && i+1 < len(d.lines) {
			try = strings.TrimSpace(d.lines[i+1])
		}
	}
	if len(b) == 0 || try == "" {
		t.Fatalf("the demo printed no Host block and command to try:\n%s", strings.Join(d.lines, "\n"))
	}
	return strings.Join(b, "\n") + "\n", try
}

// line is the printed line that starts (after its indent) with prefix.
func (d *runningDemo) line(prefix string) string {
	for _, l := range d.lines {
		if strings.HasPrefix(strings.TrimSpace(l), prefix) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

// sshd is the demo's sshd: its pid and port, read from its files.
func (d *runningDemo) sshd(t *testing.T) (pid, port int) {
	t.Helper()
	dir := filepath.Join(d.dir, demo.SSHDir)
	b, err := os.ReadFile(filepath.Join(dir, "sshd.pid"))
	if err != nil {
		t.Fatal(err)
	}
	if pid, err = strconv.Atoi(strings.TrimSpace(string(b))); err != nil {
		t.Fatal(err)
	}
	conf, err := os.ReadFile(filepath.Join(dir, "sshd_config"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(conf), "\n") {
		if a, ok := strings.CutPrefix(l, "ListenAddress "); ok {
			_, p, _ := net.SplitHostPort(a)
			port, _ = strconv.Atoi(p)
		}
	}
	if port == 0 {
		t.Fatalf("no ListenAddress in the demo's sshd_config:\n%s", conf)
	}
	return pid, port
}

// shell runs a command line the demo printed with /bin/sh, as the user
// would paste it, with the tests' socketbar first on PATH.
func shell(t *testing.T, env []string, line string) result {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", line)
	cmd.Env = append(os.Environ(), "SOCKETBAR_ROOT=", "SOCKETBAR_HOST=", "LANG=C.UTF-8",
		"PATH="+filepath.Dir(binary)+string(os.PathListSeparator)+os.Getenv("PATH"))
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, stdout.String(), stderr.String()}
}

// routeLines are the lines of a status that describe routes.
func routeLines(status string) []string {
	var out []string
	for _, l := range strings.Split(status, "\n") {
		if strings.HasPrefix(l, "Routes:") {
			out = append(out, l)
		}
	}
	return out
}

// gone waits until process pid has ended and nothing listens on port.
func gone(t *testing.T, what string, pid, port int) {
	t.Helper()
	servertest.Eventually(t, what, func() bool {
		if alive(pid) {
			return false
		}
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
		if err == nil {
			c.Close()
			return false
		}
		return true
	})
}

// alive reports whether pid runs (a zombie does not).
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	i := strings.LastIndexByte(string(stat), ')')
	return i < 0 || !strings.HasPrefix(string(stat[i+1:]), " Z")
}

// The demo runs an sshd in front of its tree: the Host block it prints,
// pasted into an ssh config, and the command it prints, run as printed,
// read the same routes over SSH as a local status does. Ctrl-C stops the
// sshd with the demo, and the folder's path (a space, as macOS's
// Application Support has) is quoted right in every line.
func TestDemoOffersItsServerOverSSH(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo tree")
	d := startDemo(t, dir)
	echo := strings.TrimPrefix(d.line("WebSocket echo app:"), "WebSocket echo app: ")
	// A route, so that there is something to compare.
	if r := run(t, nil, "add", "--root", dir, "/echo/", echo); r.code != 0 {
		t.Fatalf("add: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	block, try := d.hostBlock(t)
	conf := filepath.Join(t.TempDir(), "ssh_config")
	if err := os.WriteFile(conf, []byte(block), 0o600); err != nil {
		t.Fatal(err)
	}
	there := shell(t, []string{"SOCKETBAR_SSH=ssh -F " + conf}, try)
	here := run(t, nil, "status", "--root", dir)
	if there.code != 0 || here.code != 0 {
		t.Fatalf("status: exit %d over SSH (%q), %d here\n%s%s\n%s", there.code, try, here.code, there.stdout, there.stderr, here.stderr)
	}
	if a, b := routeLines(here.stdout), routeLines(there.stdout); len(a) == 0 || strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Errorf("the routes over SSH differ from here:\nhere: %q\nover SSH: %q", a, b)
	}
	// The routes themselves, in full.
	hereRoutes := run(t, nil, "routes", "--json", "--root", dir)
	thereRoutes := shell(t, []string{"SOCKETBAR_SSH=ssh -F " + conf}, strings.Replace(try, " status", " routes --json", 1))
	if !json.Valid([]byte(hereRoutes.stdout)) || !strings.Contains(hereRoutes.stdout, `"backend": "`+echo+`"`) {
		t.Fatalf("routes --json here has no route to %s:\n%s", echo, hereRoutes.stdout)
	}
	if thereRoutes.code != 0 || thereRoutes.stdout != hereRoutes.stdout {
		t.Errorf("routes --json over SSH: exit %d, differs from here:\nhere:\n%s\nover SSH:\n%s%s", thereRoutes.code, hereRoutes.stdout, thereRoutes.stdout, thereRoutes.stderr)
	}
	// The user's known_hosts is never read or written: the demo's is.
	if home, err := os.UserHomeDir(); err == nil {
		if b, err := os.ReadFile(filepath.Join(home, ".ssh", "known_hosts")); err == nil && strings.Contains(string(b), demo.SSHAlias) {
			t.Errorf("~/.ssh/known_hosts holds the demo's key")
		}
	}
	if l := d.line("(SOCKETBAR_SSH cannot name"); l == "" {
		t.Errorf("the demo in a folder with a space does not say that SOCKETBAR_SSH cannot name it:\n%s", strings.Join(d.lines, "\n"))
	}

	pid, port := d.sshd(t)
	if err := d.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-d.exit:
		d.exit <- err
		if err != nil {
			t.Errorf("the demo stopped with %v", err)
		}
	case <-time.After(demoStartTimeout):
		t.Fatal("the demo did not stop on Ctrl-C")
	}
	gone(t, "the demo's sshd to end with the demo", pid, port)
}

// A demo killed with SIGKILL, which runs no cleanup, takes its sshd with
// it. The line for trying it without editing ~/.ssh/config works as
// printed.
func TestDemoKilledTakesItsSSHDWithIt(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	d := startDemo(t, dir)
	without := d.line("SOCKETBAR_SSH=")
	if without == "" {
		t.Fatalf("the demo printed no SOCKETBAR_SSH line:\n%s", strings.Join(d.lines, "\n"))
	}
	here := run(t, nil, "status", "--root", dir)
	there := shell(t, nil, without)
	if there.code != 0 || strings.Join(routeLines(here.stdout), "\n") != strings.Join(routeLines(there.stdout), "\n") {
		t.Errorf("%s: exit %d\n%s%s\nhere:\n%s", without, there.code, there.stdout, there.stderr, here.stdout)
	}
	pid, port := d.sshd(t)
	if err := d.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	gone(t, "the demo's sshd to end after the demo was killed", pid, port)
}
