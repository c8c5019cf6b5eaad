package mirror

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// The benchmarks read the 5.3.1-sites tree (Apple's 5.3.1 Service Proxy
// config with two custom sites) through a real sshd on loopback, logged in
// as an account whose login shell is /bin/sh with no startup files when
// the machine allows one (see connect), so that the figures measure SSH
// and the mirror, not a ~/.bashrc. Each reports round trips and bytes per
// operation.

// BenchmarkFetch is Fetch alone over an open connection.
func BenchmarkFetch(b *testing.B) {
	root := serve(b, "5.3.1-sites")
	c := &Counter{Conn: connect(b)}
	parent := b.TempDir()
	ctx := context.Background()
	var bytes int64
	i := 0
	for b.Loop() {
		i++
		m, err := Fetch(ctx, c, root, filepath.Join(parent, fmt.Sprint(i)), Limits{})
		if err != nil {
			b.Fatal(err)
		}
		bytes += m.Bytes
		m.Remove()
	}
	b.ReportMetric(float64(c.RoundTrips())/float64(b.N), "roundtrips/op")
	b.ReportMetric(float64(bytes)/float64(b.N), "bytes/op")
}

// The status benchmarks, a first and a warm `status` over SSH, are the
// action layer's (serverctl/action), which reads a Server through Fetch.
