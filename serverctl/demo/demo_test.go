package demo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/socketbar/socketbar/internal/loopport"
	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/apacheconf/loader"
	"github.com/socketbar/socketbar/serverctl/sites"
)

// TestPrepareHoldsItsPortsUntilStart: a demo tree made while another is
// being made (two test packages, or the app and the CLI) gets other ports,
// since Prepare keeps its ports reserved until Start has bound them.
func TestPrepareHoldsItsPortsUntilStart(t *testing.T) {
	ctx := context.Background()
	st, err := Prepare(ctx, filepath.Join(t.TempDir(), "demo"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.releasePorts()
	ports := []int{st.HTTP, st.HTTPS, st.WebsitesHTTP, st.WebsitesHTTPS, st.EchoPort}
	seen := map[int]bool{}
	for _, p := range ports {
		if seen[p] {
			t.Errorf("port %d handed out twice in %v", p, ports)
		}
		seen[p] = true
		if held, err := loopport.Held(p); !held || err != nil {
			t.Errorf("port %d is not reserved after Prepare (%v)", p, err)
		}
	}
}

// A demo tree made before the Websites tier's default sites were written
// gets them when it is prepared again, so add finds its web hosts.
func TestPreparingAnOlderTreeAddsTheDefaultSites(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	st, err := Prepare(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	sites := filepath.Join(dir, filepath.FromSlash(serverctl.SitesDir))
	if err := os.RemoveAll(sites); err != nil {
		t.Fatal(err)
	}
	if _, err := Prepare(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	srv, err := serverctl.Discover(context.Background(), serverctl.Options{Root: dir, ApacheVersion: "2.4.71"})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := serverctl.ReadConfig(srv.HostPath(srv.ConfigPath))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{fmt.Sprint(st.HTTP), fmt.Sprint(st.HTTPS)}
	got := srv.WebPorts(cfg)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("WebPorts = %q, want the demo's %q", got, want)
	}
}

// A --dir that holds someone's files, or is a file, is never cleared.
func TestPrepareNeverClearsAFolderItDidNotMake(t *testing.T) {
	dir := t.TempDir()
	doc := filepath.Join(dir, "mydoc.txt")
	if err := os.WriteFile(doc, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Prepare(context.Background(), dir); !errors.Is(err, ErrNotDemoTree) {
		t.Errorf("a folder with files: err = %v, want ErrNotDemoTree", err)
	}
	if got, err := os.ReadFile(doc); err != nil || string(got) != "keep" {
		t.Errorf("the person's file is gone or changed: %q, %v", got, err)
	}
	if _, err := Prepare(context.Background(), doc); !errors.Is(err, ErrNotDemoTree) {
		t.Errorf("a file: err = %v, want ErrNotDemoTree", err)
	}
	if got, err := os.ReadFile(doc); err != nil || string(got) != "keep" {
		t.Errorf("the file given as --dir was replaced: %q, %v", got, err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	st, err := Prepare(context.Background(), empty)
	if err != nil {
		t.Fatalf("an empty folder: %v", err)
	}
	st.releasePorts()
	if err := Clear(empty); err != nil {
		t.Errorf("clearing a demo tree: %v", err)
	}
}

// A demo tree made before the demo had a custom site (no macros, no
// customsites file, plist or certificate) gets the custom site when it is
// prepared again, keeping what the person added to its config; Apache
// accepts the result, and preparing once more changes nothing.
func TestPreparingAnOlderTreeAddsTheCustomSite(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "demo")
	st, err := Prepare(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	st.releasePorts()
	conf := st.ConfigPath()
	fresh, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	// The config as earlier versions wrote it, plus a line of the person's.
	const mine = "# a line of the person's own\n"
	var older []string
	inMacros := false
	for _, l := range strings.SplitAfter(string(fresh), "\n") {
		switch {
		case strings.HasPrefix(l, "# *customsites*"):
			inMacros = true
		case strings.HasPrefix(l, "IncludeOptional"):
			inMacros = false
			older = append(older, mine)
		}
		if !inMacros && !strings.Contains(l, "macro_module") {
			older = append(older, l)
		}
	}
	if err := os.WriteFile(conf, []byte(strings.Join(older, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{customSiteFiles[0].dest, customSiteFiles[1].dest, "etc/certificates/" + customCert + ".cert.pem",
		"etc/certificates/" + customCert + ".key.pem", "prefix/usr/libexec/apache2/mod_macro.so"} {
		if err := os.Remove(filepath.Join(dir, filepath.FromSlash(rel))); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
	}
	if l := siteList(t, dir); l.Lookup(CustomSite) != nil {
		t.Fatalf("the older tree still has %s", CustomSite)
	}

	if _, err := Prepare(ctx, dir); err != nil {
		t.Fatal(err)
	}
	l := siteList(t, dir)
	site := l.Lookup(CustomSite)
	want := []int{st.HTTP, st.HTTPS}
	slices.Sort(want)
	if site == nil || !slices.Equal(site.Ports, want) || site.CertID != customCert {
		t.Fatalf("after Prepare the sites are %+v, want %s on %v with certificate %s", l.Sites, CustomSite, want, customCert)
	}
	if len(l.Findings) > 0 {
		t.Errorf("the upgraded tree's sites disagree with its plist: %v", l.Findings)
	}
	upgraded, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(upgraded), mine) {
		t.Error("the upgrade lost the person's line")
	}
	if st.HTTPD != nil {
		a, err := st.applier(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if out, err := a.Tester.Test(ctx, conf); err != nil {
			t.Errorf("Apache refuses the upgraded config: %v\n%s", err, out)
		}
	} else if os.Getenv("CI") == "true" {
		t.Error("no httpd to test the upgraded config with")
	}

	if _, err := Prepare(ctx, dir); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(conf); string(again) != string(upgraded) {
		t.Error("preparing an upgraded tree again changed its config")
	}
}

// siteList reads the sites of the demo tree at dir.
func siteList(t *testing.T, dir string) *sites.List {
	t.Helper()
	srv, err := serverctl.Discover(context.Background(), serverctl.Options{Root: dir, ApacheVersion: "2.4.71"})
	if err != nil {
		t.Fatal(err)
	}
	lc, err := loader.Load(context.Background(), srv.HostPath(srv.ConfigPath), loader.Options{Root: dir, Vars: srv.Vars()})
	if err != nil {
		t.Fatal(err)
	}
	return sites.Read(lc, dir)
}
