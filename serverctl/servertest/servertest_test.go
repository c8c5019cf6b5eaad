package servertest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestCopyIsAPrivateCopyOfTheStoredTree(t *testing.T) {
	const conf = "Library/Server/Web/Config/Proxy/apache_serviceproxy.conf"
	for _, version := range []string{"5.3.1", "5.7.1"} {
		t.Run(version, func(t *testing.T) {
			stored, err := os.ReadFile(filepath.Join(Dir(t, version), conf))
			if err != nil {
				t.Fatal(err)
			}
			root := Copy(t, version)
			copied, err := os.ReadFile(filepath.Join(root, conf))
			if err != nil || string(copied) != string(stored) {
				t.Fatalf("the copy's config differs from the stored one (%v)", err)
			}
			if err := os.WriteFile(filepath.Join(root, conf), []byte("changed"), 0o644); err != nil {
				t.Fatal(err)
			}
			if again, _ := os.ReadFile(filepath.Join(Dir(t, version), conf)); string(again) != string(stored) {
				t.Error("changing the copy changed the stored tree")
			}
		})
	}
}

// fatalRecorder is a testing.TB whose Fatalf records the message and ends
// the goroutine, as the real one does.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}
func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestEventually(t *testing.T) {
	t.Run("returns once the condition holds", func(t *testing.T) {
		var n atomic.Int32
		Eventually(t, "the third poll", func() bool { return n.Add(1) >= 3 })
		if n.Load() != 3 {
			t.Errorf("polled %d times, want 3", n.Load())
		}
	})
	t.Run("fails naming what it waited for, after the bound", func(t *testing.T) {
		const within = 100 * time.Millisecond
		rec := &fatalRecorder{TB: t}
		start := time.Now()
		done := make(chan struct{})
		go func() {
			defer close(done)
			eventually(rec, "the moon", within, func() bool { return false })
		}()
		<-done
		took := time.Since(start)
		if !strings.Contains(rec.msg, "the moon") {
			t.Errorf("failure message %q does not say what it waited for", rec.msg)
		}
		if took < within || took > within+2*time.Second {
			t.Errorf("gave up after %v, want about %v", took, within)
		}
	})
}

// A served tree is the stored one, with every folder open to other
// accounts (the sshd's login) and the fake httpd that runs.
func TestServeTreeIsReadableByEveryAccount(t *testing.T) {
	root := ServeTree(t, "5.3.1-sites")
	stored, err := os.ReadFile(filepath.Join(Dir(t, "5.3.1-sites"), ConfigPath))
	if err != nil {
		t.Fatal(err)
	}
	if served, err := os.ReadFile(filepath.Join(root, ConfigPath)); err != nil || string(served) != string(stored) {
		t.Fatalf("the served config differs from the stored one (%v)", err)
	}
	for _, dir := range []string{root, filepath.Join(root, filepath.Dir(ConfigPath))} {
		fi, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o755 {
			t.Errorf("%s: mode %v, want 0755", dir, fi.Mode().Perm())
		}
	}
	out, err := exec.Command(filepath.Join(root, "usr/sbin/httpd"), "-v").Output()
	if err != nil || !strings.Contains(string(out), "Apache/2.4.23") {
		t.Errorf("the served httpd -v: %v %q", err, out)
	}
}
