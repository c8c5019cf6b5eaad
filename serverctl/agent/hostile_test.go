package agent

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/socketbar/socketbar/serverctl/remote"
)

// fakeConn is a hostile or broken Server: serve gets what the agent
// would read and writes what it would answer.
type fakeConn struct {
	serve func(ctx context.Context, stdin io.Reader, stdout io.Writer)
}

func (f fakeConn) Host() remote.Host { return remote.Host{Name: "hostile"} }

func (f fakeConn) Stream(ctx context.Context, argv []string, stdin io.Reader, consume func(io.Reader) error) (remote.Output, error) {
	pr, pw := io.Pipe()
	go func() {
		f.serve(ctx, stdin, pw)
		pw.Close()
	}()
	go func() { <-ctx.Done(); pw.CloseWithError(ctx.Err()) }()
	err := consume(pr)
	pr.Close()
	if err != nil {
		return remote.Output{}, err
	}
	if ctx.Err() != nil {
		return remote.Output{}, ctx.Err()
	}
	return remote.Output{}, nil
}

// hello is what a good agent says first.
func hello() []byte { return append([]byte(magic), encode(b("hello"), b("42"), b("0"), b("0"))...) }

// answerAll answers every request with reply(seq).
func answerAll(reply func(seq []byte) []byte) func(context.Context, io.Reader, io.Writer) {
	return func(ctx context.Context, in io.Reader, out io.Writer) {
		// The program comes first: its length line and its bytes.
		var n int
		var c [1]byte
		for {
			if _, err := io.ReadFull(in, c[:]); err != nil || c[0] == '\n' {
				break
			}
			n = n*10 + int(c[0]-'0')
		}
		io.CopyN(io.Discard, in, int64(n))
		out.Write(hello())
		fr := newFrameReader(in)
		for {
			f, err := fr.next()
			if err != nil {
				return
			}
			out.Write(reply(f[0]))
		}
	}
}

var fast = timeouts{start: 2 * time.Second, request: 1 * time.Second, cancel: time.Second, close: time.Second}

func TestHostileServers(t *testing.T) {
	huge := make([]byte, 4)
	binary.BigEndian.PutUint32(huge, 10<<30>>2) // claims 2.5 GB: over maxFrame
	for _, c := range []struct {
		name  string
		serve func(context.Context, io.Reader, io.Writer)
		start bool // Start succeeds; the request fails
		check func(error) bool
	}{
		{"garbage instead of a hello", func(_ context.Context, _ io.Reader, w io.Writer) {
			w.Write(bytes.Repeat([]byte("garbage"), 20000))
		}, false, isProto},
		{"endless output without a line", func(ctx context.Context, _ io.Reader, w io.Writer) {
			for ctx.Err() == nil {
				if _, err := w.Write(bytes.Repeat([]byte{'x'}, 4096)); err != nil {
					return
				}
			}
		}, false, isProto},
		{"a stall before the hello", func(ctx context.Context, _ io.Reader, _ io.Writer) { <-ctx.Done() }, false, isTimeout},
		{"an early exit", func(context.Context, io.Reader, io.Writer) {}, false, isDied},
		{"a hello frame of 2.5 GB", func(_ context.Context, _ io.Reader, w io.Writer) {
			w.Write(append([]byte(magic), huge...))
		}, false, isProto},
		{"an answer of 2.5 GB", answerAll(func([]byte) []byte { return huge }), true, isProto},
		{"an answer out of turn", answerAll(func([]byte) []byte { return encode(b("999"), b("ok")) }), true, isProto},
		{"garbage fields", answerAll(func(seq []byte) []byte {
			return append(binary.BigEndian.AppendUint32(nil, 8), 0, 0, 0, 99, 'x', 'y', 'z', 'w')
		}), true, isProto},
		{"a file info that is not numbers", answerAll(func(seq []byte) []byte {
			return encode(seq, b("ok"), b("x"), b("1"), b("1"), b("0"), b("0"), b("1"), b("1"), b("1"))
		}), true, isProto},
		{"a stall in an answer", answerAll(func(seq []byte) []byte { select {} }), true, isTimeout},
		{"an answer cut short, then a stall", answerAll(func([]byte) []byte { return []byte{0, 0, 1, 0, 1} }), true, isTimeout},
		{"an answer cut short by the end", func(ctx context.Context, in io.Reader, w io.Writer) {
			once := false
			answerAll(func([]byte) []byte {
				if once {
					select {}
				}
				once = true
				w.Write([]byte{0, 0, 1, 0, 1})
				w.(*io.PipeWriter).Close()
				return nil
			})(ctx, in, w)
		}, true, isProto},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			a, err := start_(t, fakeConn{serve: c.serve})
			if c.start {
				if err != nil {
					t.Fatalf("Start: %v", err)
				}
				defer a.Close()
				_, err = a.Stat("/")
				select {
				case <-a.Done():
				case <-time.After(5 * time.Second):
					t.Error("the agent goes on after a broken answer")
				}
			}
			if err == nil || !c.check(err) {
				t.Errorf("error %v (%T)", err, err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %s", d)
			}
		})
	}
}

func start_(t *testing.T, c Conn) (*Agent, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return start(ctx, c, remote.Sudo{}, fast)
}

func isProto(err error) bool {
	var p *ProtocolError
	return errors.As(err, &p)
}

func isTimeout(err error) bool {
	var p *TimeoutError
	return errors.As(err, &p)
}

func isDied(err error) bool {
	var p *DiedError
	return errors.As(err, &p)
}
