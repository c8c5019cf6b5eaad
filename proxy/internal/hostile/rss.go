package hostile

import (
	"bufio"
	"errors"
	"os"
	"strconv"
	"strings"
)

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
