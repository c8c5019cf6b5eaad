package main

import (
	"context"
	"io"
	"os"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	// The bench starts its echo backend by running its own binary again;
	// under go test that binary is this test binary.
	if os.Getenv("SOCKETBAR_BENCH_BACKEND") == "1" {
		runBackend()
		return
	}
	os.Exit(m.Run())
}

// TestBenchSmoke runs the bench at a tiny scale so that it keeps working;
// its figures are not judged here.
func TestBenchSmoke(t *testing.T) {
	out, err := os.CreateTemp(t.TempDir(), "progress")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	res, err := run(context.Background(), options{duration: 200 * time.Millisecond, conns: []int{1, 4}, idle: 50,
		only: map[string]bool{"direct": true, "socketbar": true, "apache": true}}, out)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, l := range res.loads {
		if l.err != nil || l.msgs == 0 || l.p99 < l.p50 {
			t.Errorf("%s with %d clients: %d msgs, p50 %v, p99 %v, err %v", l.target, l.conns, l.msgs, l.p50, l.p99, l.err)
		}
		seen[l.target] = true
	}
	if !seen["direct"] || !seen["socketbar"] {
		t.Errorf("targets run: %v; skipped: %v", seen, res.skipped)
	}
	if res.idle != 50 || res.idleBytes <= 0 || len(res.testTimes) != 5 {
		t.Errorf("idle %d sessions, %d bytes, %d test timings; notes %v", res.idle, res.idleBytes, len(res.testTimes), res.skipped)
	}
	report(io.Discard, res) // must not fail on a small run
}
