package action

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/socketbar/socketbar/proxy/wstest"
	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/servertest"
	"github.com/socketbar/socketbar/serverctl/service"
)

// addFor writes the route /chat/stream/ for the sites named into the tree
// at root, as Socketbar's add computes it.
func addFor(t *testing.T, root string, sites ...string) {
	t.Helper()
	p, err := (&Local{}).ProposeAdd(context.Background(), AddOptions{Target: Target{Root: root}, Path: "/chat/stream/",
		Backend: "http://127.0.0.1:8000/chat/stream/", Strategy: serverctl.StrategyTunnel, Sites: sites})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.Config, p.New, 0o644); err != nil {
		t.Fatal(err)
	}
}

// apache404 is the report of a test whose request fell through to the
// Websites tier, as wstest gives it, reaching remote.
func apache404(url, remote string) *wstest.Report {
	return &wstest.Report{URL: url, Status: 404, Server: "Apache", Remote: remote,
		Diagnosis: wstest.Diagnosis{Cause: wstest.CauseRouteMissing, Message: "HTTP 404 from Apache instead of 101", Fix: "Add a WebSocket route"}}
}

// The Apache 404 is explained by the VirtualHost that answered: which
// site it is, and whether it (or only other sites) has the route.
func TestRouteMissingNamesTheSiteThatAnswered(t *testing.T) {
	const chat = "wss://chat.example.com/chat/stream/"
	tests := []struct {
		name       string
		addFor     []string // nil: no route at all
		url        string
		remote     string
		cause      string
		hasRoute   bool
		msgHas     []string
		routeSites []string
	}{
		{"no route anywhere", nil, chat, "127.0.0.1:443", wstest.CauseRouteMissing, false,
			[]string{"chat.example.com's VirtualHost answered (port 443)", "no site of this Server has a route for /chat/stream/"}, []string{}},
		{"the route on the default hosts only", []string{"default"}, chat, "127.0.0.1:443", wstest.CauseRouteMissingSite, false,
			[]string{"chat.example.com's VirtualHost answered (port 443)", "it has no route for /chat/stream/", "the route reaches only the default hosts"}, []string{""}},
		{"the route on shop only, by HTTP", []string{"shop.example.com"}, "ws://www.chat.example.com/chat/stream/", "127.0.0.1:80", wstest.CauseRouteMissingSite, false,
			[]string{"chat.example.com's VirtualHost answered (port 80)", "reaches only shop.example.com"}, []string{"shop.example.com"}},
		{"the route on chat, tested by address", []string{"chat.example.com"}, "wss://127.0.0.1/chat/stream/", "127.0.0.1:443", wstest.CauseRouteMissingSite, false,
			[]string{"The default hosts' VirtualHost answered (port 443)", "reaches only chat.example.com"}, []string{"chat.example.com"}},
		{"the route is there: the running config is older", []string{"chat.example.com"}, chat, "127.0.0.1:443", wstest.CauseRouteMissing, true,
			[]string{"chat.example.com's VirtualHost answered (port 443)", "the config has a route for /chat/stream/ there", "from before the route was added"}, []string{"chat.example.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := servertest.Copy(t, "5.3.1-sites")
			if tt.addFor != nil {
				addFor(t, root, tt.addFor...)
			}
			r := apache404(tt.url, tt.remote)
			(&Local{}).explainSite(context.Background(), TestOptions{Target: Target{Root: root}, URL: tt.url}, r)
			if r.Diagnosis.Cause != tt.cause {
				t.Errorf("cause %q, want %q (%s)", r.Diagnosis.Cause, tt.cause, r.Diagnosis.Message)
			}
			for _, w := range tt.msgHas {
				if !strings.Contains(r.Diagnosis.Message, w) {
					t.Errorf("message %q lacks %q", r.Diagnosis.Message, w)
				}
			}
			if strings.Contains(r.Diagnosis.Fix, "--") {
				t.Errorf("fix %q names a flag", r.Diagnosis.Fix)
			}
			if r.VHost == nil || r.VHost.HasRoute != tt.hasRoute || strings.Join(r.VHost.RouteSites, ",") != strings.Join(tt.routeSites, ",") {
				t.Errorf("VHost = %+v, want has_route %v, route sites %q", r.VHost, tt.hasRoute, tt.routeSites)
			}
		})
	}
}

// A test that reached another machine, by a name that is not one of the
// Server's sites, is not explained by this Server's config.
func TestAnotherMachinesAnswerIsLeftAlone(t *testing.T) {
	root := servertest.Copy(t, "5.3.1-sites")
	r := apache404("wss://elsewhere.example.org/chat/stream/", "192.0.2.10:443")
	want := r.Diagnosis
	(&Local{}).explainSite(context.Background(), TestOptions{Target: Target{Root: root}, URL: r.URL}, r)
	if r.Diagnosis != want || r.VHost != nil {
		t.Errorf("diagnosis %+v, vhost %+v; want them untouched", r.Diagnosis, r.VHost)
	}
	// The same address with a name of the Server's is this Server behind NAT.
	r = apache404("wss://chat.example.com/chat/stream/", "192.0.2.10:443")
	(&Local{}).explainSite(context.Background(), TestOptions{Target: Target{Root: root}, URL: r.URL}, r)
	if r.VHost == nil || r.VHost.Site != "chat.example.com" {
		t.Errorf("by a site's name: vhost %+v, want chat.example.com", r.VHost)
	}
}

func TestConnectIsValidated(t *testing.T) {
	for _, tt := range []struct {
		connect string
		ok      bool
	}{
		{"", true}, {"127.0.0.1:443", true}, {"[::1]:443", true},
		{"::1:443", false}, {"127.0.0.1", false}, {"127.0.0.1:0", false},
	} {
		_, err := (&Local{}).Test(context.Background(), TestOptions{URL: "wss://chat.example.com/ws", Connect: tt.connect, Timeout: 1})
		var in *serverctl.InputError
		switch {
		case tt.ok && err != nil:
			t.Errorf("Connect %q: %v", tt.connect, err)
		case !tt.ok && (!errors.As(err, &in) || in.Field != serverctl.FieldConnect):
			t.Errorf("Connect %q: %v; want an InputError for the connect field", tt.connect, err)
		}
	}
}

// TestRouteTargetNamesTheSite: a default host's route is tested by the
// loopback endpoint; a custom site's by the site's name (port kept unless
// it is the scheme's own), dialled at that endpoint, since 127.0.0.1 would
// reach the default hosts instead.
func TestRouteTargetNamesTheSite(t *testing.T) {
	eps := []service.Endpoint{{Addr: "127.0.0.1:8443", TLS: true}, {Addr: "127.0.0.1:8080"}, {Addr: "127.0.0.1:443", TLS: true}}
	for _, tt := range []struct {
		route        serverctl.Route
		url, connect string
	}{
		{serverctl.Route{VHost: "*:8443", Path: "/ws/"}, "wss://127.0.0.1:8443/ws/", ""},
		{serverctl.Route{VHost: "*:8443", Path: "/ws/", Site: "chat.example.com"}, "wss://chat.example.com:8443/ws/", "127.0.0.1:8443"},
		{serverctl.Route{VHost: "*:8080", Path: "/ws/", Site: "chat.example.com"}, "ws://chat.example.com:8080/ws/", "127.0.0.1:8080"},
		{serverctl.Route{VHost: "*:443", Path: "/ws/", Site: "chat.example.com"}, "wss://chat.example.com/ws/", "127.0.0.1:443"},
	} {
		url, connect := routeTarget(eps, tt.route)
		if url != tt.url || connect != tt.connect {
			t.Errorf("%+v: %q, %q; want %q, %q", tt.route, url, connect, tt.url, tt.connect)
		}
	}
}
