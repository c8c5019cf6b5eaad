package remote

import (
	"bufio"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/socketbar/socketbar/internal/sshtest"
)

func TestStreamPassesOutputPastMaxOutputToTheConsumer(t *testing.T) {
	s := sshtest.Start(t)
	c := open(t, s.SSH(), Config{MaxOutput: 4 << 10})
	// 1 MiB of a known pattern, far past the 4 KiB Run would keep.
	const n = 1 << 20
	src := filepath.Join(t.TempDir(), "data")
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(i * 7)
	}
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var got []byte
	out, err := c.Stream(testContext(t), []string{"cat", src}, nil, func(r io.Reader) error {
		var err error
		got, err = io.ReadAll(r)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(got) != sha256.Sum256(data) {
		t.Errorf("the consumer got %d bytes that differ from the %d sent", len(got), n)
	}
	if out.Stdout != nil || len(out.Stderr) != 0 {
		t.Errorf("Output %q / %q, want no stdout kept and no stderr", out.Stdout, out.Stderr)
	}
}

func TestStreamReportsTheCommandsStatus(t *testing.T) {
	s := sshtest.Start(t)
	c := open(t, s.SSH(), Config{})
	_, err := c.Stream(testContext(t), []string{"/bin/sh", "-c", "printf partial; printf oops >&2; exit 3"}, nil, func(r io.Reader) error {
		_, err := io.Copy(io.Discard, r)
		return err
	})
	var exit *ExitError
	if !errors.As(err, &exit) || exit.Code != 3 || exit.Stderr != "oops" {
		t.Fatalf("Stream: %v, want an *ExitError with status 3 and stderr %q", err, "oops")
	}
}

// A consumer that gives up stops an endless remote command: Stream returns
// the consumer's own error, and the remote process is gone.
func TestStreamStopsTheCommandWhenTheConsumerFails(t *testing.T) {
	s := sshtest.Start(t)
	c := open(t, s.SSH(), Config{})
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	refused := errors.New("garbage")
	done := make(chan error, 1)
	go func() {
		// Holds the FIFO open until it dies, and writes without end.
		_, err := c.Stream(testContext(t), []string{"/bin/sh", "-c", `exec 3>"$1"; echo $$ >&3; while :; do printf 'xxxxxxxxxxxxxxxx'; done`, "sh", fifo}, nil,
			func(r io.Reader) error {
				if _, err := io.ReadFull(r, make([]byte, 64<<10)); err != nil {
					return err
				}
				return refused
			})
		done <- err
	}()
	f, err := os.Open(fifo)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := bufio.NewReader(f)
	pid, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("read the remote pid: %v", err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, refused) {
			t.Errorf("Stream: %v, want the consumer's error", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("Stream did not return after the consumer failed")
	}
	gone := make(chan error, 1)
	go func() { _, err := io.Copy(io.Discard, r); gone <- err }()
	select {
	case <-gone:
	case <-time.After(30 * time.Second):
		t.Errorf("the remote writer (pid %s) still runs", strings.TrimSpace(pid))
	}
}
