package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/socketbar/socketbar/internal/validate"
	"github.com/socketbar/socketbar/internal/validate/validatetest"
	"github.com/socketbar/socketbar/serverctl/action"
	"github.com/socketbar/socketbar/serverctl/servertest"
)

// inputArgs is the command line that types c's input into its flag or
// argument (app/sameinput_test.go types the same into the app's forms).
// Nothing it runs leaves loopback: a test of an accepted URL or address
// runs on a cancelled context, so it fails at once without a lookup or a
// connection, and serve listens on 127.0.0.1.
func inputArgs(c validatetest.Case, root string) []string {
	const url = "ws://127.0.0.1:1/"
	switch c.Field {
	case validate.FieldURL:
		return []string{"test", "--", c.Input}
	case validate.FieldConnect:
		return []string{"test", "--connect", c.Input, url}
	case validate.FieldOrigin:
		return []string{"test", "--origin", c.Input, url}
	case validate.FieldHeader:
		args := []string{"test"}
		for _, line := range strings.Split(c.Input, "\n") {
			args = append(args, "-H", line)
		}
		return append(args, url)
	case validate.FieldAddr:
		return []string{"serve", "--addr", c.Input, "--route", "/ws/=http://127.0.0.1:1/ws/"}
	case validate.FieldPath:
		return []string{"add", "--dry-run", "--root", root, "--", c.Input, "http://127.0.0.1:8000"}
	case validate.FieldBackend:
		return []string{"add", "--dry-run", "--root", root, "--", backendPath(c.Input), c.Input}
	}
	return nil
}

// backendPath is a route path that agrees with backend on a trailing
// slash, so that only the backend's own rules can refuse the route.
func backendPath(backend string) string {
	if strings.HasSuffix(backend, "/") {
		return "/ws/"
	}
	return "/ws"
}

// The CLI refuses exactly the inputs the validator refuses, each as a
// usage error that names the flag or argument typed into.
func TestCLIRefusesWhatTheValidatorRefuses(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir()) // serve's self-signed certificate
	root := servertest.Copy(t, "5.3.1")
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range validatetest.Cases() {
		args := inputArgs(c, root)
		if args == nil {
			t.Fatalf("no command line types into %s", c.Field)
		}
		ctx := cancelled
		if args[0] == "add" {
			ctx = context.Background() // a dry run: nothing leaves the tree
		}
		var stdout, stderr bytes.Buffer
		code := Run(ctx, &Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }, Actions: &action.Local{}, Version: testVersion}, args)
		named := strings.HasPrefix(stderr.String(), "socketbar "+args[0]+": "+cliField[c.Field]+" ")
		switch {
		case c.Refusal != "" && (code != exitUsage || !named || !strings.Contains(stderr.String(), c.Refusal)):
			t.Errorf("%s %q: exit %d, %q; want exit %d naming %s and saying %q", c.Field, c.Input, code, stderr.String(), exitUsage, cliField[c.Field], c.Refusal)
		case c.Refusal == "" && code == exitUsage:
			t.Errorf("%s %q refused: %s", c.Field, c.Input, stderr.String())
		}
	}
}
