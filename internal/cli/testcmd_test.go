package cli

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
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
