package apachetest

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/gorilla/websocket"
)

// SiteRoundTrip opens a WebSocket to path on 127.0.0.1:port as a browser
// of host would (host in TLS SNI and in the Host header, whatever address
// is dialled), checks that the echo app behind the proxy (proxy.EchoHandler,
// which first reports the request it got) saw that Host, and that a
// message comes back. A refused handshake's error carries the HTTP status
// and the start of the body ("handshake: HTTP 404: …").
func SiteRoundTrip(port int, useTLS bool, host, path string) error {
	scheme := "ws"
	if useTLS {
		scheme = "wss"
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	d := websocket.Dialer{
		TLSClientConfig:  &tls.Config{InsecureSkipVerify: true, ServerName: host},
		HandshakeTimeout: 5 * time.Second,
		NetDialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, addr)
		},
	}
	hostPort := fmt.Sprintf("%s:%d", host, port)
	c, resp, err := d.Dial(fmt.Sprintf("%s://%s%s", scheme, hostPort, path), nil)
	if err != nil {
		if resp != nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
			return fmt.Errorf("handshake: HTTP %d: %.80s", resp.StatusCode, body)
		}
		return fmt.Errorf("handshake: %w", err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, first, err := c.ReadMessage()
	if err != nil {
		return fmt.Errorf("read the echo app's report: %w", err)
	}
	var seen struct{ Host string }
	if err := json.Unmarshal(first, &seen); err != nil {
		return fmt.Errorf("read the echo app's report: %w", err)
	}
	if seen.Host != hostPort {
		return fmt.Errorf("the echo app saw Host %q, want %q", seen.Host, hostPort)
	}
	if err := c.WriteMessage(websocket.TextMessage, []byte("hello "+host)); err != nil {
		return err
	}
	if _, echo, err := c.ReadMessage(); err != nil || string(echo) != "hello "+host {
		return fmt.Errorf("echo = %q, %v", echo, err)
	}
	return nil
}
