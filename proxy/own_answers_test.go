package proxy

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/socketbar/socketbar/proxy/wstest"
	"github.com/socketbar/socketbar/serverctl/apachetest"
)

// The test proxy marks the answers it gives itself, and socketbar test
// blames them on it, not on Apache; the backend's own answers pass
// through unmarked.
func TestTheTesterTellsServesOwnAnswersFromTheBackends(t *testing.T) {
	gone := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(gone.Close)
	deadURL := fmt.Sprintf("http://127.0.0.1:%d", apachetest.FreePort(t))
	s, _, _ := startProxy(t, &Server{Routes: []Route{
		mustRoute(t, "/gone/", gone.URL+"/"),
		mustRoute(t, "/down/", deadURL+"/"),
	}})
	base := "ws://" + s.ListenAddr().String()
	for _, tt := range []struct {
		path, cause string
		own         bool
		want        []string
	}{
		{"/chat/", wstest.CauseRouteMissing, true, []string{"HTTP 404 from socketbar serve", "not from Apache", "socketbar serve has no route for this path (/chat/): it serves only /gone/ → " + gone.URL + "/, /down/ → " + deadURL + "/."}},
		{"/down/ws", wstest.CauseBackendDown, true, []string{"HTTP 502 from socketbar serve", "could not reach the app behind /down/ws", deadURL}},
		{"/gone/ws", wstest.CauseRouteMissing, false, []string{"HTTP 404 from the server"}},
	} {
		r := wstest.Run(context.Background(), base+tt.path, wstest.Options{Timeout: 5 * time.Second})
		d := r.Diagnosis
		ok := d.Cause == tt.cause && (r.Server == ServerHeader) == tt.own
		for _, w := range tt.want {
			ok = ok && strings.Contains(d.Message, w)
		}
		if tt.own && (strings.Contains(d.Message+d.Fix, "Service Proxy with Socketbar") || !strings.Contains(d.Fix, "socketbar serve")) {
			ok = false
		}
		if !ok {
			t.Errorf("%s: Server %q, %s: %s\nfix: %s", tt.path, r.Server, d.Cause, d.Message, d.Fix)
		}
	}
}
