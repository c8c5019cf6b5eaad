package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/socketbar/socketbar/internal/buildinfo"
	sbrun "github.com/socketbar/socketbar/serverctl/run" // named apart from the tests' run helper
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/socketbar/socketbar/serverctl/action"
	"github.com/socketbar/socketbar/serverctl/servertest"
)

// mainPackage is the package of the socketbar binary, the module's root.
const mainPackage = "github.com/socketbar/socketbar"

// builtVersion is the version the tests' binary is built with, set as a
// release build sets it.
const builtVersion = "9.8.7-e2e"

// binary is the socketbar binary built once for the CLI tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "socketbar-cli-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "socketbar")
	build := exec.Command("go", "build", "-ldflags", "-X main.version="+builtVersion, "-o", binary, mainPackage)
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build socketbar: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

// run runs the built binary with args and extra environment.
func run(t *testing.T, env []string, args ...string) result {
	t.Helper()
	return runWithInput(t, env, "", args...)
}

// runWithInput is run with stdin as the binary's standard input (a pipe;
// with "" it is /dev/null).
func runWithInput(t *testing.T, env []string, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	cmd.Env = append(os.Environ(), "SOCKETBAR_ROOT=", "LANG=C.UTF-8", "LANGUAGE=")
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, stdout.String(), stderr.String()}
}

// serverCopy copies a fixture tree to a temporary root the test may change,
// with the fake httpd at the launchd job's program path.
func serverCopy(t *testing.T, version string) (root, conf string) {
	return servertest.CopyWithHTTPD(t, version)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestHelp(t *testing.T) {
	r := run(t, nil, "help")
	if r.code != 0 {
		t.Fatalf("help exit %d", r.code)
	}
	for _, name := range []string{"status", "routes", "add", "remove", "lint"} {
		if !strings.Contains(r.stdout, "\n  "+name+" ") {
			t.Errorf("help does not list %s", name)
		}
		h := run(t, nil, name, "-h")
		if h.code != 0 || h.stderr != "" || !strings.Contains(h.stdout, "Usage: socketbar "+name) || !strings.Contains(h.stdout, "[--root DIR]") {
			t.Errorf("%s -h: exit %d\n%s%s", name, h.code, h.stdout, h.stderr)
		}
	}
	if h := run(t, nil, "help", "add"); h.code != 0 || !strings.Contains(h.stdout, "[--strategy auto|tunnel|upgrade]") || !strings.Contains(h.stdout, "[--replace]") {
		t.Errorf("help add: exit %d\n%s", h.code, h.stdout)
	}
	if r := run(t, nil, "frobnicate"); r.code != 2 || !strings.Contains(r.stderr, `unknown command "frobnicate"`) || strings.Contains(r.stderr, "Commands:") {
		t.Errorf("unknown command: exit %d, %q", r.code, r.stderr)
	}
	if r := run(t, nil, "status", "--bogus"); r.code != 2 || !strings.Contains(r.stderr, "bogus") {
		t.Errorf("unknown flag: exit %d, %q", r.code, r.stderr)
	}
}

func TestCLIOutputIsFreeOfToolkitNoise(t *testing.T) {
	r := run(t, []string{"LANG=C.UTF-8"}, "version")
	if r.code != 0 || r.stderr != "" || !strings.HasPrefix(r.stdout, "socketbar ") {
		t.Errorf("version: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// The version a release build sets with -ldflags "-X main.version=…" is
// the one socketbar version prints: the variable stays in package main.
// Its second line says which macOS the darwin builds need.
func TestVersionIsSetAtBuildTime(t *testing.T) {
	macOS, ok := buildinfo.MinMacOSForGo(runtime.Version())
	if !ok {
		t.Fatalf("no minimum macOS known for %s", runtime.Version())
	}
	want := fmt.Sprintf("socketbar %s\nmacOS builds made with %s need macOS %s or later.\n", builtVersion, runtime.Version(), macOS)
	for _, args := range [][]string{{"version"}, {"--version"}} {
		if r := run(t, nil, args...); r.code != 0 || r.stdout != want {
			t.Errorf("%q: exit %d, stdout %q; want %q", args, r.code, r.stdout, want)
		}
	}
}

func TestStatus(t *testing.T) {
	root, _ := serverCopy(t, "5.3.1")
	r := run(t, nil, "status", "--json", "--root", root, "--apache-version", "2.4.23")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var s struct {
		ServerVersion string   `json:"server_version"`
		ApacheVersion string   `json:"apache_version"`
		Config        string   `json:"config"`
		ErrorLog      string   `json:"error_log"`
		Defines       []string `json:"defines"`
		Unreadable    []struct{ Path, Reason string }
		Routes        *int `json:"routes"`
		Managed       *int `json:"managed_routes"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	// 18 rules, 10 routes: the six services and the Websites catch-all are in
	// both *:443 and *:80, each counted once.
	if s.ServerVersion != "5.3.1" || s.ApacheVersion != "2.4.23" || s.Routes == nil || *s.Routes != 10 || s.Managed == nil || *s.Managed != 0 {
		t.Errorf("status = %+v", s)
	}
	if s.Config != filepath.Join(root, "Library/Server/Web/Config/Proxy/apache_serviceproxy.conf") || !strings.HasSuffix(s.ErrorLog, "service_proxy_error.log") {
		t.Errorf("paths = %s, %s", s.Config, s.ErrorLog)
	}
	if len(s.Unreadable) != 1 || !strings.HasSuffix(s.Unreadable[0].Path, "truncated.plist") || s.Unreadable[0].Reason == "" {
		t.Errorf("unreadable = %+v", s.Unreadable)
	}
	text := run(t, []string{"SOCKETBAR_ROOT=" + root}, "status")
	if text.code != 0 || !strings.Contains(text.stdout, "macOS Server 5.3.1") || !strings.Contains(text.stdout, "truncated.plist") {
		t.Errorf("text status from SOCKETBAR_ROOT: exit %d\n%s%s", text.code, text.stdout, text.stderr)
	}
}

func TestNoServer(t *testing.T) {
	root := t.TempDir()
	for _, cmd := range []string{"status", "routes", "lint"} {
		r := run(t, nil, cmd, "--root", root)
		if r.code != 1 || !strings.Contains(r.stderr, filepath.Join(root, "Library/Server/Web/Config/Proxy/apache_serviceproxy.conf")) ||
			!strings.Contains(r.stderr, "com.apple.serviceproxy.plist") {
			t.Errorf("%s on an empty root: exit %d\n%s", cmd, r.code, r.stderr)
		}
	}
}

type routesJSON struct {
	Config string `json:"config"`
	Routes []struct {
		VHost     *string `json:"vhost"`
		Path      *string `json:"path"`
		Backend   *string `json:"backend"`
		Line      *int    `json:"line"`
		WebSocket *bool   `json:"websocket"`
		Shadowed  *bool   `json:"shadowed"`
		Managed   *bool   `json:"managed"`
	} `json:"routes"`
}

func routesOf(t *testing.T, root string) routesJSON {
	t.Helper()
	r := run(t, nil, "routes", "--json", "--root", root)
	if r.code != 0 {
		t.Fatalf("routes: exit %d: %s", r.code, r.stderr)
	}
	var out routesJSON
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	return out
}

func TestRoutesJSONShape(t *testing.T) {
	root, conf := serverCopy(t, "5.3.1")
	out := routesOf(t, root)
	if out.Config != conf || len(out.Routes) != 18 {
		t.Fatalf("config %s, %d routes", out.Config, len(out.Routes))
	}
	lines := strings.Split(readFile(t, conf), "\n")
	for _, r := range out.Routes {
		if r.VHost == nil || r.Path == nil || r.Backend == nil || r.Line == nil || r.WebSocket == nil || r.Shadowed == nil || r.Managed == nil {
			t.Fatalf("route misses a field: %+v", r)
		}
		if line := lines[*r.Line-1]; !strings.Contains(line, *r.Backend) {
			t.Errorf("line %d is %q, not the route to %s", *r.Line, line, *r.Backend)
		}
	}
}

func TestAddThenRemove(t *testing.T) {
	root, conf := serverCopy(t, "5.3.1")
	original := readFile(t, conf)

	dry := run(t, nil, "add", "/ws/", "http://127.0.0.1:8000/ws/", "--root", root, "--dry-run")
	if dry.code != 0 || !strings.Contains(dry.stdout, "+\tRewriteRule ^/ws/(.*)$ ws://127.0.0.1:8000/ws/$1 [P,L]") {
		t.Fatalf("dry run: exit %d\n%s%s", dry.code, dry.stdout, dry.stderr)
	}
	if readFile(t, conf) != original {
		t.Fatal("dry run wrote the file")
	}

	add := run(t, nil, "add", "--root", root, "/ws/", "http://127.0.0.1:8000/ws/", "--no-restart")
	if add.code != 0 {
		t.Fatalf("add: exit %d\n%s", add.code, add.stderr)
	}
	backups, _ := filepath.Glob(filepath.Join(filepath.Dir(conf), "socketbar-backups", "*.bak"))
	if len(backups) != 1 || readFile(t, backups[0]) != original {
		t.Fatalf("backups = %v", backups)
	}
	managed := 0
	for _, r := range routesOf(t, root).Routes {
		if *r.Managed {
			managed++
			if *r.Path != "/ws/" || *r.Shadowed {
				t.Errorf("managed route %s shadowed=%v", *r.Path, *r.Shadowed)
			}
		}
	}
	if managed != 4 { // RewriteRule + ProxyPass in *:80 and *:443
		t.Errorf("%d managed routes, want 4", managed)
	}
	added := readFile(t, conf)

	again := run(t, nil, "add", "/ws/", "http://127.0.0.1:8000/ws/", "--root", root, "--no-restart")
	if again.code != 0 || !strings.Contains(again.stdout, "nothing to change") || readFile(t, conf) != added {
		t.Errorf("second add: exit %d\n%s", again.code, again.stdout)
	}
	conflict := run(t, nil, "add", "/ws/", "http://127.0.0.1:9000/ws/", "--root", root)
	if conflict.code != 2 || !strings.Contains(conflict.stderr, "--replace") || readFile(t, conf) != added {
		t.Errorf("conflicting add: exit %d\n%s", conflict.code, conflict.stderr)
	}

	rm := run(t, nil, "remove", "/ws/", "--root", root, "--no-restart")
	if rm.code != 0 {
		t.Fatalf("remove: exit %d\n%s", rm.code, rm.stderr)
	}
	if readFile(t, conf) != original {
		t.Error("add then remove did not give back the original file")
	}
	notOurs := run(t, nil, "remove", "/wiki", "--root", root)
	if notOurs.code != 1 || !strings.Contains(notOurs.stderr, "not written by Socketbar") || readFile(t, conf) != original {
		t.Errorf("remove of Apple's route: exit %d\n%s", notOurs.code, notOurs.stderr)
	}
}

func TestBadInputLeavesFileAlone(t *testing.T) {
	root, conf := serverCopy(t, "5.3.1")
	original := readFile(t, conf)
	tests := []struct {
		args  []string
		field string
	}{
		{[]string{"add", "/ws\nProxyPass / http://evil/", "http://127.0.0.1:1/ws"}, "PATH"},
		{[]string{"add", "/ws#x", "http://127.0.0.1:1/ws"}, "PATH"},
		{[]string{"add", `/w"s`, "http://127.0.0.1:1/ws"}, "PATH"},
		{[]string{"add", "/../etc", "http://127.0.0.1:1/etc"}, "PATH"},
		{[]string{"add", "ws", "http://127.0.0.1:1/ws"}, "PATH"},
		{[]string{"add", "/ws", "http://127.0.0.1:1/ws\"\n</VirtualHost>"}, "BACKEND"},
		{[]string{"add", "/ws", "javascript:alert(1)"}, "BACKEND"},
		{[]string{"add", "/ws", "http://u:p@127.0.0.1/ws"}, "BACKEND"},
		{[]string{"add", "/ws", "http://127.0.0.1/ws", "--strategy", "upgrade", "--apache-version", "2.4.23"}, "--strategy"},
		{[]string{"add", "/ws", "http://127.0.0.1/ws", "--strategy", "upgrade"}, "--strategy"},
		{[]string{"add", "/ws", "http://127.0.0.1/ws", "--vhost", "8080"}, "--vhost"},
		{[]string{"remove", "/ws$"}, "PATH"},
	}
	for _, tt := range tests {
		r := run(t, nil, append(tt.args, "--root", root)...)
		if r.code != 2 || !strings.Contains(r.stderr, tt.field) || !strings.Contains(r.stderr, "Nothing was changed") {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 naming %s", tt.args, r.code, r.stderr, tt.field)
		}
	}
	if r := run(t, nil, "add", "/ws", "--root", root); r.code != 2 || !strings.Contains(r.stderr, "missing BACKEND. Usage: socketbar add PATH BACKEND") {
		t.Errorf("missing BACKEND: exit %d, %q", r.code, r.stderr)
	}
	if r := run(t, nil, "status", "--root", root, "--apache-version", "2.4"); r.code != 2 {
		t.Errorf("bad --apache-version: exit %d, %q", r.code, r.stderr)
	}
	if readFile(t, conf) != original {
		t.Fatal("a refused command changed the config")
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(conf), "socketbar-backups")); err == nil {
		t.Error("a refused command made a backup")
	}
}

func TestLint(t *testing.T) {
	root, conf := serverCopy(t, "5.3.1")
	r := run(t, nil, "lint", "--json", "--root", root)
	var out struct {
		Errors   int
		Findings []struct {
			Severity, File, Message, Fix string
			Line                         int
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if r.code != 1 || out.Errors != 1 || !strings.Contains(out.Findings[0].Fix, "add a WebSocket route for /chat/ to http://127.0.0.1:8001/chat/") {
		t.Fatalf("lint: exit %d %+v", r.code, out)
	}
	if add := run(t, nil, "add", "/chat/", "http://127.0.0.1:8001/chat/", "--root", root, "--no-restart"); add.code != 0 {
		t.Fatalf("add: %s", add.stderr)
	}
	if r := run(t, nil, "lint", "--root", root); r.code != 0 || !strings.Contains(r.stdout, "0 error(s), 0 warning(s)") {
		t.Errorf("lint after the fix: exit %d\n%s", r.code, r.stdout)
	}
	file := filepath.Join(t.TempDir(), "x.conf")
	if err := os.WriteFile(file, []byte(readFile(t, conf)+"<VirtualHost *:81>\nProxyPass / http://a/\nProxyPass /ws ws://b/ws\n</VirtualHost>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := run(t, nil, "lint", "--file", file); r.code != 1 || !strings.Contains(r.stdout, "never runs") {
		t.Errorf("lint --file: exit %d\n%s", r.code, r.stdout)
	}
}

func TestStatusReportsMissingModuleFiles(t *testing.T) {
	root, conf := serverCopy(t, "5.7.1")
	dir := filepath.Join(root, "usr", "libexec", "apache2")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(readFile(t, conf), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == "LoadModule" && f[1] != "proxy_wstunnel_module" {
			if err := os.WriteFile(filepath.Join(root, "usr", f[2]), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	r := run(t, nil, "status", "--json", "--root", root)
	var s struct {
		Checked bool `json:"modules_checked"`
		Missing []struct {
			Name string `json:"name"`
			Path string `json:"path"`
		} `json:"missing_modules"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if !s.Checked || len(s.Missing) != 1 || s.Missing[0].Name != "proxy_wstunnel_module" || s.Missing[0].Path != "/usr/libexec/apache2/mod_proxy_wstunnel.so" {
		t.Errorf("modules: %+v", s)
	}
}

func TestConfigTestFailureLeavesFileAlone(t *testing.T) {
	root, conf := serverCopy(t, "5.3.1")
	original := readFile(t, conf)
	r := run(t, nil, "add", "/fail-config-test/", "http://127.0.0.1:1/fail-config-test/", "--root", root, "--no-restart")
	if r.code != 1 || !strings.Contains(r.stderr, "config test failed") || !strings.Contains(r.stderr, "Invalid command") {
		t.Errorf("exit %d\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, ".socketbar-test-") || !strings.Contains(r.stderr, conf) {
		t.Errorf("the error names the temporary file instead of the config:\n%s", r.stderr)
	}
	if readFile(t, conf) != original {
		t.Error("a config that failed the test was written")
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(conf), ".socketbar-test-*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

func TestHistoryAndUndo(t *testing.T) {
	root, conf := serverCopy(t, "5.3.1")
	v0 := readFile(t, conf)
	if r := run(t, nil, "undo", "--root", root); r.code != 1 || !strings.Contains(r.stderr, "no change to undo") {
		t.Errorf("undo with no history: exit %d %s", r.code, r.stderr)
	}
	for _, p := range []string{"/a/", "/b/"} {
		if r := run(t, nil, "add", p, "http://127.0.0.1:1"+p, "--root", root, "--no-restart"); r.code != 0 {
			t.Fatalf("add %s: %s", p, r.stderr)
		}
	}
	v2 := readFile(t, conf)
	h := run(t, nil, "history", "--root", root, "--json")
	var hist struct {
		Entries []struct {
			ID, Description string
			Routes          []struct{ Path string }
		}
	}
	if err := json.Unmarshal([]byte(h.stdout), &hist); err != nil || len(hist.Entries) != 2 {
		t.Fatalf("history: %v %s", err, h.stdout)
	}
	if !strings.HasPrefix(hist.Entries[0].Description, "add /b/") || len(hist.Entries[0].Routes) != 8 || len(hist.Entries[1].Routes) != 4 {
		// Each add writes into *:443, *:80 and the custom sites' two macros.
		t.Errorf("history entries = %+v", hist.Entries)
	}

	if r := run(t, nil, "undo", "--root", root, "--no-restart"); r.code != 0 || !strings.Contains(r.stdout, "add /b/") {
		t.Fatalf("undo: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	if got := readFile(t, conf); strings.Contains(got, "/b/") || !strings.Contains(got, "socketbar:begin /a/") {
		t.Error("first undo did not take back exactly the second change")
	}
	if r := run(t, nil, "undo", "--root", root, "--no-restart"); r.code != 0 || readFile(t, conf) != v0 {
		t.Fatalf("second undo: exit %d %s; config is the original: %v", r.code, r.stderr, readFile(t, conf) == v0)
	}
	if r := run(t, nil, "undo", "--to", hist.Entries[0].ID, "--root", root, "--no-restart"); r.code != 0 {
		t.Fatalf("undo --to: %s", r.stderr)
	}
	if got := readFile(t, conf); got == v2 || !strings.Contains(got, "/a/") || strings.Contains(got, "/b/") {
		t.Error("undo --to did not restore the config from before that change")
	}
	if r := run(t, nil, "undo", "--to", "../../etc/passwd", "--root", root); r.code != 2 || !strings.Contains(r.stderr, "is not the ID of a change") {
		t.Errorf("undo --to a path: exit %d %s", r.code, r.stderr)
	}
	text := run(t, nil, "history", "--root", root)
	if !strings.Contains(text.stdout, "(undone)") {
		t.Errorf("history does not mark undone changes:\n%s", text.stdout)
	}
}

// TestUndoDryRunShowsEditsItWouldLose follows the refusal of an undo
// after Server.app rewrote the customsites file: its dry run (which the
// refusal points to, and which writes nothing) shows the diff, Server.app's
// text among what would go, instead of refusing in turn; the refusal names
// the file that changed. Nothing is written either way.
func TestUndoDryRunShowsEditsItWouldLose(t *testing.T) {
	root, conf := serverCopy(t, "5.1.7-sites")
	customsites := filepath.Join(filepath.Dir(conf), "apache_serviceproxy_customsites.conf")
	if r := run(t, nil, "add", "/a/", "http://127.0.0.1:1/a/", "--root", root, "--no-restart"); r.code != 0 {
		t.Fatalf("add: %s", r.stderr)
	}
	const regenerated = "# regenerated by Server.app\n"
	if err := os.WriteFile(customsites, []byte(regenerated), 0o644); err != nil {
		t.Fatal(err)
	}
	main := readFile(t, conf)
	backups, err := os.ReadDir(filepath.Join(filepath.Dir(conf), "socketbar-backups"))
	if err != nil {
		t.Fatal(err)
	}
	unchanged := func(what string) {
		t.Helper()
		after, _ := os.ReadDir(filepath.Join(filepath.Dir(conf), "socketbar-backups"))
		if readFile(t, conf) != main || readFile(t, customsites) != regenerated || len(after) != len(backups) {
			t.Errorf("%s changed a file or the backup folder", what)
		}
	}
	r := run(t, nil, "undo", "--root", root, "--no-restart")
	if r.code != 1 || !strings.Contains(r.stderr, customsites) {
		t.Errorf("undo after Server.app's rewrite: exit %d %s; want a refusal naming %s", r.code, r.stderr, customsites)
	}
	unchanged("the refused undo")
	r = run(t, nil, "undo", "--dry-run", "--root", root)
	if r.code != 0 || !strings.Contains(r.stdout, "-"+strings.TrimSuffix(regenerated, "\n")) {
		t.Errorf("undo --dry-run: exit %d\n%s%s\nwant the diff, with Server.app's line going", r.code, r.stdout, r.stderr)
	}
	unchanged("undo --dry-run")
}

func TestDriftAndReapply(t *testing.T) {
	root, conf := serverCopy(t, "5.3.1")
	original := readFile(t, conf)
	if r := run(t, nil, "add", "/ws/", "http://127.0.0.1:8000/ws/", "--root", root, "--no-restart"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	added := readFile(t, conf)
	if s := run(t, nil, "status", "--root", root); strings.Contains(s.stdout, "Drift:") {
		t.Errorf("drift reported right after the change:\n%s", s.stdout)
	}
	// Server.app rewrites the file from its own template.
	if err := os.WriteFile(conf, []byte(original), 0o644); err != nil {
		t.Fatal(err)
	}
	s := run(t, nil, "status", "--root", root)
	if !strings.Contains(s.stdout, "Drift:") || !strings.Contains(s.stdout, "/ws/ in *:443") || !strings.Contains(s.stdout, "reapply") {
		t.Errorf("status after the rewrite:\n%s", s.stdout)
	}
	r := run(t, nil, "reapply", "--root", root, "--no-restart")
	if r.code != 0 || readFile(t, conf) != added {
		t.Errorf("reapply: exit %d %s%s; restored the routes: %v", r.code, r.stdout, r.stderr, readFile(t, conf) == added)
	}
	if again := run(t, nil, "reapply", "--root", root); again.code != 0 || !strings.Contains(again.stdout, "nothing to put back") {
		t.Errorf("second reapply: %s", again.stdout)
	}
}

func TestUserWhoMayNotWriteIsToldToUseSudo(t *testing.T) {
	if os.Geteuid() != 0 || runtime.GOOS != "linux" {
		t.Skip("needs root to run the binary as another user")
	}
	root, conf := serverCopy(t, "5.3.1")
	original := readFile(t, conf)
	// Let "nobody" read the tree and run the binary, but not write.
	for _, dir := range []string{filepath.Dir(binary), root, filepath.Dir(root)} {
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(binary, "add", "/ws/", "http://127.0.0.1:8000/ws/", "--root", root)
	cmd.Env = []string{"LANG=C.UTF-8", "PATH=/usr/bin:/bin"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(string(out), "Run the command again with sudo") {
		t.Errorf("as nobody: %v\n%s", err, out)
	}
	if readFile(t, conf) != original {
		t.Error("the config changed")
	}
}

// osascriptStandIn runs what osascript would run as root: the arguments
// after the fixed script, as one command.
type osascriptStandIn struct{ ran []string }

func (o *osascriptStandIn) Run(ctx context.Context, cmd sbrun.Command) ([]byte, error) {
	i := 0
	for i+1 < len(cmd.Args) && cmd.Args[i] == "-e" {
		i += 2
	}
	o.ran = cmd.Args[i:]
	return exec.CommandContext(ctx, cmd.Args[i], cmd.Args[i+1:]...).Output()
}

func TestElevatedApplyRunsTheSameTransaction(t *testing.T) {
	root, conf := serverCopy(t, "5.3.1")
	runner := &osascriptStandIn{}
	a := &action.Local{Elevator: action.PromptElevator{Runner: runner, Self: binary}}
	p, err := a.ProposeAdd(context.Background(), action.AddOptions{Target: action.Target{Root: root}, Path: "/ws/", Backend: "http://127.0.0.1:8000/ws/"})
	if err != nil {
		t.Fatal(err)
	}
	// Make the config root's in the eyes of this process: the elevated
	// path is taken when the config may not be written.
	if err := os.Chmod(filepath.Dir(conf), 0o555); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(filepath.Dir(conf), 0o755)
	if os.Geteuid() == 0 {
		t.Skip("root may write a read-only folder; the elevated half is proven in serverctl/elevate")
	}
	res, err := a.Apply(context.Background(), p, action.ApplyOptions{NoRestart: true})
	if err != nil || !res.Elevated || res.BackupID == "" {
		t.Fatalf("Apply = %+v, %v", res, err)
	}
	if len(runner.ran) != 6 || runner.ran[0] != binary || runner.ran[1] != "apply-plan" {
		t.Errorf("elevated command = %q", runner.ran)
	}
	if readFile(t, conf) != string(p.New) {
		t.Error("the config is not the new text")
	}
}

func TestAppWithoutADisplaySaysSoInOneLine(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("only Linux tells by DISPLAY")
	}
	r := run(t, []string{"DISPLAY=", "WAYLAND_DISPLAY="})
	if r.code != 2 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "no display") || strings.Contains(r.stderr, "panic") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}
