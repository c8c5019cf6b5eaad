package serverctl_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/apachetest"
	"github.com/socketbar/socketbar/serverctl/servertest"
)

// TestEditedFixturesPassApacheConfigTest runs the real httpd's config test
// on every fixture, as shipped and after add with each strategy the local
// Apache supports.
func TestEditedFixturesPassApacheConfigTest(t *testing.T) {
	h := apachetest.Require(t)
	local := localApacheVersion(t, h)
	for _, version := range []string{"5.1.7", "5.3.1", "5.6.3", "5.7.1"} {
		root := servertest.Dir(t, version)
		srv, err := serverctl.Discover(context.Background(), serverctl.Options{Root: root, ApacheVersion: local.String()})
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := serverctl.ReadConfig(srv.HostPath(srv.ConfigPath))
		if err != nil {
			t.Fatal(err)
		}
		strategies := []serverctl.Strategy{serverctl.StrategyTunnel}
		if local.HasUpgradeParam() {
			strategies = append(strategies, serverctl.StrategyUpgrade)
		}
		t.Run(version+"/as shipped", func(t *testing.T) {
			configTest(t, h, srv, cfg.Src, true)
		})
		for _, s := range strategies {
			t.Run(version+"/"+string(s), func(t *testing.T) {
				edit, err := cfg.AddRoute(serverctl.AddRequest{Path: "/api/v1.0/ws+x/", Backend: "http://127.0.0.1:8000", Strategy: s, Apache: local})
				if err != nil {
					t.Fatal(err)
				}
				configTest(t, h, srv, edit.New, true)
				tls, err := cfg.AddRoute(serverctl.AddRequest{Path: "/vnc", Backend: "wss://127.0.0.1:6080/websockify", Strategy: s, Apache: local})
				if err != nil {
					t.Fatal(err)
				}
				configTest(t, h, srv, tls.New, true)
			})
		}
	}
}

// TestApacheConfigTestCanFail proves the harness reports a broken config.
func TestApacheConfigTestCanFail(t *testing.T) {
	h := apachetest.Require(t)
	root := servertest.Dir(t, "5.3.1")
	srv, err := serverctl.Discover(context.Background(), serverctl.Options{Root: root, ApacheVersion: "2.4.23"})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := serverctl.ReadConfig(srv.HostPath(srv.ConfigPath))
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(cfg.Src), "\tProxyPass / http://127.0.0.1:34543/\n", "\tProxyPass / http://127.0.0.1:34543/ bogus=1\n", 1)
	out := configTest(t, h, srv, []byte(broken), false)
	if !strings.Contains(out, "ProxyPass unknown Worker parameter") {
		t.Errorf("httpd -t output does not report the bad parameter:\n%s", out)
	}
}

func configTest(t *testing.T, h apachetest.HTTPD, srv *serverctl.Server, conf []byte, wantOK bool) string {
	t.Helper()
	site := apachetest.Localize(t, h, conf, srv.Vars())
	out, err := site.ConfigTest(h, srv.Job.Defines...)
	if ok := err == nil; ok != wantOK {
		t.Fatalf("httpd -t: err = %v, want ok=%v\n%s", err, wantOK, out)
	}
	return out
}

func localApacheVersion(t *testing.T, h apachetest.HTTPD) serverctl.Version {
	t.Helper()
	srv, err := serverctl.Discover(context.Background(), serverctl.Options{
		Root: servertest.Dir(t, "5.3.1"), HTTPD: h.Path,
	})
	if err != nil || !srv.Apache.Known() {
		t.Fatalf("cannot read the local Apache version: %v %s", err, srv.ApacheVersionError)
	}
	return srv.Apache
}

// A config that Apache refuses already, before the change, is said to be
// so, with Apache's words about the file on disk (its own line numbers),
// not blamed on the change; a change that breaks a good config is the
// change's. Either way nothing is written.
func TestConfigTestSaysWhenTheConfigWasBrokenAlready(t *testing.T) {
	h := apachetest.Require(t)
	site := apachetest.LocalizeTree(t, h, servertest.Dir(t, "5.3.1"))
	srv, err := serverctl.Discover(context.Background(), serverctl.Options{Root: site.Root})
	if err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(site.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	broken := append(append([]byte(nil), good...), "<VirtualHost *:9\n"...)
	lines := strings.Count(string(broken), "\n")
	for _, c := range []struct {
		name          string
		onDisk, newer []byte
		already       bool
	}{
		{"broken before", broken, append(append([]byte(nil), broken...), "# a comment\n"...), true},
		{"broken by the change", good, append(append([]byte(nil), good...), "ProxyPas / http://127.0.0.1:1/\n"...), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := os.WriteFile(site.ConfigPath, c.onDisk, 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, err := serverctl.ReadConfig(site.ConfigPath)
			if err != nil {
				t.Fatal(err)
			}
			a, err := srv.Applier(cfg, serverctl.ApplyOptions{NoRestart: true})
			if err != nil {
				t.Fatal(err)
			}
			_, err = a.Apply(context.Background(), serverctl.Change{Old: c.onDisk, New: c.newer, Description: c.name})
			var cte *serverctl.ConfigTestError
			if !errors.As(err, &cte) || cte.Already != c.already {
				t.Fatalf("Apply: %v; want a ConfigTestError with Already %v", err, c.already)
			}
			if c.already && !strings.Contains(cte.Output, fmt.Sprintf("line %d", lines)) && !strings.Contains(cte.Output, "was not closed") {
				t.Errorf("Apache's words are not about the file on disk (%d lines):\n%s", lines, cte.Output)
			}
			if got, _ := os.ReadFile(site.ConfigPath); string(got) != string(c.onDisk) {
				t.Error("the config on disk changed")
			}
		})
	}
}
