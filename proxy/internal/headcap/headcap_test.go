package headcap

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

// endless never ends its headers.
type endless struct{ n int }

func (e *endless) Read(p []byte) (int, error) {
	line := "X-Endless: 1\r\n"
	if e.n == 0 {
		line = "HTTP/1.1 101 Switching Protocols\r\n"
	}
	e.n++
	return copy(p, line), nil
}

func TestAnEndlessHeadStopsAtTheLimit(t *testing.T) {
	src := &endless{}
	_, err := http.ReadResponse(bufio.NewReader(New(src, 64<<10)), nil)
	if !errors.Is(err, ErrTooLong) {
		t.Fatalf("err = %v, want ErrTooLong", err)
	}
	if read := src.n * len("X-Endless: 1\r\n"); read > 70<<10 {
		t.Errorf("read about %d bytes from an endless head, want at most the limit", read)
	}
}

func TestLiftLetsTheRestThrough(t *testing.T) {
	body := strings.Repeat("x", 100)
	c := New(strings.NewReader("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"+body), 64)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Lift()
	got, err := io.ReadAll(resp.Body)
	if err != nil || string(got) != body {
		t.Errorf("body after Lift: %d bytes, %v", len(got), err)
	}
}
