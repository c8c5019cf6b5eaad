package wstest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// app serves a WebSocket whose connection is handled by handle.
func app(t *testing.T, handle func(c *websocket.Conn)) string {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		handle(c)
	}))
	t.Cleanup(s.Close)
	return wsURL(s.URL, "/ws")
}

// drain reads until the client goes, answering its pings and close.
func drain(c *websocket.Conn) {
	for {
		if _, _, err := c.ReadMessage(); err != nil {
			return
		}
	}
}

func stepNamed(r *Report, name string) Step {
	for _, s := range r.Steps {
		if s.Name == name {
			return s
		}
	}
	return Step{}
}

func TestWhatTheAppSentIsShownAsText(t *testing.T) {
	long := strings.Repeat("é", 250)
	for _, tt := range []struct {
		name       string
		send       []byte
		kind       int
		wantAnswer string
	}{
		{"JSON", []byte(`{"path":"/ws","upgrade":true}`), websocket.TextMessage, `{"path":"/ws","upgrade":true}`},
		{"control characters", []byte("line one\nline two\x1b[2J"), websocket.TextMessage, `line one\nline two\x1b[2J`},
		{"long", []byte(long), websocket.TextMessage, strings.Repeat("é", 200) + "…"},
		{"binary", []byte{0, 1, 2}, websocket.BinaryMessage, "3 bytes of binary data (00 01 02…)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			url := app(t, func(c *websocket.Conn) {
				c.WriteMessage(tt.kind, tt.send)
				drain(c)
			})
			r := Run(context.Background(), url, Options{Timeout: 5 * time.Second})
			echo := stepNamed(r, StepEcho)
			if !r.OK || r.Answer != tt.wantAnswer || !strings.HasSuffix(echo.Detail, "the app answered: "+tt.wantAnswer) {
				t.Errorf("answer %q, echo step %q; want %q", r.Answer, echo.Detail, tt.wantAnswer)
			}
		})
	}
}

func TestTheCloseReasonIsShown(t *testing.T) {
	url := app(t, func(c *websocket.Conn) {
		c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4003, "origin \"evil\" not allowed"))
		drain(c)
	})
	r := Run(context.Background(), url, Options{Timeout: 5 * time.Second})
	const want = `4003, reason “origin "evil" not allowed”`
	if r.OK || r.CloseCode != 4003 || r.CloseReason != `origin "evil" not allowed` ||
		!strings.Contains(stepNamed(r, StepEcho).Detail, want) || !strings.Contains(r.Diagnosis.Message, want) {
		t.Errorf("close %d %q, echo step %q, diagnosis %q; want %s", r.CloseCode, r.CloseReason, stepNamed(r, StepEcho).Detail, r.Diagnosis.Message, want)
	}
}

// An app that does not echo: the echo step says how long it waited, the
// time its own timing shows, and leaves the ping and close time to run.
func TestTheEchoWaitIsTheOneReported(t *testing.T) {
	url := app(t, drain)
	for _, timeout := range []time.Duration{time.Second, 6 * time.Second} {
		r := Run(context.Background(), url, Options{Timeout: timeout})
		echo := stepNamed(r, StepEcho)
		_, said, ok := strings.Cut(echo.Detail, "no answer in ")
		said, _, _ = strings.Cut(said, " ")
		waited, err := time.ParseDuration(said)
		took := time.Duration(echo.MS * float64(time.Millisecond))
		if !r.OK || !ok || err != nil || took-waited > 100*time.Millisecond || waited-took > 100*time.Millisecond || waited > echoWait {
			t.Errorf("timeout %s: ok=%v, echo took %s and says %q", timeout, r.OK, took, echo.Detail)
		}
	}
}
