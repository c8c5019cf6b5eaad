package action

import (
	"context"
	"testing"

	"github.com/socketbar/socketbar/internal/sshtest"
	"github.com/socketbar/socketbar/serverctl/mirror"
	"github.com/socketbar/socketbar/serverctl/remote"
	"github.com/socketbar/socketbar/serverctl/servertest"
)

// The benchmarks run `status` on the 5.3.1-sites tree through a real sshd
// on loopback, as Target.Host: fetch the mirror, read it, run httpd -v and
// launchctl on the Server. Each reports its round trips (commands over
// the connection).

// BenchmarkStatusOverSSHFirst is a first status: a new connection (the
// handshake and login), the status, and Close, as one CLI command does.
func BenchmarkStatusOverSSHFirst(b *testing.B) {
	root := servertest.ServeTree(b, "5.3.1-sites")
	ssh := sshCommand(b)
	var c *mirror.Counter
	l := &Local{Connect: func(ctx context.Context, h remote.Host) (mirror.Conn, func(), error) {
		conn, err := remote.Open(ctx, h, remote.Config{SSH: ssh})
		if err != nil {
			return nil, nil, err
		}
		c = &mirror.Counter{Conn: conn}
		return c, func() { conn.Close() }, nil
	}}
	var trips int64
	for b.Loop() {
		statusOverSSH(b, l, root)
		trips += c.RoundTrips()
	}
	b.ReportMetric(float64(trips)/float64(b.N), "roundtrips/op")
}

// BenchmarkStatusOverSSHWarm is a status over a connection already open,
// as the app keeps one per Server.
func BenchmarkStatusOverSSHWarm(b *testing.B) {
	root := servertest.ServeTree(b, "5.3.1-sites")
	connect, c := counting(login(b, sshCommand(b)))
	l := &Local{Connect: connect}
	for b.Loop() {
		statusOverSSH(b, l, root)
	}
	b.ReportMetric(float64(c.RoundTrips())/float64(b.N), "roundtrips/op")
}

func statusOverSSH(b *testing.B, l *Local, root string) {
	st, err := l.Status(context.Background(), Target{Root: root, Host: sshtest.Alias})
	if err != nil || len(st.Routes) == 0 || !st.Server.Apache.Known() {
		b.Fatalf("status: %v", err)
	}
}
