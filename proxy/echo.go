package proxy

import (
	"encoding/json"
	"net"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
)

// EchoHandler is a small WebSocket app for trying routes: its first message
// reports the request it received (host, path and headers, so a proxy's
// effect on them shows), then it echoes every message. A plain request gets
// the same report as JSON (and "upgrade": false). The demo server runs it behind its Service Proxy.
func EchoHandler() http.Handler {
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, _ := json.Marshal(map[string]any{"host": r.Host, "path": r.URL.Path, "query": r.URL.RawQuery, "headers": r.Header, "upgrade": websocket.IsWebSocketUpgrade(r)})
		if !websocket.IsWebSocketUpgrade(r) {
			w.Header().Set("Content-Type", "application/json")
			w.Write(seen)
			return
		}
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		if c.WriteMessage(websocket.TextMessage, seen) != nil {
			return
		}
		for {
			c.SetReadDeadline(time.Now().Add(10 * time.Minute))
			kind, msg, err := c.ReadMessage()
			if err != nil || c.WriteMessage(kind, msg) != nil {
				return
			}
		}
	})
}

// ServeEcho runs EchoHandler on addr until the returned server is closed.
// The demo Server's WebSocket app is this, on the port the demo recorded.
func ServeEcho(addr string) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, errorf("echo app on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: EchoHandler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) // returns ErrServerClosed when closed
	return srv, nil
}
