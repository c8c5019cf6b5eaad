package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

var dialer = websocket.Dialer{
	TLSClientConfig:  &tls.Config{InsecureSkipVerify: true}, // our own throwaway certificate
	HandshakeTimeout: 15 * time.Second,
	ReadBufferSize:   1024,
	WriteBufferSize:  1024,
}

// dialAll opens n connections, at most 64 handshakes at a time.
func dialAll(ctx context.Context, url string, n int) ([]*websocket.Conn, error) {
	conns := make([]*websocket.Conn, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, resp, err := dialer.DialContext(ctx, url, nil)
			if err != nil {
				if resp != nil {
					body := make([]byte, 200)
					n, _ := resp.Body.Read(body)
					err = fmt.Errorf("%w (HTTP %d: %s)", err, resp.StatusCode, body[:n])
				}
				errs <- err
				return
			}
			conns[i] = c
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		closeAll(conns)
		return nil, fmt.Errorf("%d connections to %s: %w", n, url, err)
	}
	return conns, nil
}

func closeAll(conns []*websocket.Conn) {
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
}

// load runs n clients that each send a 32-byte message and wait for its
// echo, over and over, for d; it reports messages and round-trip times.
func load(ctx context.Context, url string, n int, d time.Duration) loadResult {
	conns, err := dialAll(ctx, url, n)
	if err != nil {
		return loadResult{conns: n, err: err}
	}
	defer closeAll(conns)
	rtts := make([][]time.Duration, n)
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			msg := make([]byte, 32)
			c.SetReadDeadline(deadline.Add(10 * time.Second))
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t0 := time.Now()
				if c.WriteMessage(websocket.BinaryMessage, msg) != nil {
					return
				}
				if _, r, err := c.NextReader(); err != nil {
					return
				} else if _, err := io.Copy(io.Discard, r); err != nil {
					return
				}
				rtts[i] = append(rtts[i], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	for _, r := range rtts {
		all = append(all, r...)
	}
	sortDurations(all)
	return loadResult{conns: n, msgs: len(all), duration: elapsed, p50: percentile(all, 0.50), p99: percentile(all, 0.99)}
}

// idleMemory opens n idle sessions through t and returns the growth of its
// process's resident memory, measured once it stops changing.
func idleMemory(ctx context.Context, t target, n int) (int64, error) {
	before, err := settledRSS(t.pid)
	if err != nil {
		return 0, err
	}
	conns, err := dialAll(ctx, t.url, n)
	if err != nil {
		return 0, err
	}
	defer closeAll(conns)
	after, err := settledRSS(t.pid)
	if err != nil {
		return 0, err
	}
	return after - before, nil
}

// settledRSS reads a process's RSS until two readings 200 ms apart differ
// by under 1 % (at most 5 s).
func settledRSS(pid int) (int64, error) {
	prev, err := rss(pid)
	if err != nil {
		return 0, err
	}
	for i := 0; i < 25; i++ {
		time.Sleep(200 * time.Millisecond)
		cur, err := rss(pid)
		if err != nil {
			return 0, err
		}
		if d := cur - prev; d*100 < prev && -d*100 < prev {
			return cur, nil
		}
		prev = cur
	}
	return prev, nil
}
