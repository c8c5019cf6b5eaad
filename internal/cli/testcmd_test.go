package cli

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/socketbar/socketbar/proxy/wstest"
	"github.com/socketbar/socketbar/serverctl/action"
)

// testStub answers Test and CheckRoute with fixed reports and keeps the
// options it was given; the test command calls no other action.
type testStub struct {
	action.Actions
	rep   *wstest.Report
	tiers *action.TierReport

	test  []action.TestOptions
	route []action.CheckRouteOptions

	both    *action.BothEnds
	bothErr error
	via     []action.TestOptions
}

func (s *testStub) TestBothEnds(_ context.Context, opts action.TestOptions) (*action.BothEnds, error) {
	s.via = append(s.via, opts)
	return s.both, s.bothErr
}

func (s *testStub) Test(_ context.Context, opts action.TestOptions) (*wstest.Report, error) {
	s.test = append(s.test, opts)
	return s.rep, nil
}

func (s *testStub) CheckRoute(_ context.Context, opts action.CheckRouteOptions) (*action.TierReport, error) {
	s.route = append(s.route, opts)
	return s.tiers, nil
}

// testRun tests a URL or, with Route, a route at every tier, handing every
// option to the action layer; it prints the report (or its JSON) and exits
// 1 (errReported) when the test fails.
func TestTestRun(t *testing.T) {
	target := action.Target{Root: "/srv"}
	header := http.Header{"Cookie": {"a=1"}}
	passed := &wstest.Report{URL: "wss://chat.example.com/ws/", OK: true, Connect: "127.0.0.1:443",
		Steps:     []wstest.Step{{Name: "upgrade", OK: true, MS: 1.5, Detail: "101 Switching Protocols"}},
		Diagnosis: wstest.Diagnosis{Cause: wstest.CauseOK, Message: "The WebSocket works."}}
	failed := &wstest.Report{URL: "ws://127.0.0.1:1/", Steps: []wstest.Step{{Name: "tcp", MS: 0.2, Detail: "connection refused"}},
		Diagnosis: wstest.Diagnosis{Cause: wstest.CauseRefused, Message: "Nothing listens there.", Fix: "Start the app."}}
	tiers := &action.TierReport{Path: "/ws/", OK: true, Tiers: []action.TierResult{{Tier: action.TierBackend, Skipped: "not tested"}}}
	for _, tt := range []struct {
		name      string
		opts      TestOptions
		rep       *wstest.Report
		wantTest  []action.TestOptions
		wantRoute []action.CheckRouteOptions
		out       []string
		wantErr   func(error) bool
	}{
		{"a URL that works, every option passed on",
			TestOptions{Target: target, URL: passed.URL, Header: []string{"Cookie: a=1"}, Origin: "https://chat.example.com", Insecure: true, Timeout: 3 * time.Second,
				Message: "hi", ExpectEcho: true, Connect: "127.0.0.1:443", ProxyAddr: "127.0.0.1:18443"},
			passed,
			[]action.TestOptions{{Target: target, URL: passed.URL, Header: header, Origin: "https://chat.example.com", Insecure: true, Timeout: 3 * time.Second,
				Message: "hi", ExpectEcho: true, Connect: "127.0.0.1:443"}},
			nil,
			[]string{"Testing wss://chat.example.com/ws/, connecting to 127.0.0.1:443\n", "  ✓ upgrade ", " 101 Switching Protocols\n", "The WebSocket works.\n"}, nil},
		{"a URL that fails", TestOptions{URL: failed.URL, Timeout: time.Second}, failed,
			[]action.TestOptions{{URL: failed.URL, Timeout: time.Second}}, nil,
			[]string{"Testing ws://127.0.0.1:1/\n", "  ✗ tcp ", "Problem (refused): Nothing listens there.\nFix: Start the app.\n"},
			func(err error) bool { return errors.Is(err, errReported) }},
		{"a route at every tier",
			TestOptions{Target: target, Route: "/ws/", ProxyAddr: "127.0.0.1:18443", Insecure: true, Timeout: 4 * time.Second},
			nil, nil,
			[]action.CheckRouteOptions{{Target: target, Path: "/ws/", ProxyAddr: "127.0.0.1:18443", Test: action.TestOptions{Insecure: true, Timeout: 4 * time.Second}}},
			[]string{"[backend]\n  skipped: not tested\n", "The route works at every tier that was tested.\n"}, nil},
		{"neither a URL nor a route", TestOptions{Timeout: time.Second}, nil, nil, nil, nil,
			func(err error) bool {
				var u *usageError
				return errors.As(err, &u) && u.msg == "give either a URL or --route PATH"
			}},
		{"both a URL and a route", TestOptions{URL: "ws://127.0.0.1:1/", Route: "/ws/"}, nil, nil, nil, nil,
			func(err error) bool {
				var u *usageError
				return errors.As(err, &u) && u.msg == "give either a URL or --route PATH"
			}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			stub := &testStub{rep: tt.rep, tiers: tiers}
			e, out := runEnv(stub)
			opts := tt.opts
			err := testRun(context.Background(), e, &opts)
			checkRun(t, err, tt.wantErr, out.String(), tt.out)
			if !reflect.DeepEqual(stub.test, tt.wantTest) || !reflect.DeepEqual(stub.route, tt.wantRoute) {
				t.Errorf("asked the action layer for Test %+v, CheckRoute %+v\nwant %+v, %+v", stub.test, stub.route, tt.wantTest, tt.wantRoute)
			}

			// The same test with JSON prints the report as JSON.
			if tt.rep == nil {
				return
			}
			stub = &testStub{rep: tt.rep}
			e, out = runEnv(stub)
			opts.JSON = true
			testRun(context.Background(), e, &opts)
			var got wstest.Report
			if err := json.Unmarshal(out.Bytes(), &got); err != nil || !reflect.DeepEqual(&got, tt.rep) {
				t.Errorf("--json: %v\n%s", err, out)
			}
		})
	}
}

// viaReports are the two results test --via prints: from here a firewall
// refuses, from the Server the app answers.
func viaReports() *action.BothEnds {
	return &action.BothEnds{URL: "wss://chat.example.com/ws/", Via: "admin@server", OK: false,
		Diagnosis: wstest.Diagnosis{Cause: wstest.CauseBetweenFirewall, Message: "The WebSocket works from the Server admin@server (through SSH), but not from here: the connection to chat.example.com:443 was refused here.", Fix: "Open port 443 to the Server in the firewall between."},
		Here: &wstest.Report{URL: "wss://chat.example.com/ws/",
			Steps:     []wstest.Step{{Name: "dns", OK: true, MS: 1.2, Detail: "chat.example.com → 203.0.113.7"}, {Name: "tcp", MS: 3.4, Detail: "connection refused"}},
			Diagnosis: wstest.Diagnosis{Cause: wstest.CauseRefused, Message: "Nothing is listening on chat.example.com:443: the connection was refused.", Fix: "Start the server."}},
		Server: &wstest.Report{URL: "wss://chat.example.com/ws/", OK: true, From: "the Server admin@server", Status: 101, Remote: "chat.example.com:443", Certificate: "SHA256:abc",
			Steps: []wstest.Step{{Name: "dns", OK: true, Detail: "left to the Server admin@server, which looks up chat.example.com when it connects"},
				{Name: "tcp", OK: true, MS: 5, Detail: "the Server admin@server connects to chat.example.com:443 (whether it could shows when the answer comes)"},
				{Name: "upgrade", OK: true, MS: 12.5, Detail: "HTTP 101 Switching Protocols"}},
			Diagnosis: wstest.Diagnosis{Cause: wstest.CauseOK, Message: "The WebSocket works."}},
	}
}

// The output of test --via, in text and JSON, is a contract like the
// read commands' (contract_test.go): both results and what they say
// together, compared byte for byte with golden files; it exits 1 unless
// the URL works from both ends, and hands the URL, the Server and every
// option on to the action layer.
func TestTestViaOutputIsTheContract(t *testing.T) {
	works := viaReports()
	here := *works.Server
	here.From, here.Remote = "", "203.0.113.7:443"
	here.Steps = []wstest.Step{{Name: "dns", OK: true, MS: 1.2, Detail: "chat.example.com → 203.0.113.7"}, {Name: "tcp", OK: true, MS: 3.4, Detail: "connected to 203.0.113.7:443"},
		{Name: "upgrade", OK: true, MS: 8, Detail: "HTTP 101 Switching Protocols"}}
	works.OK, works.Here = true, &here
	works.Diagnosis = wstest.Diagnosis{Cause: wstest.CauseOK, Message: "The WebSocket works from here and from the Server admin@server (through SSH)."}
	for _, tt := range []struct {
		golden string
		both   *action.BothEnds
		args   []string
		code   int
	}{
		{"test-via-between", viaReports(), nil, 1},
		{"test-via-between.json", viaReports(), []string{"--json"}, 1},
		{"test-via-works", works, nil, 0},
	} {
		t.Run(tt.golden, func(t *testing.T) {
			stub := &testStub{both: tt.both}
			args := append([]string{"test", "--via", "admin@server", "--timeout", "3s", "--insecure", "--connect", "127.0.0.1:443"}, tt.args...)
			r := runIn(t, stub, map[string]string{"SOCKETBAR_HOST": ""}, append(args, "wss://chat.example.com/ws/")...)
			want := []action.TestOptions{{Target: action.Target{Root: "/"}, URL: "wss://chat.example.com/ws/", Via: "admin@server", Timeout: 3 * time.Second, Insecure: true, Connect: "127.0.0.1:443"}}
			if !reflect.DeepEqual(stub.via, want) || len(stub.test) != 0 {
				t.Errorf("asked TestBothEnds %+v, Test %+v; want %+v", stub.via, stub.test, want)
			}
			if r.code != tt.code {
				t.Errorf("exit %d, want %d\n%s", r.code, tt.code, r.stderr)
			}
			got := r.stdout + "-- exit " + string(rune('0'+r.code)) + "\n"
			golden := filepath.Join("testdata", "contract", tt.golden+".txt")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			wantOut, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if got != string(wantOut) {
				t.Errorf("differs from %s:\n got:\n%s\nwant:\n%s", golden, got, wantOut)
			}
		})
	}
}

// --via is refused in the flag's own words when the action layer refuses
// the host, and with --route; nothing is tested.
func TestTestViaRefusals(t *testing.T) {
	hostErr := &action.HostError{Input: "-oProxyCommand=x", Field: "host", Value: "-oProxyCommand=x", Problem: `starts with "-"`, Fix: "write the host as [USER@]HOST[:PORT]"}
	stub := &testStub{bothErr: hostErr}
	r := runIn(t, stub, nil, "test", "--via", "-oProxyCommand=x", "ws://127.0.0.1:1/")
	if r.code != exitUsage || !strings.Contains(r.stderr, `--via "-oProxyCommand=x": the host "-oProxyCommand=x" starts with "-"`) || !strings.Contains(r.stderr, "Nothing was run.") {
		t.Errorf("exit %d:\n%s", r.code, r.stderr)
	}
	stub = &testStub{}
	r = runIn(t, stub, nil, "test", "--via", "admin@server", "--route", "/ws/")
	if r.code != exitUsage || !strings.Contains(r.stderr, "--via tests a URL from both ends") || len(stub.via)+len(stub.route) != 0 {
		t.Errorf("exit %d, asked %d:\n%s", r.code, len(stub.via)+len(stub.route), r.stderr)
	}
}
