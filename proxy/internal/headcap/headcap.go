// Package headcap bounds how much of a peer's answer is read as its head
// (status line and headers): a peer that never ends them must not fill the
// memory of the proxy or the tester. Apache bounds a request's head the same
// way (LimitRequestFieldSize, LimitRequestFields).
package headcap

import (
	"errors"
	"io"
)

// ErrTooLong is the Reader's error once the head is over its limit.
var ErrTooLong = errors.New("the status line and headers are over the limit")

// Reader reads from an io.Reader and fails with ErrTooLong once limit bytes
// were read, until Lift: the head has been read, and what follows (frames,
// a body) passes unlimited.
type Reader struct {
	r      io.Reader
	left   int64
	lifted bool
	// Err is the underlying reader's last error, so that a head that does
	// not parse can be told from a connection that failed.
	Err error
}

// New caps r at limit bytes until Lift.
func New(r io.Reader, limit int64) *Reader { return &Reader{r: r, left: limit} }

// Lift ends the cap.
func (c *Reader) Lift() { c.lifted = true }

func (c *Reader) Read(p []byte) (int, error) {
	if !c.lifted {
		if c.left <= 0 {
			return 0, ErrTooLong
		}
		if int64(len(p)) > c.left {
			p = p[:c.left]
		}
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if err != nil {
		c.Err = err
	}
	return n, err
}
