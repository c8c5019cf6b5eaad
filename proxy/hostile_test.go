package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/socketbar/socketbar/proxy/internal/hostile"
)

// backendReadBound is the most a hostile backend may get written before
// the proxy hangs up: the 64 KiB head cap, a read buffer, and what the
// kernel buffers on loopback on both sides.
const backendReadBound = 1 << 20

// TestHostileBackendHeads: a backend that never ends its status line or
// headers gets a 502 out of the proxy quickly, on the plain HTTP path and
// on the upgrade path, after the proxy read a bounded amount of it.
func TestHostileBackendHeads(t *testing.T) {
	for _, b := range hostile.Handshake() {
		for _, upgrade := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/upgrade=%v", b, upgrade), func(t *testing.T) {
				backend := hostile.Start(t, b)
				s, _, _ := startProxy(t, &Server{Routes: []Route{mustRoute(t, "/ws", "http://"+backend.Addr+"/ws")}})
				conn, err := net.Dial("tcp", s.ListenAddr().String())
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(5 * time.Second))
				req := "GET /ws HTTP/1.1\r\nHost: x\r\n"
				if upgrade {
					req += "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
				}
				start := time.Now()
				io.WriteString(conn, req+"\r\n")
				res, err := http.ReadResponse(bufio.NewReader(conn), nil)
				if err != nil || res.StatusCode != http.StatusBadGateway {
					t.Fatalf("answer: %v %v, want 502", res, err)
				}
				res.Body.Close()
				c, ok := backend.Next(5 * time.Second)
				switch {
				case !ok:
					t.Fatal("the proxy kept the backend's connection open")
				case !c.HungUp || c.Ended.Sub(start) > 2*time.Second:
					t.Errorf("the proxy hung up on the backend after %v (hung up: %v)", c.Ended.Sub(start), c.HungUp)
				case c.Written > backendReadBound:
					t.Errorf("the backend wrote %d bytes before the proxy hung up, over %d", c.Written, backendReadBound)
				}
				t.Logf("502 after %v; the backend wrote %d bytes", time.Since(start).Round(time.Millisecond), c.Written)
			})
		}
	}
}

// TestUpgradeHandshakeEndsWithTheClient: a client that gives up while a
// backend sits on the upgrade makes the proxy hang up on the backend too,
// not after its 10 s handshake deadline.
func TestUpgradeHandshakeEndsWithTheClient(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got, hungUp := make(chan struct{}), make(chan time.Time, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(15 * time.Second))
		br := bufio.NewReader(c)
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		close(got)
		io.Copy(io.Discard, br) // never answer
		hungUp <- time.Now()
	}()
	s, _, _ := startProxy(t, &Server{Routes: []Route{mustRoute(t, "/ws", "http://"+ln.Addr().String()+"/ws")}})
	conn, err := net.Dial("tcp", s.ListenAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(conn, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
	// Give up once the backend has the request and sits on it.
	select {
	case <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("the backend never got the upgrade")
	}
	conn.Close()
	closed := time.Now()
	select {
	case at := <-hungUp:
		if d := at.Sub(closed); d > 2*time.Second {
			t.Errorf("the proxy hung up on the backend %v after the client left", d)
		}
	case <-time.After(12 * time.Second):
		t.Error("the proxy never hung up on the backend")
	}
}

// BenchmarkPeakRSSUnderHostileBackends runs the proxy with each hostile
// peer as its backend; the client sends an upgrade and reads up to 1 MiB
// of the answer. Per peer it reports how far the peak RSS rose and fails
// over hostile.RSSBound (see hostile.BenchPeakRSS). Linux only:
//
//	go test -run '^$' -bench PeakRSS -benchtime 20x ./proxy
func BenchmarkPeakRSSUnderHostileBackends(b *testing.B) {
	for _, peer := range hostile.All() {
		b.Run(peer.String(), func(b *testing.B) {
			backend := hostile.Start(b, peer)
			s, _, _ := startProxy(b, &Server{Routes: []Route{mustRoute(b, "/ws", "http://"+backend.Addr+"/ws")}})
			hostile.BenchPeakRSS(b, func() int64 { return upgradeThrough(b, s.ListenAddr().String(), backend) })
		})
	}
}

// upgradeThrough sends an upgrade to the proxy at addr, reads up to 1 MiB
// of the answer, and returns what the backend wrote.
func upgradeThrough(b *testing.B, addr string, backend *hostile.Server) int64 {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(2 * time.Second))
	io.WriteString(conn, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
	br := bufio.NewReader(conn)
	if res, err := http.ReadResponse(br, nil); err == nil && res.StatusCode == http.StatusSwitchingProtocols {
		// Frames: read until 1 MiB, the peer stops, or a short wait.
		conn.SetDeadline(time.Now().Add(300 * time.Millisecond))
		io.Copy(io.Discard, io.LimitReader(br, 1<<20))
	} else if err == nil {
		res.Body.Close()
	}
	conn.Close()
	c, _ := backend.Next(3 * time.Second)
	return c.Written
}
