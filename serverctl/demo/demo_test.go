package demo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/socketbar/socketbar/internal/loopport"
	"github.com/socketbar/socketbar/serverctl"
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
