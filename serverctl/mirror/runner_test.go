package mirror

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/remote"
	"github.com/socketbar/socketbar/serverctl/run"
)

func TestRunnerMapsMirrorPathsAndNothingElse(t *testing.T) {
	const dir = "/home/admin/.cache/socketbar/m1"
	const plain = `exec "$@" 2>&1`
	cases := []struct {
		name       string
		remoteRoot string
		cmd        run.Command
		want       []string
	}{
		{"httpd -v", "/",
			run.Command{Path: dir + "/usr/sbin/httpd", Args: []string{"-v"}},
			[]string{"/bin/sh", "-c", plain, "sh", "/usr/sbin/httpd", "-v"}},
		{"the config test through the wrapper, with the job's environment", "/",
			run.Command{Path: dir + WrapperPath, Args: []string{"-t", "-f", dir + serverctl.DefaultConfigPath, "-D", "PROXY_CALENDAR"},
				Env: []string{"MODULE_INSTALL_PATH_PREFIX=", "SERVER_INSTALL_PATH_PREFIX=/Applications/Server.app/Contents/ServerRoot"}},
			[]string{"/bin/sh", "-c", "export MODULE_INSTALL_PATH_PREFIX=''; export SERVER_INSTALL_PATH_PREFIX=/Applications/Server.app/Contents/ServerRoot; " + plain,
				"sh", WrapperPath, "-t", "-f", serverctl.DefaultConfigPath, "-D", "PROXY_CALENDAR"}},
		{"a remote root", "/srv/tree",
			run.Command{Path: dir + "/usr/sbin/httpd", Args: []string{"-f", dir + serverctl.DefaultConfigPath, "-k", "restart"}},
			[]string{"/bin/sh", "-c", plain, "sh", "/srv/tree/usr/sbin/httpd", "-f", "/srv/tree" + serverctl.DefaultConfigPath, "-k", "restart"}},
		{"the mirror folder itself", "/srv/tree",
			run.Command{Path: "/bin/ls", Args: []string{dir, dir + "/"}},
			[]string{"/bin/sh", "-c", plain, "sh", "/bin/ls", "/srv/tree", "/srv/tree"}},
		{"a path with spaces", "/",
			run.Command{Path: "/usr/sbin/httpd", Args: []string{"-f", dir + "/Library/Application Support/x.conf"}},
			[]string{"/bin/sh", "-c", plain, "sh", "/usr/sbin/httpd", "-f", "/Library/Application Support/x.conf"}},
		{"what only looks like a mirror path stays", "/srv/tree",
			run.Command{Path: "/bin/launchctl", Args: []string{"print", "system/com.apple.serviceproxy",
				"-f" + dir + "/glued", dir + "-sibling/x", dir + "/../etc/passwd", "usr/sbin/httpd", "x" + dir, dir[:len(dir)-1]}},
			[]string{"/bin/sh", "-c", plain, "sh", "/bin/launchctl", "print", "system/com.apple.serviceproxy",
				"-f" + dir + "/glued", dir + "-sibling/x", dir + "/../etc/passwd", "usr/sbin/httpd", "x" + dir, dir[:len(dir)-1]}},
		{"an environment value with quotes, $, backquotes and a newline", "/",
			run.Command{Path: "/usr/sbin/httpd", Args: []string{"-v"}, Env: []string{"A=it's $HOME `id`\n" + dir}},
			[]string{"/bin/sh", "-c", "export A='it'\\''s $HOME `id`\n" + dir + "'; " + plain, "sh", "/usr/sbin/httpd", "-v"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &Runner{Conn: panicConn{}, Dir: dir, RemoteRoot: tc.remoteRoot}
			got, err := r.Argv(tc.cmd)
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("Argv:\n got %q (%v)\nwant %q", got, err, tc.want)
			}
		})
	}
	for _, env := range []string{"NOVALUE", "1A=x", "A-B=x", "=x", "A B=x", "A;rm=x"} {
		r := &Runner{Conn: panicConn{}, Dir: dir, RemoteRoot: "/"}
		if got, err := r.Argv(run.Command{Path: "/usr/sbin/httpd", Env: []string{env}}); err == nil {
			t.Errorf("environment entry %q: %q, want an error", env, got)
		}
	}
}

// The command lines the readers and the restart run are all listed in
// remote.Commands; anything else is refused before it is sent.
func TestRunnerRunsOnlyListedCommands(t *testing.T) {
	const dir = "/m"
	r := &Runner{Conn: panicConn{}, Dir: dir, RemoteRoot: "/"}
	for _, cmd := range []run.Command{
		{Path: dir + serverctl.HTTPDPath, Args: []string{"-v"}},
		{Path: dir + WrapperPath, Args: []string{"-t", "-f", dir + serverctl.DefaultConfigPath, "-D", "PROXY_CONTACTS"}, Env: []string{"A=b"}},
		{Path: "/bin/launchctl", Args: []string{"print", "system/com.apple.serviceproxy"}},
		{Path: "/bin/launchctl", Args: []string{"kickstart", "-kp", "system/com.apple.serviceproxy"}},
	} {
		argv, err := r.Argv(cmd)
		if err == nil {
			err = remote.CheckCommand(argv)
		}
		if err != nil {
			t.Errorf("%s: %v", cmd, err)
		}
	}
	for _, cmd := range []run.Command{
		{Path: "/usr/bin/osascript", Args: []string{"-e", "do shell script"}},
		{Path: "/bin/launchctl", Args: []string{"unload", "-w", "x"}},
		{Path: dir + serverctl.HTTPDPath, Args: []string{"-X"}},
	} {
		if _, err := r.Run(testContext(t), cmd); err == nil {
			t.Errorf("%s ran", cmd)
		}
	}
}

// echoHTTPD stands in for an httpd that shows what it got: its arguments,
// a variable, standard error between standard output, and a status.
const echoHTTPD = `#!/bin/sh
printf 'args:'; for a in "$@"; do printf ' [%s]' "$a"; done; printf '\n'
printf 'prefix=[%s]\n' "$SERVER_INSTALL_PATH_PREFIX"
echo 'on stderr' >&2
if [ -f "$3" ]; then echo "$3 is there"; fi
exit "${STATUS:-0}"
`

func TestRunnerRunsCommandsOnTheServer(t *testing.T) {
	root := serve(t, "5.3.1-sites")
	put(t, root, "/opt/echo/httpd", echoHTTPD, 0o755)
	c := &Counter{Conn: connect(t)}
	m := fetch(t, c, root)
	r := m.Runner(c)
	ctx := testContext(t)
	before := c.RoundTrips()

	conf := m.LocalPath(serverctl.DefaultConfigPath)
	out, err := r.Run(ctx, run.Command{Path: m.LocalPath("/opt/echo/httpd"), Args: []string{"-t", "-f", conf, "-D", "PROXY_CALENDAR"},
		Env: []string{"SERVER_INSTALL_PATH_PREFIX=/it's $x"}})
	served := root + serverctl.DefaultConfigPath
	want := "args: [-t] [-f] [" + served + "] [-D] [PROXY_CALENDAR]\nprefix=[/it's $x]\non stderr\n" + served + " is there\n"
	if err != nil || string(out) != want {
		t.Errorf("Run: %v\n got %q\nwant %q", err, out, want)
	}

	out, err = r.Run(ctx, run.Command{Path: m.LocalPath("/opt/echo/httpd"), Env: []string{"STATUS=3"}})
	var exit *remote.ExitError
	if !errors.As(err, &exit) || exit.Code != 3 || !strings.Contains(string(out), "on stderr") {
		t.Errorf("a failing command: %v, %q; want an *ExitError with status 3 and the output", err, out)
	}

	// Discovery asks the Server's httpd for its version over SSH.
	srv, err := serverctl.Discover(ctx, serverctl.Options{Root: m.Dir, Runner: r})
	if err != nil || srv.Apache.String() != "2.4.23" || srv.ApacheVersionSource != m.LocalPath(serverctl.HTTPDPath)+" -v" {
		t.Errorf("Discover: %v; Apache %v from %q (%s)", err, srv.Apache, srv.ApacheVersionSource, srv.ApacheVersionError)
	}
	// The config test reads the Server's file: the stand-in fails a
	// config that holds fail-config-test.
	tester := serverctl.HTTPDTester{Binary: m.LocalPath(serverctl.HTTPDPath), Runner: r}
	if out, err := tester.Test(ctx, conf); err != nil || !strings.Contains(out, "Syntax OK") {
		t.Errorf("config test: %v: %s", err, out)
	}
	put(t, root, serverctl.DefaultConfigPath, "fail-config-test\n", 0o644)
	if out, err := tester.Test(ctx, conf); err == nil {
		t.Errorf("config test of a broken config on the Server passed: %s", out)
	}
	if n := c.RoundTrips() - before; n != 5 {
		t.Errorf("%d round trips for 5 commands", n)
	}
}
