package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/socketbar/socketbar/proxy"
	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/action"
	"github.com/socketbar/socketbar/serverctl/action/actiontest"
	"github.com/socketbar/socketbar/serverctl/apachetest"
	"github.com/socketbar/socketbar/serverctl/servertest"
)

// testVersion is the version the tests' Env carries.
const testVersion = "1.2.3-test"

type result struct {
	code           int
	stdout, stderr string
}

// runIn runs the CLI in-process through its command table.
func runIn(t *testing.T, a action.Actions, env map[string]string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	e := &Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return env[k] }, Actions: a, Version: testVersion}
	code := Run(context.Background(), e, args)
	return result{code, stdout.String(), stderr.String()}
}

// runEnv is an Env with actions a whose streams both go to the buffer
// returned: the run functions return their errors rather than print them.
func runEnv(a action.Actions) (*Env, *bytes.Buffer) {
	var out bytes.Buffer
	return &Env{Stdout: &out, Stderr: &out, Actions: a}, &out
}

// checkRun fails the test unless err is what wantErr accepts (nil when
// wantErr is nil) and out holds wants in this order, or is empty when
// wants is nil.
func checkRun(t *testing.T, err error, wantErr func(error) bool, out string, wants []string) {
	t.Helper()
	if wantErr == nil && err != nil || wantErr != nil && !wantErr(err) {
		t.Fatalf("err = %v\n%s", err, out)
	}
	if wants == nil && out != "" {
		t.Errorf("printed:\n%s", out)
	}
	rest := out
	for _, w := range wants {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Errorf("the output lacks %q after what came before it:\n%s", w, out)
			return
		}
		rest = rest[i+len(w):]
	}
}

func TestAddAsksTheActionLayerWhatTheAppAsks(t *testing.T) {
	root := servertest.Copy(t, "5.3.1")
	rec := &actiontest.Recorder{}
	r := runIn(t, rec, nil, "add", "--root", root, actiontest.SameAddPath, actiontest.SameAddBackend)
	if r.code != 0 {
		t.Fatalf("add: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	calls := rec.Calls("ProposeAdd")
	if len(calls) != 1 || !reflect.DeepEqual(calls[0].Opts, actiontest.WantAdd(root)) {
		t.Fatalf("add asked for %+v\nwant (what the app's form asks for) %+v", calls, actiontest.WantAdd(root))
	}
	if applied := rec.Applied(); len(applied) != 1 || !strings.Contains(string(applied[0].New), "socketbar:begin /ws/") {
		t.Errorf("applied %d proposals", len(applied))
	}
}

func TestServeOnATakenPortSuggestsAFreeOne(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir()) // the self-signed certificate goes here
	// 18443 is the port the help suggests: taken (by this test, or by
	// anyone else), the suggestion must be another.
	for _, want := range []string{"127.0.0.1:0", "127.0.0.1:18443"} {
		ln, err := net.Listen("tcp", want)
		if err == nil {
			defer ln.Close()
			want = ln.Addr().String()
		}
		r := runIn(t, &action.Local{}, nil, "serve", "--addr", want, "--route", "/ws/=http://127.0.0.1:8000/ws/")
		_, suggested, ok := strings.Cut(r.stderr, "pick another port, such as --addr ")
		suggested = strings.TrimSuffix(strings.TrimSpace(suggested), ".")
		if r.code != 1 || !strings.Contains(r.stderr, want+" is already in use") || !ok || suggested == want {
			t.Errorf("serve --addr %s: exit %d, stderr %q", want, r.code, r.stderr)
			continue
		}
		if free, err := net.Listen("tcp", suggested); err != nil {
			t.Errorf("suggested %s, which is not free: %v", suggested, err)
		} else {
			free.Close()
		}
	}
}

// holds says whether output is what want expects: it contains want, or,
// when want is "", it is empty.
func holds(output, want string) bool {
	if want == "" {
		return output == ""
	}
	return strings.Contains(output, want)
}

// TestCommandTable runs command lines through the table: each row names
// the exit code, a part of the stream the command writes to, and ("") that
// the other stream stays empty.
func TestCommandTable(t *testing.T) {
	root := servertest.Copy(t, "5.3.1")
	a := &action.Local{}
	for _, tt := range []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"rotues"}, 2, "", "did you mean routes?"},
		{[]string{"stat"}, 2, "", "did you mean status?"},
		{[]string{"--root", root, "routes"}, 0, "/devicemanagement", ""},
		{[]string{"--root=" + root, "status"}, 0, "macOS Server 5.3.1", ""},
		{[]string{"status", "--root", root}, 0, "state unknown: no httpd under this root to drive it (pass --httpd PATH)", ""},
		{[]string{"--root", root}, 2, "", "give a command"},
		{[]string{"--json", "--root", root, "routes"}, 0, `"config": `, ""},
		{[]string{"--root", root, "--json", "status"}, 0, `"server_version": "5.3.1"`, ""},
		{[]string{"restart", "--timeout", "x", "--root", root}, 2, "", `invalid value "x" for flag --timeout`},
		{[]string{"test", "-Q", "ws://127.0.0.1:1/"}, 2, "", "flag provided but not defined: -Q"},
		{[]string{"add", "/ws/", "http://127.0.0.1:1/ws/", "--timeout", "-1s", "--root", root}, 2, "", `invalid value "-1s" for flag --timeout: must be more than 0`},
		{[]string{"test", "--timeout", "0", "ws://127.0.0.1:1/"}, 2, "", "must be more than 0"},
		{[]string{"serve", "--idle-timeout", "-1s", "--route", "/ws/=http://127.0.0.1:1/ws/"}, 2, "", "must be more than 0"},
		{[]string{"remove", "--root", root}, 2, "", "missing PATH. Usage: socketbar remove PATH"},
		{[]string{"add", "/ws/", "http://127.0.0.1:1/ws/", "extra", "--root", root}, 2, "", "unexpected extra"},
		{[]string{"version", "--root", root}, 2, "", "flag provided but not defined: --root"},
		{[]string{"demo", "-h"}, 0, "Usage: socketbar demo [--dir DIR] [--reset]", ""},
		{[]string{"test", "-h"}, 0, "[-H 'Name: value']…", ""},
		{[]string{"serve", "-h"}, 0, "[--route PATH=BACKEND]…", ""},
		{[]string{"add", "/ws/", "127.0.0.1:5020", "--root", root}, 2, "", "a backend is a URL: http://127.0.0.1:5020"},
		{[]string{"add", "/ws/", "http://127.0.0.1:99999/ws/", "--root", root}, 2, "", "1 to 65535"},
		{[]string{"test", "ws://127.0.0.1:1/", "--origin", "https://a\r\nX-Evil: 1"}, 2, "", "--origin \"https://a\\r\\nX-Evil: 1\" contains the control character '\\r'"},
		{[]string{"serve", "--route", "/ws/=http://127.0.0.1:0/ws/"}, 2, "", "has port 0"},
		{[]string{"undo", "--to", "nope", "--root", root}, 2, "", "--to \"nope\" is not the ID"},
		{[]string{"demo", "--dir", root}, 2, "", "is not a demo tree and not empty"},
		{[]string{"demo", "--reset", "--dir", root}, 2, "", "pick another --dir"},
		{[]string{"--version"}, 0, "socketbar " + testVersion + "\n", ""},
		{[]string{"-h", "status"}, 0, "Usage: socketbar status [--apache-version X.Y.Z]", ""},
		{[]string{"--help", "routes"}, 0, "Usage: socketbar routes", ""},
		{[]string{"--root", root, "help", "status"}, 0, "Usage: socketbar status", ""},
		{[]string{"--root", root, "-h", "status"}, 0, "Usage: socketbar status", ""},
		{[]string{"-h", "nosuch"}, 2, "", `unknown command "nosuch"`},
		{[]string{"serve", "--addr", "bogus"}, 2, "", `--addr "bogus" is not an address and port: give it as HOST:PORT, such as 127.0.0.1:8443`},
		{[]string{"serve", "--addr", "127.0.0.1:99999"}, 2, "", "a port to listen on is a number from 0 (any free port) to 65535"},
		{[]string{"test", "--route", "/ws/", "--proxy-addr", "bogus", "--root", root}, 2, "", `--proxy-addr "bogus" is not an address and port: give it as HOST:PORT, such as 127.0.0.1:443`},
		{[]string{"test", "--route", "/ws/", "--proxy-addr", "127.0.0.1:0", "--root", root}, 2, "", `--proxy-addr "127.0.0.1:0" has port 0, which nothing listens on; a port is a number from 1 to 65535`},
		{[]string{"test", "wss://chat.example.com/ws/", "--connect", "::1:443"}, 2, "", "--connect \"::1:443\" is not an address and port: put an IPv6 address in brackets, such as [::1]:443"},
		{[]string{"test", "wss://chat.example.com/ws/", "--connect", "127.0.0.1"}, 2, "", "--connect \"127.0.0.1\" is not an address and port: give it as HOST:PORT"},
		{[]string{"test", "--route", "/ws/", "--connect", "127.0.0.1:99999", "--root", root}, 2, "", `--connect "127.0.0.1:99999" has port 99999; a port is a number from 1 to 65535`},
		{[]string{"test", "-h"}, 0, "--connect HOST:PORT", ""},
		{[]string{"test", "ws://127.0.0.1:1/", "-H", "Upgrade: h2c"}, 2, "", `-H "Upgrade: h2c" sets Upgrade, which the test sends itself for the WebSocket handshake; leave it out`},
		{[]string{"test", "ws://127.0.0.1:1/", "-H", "Cookie a=1"}, 2, "", `-H "Cookie a=1" is not a header line; write it as Name: value`},
	} {
		r := runIn(t, a, nil, tt.args...)
		if r.code != tt.code || !holds(r.stdout, tt.stdout) || !holds(r.stderr, tt.stderr) {
			t.Errorf("%q: exit %d (want %d)\nstdout %q (want %q)\nstderr %q (want %q)", tt.args, r.code, tt.code, r.stdout, tt.stdout, r.stderr, tt.stderr)
		}
	}
}

// withRoutes writes Socketbar routes for paths into the config at conf, as
// an add would, without a transaction.
func withRoutes(t *testing.T, conf string, paths ...string) {
	t.Helper()
	for _, p := range paths {
		cfg, err := serverctl.ReadConfig(conf)
		if err != nil {
			t.Fatal(err)
		}
		edit, err := cfg.AddRoute(serverctl.AddRequest{Path: p, Backend: "http://127.0.0.1:8000" + p, Strategy: serverctl.StrategyTunnel})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(conf, edit.New, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRemoveSuggestsTheRouteWithOrWithoutTheSlash(t *testing.T) {
	root, conf := servertest.CopyWithHTTPD(t, "5.3.1")
	withRoutes(t, conf, "/chat/stream/", "/feed")
	for _, tt := range []struct{ arg, want string }{
		{"/chat/stream", "did you mean /chat/stream/? Run socketbar remove /chat/stream/."},
		{"/feed/", "did you mean /feed? Run socketbar remove /feed."},
	} {
		r := runIn(t, &action.Local{}, nil, "remove", tt.arg, "--root", root, "--dry-run")
		if r.code != 1 || !strings.Contains(r.stderr, "Socketbar has no route for "+tt.arg+"; "+tt.want) {
			t.Errorf("remove %s: exit %d, stderr %q", tt.arg, r.code, r.stderr)
		}
	}
	if r := runIn(t, &action.Local{}, nil, "remove", "/elsewhere/", "--root", root); r.code != 1 || strings.Contains(r.stderr, "did you mean") {
		t.Errorf("remove of an unknown path: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestConfigErrorsNameNoInternalPackage(t *testing.T) {
	for _, tt := range []struct {
		name   string
		damage func(t *testing.T, conf string)
		want   string
	}{
		{"a folder", func(t *testing.T, conf string) {
			if err := os.Remove(conf); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(conf, 0o755); err != nil {
				t.Fatal(err)
			}
		}, "read config: "},
		{"an unclosed section", func(t *testing.T, conf string) {
			if err := os.WriteFile(conf, []byte("<VirtualHost *:80>\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "is never closed"},
	} {
		root, conf := servertest.CopyWithHTTPD(t, "5.3.1")
		tt.damage(t, conf)
		for _, args := range [][]string{{"routes"}, {"status"}, {"status", "--json"}, {"remove", "/ws/"}, {"test", "--route", "/ws/"}} {
			r := runIn(t, &action.Local{}, nil, append(args, "--root", root)...)
			out := r.stdout + r.stderr
			if r.code != 1 || !strings.Contains(out, tt.want) || strings.Contains(out, "serverctl:") || strings.Contains(out, "apacheconf:") {
				t.Errorf("%s, %q: exit %d, want 1 and %q without package prefixes:\n%s", tt.name, args, r.code, tt.want, out)
			}
		}
	}
}

func TestRefusalsOfAnExistingRouteAreWordedForTheCLI(t *testing.T) {
	root, conf := servertest.CopyWithHTTPD(t, "5.3.1-sites")
	withRoutes(t, conf, "/echo/", "/hand/")
	src, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(src), "\n")
	inMacro := false
	for i, l := range lines {
		inMacro = inMacro || strings.Contains(l, "<Macro VHost80")
		if inMacro && strings.Contains(l, "socketbar:begin /hand/") {
			lines = append(lines[:i+1], append([]string{"    Header set X-Hand 1"}, lines[i+1:]...)...)
			break
		}
	}
	if err := os.WriteFile(conf, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runIn(t, &action.Local{}, nil, "add", "/one/", "http://127.0.0.1:8000/one/", "--site", "chat.example.com", "--root", root, "--no-restart"); r.code != 0 {
		t.Fatalf("add --site: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, tt := range []struct {
		args     []string
		code     int
		want     []string
		mustNot  string
		lastLine string
	}{
		{[]string{"add", "/one/", "http://127.0.0.1:9999/one/"}, 2,
			[]string{"socketbar add: PATH /one/ already has a Socketbar route in the custom sites' macro VHost", " for chat.example.com, www.chat.example.com, line "},
			"every custom site", "Nothing was changed."},
		{[]string{"add", "/echo/", "http://127.0.0.1:9999/echo/"}, 2,
			[]string{"socketbar add: PATH /echo/ already has a Socketbar route in VirtualHost *:", " (to http://127.0.0.1:8000/echo/, tunnel, line ", "); pass --replace to change it."},
			"PATH *:", "Nothing was changed."},
		{[]string{"remove", "/hand/"}, 1,
			[]string{"Socketbar's block for /hand/ in the custom sites' macro VHost80 holds lines Socketbar did not write:\n  " + filepath.Join(root, servertest.ConfigPath) + " line ", ": Header set X-Hand 1\n"},
			"RemoveOptions", "Move them out of the block (above its socketbar:begin line) or delete them, then run the command again. Nothing was changed."},
	} {
		r := runIn(t, &action.Local{}, nil, append(tt.args, "--root", root, "--dry-run")...)
		last := strings.TrimSpace(r.stderr)
		last = last[strings.LastIndexByte(last, '\n')+1:]
		ok := r.code == tt.code && !strings.Contains(r.stderr, tt.mustNot) && strings.HasSuffix(last, tt.lastLine)
		for _, w := range tt.want {
			ok = ok && strings.Contains(r.stderr, w)
		}
		if !ok {
			t.Errorf("%q: exit %d (want %d), stderr:\n%s", tt.args, r.code, tt.code, r.stderr)
		}
	}
}

func TestStatusExits1OnDriftOrAnInterruptedChange(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name  string
		setup func(t *testing.T, root, conf string)
		want  []string
	}{
		{"clean", func(t *testing.T, root, conf string) {}, nil},
		{"drift", func(t *testing.T, root, conf string) {
			original, err := os.ReadFile(conf)
			if err != nil {
				t.Fatal(err)
			}
			l := &action.Local{}
			p, err := l.ProposeAdd(ctx, action.AddOptions{Target: action.Target{Root: root}, Path: "/ws/", Backend: "http://127.0.0.1:8000/ws/"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := l.Apply(ctx, p, action.ApplyOptions{NoRestart: true}); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(conf, original, 0o644); err != nil { // Server.app rewrites it
				t.Fatal(err)
			}
		}, []string{"Drift:", "/ws/ in *:443", "socketbar reapply"}},
		{"interrupted", func(t *testing.T, root, conf string) {
			store := serverctl.BackupStoreFor(conf)
			e, err := store.Save(serverctl.BackupEntry{Time: time.Now(), Description: "add /cut/ → http://127.0.0.1:8000/cut/ (tunnel)", Outcome: serverctl.OutcomePending}, serverctl.FileEdit{Old: []byte("old")})
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(store.Dir, serverctl.JournalName), []byte("{}"), 0o644); err != nil {
				t.Fatal(err)
			}
			if e.Outcome != serverctl.OutcomePending {
				t.Fatalf("saved %+v", e)
			}
		}, []string{"Interrupted:", `the change "add /cut/ → http://127.0.0.1:8000/cut/ (tunnel)" (`, "was cut off half-way"}},
	} {
		root, conf := servertest.CopyWithHTTPD(t, "5.3.1")
		tt.setup(t, root, conf)
		r := runIn(t, &action.Local{}, nil, "status", "--root", root)
		wantCode := 0
		if tt.want != nil {
			wantCode = 1
		}
		ok := r.code == wantCode && r.stderr == ""
		for _, w := range tt.want {
			ok = ok && strings.Contains(r.stdout, w)
		}
		if !ok {
			t.Errorf("%s: exit %d (want %d)\n%s%s", tt.name, r.code, wantCode, r.stdout, r.stderr)
		}
		if j := runIn(t, &action.Local{}, nil, "status", "--json", "--root", root); j.code != wantCode {
			t.Errorf("%s: status --json exit %d (want %d)", tt.name, j.code, wantCode)
		}
	}
	if h := runIn(t, &action.Local{}, nil, "help", "status"); !strings.Contains(h.stdout, "Exits 1 when") {
		t.Errorf("help status does not document the exit code:\n%s", h.stdout)
	}
}

// frontWith serves h on loopback and returns its port.
func frontWith(t *testing.T, h http.Handler) string {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(s.URL, "http://"))
	return port
}

// The route check tests every VirtualHost of the route, and at the
// backend tier words what fails as the app's.
func TestRouteCheckTestsEachVirtualHostAndNamesTheAppAtTheBackend(t *testing.T) {
	echo := proxy.EchoHandler()
	apache404 := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "Apache/2.4.58")
		http.Error(w, "Not Found", http.StatusNotFound)
	})
	closed := strconv.Itoa(apachetest.FreePort(t))
	for _, tt := range []struct {
		name            string
		backend, h1, h2 string // ports: the app, and two VirtualHosts standing in for Apache's
		breaksAt, vhost string
		want, mustNot   []string
	}{
		{"the HTTP VirtualHost lacks the route", frontWith(t, echo), frontWith(t, echo), frontWith(t, apache404), action.TierServiceProxy, "*:H2",
			[]string{"[service-proxy, VirtualHost *:H1]", "[service-proxy, VirtualHost *:H2]", "not through the Service Proxy's VirtualHost *:H2"}, nil},
		{"the app is not running", closed, frontWith(t, echo), frontWith(t, echo), action.TierBackend, "",
			[]string{"the app is not running there", "Fix: Start the app"}, []string{"socketbar restart", "Service Proxy)"}},
		{"the app has no WebSocket at the path", frontWith(t, apache404), frontWith(t, echo), frontWith(t, echo), action.TierBackend, "",
			[]string{"HTTP 404 from the app itself", "Fix: Correct the route's backend URL"}, []string{"in the Service Proxy with Socketbar"}},
	} {
		root, conf := servertest.CopyWithHTTPD(t, "5.3.1")
		vhost := func(port string) string {
			return fmt.Sprintf("Listen 127.0.0.1:%s\n<VirtualHost *:%s>\nProxyPass /ws/ ws://127.0.0.1:%s/ws/\n</VirtualHost>\n", port, port, tt.backend)
		}
		if err := os.WriteFile(conf, []byte(vhost(tt.h1)+vhost(tt.h2)), 0o644); err != nil {
			t.Fatal(err)
		}
		names := strings.NewReplacer("H1", tt.h1, "H2", tt.h2)
		r := runIn(t, &action.Local{}, nil, "test", "--route", "/ws/", "--root", root, "--proxy-addr", "127.0.0.1:"+closed, "--timeout", "5s")
		ok := r.code == 1
		for _, w := range tt.want {
			ok = ok && strings.Contains(r.stdout, names.Replace(w))
		}
		for _, w := range tt.mustNot {
			ok = ok && !strings.Contains(r.stdout, w)
		}
		var rep action.TierReport
		j := runIn(t, &action.Local{}, nil, "test", "--json", "--route", "/ws/", "--root", root, "--proxy-addr", "127.0.0.1:"+closed, "--timeout", "5s")
		if err := json.Unmarshal([]byte(j.stdout), &rep); err != nil {
			t.Fatalf("%s: %v\n%s", tt.name, err, j.stdout)
		}
		ok = ok && len(rep.Tiers) == 4 && rep.BreaksAt == tt.breaksAt && rep.BreaksAtVHost == names.Replace(tt.vhost)
		if !ok {
			t.Errorf("%s: exit %d, breaks at %q %q, %d tiers\n%s%s", tt.name, r.code, rep.BreaksAt, rep.BreaksAtVHost, len(rep.Tiers), r.stdout, r.stderr)
		}
	}
}

// runTerminal is runIn with stdout taken for a terminal.
func runTerminal(t *testing.T, a action.Actions, terminal bool, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	e := &Env{Stdout: &stdout, Stderr: &stderr, Actions: a, Terminal: func() bool { return terminal }}
	code := Run(context.Background(), e, args)
	return result{code, stdout.String(), stderr.String()}
}

func TestProgressIsRewrittenWithTimesOnlyOnATerminal(t *testing.T) {
	root := servertest.Copy(t, "5.3.1")
	add := []string{"add", "--root", root, actiontest.SameAddPath, actiontest.SameAddBackend}
	done := regexp.MustCompile(`\r\x1b\[K([✓✗]) ([a-z ]+) \((\d+) ms\)\n`)

	r := runTerminal(t, &actiontest.Recorder{}, true, add...)
	var got []string
	for _, m := range done.FindAllStringSubmatch(r.stdout, -1) {
		got = append(got, m[1]+" "+m[2])
	}
	want := []string{"✓ tested config", "✓ backed up", "✓ wrote the config", "✓ restarted", "✓ verified"}
	if r.code != 0 || !reflect.DeepEqual(got, want) || !strings.Contains(r.stdout, "… testing config\r") {
		t.Errorf("terminal: exit %d, steps %q, want %q\n%q", r.code, got, want, r.stdout)
	}

	r = runTerminal(t, &actiontest.Recorder{ApplyErr: errors.New("the Service Proxy did not come back")}, true, add...)
	if m := done.FindAllStringSubmatch(r.stdout, -1); r.code != 1 || len(m) != 5 || m[4][1] != "✗" || m[4][2] != "verifying" {
		t.Errorf("terminal, failing: exit %d\n%q", r.code, r.stdout)
	}

	r = runTerminal(t, &actiontest.Recorder{}, false, add...)
	const plain = "… testing config\n… backing up\n… writing\n… restarting\n… verifying\n"
	if r.code != 0 || !strings.Contains(r.stdout, plain) || strings.ContainsAny(r.stdout, "\r\x1b✓") {
		t.Errorf("not a terminal: exit %d, want the plain lines %q\n%q", r.code, plain, r.stdout)
	}
}

// routeCheckStub answers CheckRoute with a fixed report; the CLI calls no
// other action for test --route.
type routeCheckStub struct {
	action.Actions
	rep *action.TierReport
}

func (s routeCheckStub) CheckRoute(context.Context, action.CheckRouteOptions) (*action.TierReport, error) {
	return s.rep, nil
}

func TestRouteCheckNamesEverySiteWithoutTheRoute(t *testing.T) {
	for _, tt := range []struct {
		name    string
		without []string // sites (by Site) the route does not reach
		want    string
	}{
		{"the default hosts", []string{""}, "Sites without the route: the default hosts (their requests for /ws/"},
		{"a custom site", []string{"shop.example.com"}, "Sites without the route: shop.example.com (their requests for /ws/"},
		{"both", []string{"", "shop.example.com"}, "Sites without the route: the default hosts, shop.example.com ("},
	} {
		rep := &action.TierReport{Path: "/ws/", OK: true, Tiers: []action.TierResult{{Tier: action.TierBackend, Skipped: "not tested"}}}
		for _, site := range tt.without {
			rep.Tiers = append(rep.Tiers, action.TierResult{Tier: action.TierServiceProxy, Site: site, NoRoute: true, Skipped: "no route"})
		}
		r := runIn(t, routeCheckStub{rep: rep}, nil, "test", "--route", "/ws/")
		if r.code != 0 || !strings.Contains(r.stdout, tt.want) {
			t.Errorf("%s: exit %d; want %q in\n%s%s", tt.name, r.code, tt.want, r.stdout, r.stderr)
		}
	}
}

func TestAChangeNamesEveryFileItWrites(t *testing.T) {
	const regenerated = "Server.app rewrites apache_serviceproxy_customsites.conf"
	for _, tt := range []struct {
		name       string
		args       []string
		wrote      []string // files under the Proxy folder, in order
		regenerate bool
	}{
		{"every site", nil, []string{"apache_serviceproxy.conf", "apache_serviceproxy_customsites.conf"}, true},
		{"one custom site", []string{"--site", "chat.example.com"}, []string{"apache_serviceproxy_customsites.conf"}, true},
		{"the default hosts", []string{"--site", "default"}, []string{"apache_serviceproxy.conf"}, false},
	} {
		root, conf := servertest.CopyWithHTTPD(t, "5.1.7-sites")
		dir := filepath.Dir(conf)
		var paths []string
		for _, f := range tt.wrote {
			paths = append(paths, filepath.Join(dir, f))
		}
		want := "Wrote " + strings.Join(paths, " and ") + ".\n"
		r := runIn(t, &action.Local{}, nil, append([]string{"add", "/ws/", "http://127.0.0.1:8000/ws/", "--root", root, "--no-restart"}, tt.args...)...)
		if r.code != 0 || !strings.Contains(r.stdout, want) || strings.Contains(r.stdout, regenerated) != tt.regenerate {
			t.Errorf("%s: exit %d; want %q and the regeneration note %v in\n%s%s", tt.name, r.code, want, tt.regenerate, r.stdout, r.stderr)
		}
		rm := runIn(t, &action.Local{}, nil, append([]string{"remove", "/ws/", "--root", root, "--no-restart"}, tt.args...)...)
		if rm.code != 0 || !strings.Contains(rm.stdout, want) || strings.Contains(rm.stdout, regenerated) {
			t.Errorf("%s, remove: exit %d; want %q and no regeneration note in\n%s%s", tt.name, rm.code, want, rm.stdout, rm.stderr)
		}
	}
}
