package e2e

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestNoGUIBuild builds the CLI for headless Macs the way README says
// (pure Go, -tags nogui) and checks that it links no Fyne and that
// running it without a command prints the help instead of opening an app.
func TestNoGUIBuild(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	env := append(os.Environ(), "CGO_ENABLED=0")

	list := exec.CommandContext(ctx, "go", "list", "-deps", "-tags", "nogui", mainPackage)
	list.Env = env
	deps, err := list.Output()
	if err != nil {
		var stderr []byte
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			stderr = exit.Stderr
		}
		t.Fatalf("CGO_ENABLED=0 go list -deps -tags nogui: %v\n%s", err, stderr)
	}
	for _, pkg := range strings.Fields(string(deps)) {
		if strings.HasPrefix(pkg, "fyne.io/") || pkg == "github.com/socketbar/socketbar/app" {
			t.Errorf("the nogui build links %s", pkg)
		}
	}

	bin := filepath.Join(t.TempDir(), "socketbar-nogui")
	build := exec.CommandContext(ctx, "go", "build", "-tags", "nogui", "-o", bin, mainPackage)
	build.Env = env
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build -tags nogui: %v\n%s", err, out)
	}

	runCtx, cancelRun := context.WithTimeout(ctx, 20*time.Second)
	defer cancelRun()
	cmd := exec.CommandContext(runCtx, bin)
	// No display: were the app linked in, it would fail or hang, not print help.
	cmd.Env = append(os.Environ(), "DISPLAY=", "WAYLAND_DISPLAY=", "SOCKETBAR_ROOT="+t.TempDir())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("socketbar (nogui) without arguments: %v\nstdout:\n%s\nstderr:\n%s", err, &stdout, &stderr)
	}
	for _, want := range []string{"Usage:", "Commands:", "status", "built with -tags nogui"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("socketbar (nogui) without arguments does not print %q; stdout:\n%s", want, &stdout)
		}
	}
	if stderr.Len() > 0 {
		t.Errorf("socketbar (nogui) without arguments wrote to stderr:\n%s", &stderr)
	}
}
