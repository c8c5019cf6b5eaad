package wstest

import (
	"context"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Options.Dial makes the connection: a URL whose own address has nothing
// listening passes when Dial connects to the app, and From leaves the
// name's lookup to the machine that dials.
func TestDialMakesTheConnection(t *testing.T) {
	app := httptest.NewServer(echoHandler())
	defer app.Close()
	var asked []string
	dial := func(ctx context.Context, addr string) (net.Conn, error) {
		asked = append(asked, addr)
		return (&net.Dialer{}).DialContext(ctx, "tcp", app.Listener.Addr().String())
	}
	r := Run(context.Background(), "ws://socketbar-nowhere.invalid:9/ws/", Options{Dial: dial, From: "the Server s", Timeout: 5 * time.Second})
	if !r.OK || r.From != "the Server s" {
		t.Fatalf("%s: %s", stepNames(r), r.Diagnosis.Message)
	}
	if len(asked) != 1 || asked[0] != "socketbar-nowhere.invalid:9" {
		t.Errorf("Dial was asked for %q", asked)
	}
	if d := r.Steps[0]; d.Name != StepDNS || !strings.Contains(d.Detail, "left to the Server s") {
		t.Errorf("DNS step %+v", d)
	}
}

// lateFailure stands for a connection through ssh -W to an address the
// far side could not connect to: ssh says so only when data would flow,
// from the first Read.
type lateFailure struct {
	net.Conn
	err error
}

func (l *lateFailure) Read([]byte) (int, error) { return 0, l.err }

// A connect that fails after Dial returned, reported by the connection's
// first Read as a *DialError, is the DNS or TCP step's failure, worded
// with where the connection was made from; the steps it reached are not
// kept.
func TestALateDialErrorIsTheConnectsFailure(t *testing.T) {
	app := httptest.NewServer(echoHandler())
	defer app.Close()
	tests := []struct {
		url     string
		failure DialFailure
		step    string
		cause   string
		msg     string
	}{
		{"ws://chat.example.com/ws/", DialRefused, StepTCP, CauseRefused, "Nothing is listening on chat.example.com:80 as seen from the Server s"},
		{"wss://chat.example.com/ws/", DialNotResolved, StepDNS, CauseDNS, "The name chat.example.com could not be resolved from the Server s: it said so."},
		{"wss://chat.example.com/ws/", DialTimedOut, StepTCP, CauseTimeout, "The TCP connection to chat.example.com:443 from the Server s got no answer (it said so)."},
		{"ws://chat.example.com/ws/", DialFailed, StepTCP, CauseRefused, "Could not connect to chat.example.com:80 from the Server s: it said so."},
	}
	for _, tt := range tests {
		dial := func(ctx context.Context, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, "tcp", app.Listener.Addr().String())
			if err != nil {
				return nil, err
			}
			return &lateFailure{Conn: c, err: &DialError{Addr: addr, Failure: tt.failure, Reason: "it said so"}}, nil
		}
		r := Run(context.Background(), tt.url, Options{Dial: dial, From: "the Server s", Timeout: 5 * time.Second})
		if r.OK || r.Diagnosis.Cause != tt.cause || !strings.HasPrefix(r.Diagnosis.Message, tt.msg) {
			t.Errorf("%s %v: %s: cause %q: %s", tt.url, tt.failure, stepNames(r), r.Diagnosis.Cause, r.Diagnosis.Message)
		}
		last := r.Steps[len(r.Steps)-1]
		if last.Name != tt.step || last.OK || last.Detail != "it said so" {
			t.Errorf("%s %v: steps %s, last %+v", tt.url, tt.failure, stepNames(r), last)
		}
	}
}
