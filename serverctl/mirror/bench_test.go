package mirror

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/socketbar/socketbar/internal/sshtest"
	"github.com/socketbar/socketbar/serverctl/action"
	"github.com/socketbar/socketbar/serverctl/remote"
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

// BenchmarkStatusWarm is a `status` over an open connection: Fetch, then
// the status action on the mirror, with httpd -v run on the Server.
func BenchmarkStatusWarm(b *testing.B) {
	root := serve(b, "5.3.1-sites")
	c := &Counter{Conn: connect(b)}
	parent := b.TempDir()
	ctx := context.Background()
	i := 0
	for b.Loop() {
		i++
		status(b, ctx, c, root, filepath.Join(parent, fmt.Sprint(i)))
	}
	b.ReportMetric(float64(c.RoundTrips())/float64(b.N), "roundtrips/op")
}

// BenchmarkStatusFirst is a first `status`: log in (a new connection),
// Fetch, the status action, and Close.
func BenchmarkStatusFirst(b *testing.B) {
	root := serve(b, "5.3.1-sites")
	ssh := sshCommand(b)
	parent := b.TempDir()
	ctx := context.Background()
	var trips int64
	i := 0
	for b.Loop() {
		i++
		conn, err := remote.Open(ctx, remote.Host{Name: sshtest.Alias}, remote.Config{SSH: ssh})
		if err != nil {
			b.Fatal(err)
		}
		c := &Counter{Conn: conn}
		status(b, ctx, c, root, filepath.Join(parent, fmt.Sprint(i)))
		trips += c.RoundTrips()
		conn.Close()
	}
	b.ReportMetric(float64(trips)/float64(b.N), "roundtrips/op")
}

func status(b *testing.B, ctx context.Context, c *Counter, root, dir string) {
	m, err := Fetch(ctx, c, root, dir, Limits{})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Remove()
	st, err := (&action.Local{Runner: m.Runner(c)}).Status(ctx, action.Target{Root: m.Dir})
	if err != nil || len(st.Routes) == 0 || !st.Server.Apache.Known() {
		b.Fatalf("status: %v, %d routes, Apache %v", err, len(st.Routes), st.Server.Apache)
	}
}
