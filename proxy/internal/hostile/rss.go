package hostile

import (
	"bufio"
	"errors"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// RSSBound is the most a process's peak RSS may rise during runs against
// one hostile peer: a few MiB of buffers and goroutines. A proxy or tester
// that kept what a peer sends (an endless head, a 2^62-byte frame) passes
// it within one run.
const RSSBound = 32 << 10 // KiB

// BenchPeakRSS calls run in b's loop, each call one run against a hostile
// peer that returns what the peer wrote. It reports how far the process's
// peak RSS rose over its RSS before the runs (peak-KiB) and what the peer
// wrote per run (peer-KiB/op), and fails b when the rise is over RSSBound.
// It skips b where the peak cannot be read (VmHWM is Linux's).
func BenchPeakRSS(b *testing.B, run func() (written int64)) {
	b.Helper()
	runtime.GC()
	if err := ResetPeakRSS(); err != nil {
		b.Skip(err)
	}
	base, err := PeakRSS() // the RSS now
	if err != nil {
		b.Skip(err)
	}
	var written int64
	for b.Loop() {
		written += run()
	}
	peak, err := PeakRSS()
	if err != nil {
		b.Fatal(err)
	}
	// Linux syncs each thread's RSS count into VmHWM late, so a rise
	// within that slack can read as a small fall.
	rise := max(peak-base, 0)
	b.ReportMetric(float64(rise), "peak-KiB")
	b.ReportMetric(float64(written>>10)/float64(b.N), "peer-KiB/op")
	if rise > RSSBound {
		b.Errorf("peak RSS %d KiB, %d KiB over the %d KiB before the runs; the bound is %d KiB", peak, rise, base, RSSBound)
	}
}

// ResetPeakRSS resets the process's peak resident set size (Linux: "5" to
// /proc/self/clear_refs), so PeakRSS measures from here.
func ResetPeakRSS() error {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// PeakRSS returns the process's peak resident set size in KiB (VmHWM in
// /proc/self/status; Linux only).
func PeakRSS() (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			return strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		}
	}
	return 0, errors.New("hostile: no VmHWM in /proc/self/status")
}
