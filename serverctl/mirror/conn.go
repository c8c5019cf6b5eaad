package mirror

import (
	"context"
	"errors"
	"io"
	"net"
	"sync/atomic"

	"github.com/socketbar/socketbar/serverctl/remote"
)

// Conn is what the mirror needs of a connection to the Server: running a
// command, and streaming one's output. *remote.Conn is one.
type Conn interface {
	Run(ctx context.Context, argv []string, stdin io.Reader) (remote.Output, error)
	Stream(ctx context.Context, argv []string, stdin io.Reader, consume func(stdout io.Reader) error) (remote.Output, error)
}

// Counter is a Conn that counts its round trips (each command is one: a
// channel opened over the connection, a command, its end), so that a
// command's cost over SSH can be measured and reported.
type Counter struct {
	Conn Conn
	n    atomic.Int64
}

// RoundTrips is how many commands went through c so far.
func (c *Counter) RoundTrips() int64 { return c.n.Load() }

// Run implements Conn.
func (c *Counter) Run(ctx context.Context, argv []string, stdin io.Reader) (remote.Output, error) {
	c.n.Add(1)
	return c.Conn.Run(ctx, argv, stdin)
}

// Stream implements Conn.
func (c *Counter) Stream(ctx context.Context, argv []string, stdin io.Reader, consume func(io.Reader) error) (remote.Output, error) {
	c.n.Add(1)
	return c.Conn.Stream(ctx, argv, stdin, consume)
}

// Dial connects from the Server's side through the connection (ssh -W),
// when the Conn can; each is a round trip too.
func (c *Counter) Dial(ctx context.Context, addr string) (net.Conn, error) {
	d, ok := c.Conn.(interface {
		Dial(ctx context.Context, addr string) (net.Conn, error)
	})
	if !ok {
		return nil, errors.New("mirror: this connection cannot forward")
	}
	c.n.Add(1)
	return d.Dial(ctx, addr)
}
