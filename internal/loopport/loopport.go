package loopport

import (
	"errors"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/socketbar/socketbar/internal/pkgerr"
)

// tries bounds the search: each try is a file lock and a bind, and a pool
// has thousands of ports, so running out means something else is wrong.
const tries = 500

// Port is a reserved port on 127.0.0.1. Nothing listens on it: the holder
// hands the number to the server that will.
type Port struct {
	Number int
	lock   *os.File
}

// Addr is the port's address, 127.0.0.1:Number.
func (p *Port) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p.Number)) }

// Release gives the port back to other reservers. Call it once the server
// has bound the port (or will not). Releasing twice is harmless.
func (p *Port) Release() error {
	if p == nil || p.lock == nil {
		return nil
	}
	err := p.lock.Close() // closing the file drops its lock
	p.lock = nil
	return err
}

// errTaken means another reservation, in this process or another, holds the port.
var errTaken = errors.New("loopport: reserved by another process")

// Reserve returns a port on 127.0.0.1 that is free now and that no other
// caller of Reserve on this machine gets until it is released.
func Reserve() (*Port, error) {
	dir, err := lockDir()
	if err != nil {
		return nil, err
	}
	from, to := pool(ephemeralRange())
	start := rand.IntN(to - from)
	for i := range tries {
		n := from + (start+i)%(to-from)
		if p, err := reserve(dir, n); err == nil {
			return p, nil
		}
	}
	return nil, errorf("no free port in %d-%d after %d tries", from, to-1, tries)
}

// Held reports whether a reservation, in this process or another, holds
// port n, so that a test can check that a port it was given is protected.
func Held(n int) (bool, error) {
	dir, err := lockDir()
	if err != nil {
		return false, err
	}
	f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(n)+".lock"), os.O_RDONLY|os.O_CREATE, 0o666)
	if err != nil {
		return false, errorf("%w", err)
	}
	defer f.Close()
	switch err := tryLock(f); {
	case errors.Is(err, errTaken):
		return true, nil
	case err != nil:
		return false, err
	}
	return false, nil
}

// reserve locks port n's file, then checks that nothing listens on the port.
func reserve(dir string, n int) (*Port, error) {
	f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(n)+".lock"), os.O_RDONLY|os.O_CREATE, 0o666)
	if err != nil {
		return nil, errorf("%w", err)
	}
	if err := tryLock(f); err != nil {
		f.Close()
		return nil, err
	}
	p := &Port{Number: n, lock: f}
	ln, err := net.Listen("tcp", p.Addr())
	if err != nil {
		p.Release()
		return nil, errorf("port %d is in use: %w", n, err)
	}
	ln.Close()
	return p, nil
}

// lockDir is the folder of lock files every user of the machine shares.
func lockDir() (string, error) {
	dir := filepath.Join(os.TempDir(), "socketbar-loopport")
	if _, err := os.Stat(dir); err == nil {
		return dir, nil
	}
	if err := os.Mkdir(dir, 0o777); err != nil && !errors.Is(err, os.ErrExist) {
		return "", errorf("%w", err)
	} else if err == nil {
		// Sticky and writable by all, like /tmp, so that tests run as root
		// and as a user share it; the umask would narrow 0o777.
		_ = os.Chmod(dir, 0o777|os.ModeSticky)
	}
	return dir, nil
}

// The kernel's ephemeral range where it cannot be read: IANA's, which macOS
// and Windows use.
const (
	ianaEphemeralLow  = 49152
	ianaEphemeralHigh = 65535
)

// ephemeralRange is the range the kernel picks ports from for :0 and for
// outgoing connections, both ends included.
func ephemeralRange() (low, high int) {
	data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return ianaEphemeralLow, ianaEphemeralHigh
	}
	f := strings.Fields(string(data))
	if len(f) != 2 {
		return ianaEphemeralLow, ianaEphemeralHigh
	}
	low, err1 := strconv.Atoi(f[0])
	high, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || low > high {
		return ianaEphemeralLow, ianaEphemeralHigh
	}
	return low, high
}

// Bounds of the ports Reserve considers: below 10000 sit many well-known
// development servers' defaults.
const (
	poolLow  = 10000
	poolHigh = 65535
)

// pool is the larger of the stretches below and above the ephemeral range
// [low, high], as [from, to). When the ephemeral range leaves no room worth
// the name, it is the whole range from poolLow: the locks still keep
// reservers apart, only the kernel is no longer kept out.
func pool(low, high int) (from, to int) {
	below := [2]int{poolLow, min(low, poolHigh+1)}
	above := [2]int{max(high+1, poolLow), poolHigh + 1}
	best := below
	if above[1]-above[0] > below[1]-below[0] {
		best = above
	}
	if best[1]-best[0] < 1000 {
		return poolLow, poolHigh + 1
	}
	return best[0], best[1]
}

// errorf is fmt.Errorf for this package's own errors: their Error() names
// the package for logs, and pkgerr.Text gives people the message without it.
func errorf(format string, args ...any) error { return pkgerr.Errorf("loopport", format, args...) }
