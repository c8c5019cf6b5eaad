package serverctl

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// TestAConfigTestThatDidNotRunIsNotARefusal: a config test whose command
// ended without an exit status and said nothing (the root agent on a
// Server reached over SSH died, the connection was lost) is not Apache
// refusing the new config, and must not be reported as one: the person
// would go looking for a syntax error that is not there. One that exited
// non-zero, or printed why, is a refusal. Nothing is written either way.
func TestAConfigTestThatDidNotRunIsNotARefusal(t *testing.T) {
	exitErr := exec.Command("false").Run()
	for _, tt := range []struct {
		name    string
		out     string
		err     error
		refusal bool
	}{
		{"session lost", "", errors.New("httpd: agent: the root agent on mini ended: remote: connection closed"), false},
		{"exit status", "", exitErr, true},
		{"Apache's words", "AH00526: Syntax error on line 3", errors.New("exit status 1"), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tf := newTwoFiles(t)
			a := &Applier{ConfigPath: tf.main, Backups: BackupStoreFor(tf.main), Tester: testerFunc(func(context.Context, string) (string, error) {
				return tt.out, tt.err
			})}
			_, err := a.Apply(context.Background(), tf.change)
			var cte *ConfigTestError
			if got := errors.As(err, &cte); got != tt.refusal {
				t.Errorf("err = %v; reported as Apache's refusal: %v, want %v", err, got, tt.refusal)
			}
			if !tt.refusal && !strings.Contains(err.Error(), "cannot run the config test") {
				t.Errorf("err = %v; want it to say the config test could not run", err)
			}
			tf.want(t, tf.oldMain, tf.oldSite)
		})
	}
}
