package action

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/socketbar/socketbar/internal/sshtest"
	"github.com/socketbar/socketbar/serverctl/mirror"
	"github.com/socketbar/socketbar/serverctl/remote"
	"github.com/socketbar/socketbar/serverctl/servertest"
)

// A Pool keeps one connection per Server: actions at once share it, its
// release leaves it open, a connection that ended (the Server went away
// and came back) is opened again, and Close ends it and refuses more.
func TestPoolKeepsOneConnectionPerServerAndReopens(t *testing.T) {
	s := sshtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), sshTimeout)
	defer cancel()
	p := &Pool{Config: remote.Config{SSH: s.SSH()}}
	defer p.Close()
	h := remote.Host{Name: sshtest.Alias}

	var wg sync.WaitGroup
	conns := make([]mirror.Conn, 4)
	errs := make([]error, 4)
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, release, err := p.Connect(ctx, h)
			if err == nil {
				release()
			}
			conns[i], errs[i] = c, err
		}()
	}
	wg.Wait()
	for i := range conns {
		if errs[i] != nil {
			t.Fatalf("Connect %d: %v", i, errs[i])
		}
		if conns[i] != conns[0] {
			t.Fatalf("Connect %d got another connection than Connect 0", i)
		}
	}
	if n := strings.Count(s.Log(), "Accepted publickey"); n != 1 {
		t.Errorf("sshd accepted %d logins for 4 actions at once, want 1", n)
	}
	if _, err := conns[0].Run(ctx, []string{"true"}, nil); err != nil {
		t.Fatalf("run over the pooled connection after its release: %v", err)
	}

	s.Stop()
	// sshd's sessions end through its watchdog and the kernel: on a
	// loaded machine (CI's two cores) that takes more than the default.
	servertest.EventuallyWithin(t, "the pooled connection to end with sshd", time.Minute, func() bool { return p.Open() == 0 })
	if _, _, err := p.Connect(ctx, h); err == nil {
		t.Fatal("Connect succeeded with sshd stopped")
	} else if de := (*remote.DialError)(nil); !errors.As(err, &de) {
		t.Errorf("Connect with sshd stopped: %v; want a *remote.DialError", err)
	}
	s.Restart(t)
	c, _, err := p.Connect(ctx, h)
	if err != nil {
		t.Fatalf("Connect after sshd came back: %v", err)
	}
	if c == conns[0] {
		t.Error("Connect returned the connection that had ended")
	}
	if _, err := c.Run(ctx, []string{"true"}, nil); err != nil {
		t.Fatalf("run over the reopened connection: %v", err)
	}

	if err := p.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := c.Run(ctx, []string{"true"}, nil); !errors.Is(err, remote.ErrClosed) {
		t.Errorf("run after Close: %v; want remote.ErrClosed", err)
	}
	if _, _, err := p.Connect(ctx, h); !errors.Is(err, ErrPoolClosed) {
		t.Errorf("Connect after Close: %v; want ErrPoolClosed", err)
	}
}

// ParseHost refuses what an action would, naming the part at fault.
func TestParseHostNamesThePartAtFault(t *testing.T) {
	for _, tt := range []struct{ in, field string }{
		{"-oProxyCommand=touch /tmp/x", "host"},
		{"ad min@server", "user"},
		{"server:99999", "port"},
		{"", "host"},
	} {
		_, err := ParseHost(tt.in)
		var he *HostError
		if !errors.As(err, &he) || he.Field != tt.field {
			t.Errorf("ParseHost(%q) = %v; want a HostError about the %s", tt.in, err, tt.field)
		}
	}
	if h, err := ParseHost("admin@server.example.com:2222"); err != nil || h != (Host{User: "admin", Name: "server.example.com", Port: 2222}) {
		t.Errorf("ParseHost of a good host = %+v, %v", h, err)
	}
}
