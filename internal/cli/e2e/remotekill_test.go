package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/socketbar/socketbar/internal/sshtest"
	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/servertest"
)

// Socketbar itself SIGKILLed after each step of a change over SSH, with
// its ssh and the agent on the Server left to die with it: the next
// command (restart --host) finishes or rolls back what it left, so the
// Server's config is whole (the old text or the new one), Apache runs it
// and answers, the history settles the killed change, no journal stays,
// and the lock is free again for the next change.
func TestSocketbarKilledMidChangeOverSSH(t *testing.T) {
	tt := startTwoTier(t, "5.3.1")
	servertest.Readable(t, tt.site.Root)
	s := sshtest.Start(t)
	u := s.NewSudoUser(t)
	env := []string{"SOCKETBAR_SSH=ssh -F " + u.ConfigFile, "SOCKETBAR_HOST="}
	on := []string{"--root", tt.site.Root, "--host", sshtest.Alias, "--password-stdin"}
	journal := filepath.Join(filepath.Dir(tt.site.ConfigPath), serverctl.BackupDirName, serverctl.JournalName)
	tlsURL, _ := tt.urls("/kill/")

	for _, step := range []serverctl.Step{serverctl.StepTest, serverctl.StepBackup, serverctl.StepWrite, serverctl.StepRestart, serverctl.StepVerify} {
		t.Run(string(step), func(t *testing.T) {
			before := readFile(t, tt.site.ConfigPath)
			path := fmt.Sprintf("/kill-%s/", step)
			add := append(append([]string{"add", path, tt.backend.URL + path}, tt.vhostFlags()...), on...)
			r := runWithInput(t, append(env, "SOCKETBAR_TEST_KILL_AFTER="+string(step)), u.Password+"\n", add...)
			if r.code != -1 {
				t.Fatalf("add killed after %s: exit %d, want killed\n%s%s", step, r.code, r.stdout, r.stderr)
			}
			next := runWithInput(t, env, u.Password+"\n", append([]string{"restart"}, on...)...)
			if next.code != 0 {
				t.Fatalf("the next command (restart --host): exit %d\n%s%s", next.code, next.stdout, next.stderr)
			}
			after := readFile(t, tt.site.ConfigPath)
			routed := strings.Contains(after, path)
			switch {
			case after == before:
			case routed && strings.Contains(after, strings.TrimSuffix(before, "\n")[:40]):
			default:
				t.Errorf("after the kill and the next command the config is neither the old text nor the new one:\n%s", after)
			}
			if _, err := os.Stat(journal); err == nil {
				t.Error("a journal is left after the next command")
			}
			if step == serverctl.StepTest {
				// Killed before the backup: nothing was recorded or written.
				if after != before || strings.Contains(run(t, nil, "history", "--root", tt.site.Root).stdout, "add "+path) {
					t.Error("a change killed after its config test left a trace")
				}
				return
			}
			killed := historyEntry(t, tt.site.Root, "add "+path)
			switch {
			case routed && killed.Outcome != serverctl.OutcomeApplied:
				t.Errorf("the route is in place but the history says %q", killed.Outcome)
			case !routed && killed.Outcome == serverctl.OutcomeApplied:
				t.Error("the route is not in place but the history says applied")
			case killed.Outcome == serverctl.OutcomePending:
				t.Error("the killed change is still pending")
			}
			if routed {
				if err := wsRoundTrip(t, strings.Replace(tlsURL, "/kill/", path, 1)); err != nil {
					t.Errorf("the finished change's route does not work: %v", err)
				}
			}
			// The lock went with the killed agent: a change goes through.
			undo := runWithInput(t, env, u.Password+"\n", append([]string{"reapply"}, on...)...)
			if undo.code != 0 {
				t.Errorf("a change after the recovery: exit %d\n%s%s", undo.code, undo.stdout, undo.stderr)
			}
			t.Logf("killed after %s: the next command says %q; the change is %s", step, firstLine(next.stdout+next.stderr), killed.Outcome)
		})
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
