package action

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/run"
	"github.com/socketbar/socketbar/serverctl/servertest"
	"github.com/socketbar/socketbar/serverctl/sites"
)

// jsonFields are a struct type's fields that reach its JSON: name, tag
// and type, in order.
func jsonFields(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || f.Tag.Get("json") == "-" {
			continue
		}
		out = append(out, fmt.Sprintf("%s %s `%s`", f.Name, f.Type, f.Tag.Get("json")))
	}
	return out
}

// The routes a front end shows are serverctl's rules as data: their JSON
// (socketbar routes --json, a contract with scripts) is the rule's, field
// for field, so a field added to serverctl.Route fails here until the view
// carries it too.
func TestRouteViewIsTheRulesJSON(t *testing.T) {
	if got, want := jsonFields(reflect.TypeFor[Route]()), jsonFields(reflect.TypeFor[serverctl.Route]()); !reflect.DeepEqual(got, want) {
		t.Fatalf("Route's JSON fields:\n%s\nserverctl.Route's:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, tree := range []string{"5.1.7-sites", "5.3.1-sites", "5.7.1"} {
		root := servertest.Dir(t, tree)
		srv, cfg, err := (&Local{}).load(context.Background(), Target{Root: root})
		if err != nil {
			t.Fatal(err)
		}
		lc, err := loadAll(context.Background(), srv, cfg)
		if err != nil {
			t.Fatal(err)
		}
		model := serverctl.SiteRoutes(lc, sites.Read(lc, root))
		want, _ := json.Marshal(model)
		got, _ := json.Marshal(routeViews(model, cfg.Endpoints(srv.Job.Defines)))
		if string(got) != string(want) {
			t.Errorf("%s: the view's JSON differs from the rules':\n%s\n%s", tree, got, want)
		}
	}
}

// Each route says where a person tests it and names its VirtualHost by
// scheme, from whether the config serves the port with TLS.
func TestStatusLabelsRoutesAndVirtualHosts(t *testing.T) {
	st, err := (&Local{}).Status(context.Background(), Target{Root: servertest.Copy(t, "5.7.1")})
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{}
	for _, v := range st.VirtualHosts {
		labels[strings.Join(v.Addrs, " ")] = v.Label
		if v.TLS != strings.HasPrefix(v.Label, "HTTPS ") {
			t.Errorf("VirtualHost %v: TLS %v, label %q", v.Addrs, v.TLS, v.Label)
		}
	}
	if labels["*:443"] != "HTTPS *:443" || labels["*:80"] != "HTTP *:80" {
		t.Errorf("VirtualHost labels %q", labels)
	}
	web := 0
	for _, v := range st.VirtualHosts {
		if v.Web {
			web++
		}
	}
	if web != len(st.WebPorts) {
		t.Errorf("%d VirtualHosts carry the websites; the web ports are %v", web, st.WebPorts)
	}
	for _, r := range st.Routes {
		if l, ok := labels[r.VHost]; ok && r.VHostLabel != l {
			t.Errorf("route %s in %s: label %q, want %q", r.Path, r.VHost, r.VHostLabel, l)
		}
		scheme := "ws://"
		if strings.HasPrefix(r.VHostLabel, "HTTPS ") {
			scheme = "wss://"
		}
		if !strings.HasPrefix(r.TestURL, scheme+"127.0.0.1:") || !strings.HasSuffix(r.TestURL, r.Path) {
			t.Errorf("route %s in %s is tested at %q", r.Path, r.VHost, r.TestURL)
		}
	}
}

func TestHistoryEntrySaysWhatBecameOfTheChange(t *testing.T) {
	for _, tt := range []struct {
		e    HistoryEntry
		want string
	}{
		{HistoryEntry{}, "applied"}, // written before outcomes were recorded
		{HistoryEntry{BackupEntry: BackupEntry{Outcome: serverctl.OutcomeApplied}}, "applied"},
		{HistoryEntry{BackupEntry: BackupEntry{Outcome: serverctl.OutcomeRolledBack}}, "rolled back"},
		{HistoryEntry{BackupEntry: BackupEntry{Outcome: serverctl.OutcomePending}}, "pending"},
		{HistoryEntry{BackupEntry: BackupEntry{Outcome: serverctl.OutcomeApplied}, Undone: true}, "undone"},
	} {
		if got := tt.e.State(); got != tt.want {
			t.Errorf("%+v: state %q, want %q", tt.e, got, tt.want)
		}
	}
}

// countingRunner runs commands and counts those that ask httpd its version.
type countingRunner struct {
	mu       sync.Mutex
	versions int
}

func (c *countingRunner) Run(ctx context.Context, cmd run.Command) ([]byte, error) {
	if len(cmd.Args) == 1 && cmd.Args[0] == "-v" {
		c.mu.Lock()
		c.versions++
		c.mu.Unlock()
	}
	return run.Exec{}.Run(ctx, cmd)
}

func (c *countingRunner) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.versions
}

// A watcher's Pulse costs a stat and the service's state: the Server is
// not discovered again (which runs httpd -v) until the config changes.
func TestPulseRereadsTheServerOnlyWhenTheConfigChanges(t *testing.T) {
	root, conf := servertest.CopyWithHTTPD(t, "5.7.1")
	runner := &countingRunner{}
	l := &Local{Runner: runner}
	ctx := context.Background()
	st, err := l.Status(ctx, Target{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	asked := runner.count()
	if asked == 0 {
		t.Fatal("Status did not ask httpd its version; the test counts nothing")
	}
	for range 3 {
		p, err := l.Pulse(ctx, Target{Root: root})
		if err != nil {
			t.Fatal(err)
		}
		if !p.ModTime.Equal(st.ModTime) || p.Service != st.Service || (p.ServiceErr == nil) != (st.ServiceErr == nil) {
			t.Errorf("pulse %+v; the status said %v, %+v, %v", p, st.ModTime, st.Service, st.ServiceErr)
		}
	}
	if n := runner.count() - asked; n != 0 {
		t.Errorf("three pulses asked httpd its version %d time(s)", n)
	}
	later := st.ModTime.Add(5 * time.Second)
	if err := os.Chtimes(conf, later, later); err != nil {
		t.Fatal(err)
	}
	p, err := l.Pulse(ctx, Target{Root: root})
	if err != nil || !p.ModTime.Equal(later) {
		t.Fatalf("pulse after the config changed: %+v, %v; want its new time %v", p, err, later)
	}
	if runner.count() == asked {
		t.Error("the Server was not read again after its config changed")
	}
}

// ErrorLog is the end of the Service Proxy's error log, where discovery
// says it is.
func TestErrorLogIsTheEndOfTheLog(t *testing.T) {
	root := servertest.Copy(t, "5.7.1")
	st, err := (&Local{}).Status(context.Background(), Target{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for i := range 100 {
		lines = append(lines, fmt.Sprintf("[proxy:error] line %d", i))
	}
	if err := os.MkdirAll(filepath.Dir(st.Server.ErrorLogPath), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(st.Server.ErrorLogPath, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	remembers := &Local{}
	if _, err := remembers.Status(context.Background(), Target{Root: root}); err != nil {
		t.Fatal(err)
	}
	for _, l := range []*Local{{}, remembers} { // one that discovers, one that recalls
		el, err := l.ErrorLog(context.Background(), Target{Root: root}, 5)
		if err != nil {
			t.Fatal(err)
		}
		if el.Path != st.Server.ErrorLogPath || strings.TrimSpace(el.Tail) != strings.Join(lines[95:], "\n") {
			t.Errorf("error log %s:\n%s\nwant %s and its last 5 lines", el.Path, el.Tail, st.Server.ErrorLogPath)
		}
	}
}

// The test proxy's routes, as the app lists them before starting it, are
// what it serves once started.
func TestTestProxyRoutesAreWhatItServes(t *testing.T) {
	root := servertest.Copy(t, "5.3.1")
	tg := Target{Root: root}
	l := &Local{}
	listed, err := l.TestProxyRoutes(context.Background(), tg)
	if err != nil {
		t.Fatal(err)
	}
	tp, err := l.StartTestProxy(context.Background(), ServeOptions{Target: tg, UseServer: true, Addr: "127.0.0.1:0", ConfigDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer tp.Stop()
	var served []string
	for _, r := range tp.Routes() {
		served = append(served, r.String())
	}
	var want []string
	for _, r := range listed {
		want = append(want, r.Path+" → "+r.Backend)
	}
	if len(want) == 0 || !reflect.DeepEqual(served, want) {
		t.Errorf("listed %q, served %q", want, served)
	}
}
