package action

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/servertest"
)

// TestLeftoversAreNotReadAsConfig: copies of the customsites file that a
// killed Socketbar can leave (the config test's copy in the backup folder,
// the one older versions wrote beside the config, a new text whose rename
// the kill prevented) each hold a site of their own; status, routes and
// lint read the Server's files only, as Apache does, and never show it.
func TestLeftoversAreNotReadAsConfig(t *testing.T) {
	ctx := context.Background()
	root := servertest.Copy(t, "5.1.7-sites")
	proxy := filepath.Dir(filepath.Join(root, filepath.FromSlash(serverctl.DefaultConfigPath)))
	customsites, err := os.ReadFile(filepath.Join(proxy, "apache_serviceproxy_customsites.conf"))
	if err != nil {
		t.Fatal(err)
	}
	leftovers := map[string]string{
		serverctl.BackupDirName + "/test-123/1-apache_serviceproxy_customsites.conf": "stale-test.example.com",
		".socketbar-test-456.conf":                            "stale-legacy.example.com",
		".apache_serviceproxy_customsites.conf.socketbar-789": "stale-rename.example.com",
	}
	for name, site := range leftovers {
		p := filepath.Join(proxy, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		text := strings.ReplaceAll(string(customsites), "chat.example.com", site)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	l := &Local{}
	tg := Target{Root: root}
	st, err := l.Status(ctx, tg)
	if err != nil {
		t.Fatal(err)
	}
	if st.SitesErr != nil || st.Sites == nil {
		t.Fatalf("status: sites %v, %v", st.Sites, st.SitesErr)
	}
	rl, err := l.Routes(ctx, tg)
	if err != nil {
		t.Fatal(err)
	}
	lr, err := l.Lint(ctx, LintOptions{Target: tg})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range st.Sites {
		names = append(names, s.Name)
		names = append(names, s.Aliases...)
	}
	seen := fmt.Sprintf("%q\n%+v\n%+v\n%+v", names, st.Routes, rl, lr)
	if !strings.Contains(seen, "chat.example.com") {
		t.Fatalf("the Server's own site chat.example.com is not listed:\n%s", seen)
	}
	for name, site := range leftovers {
		if strings.Contains(seen, site) || strings.Contains(seen, filepath.Base(name)) {
			t.Errorf("%s (%s) was read as part of the config", name, site)
		}
	}
}
