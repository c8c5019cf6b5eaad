package agent

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/socketbar/socketbar/serverctl/remote"
	"github.com/socketbar/socketbar/serverctl/run"
)

func runCommand(path string, args ...string) run.Command {
	return run.Command{Path: path, Args: args}
}

func TestRunStatusEnvOutputAndArgs(t *testing.T) {
	a, _ := rootAgent(t)
	ctx := testContext(t)
	out, err := a.Run(ctx, run.Command{Path: "/bin/sh", Args: []string{"-c", `printf '%s|' "$SB_A" "$SB_X"; echo err >&2; exit 3`}, Env: []string{"SB_A=a 'b' $c `d`\ne", "SB_X=y z"}})
	if want := "a 'b' $c `d`\ne|y z|err\n"; string(out) != want {
		t.Errorf("output %q, want %q", out, want)
	}
	var exit *ExitError
	if !errors.As(err, &exit) || exit.Code != 3 || err.Error() != "/bin/sh: exit status 3" {
		t.Errorf("error %v, want /bin/sh: exit status 3", err)
	}
	if _, err := a.Run(ctx, runCommand("/nonexistent/httpd", "-t")); err == nil || !strings.Contains(err.Error(), "/nonexistent/httpd") {
		t.Errorf("a missing program: %v", err)
	}
	// The agent goes on serving after each.
	if _, err := a.Stat("/"); err != nil {
		t.Error(err)
	}
}

func TestRunBoundsOutput(t *testing.T) {
	a, _ := rootAgent(t)
	out, err := a.Run(testContext(t), runCommand("/bin/sh", "-c", "exec cat /dev/zero"))
	var limit *remote.OutputLimitError
	if !errors.As(err, &limit) || len(out) != maxOutput {
		t.Errorf("%d bytes, %v; want %d bytes and an *remote.OutputLimitError", len(out), err, maxOutput)
	}
	if _, err := a.Stat("/"); err != nil {
		t.Error(err)
	}
}

func TestRunCancel(t *testing.T) {
	a, _ := rootAgent(t)
	ctx, cancel := context.WithTimeout(testContext(t), 500*time.Millisecond)
	defer cancel()
	// A child in the background holds the output open too: the group goes.
	start := time.Now()
	_, err := a.Run(ctx, runCommand("/bin/sh", "-c", "sleep 60 & sleep 60"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Run: %v, want the context's error", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Run returned after %s", d)
	}
	alive, err := a.Alive(1)
	if err != nil || !alive {
		t.Errorf("Alive(1) = %v, %v", alive, err)
	}
	if alive, err := a.Alive(1 << 22); err != nil || alive {
		t.Errorf("Alive(a pid that is not) = %v, %v", alive, err)
	}
}

// What runs as root is held to remote.Commands: a command off the list is
// refused before anything is sent, so nothing of it runs.
func TestRunRefusesACommandOffTheList(t *testing.T) {
	a, _ := rootAgent(t)
	marker := t.TempDir() + "/ran"
	for _, cmd := range []run.Command{
		runCommand("/usr/bin/python3", "-c", "open('"+marker+"','w')"),
		runCommand("/bin/sh", "-c", "touch "+marker+"; curl http://example.com/"),
		runCommand("/bin/launchctl", "unload", "-w", "/System/Library/LaunchDaemons/x.plist"),
	} {
		_, err := a.Run(testContext(t), cmd)
		var ce *remote.CommandError
		if !errors.As(err, &ce) {
			t.Errorf("%s: %v, want a *remote.CommandError", cmd, err)
		}
	}
	if _, err := a.Stat(marker); err == nil {
		t.Error("a refused command ran")
	}
}
