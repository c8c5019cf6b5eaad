package action

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"testing"

	"github.com/socketbar/socketbar/internal/sshtest"
	"github.com/socketbar/socketbar/serverctl/mirror"
	"github.com/socketbar/socketbar/serverctl/remote"
	"github.com/socketbar/socketbar/serverctl/run"
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

// BenchmarkAddVerifiedOverSSH is `socketbar add --host` on real Apache
// behind a real sshd, as one CLI command does it: a new connection (the
// handshake and login), the proposal on a mirror, then Apply (a fresh mirror, the root agent started
// through sudo with a password, the transaction, the restart and the
// verify from the Server's side), and Close. Each op is one change; they
// alternate add and remove of the same route, so the config returns to
// where it began.
func BenchmarkAddVerifiedOverSSH(b *testing.B) {
	site := servedTwoTier(b, "5.3.1-sites")
	s := sshtest.Start(b)
	u := s.NewSudoUser(b)
	ssh := []string{"ssh", "-F", u.ConfigFile}
	var trips, requests int64
	l := &Local{
		startRoot: func(ctx context.Context, conn mirror.Conn, sudo remote.Sudo) (RootSession, error) {
			r, err := defaultRootStarter(remote.Host{Name: sshtest.Alias})(ctx, conn, sudo)
			if err != nil {
				return nil, err
			}
			return countingRoot{RootSession: r, n: &requests}, nil
		},
		Password: func(context.Context, string) ([]byte, error) { return []byte(u.Password), nil },
	}
	// One connection per command, as the CLI's pool keeps it: opened by
	// the proposal, used again by Apply, closed when the command ends.
	var conn *remote.Conn
	var counter *mirror.Counter
	l.Connect = func(ctx context.Context, h remote.Host) (mirror.Conn, func(), error) {
		if conn == nil {
			c, err := remote.Open(ctx, h, remote.Config{SSH: ssh})
			if err != nil {
				return nil, nil, err
			}
			conn, counter = c, &mirror.Counter{Conn: c}
		}
		return counter, func() {}, nil
	}
	endCommand := func() {
		trips += counter.RoundTrips()
		conn.Close()
		conn = nil
	}
	ctx := context.Background()
	if _, err := (&Local{}).Restart(ctx, RestartOptions{Target: Target{Root: site.Root}}); err != nil {
		b.Fatalf("start the Service Proxy here: %v", err)
	}
	t := Target{Host: sshtest.Alias, Root: site.Root}
	ports := []string{fmt.Sprint(site.Ports[443]), fmt.Sprint(site.Ports[80])}
	i := 0
	for b.Loop() {
		var p *Proposal
		var err error
		if i%2 == 0 {
			p, err = l.ProposeAdd(ctx, AddOptions{Target: t, Path: "/ws/", Backend: "http://127.0.0.1:8000/ws/", Ports: ports})
		} else {
			p, err = l.ProposeRemove(ctx, RemoveOptions{Target: t, Path: "/ws/", Ports: ports})
		}
		if err != nil {
			b.Fatal(err)
		}
		if a, err := l.Apply(ctx, p, ApplyOptions{}); err != nil || !a.Restarted {
			b.Fatalf("apply: %v", err)
		}
		endCommand()
		i++
	}
	b.ReportMetric(float64(trips)/float64(b.N), "roundtrips/op")
	b.ReportMetric(float64(requests)/float64(b.N), "agent-requests/op")
}

// countingRoot counts the requests a change makes of the root agent: over
// one channel, so not round trips of their own in ssh's sense, but each
// waits for the Server's answer, so each costs the network's latency.
type countingRoot struct {
	RootSession
	n *int64
}

func (c countingRoot) count() { *c.n++ }

func (c countingRoot) ReadFile(p string, noFollow bool) ([]byte, fs.FileInfo, error) {
	c.count()
	return c.RootSession.ReadFile(p, noFollow)
}
func (c countingRoot) ReadTail(p string, n int64) ([]byte, error) {
	c.count()
	return c.RootSession.ReadTail(p, n)
}
func (c countingRoot) Stat(p string) (fs.FileInfo, error)  { c.count(); return c.RootSession.Stat(p) }
func (c countingRoot) Lstat(p string) (fs.FileInfo, error) { c.count(); return c.RootSession.Lstat(p) }
func (c countingRoot) Resolve(p string) (string, error)    { c.count(); return c.RootSession.Resolve(p) }
func (c countingRoot) List(p string) ([]string, error)     { c.count(); return c.RootSession.List(p) }
func (c countingRoot) WriteNew(p string, data []byte, perm fs.FileMode, owner fs.FileInfo) error {
	c.count()
	return c.RootSession.WriteNew(p, data, perm, owner)
}
func (c countingRoot) Rename(from, to string) error { c.count(); return c.RootSession.Rename(from, to) }
func (c countingRoot) Remove(p string) error        { c.count(); return c.RootSession.Remove(p) }
func (c countingRoot) Mkdir(p string, perm fs.FileMode) error {
	c.count()
	return c.RootSession.Mkdir(p, perm)
}
func (c countingRoot) Lock(p string) (io.Closer, fs.FileInfo, error) {
	c.count()
	return c.RootSession.Lock(p)
}
func (c countingRoot) Run(ctx context.Context, cmd run.Command) ([]byte, error) {
	c.count()
	return c.RootSession.Run(ctx, cmd)
}
func (c countingRoot) Alive(pid int) (bool, error) { c.count(); return c.RootSession.Alive(pid) }
