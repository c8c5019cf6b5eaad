//go:build unix

package action

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/servertest"
)

// within runs f and fails the test if it has not returned after d: a
// FIFO opened for reading blocks until a writer comes, which never will.
func within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s still runs after %v: it blocked on a FIFO", what, d)
	}
}

// TestFIFOsInPlaceOfConfigsDoNotHang: a FIFO planted among the Websites
// tier's site configs is skipped by status, and one in place of the
// customsites file makes undo refuse, naming it, instead of hanging.
func TestFIFOsInPlaceOfConfigsDoNotHang(t *testing.T) {
	ctx := context.Background()
	root, config := servertest.CopyWithHTTPD(t, "5.1.7-sites")
	l := &Local{}
	tg := Target{Root: root}
	sitesDir := filepath.Join(root, serverctl.SitesDir)
	if err := os.MkdirAll(sitesDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(sitesDir, "zz_planted.conf"), 0o644); err != nil {
		t.Fatal(err)
	}
	within(t, 10*time.Second, "status", func() {
		if _, err := l.Status(ctx, tg); err != nil {
			t.Error(err)
		}
	})

	p, err := l.ProposeAdd(ctx, AddOptions{Target: tg, Path: "/ws/", Backend: "http://127.0.0.1:8001/ws/"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Apply(ctx, p, ApplyOptions{NoRestart: true}); err != nil {
		t.Fatal(err)
	}
	customsites := filepath.Join(filepath.Dir(config), "apache_serviceproxy_customsites.conf")
	if err := os.Remove(customsites); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(customsites, 0o644); err != nil {
		t.Fatal(err)
	}
	within(t, 10*time.Second, "undo", func() {
		_, err := l.ProposeUndo(ctx, UndoOptions{Target: tg, Force: true})
		if err == nil {
			t.Error("undo with a FIFO in place of the customsites file was proposed")
		}
	})
}
