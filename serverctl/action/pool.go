package action

import (
	"context"
	"errors"
	"sync"

	"github.com/socketbar/socketbar/serverctl/mirror"
	"github.com/socketbar/socketbar/serverctl/remote"
)

// Pool keeps one connection per Server for a program that runs on, such
// as the app: every action on a Server goes over the same logged-in ssh
// connection (a round trip each, not a handshake), and a connection that
// ended (the Server went away, the network dropped) is opened again by the
// next action. Its Connect is a Local's Connect; Close ends them all.
// The zero Pool is ready to use and runs ssh as SOCKETBAR_SSH says.
type Pool struct {
	// Config says how to run ssh (zero: SOCKETBAR_SSH, or ssh from PATH).
	Config remote.Config

	mu     sync.Mutex
	conns  map[remote.Host]*pooled
	closed bool
}

// pooled is one Server's connection; its mutex is held while it is being
// opened, so that two actions at once open one connection, not two.
type pooled struct {
	mu   sync.Mutex
	conn *remote.Conn
}

// ErrPoolClosed is a Connect after Close: the program is ending.
var ErrPoolClosed = errors.New("action: the connections are closed (Socketbar is quitting)")

// Connect returns the open connection to h, opening it when there is none
// or it has ended. The release it returns leaves the connection open.
func (p *Pool) Connect(ctx context.Context, h remote.Host) (mirror.Conn, func(), error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, nil, ErrPoolClosed
	}
	if p.conns == nil {
		p.conns = map[remote.Host]*pooled{}
	}
	e := p.conns[h]
	if e == nil {
		e = &pooled{}
		p.conns[h] = e
	}
	p.mu.Unlock()

	e.mu.Lock()
	defer e.mu.Unlock()
	if e.conn != nil && !ended(e.conn) {
		return e.conn, func() {}, nil
	}
	if e.conn != nil {
		e.conn.Close() // removes its control folder
		e.conn = nil
	}
	c, err := remote.Open(ctx, h, p.Config)
	if err != nil {
		return nil, nil, err
	}
	p.mu.Lock()
	closed, forgotten := p.closed, p.conns[h] != e
	p.mu.Unlock()
	switch {
	case closed:
		// Close ran while this one was opening: it must not outlive it.
		c.Close()
		return nil, nil, ErrPoolClosed
	case forgotten:
		// Forget ran meanwhile: this action has it to itself.
		return c, func() { c.Close() }, nil
	}
	e.conn = c
	return c, func() {}, nil
}

// Forget closes the connection to h, if open: for a Server the program
// no longer follows. A later Connect opens a new one.
func (p *Pool) Forget(h remote.Host) {
	p.mu.Lock()
	e := p.conns[h]
	delete(p.conns, h)
	p.mu.Unlock()
	if e != nil {
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.conn != nil {
			e.conn.Close()
			e.conn = nil
		}
	}
}

// Open says how many connections are open now, for tests and figures.
func (p *Pool) Open() int {
	p.mu.Lock()
	entries := make([]*pooled, 0, len(p.conns))
	for _, e := range p.conns {
		entries = append(entries, e)
	}
	p.mu.Unlock()
	n := 0
	for _, e := range entries {
		e.mu.Lock()
		if e.conn != nil && !ended(e.conn) {
			n++
		}
		e.mu.Unlock()
	}
	return n
}

// Close ends every connection and refuses new ones. It waits for a
// connection being opened, so nothing is left behind.
func (p *Pool) Close() error {
	p.mu.Lock()
	p.closed = true
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	var errs []error
	for _, e := range conns {
		e.mu.Lock()
		if e.conn != nil {
			if err := e.conn.Close(); err != nil {
				errs = append(errs, err)
			}
			e.conn = nil
		}
		e.mu.Unlock()
	}
	return errors.Join(errs...)
}

// ended reports whether c's connection has ended.
func ended(c *remote.Conn) bool {
	select {
	case <-c.Done():
		return true
	default:
		return false
	}
}
