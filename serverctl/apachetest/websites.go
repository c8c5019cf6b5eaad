package apachetest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// WebsitesBody is what the Websites stand-in answers to every request, so a
// test can tell that a request fell through to the catch-all.
const WebsitesBody = "websites tier: no such page"

// StartWebsites starts a second httpd standing in for the Websites service
// on the loopback ports the site's catch-alls point at (Backends[34580] and
// Backends[34543], plain HTTP as on a real Server). It answers every request
// with 404 and WebsitesBody, and stops when the test ends.
func StartWebsites(t testing.TB, h HTTPD, s *Site) {
	t.Helper()
	dir := filepath.Join(s.Root, "websites")
	must(t, os.MkdirAll(dir, 0o755))
	runUser, runGroup := runAs()
	var conf strings.Builder
	fmt.Fprintf(&conf, "ServerRoot %q\nDefaultRuntimeDir %q\nPidFile %q\nErrorLog %q\nServerName localhost\n", dir, dir, filepath.Join(dir, "httpd.pid"), filepath.Join(dir, "error.log"))
	fmt.Fprintf(&conf, "User %s\nGroup %s\n", runUser, runGroup)
	for _, m := range []string{"mpm_prefork", "authz_core", "rewrite"} {
		fmt.Fprintf(&conf, "LoadModule %s_module %s/mod_%s.so\n", m, h.ModulesDir, m)
	}
	listened := 0
	for _, orig := range []int{34580, 34543} {
		if p, ok := s.Backends[orig]; ok {
			fmt.Fprintf(&conf, "Listen 127.0.0.1:%d\n", p)
			listened++
		}
	}
	if listened == 0 {
		return // this Server has no Websites tier (5.7.1)
	}
	fmt.Fprintf(&conf, "RewriteEngine On\nRewriteRule ^ - [R=404,L]\nErrorDocument 404 %q\n", WebsitesBody)
	confPath := filepath.Join(dir, "httpd.conf")
	must(t, os.WriteFile(confPath, []byte(conf.String()), 0o644))
	startHTTPD(t, h, confPath, nil, filepath.Join(dir, "httpd.pid"))
}

// startHTTPD runs httpd -k start on conf and stops it when the test ends.
func startHTTPD(t testing.TB, h HTTPD, conf string, env []string, pidFile string) {
	t.Helper()
	cmd := exec.Command(h.Path, "-f", conf, "-k", "start")
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("apachetest: start httpd: %v\n%s", err, out)
	}
	t.Cleanup(func() { StopHTTPD(t, h, conf, env, pidFile) })
}

// StopHTTPD stops the httpd running conf, if any, and waits up to 10 s for
// its pid file to go away.
func StopHTTPD(t testing.TB, h HTTPD, conf string, env []string, pidFile string) {
	if _, err := os.Stat(pidFile); err != nil {
		return
	}
	cmd := exec.Command(h.Path, "-f", conf, "-k", "stop")
	cmd.Env = append(os.Environ(), env...)
	_ = cmd.Run()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if _, err := os.Stat(pidFile); err != nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Errorf("apachetest: httpd for %s did not stop", conf)
			return
		case <-tick.C:
		}
	}
}
