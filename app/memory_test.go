package app

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/socketbar/socketbar/internal/sshtest"
)

// memoryWindow is how long the app runs after both Servers are connected
// while its memory is sampled: two rounds of remoteEvery.
const memoryWindow = 2*remoteEvery + 5*time.Second

// BenchmarkAppMemoryTwoServers runs the real app under Xvfb with its
// routes window open: with no Server, with This Mac's (a 5.3.1 tree), and
// with two Servers over SSH (two real sshd on loopback, each serving the
// same tree) added and one of them selected. It reports the app's peak
// RSS (VmHWM) in each, and how many logins each sshd saw (one per Server
// while the app runs). It takes about two minutes:
//
//	go test -run - -bench AppMemoryTwoServers -benchtime 1x ./app/
func BenchmarkAppMemoryTwoServers(b *testing.B) {
	for _, tool := range []string{"xvfb-run", "dbus-run-session"} {
		if _, err := exec.LookPath(tool); err != nil {
			b.Skipf("needs %s (apt-get install xvfb dbus)", tool)
		}
	}
	dir := b.TempDir()
	bin := filepath.Join(dir, "socketbar")
	if out, err := exec.Command("go", "build", "-o", bin, "..").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	var config strings.Builder
	var servers []map[string]string
	var sshds []*sshtest.Server
	for _, name := range []string{"one", "two"} {
		s := sshtest.Start(b)
		file := s.ConfigFile
		if os.Geteuid() == 0 {
			file = s.NewSudoUser(b).ConfigFile // root's shell startup is not the app's
		}
		text, err := os.ReadFile(file)
		if err != nil {
			b.Fatal(err)
		}
		config.WriteString(strings.Replace(string(text), "Host "+sshtest.Alias+"\n", "Host "+name+"\n", 1))
		servers = append(servers, map[string]string{"host": name, "root": readableTree(b, "5.3.1")})
		sshds = append(sshds, s)
	}
	sshConfig := filepath.Join(dir, "ssh_config")
	if err := os.WriteFile(sshConfig, []byte(config.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	list, _ := json.Marshal(servers)
	for range b.N {
		none := runApp(b, bin, filepath.Join(dir, "none"), "", sshConfig, nil, nil)
		local := runApp(b, bin, filepath.Join(dir, "local"), servers[0]["root"], sshConfig, nil, nil)
		two := runApp(b, bin, filepath.Join(dir, "two"), "", sshConfig, map[string]string{prefServers: string(list), prefSelected: "one"}, sshds)
		b.ReportMetric(none, "peak-RSS-MiB-no-servers")
		b.ReportMetric(local, "peak-RSS-MiB-this-mac")
		b.ReportMetric(two, "peak-RSS-MiB-two-servers")
		for i, s := range sshds {
			b.ReportMetric(float64(strings.Count(s.Log(), "Accepted publickey")), "logins-server-"+strconv.Itoa(i+1))
		}
	}
}

// runApp runs the app in home with prefs, This Mac's Server under root
// ("": none), until memoryWindow after each sshd saw a login, and returns
// its peak RSS in MiB.
func runApp(b *testing.B, bin, home, root, sshConfig string, prefs map[string]string, sshds []*sshtest.Server) float64 {
	b.Helper()
	conf := filepath.Join(home, "config")
	store := filepath.Join(conf, "fyne", ID)
	if err := os.MkdirAll(store, 0o700); err != nil {
		b.Fatal(err)
	}
	if prefs != nil {
		text, _ := json.Marshal(prefs)
		if err := os.WriteFile(filepath.Join(store, "preferences.json"), text, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	if root == "" {
		root = filepath.Join(home, "no-server")
		os.MkdirAll(root, 0o755)
	}
	cmd := exec.Command("dbus-run-session", "--", "xvfb-run", "-a", "-s", "-screen 0 1280x800x24", bin)
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+conf, "SOCKETBAR_ROOT="+root,
		"SOCKETBAR_SSH=ssh -F "+sshConfig, "SOCKETBAR_SHOW=routes")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		cmd.Wait()
		// The app may outlive dbus-run-session briefly: the next run
		// must not measure this one.
		gone := time.Now().Add(20 * time.Second)
		for findProcess(bin) != 0 && time.Now().Before(gone) {
			time.Sleep(100 * time.Millisecond)
		}
	}()
	deadline := time.Now().Add(60 * time.Second)
	pid := 0
	for pid == 0 || !loggedIn(sshds) {
		if time.Now().After(deadline) {
			b.Fatalf("the app (pid %d) did not start and log in to every Server within 60 s", pid)
		}
		if pid == 0 {
			pid = findProcess(bin)
		}
		time.Sleep(100 * time.Millisecond)
	}
	end := time.Now().Add(memoryWindow)
	peak := 0
	for time.Now().Before(end) {
		kb := statusKB(pid, "VmHWM:")
		if kb == 0 {
			b.Fatalf("the app (pid %d) ended while measured", pid)
		}
		peak = max(peak, kb)
		time.Sleep(500 * time.Millisecond)
	}
	return float64(peak) / 1024
}

func loggedIn(sshds []*sshtest.Server) bool {
	for _, s := range sshds {
		if !strings.Contains(s.Log(), "Accepted publickey") {
			return false
		}
	}
	return true
}

// findProcess is the pid of the process running bin, or 0.
func findProcess(bin string) int {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err == nil && exe == bin && statusKB(pid, "VmHWM:") > 0 {
			return pid
		}
	}
	return 0
}

// statusKB reads a kB field of /proc/PID/status.
func statusKB(pid int, field string) int {
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return n
		}
	}
	return 0
}
