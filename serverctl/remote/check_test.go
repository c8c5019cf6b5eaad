package remote

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckCommand(t *testing.T) {
	for _, tc := range []struct {
		argv []string
		bad  string // a word of the error, "" when accepted
	}{
		{[]string{"printf", "%s\\n", "-x"}, ""},
		{[]string{"/bin/launchctl", "kickstart", "-kp", "system/com.apple.serviceproxy"}, ""},
		{[]string{"launchctl", "print", "system/com.apple.serviceproxy"}, ""},
		{[]string{"launchctl", "unload", "-w", "x.plist"}, "subcommands"},
		{[]string{"launchctl", "kickstart", "-s", "x"}, "-s"},
		{[]string{"sw_vers", "-productVersion"}, ""},
		{[]string{"sw_vers", "-productversion"}, "-p"},
		{[]string{"shasum", "-a", "256", "/etc/hosts"}, ""},
		{[]string{"shasum", "-a256", "/etc/hosts"}, ""},
		{[]string{"shasum", "-a", "1", "/etc/hosts"}, `"1"`},
		{[]string{"sed", "-i", "", "s/a/b/", "f"}, "-i"},
		{[]string{"sed", "-E", "s/a/b/", "f"}, "-E"},
		{[]string{"sed", "-n", "-e", "1p", "f"}, ""},
		{[]string{"head", "-c", "10", "f"}, "-c"},
		{[]string{"stat", "-f", "%z", "f"}, "not a command"},
		{[]string{"base64", "-D"}, "not a command"},
		{[]string{"rm", "f", "-rf"}, "after an operand"},
		{[]string{"rm", "-f", "--", "-rf"}, ""},
		{[]string{"rm", "--recursive", "f"}, "--recursive"},
		{[]string{"/usr/bin/perl", "-e", "print 1"}, ""},
		{[]string{"/opt/bin/perl", "-e", "print 1"}, "not a command"},
		{[]string{"/Applications/Server.app/Contents/ServerRoot/usr/sbin/httpd", "-t", "-f", "/x.conf", "-D", "A"}, ""},
		{[]string{"httpd", "-X"}, "-X"},
		{[]string{"sudo", "-n", "--", "launchctl", "print", "system/x"}, ""},
		{[]string{"sudo", "-n", "--", "stat", "x"}, "stat"},
		{[]string{"sudo", "-p", "Password:", "id"}, "Password:"},
		{[]string{"sudo", "-u", "bob", "id"}, "-u"},
		{[]string{"/bin/sh", "-c", "cat /etc/hosts | grep -q x && printf ok"}, ""},
		{[]string{"/bin/sh", "-c", "cat /etc/hosts | xargs rm"}, "xargs"},
		{[]string{"/bin/sh", "-c", `exec "$@"`, "sh", "mkdir", "-p", "/x"}, ""},
		{[]string{"/bin/sh", "-c", `exec "$@"`, "sh", "curl", "http://x"}, "curl"},
		{[]string{"/bin/sh", "-s", "--", "a", "-b"}, ""},
		{[]string{"bash", "-c", "true"}, "not a command"},
		{[]string{"kill", "-s", "TERM", "--", "-123"}, ""},
	} {
		err := CheckCommand(tc.argv)
		switch {
		case tc.bad == "" && err != nil:
			t.Errorf("%q: %v", tc.argv, err)
		case tc.bad != "" && err == nil:
			t.Errorf("%q: accepted", tc.argv)
		case tc.bad != "" && !strings.Contains(err.Error(), tc.bad):
			t.Errorf("%q: %v, want it to name %s", tc.argv, err, tc.bad)
		}
		var ce *CommandError
		if err != nil && !errors.As(err, &ce) {
			t.Errorf("%q: %T, want *CommandError", tc.argv, err)
		}
	}
}

func TestCheckScript(t *testing.T) {
	for _, tc := range []struct {
		name, script string
		bad          string
	}{
		{"pipeline and lists", "set -eu\ncat f | grep -c x >/dev/null 2>&1 && printf '%s\\n' ok || exit 3\n", ""},
		{"if while for case", `
if [ -d "$dir" ]; then
	for f in a b $(ls -1 /x); do
		case "$f" in
		a|b) printf a ;;
		*.conf) cp -p "$f" "$f.bak";;
		(c) mv -f "$f" /y
		esac
	done
elif test -e x; then :; else false; fi
while read -r line; do printf '%s' "$line"; done < /etc/hosts
until mkdir /tmp/lock 2>/dev/null; do sleep 1; done
`, ""},
		{"functions", "die() { printf '%s\\n' \"$*\" >&2; exit 1; }\ndie oops\n", ""},
		{"subshell and braces", "( cd /x && ls -l ) ; { id -u; }\n", ""},
		{"command substitution checked", "x=$(curl http://e)\n", "curl"},
		{"backquote checked", "x=`wget e`\n", "wget"},
		{"nested substitution", "x=$(printf %s \"$(tar x)\")\n", "tar"},
		{"in parameter expansion", "x=${y:-$(nc -l 1)}\n", "nc"},
		{"arithmetic is no command", "n=$((n+1)); printf %d \"$n\"\n", ""},
		{"unquoted here-doc runs substitutions", "cat <<EOF\n$(scp a b)\nEOF\n", "scp"},
		{"quoted here-doc does not", "cat <<'EOF'\n$(scp a b)\nEOF\nprintf done\n", ""},
		{"here-doc body is not commands", "cat <<-EOF\n\tcurl x\n\tEOF\n", ""},
		{"trap action checked", "trap 'rm -f \"$t\"' EXIT\ntrap 'curl x' INT\n", "curl"},
		{"trap reset", "trap - EXIT\n", ""},
		{"bound variable", "\"$HTTPD\" -t -f \"$conf\"\n", ""},
		{"bound variable, bad option", "\"$HTTPD\" -X\n", "-X"},
		{"unbound variable", "\"$TOOL\" -x\n", "expansions"},
		{"eval refused", "eval \"$x\"\n", "eval"},
		{"assignment then command", "LC_ALL=C sort -u f\n", ""},
		{"assignment alone", "a=1 b=2\n", ""},
		{"comment ignored", "# curl is not run\nprintf x # nor is wget\n", ""},
		{"local refused", "f() { local x; }\n", "local"},
		{"sudo in a script", "printf '%s\\n' \"$pw\" | sudo -S -k -p '' -- /bin/launchctl kickstart -kp system/x\n", ""},
		{"globbed command", "/usr/bin/per* -e 1\n", "expansions"},
		{"tilde command", "~/bin/x\n", "expansions"},
		{"unterminated quote", "printf 'x\n", "unterminated"},
		{"unterminated here-doc", "cat <<EOF\nx\n", "here-document"},
		{"redirect targets are no commands", "printf x > curl 2>&1 < wget\n", ""},
		{"option after operand", "cp a b -R\n", "after an operand"},
		{"dollar at only for sh -c", "exec \"$@\"\n", "expansions"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckScript(tc.script, map[string]string{"HTTPD": "httpd"})
			switch {
			case tc.bad == "" && err != nil:
				t.Errorf("%v", err)
			case tc.bad != "" && err == nil:
				t.Errorf("accepted %q", tc.script)
			case tc.bad != "" && !strings.Contains(err.Error(), tc.bad):
				t.Errorf("%v, want it to name %s", err, tc.bad)
			}
		})
	}
}

// The transport's own remote command lines use only listed commands.
func TestTransportUsesOnlyListedCommands(t *testing.T) {
	if err := CheckScript(masterCommand(newMarker("ready")), nil); err != nil {
		t.Errorf("master: %v", err)
	}
	if err := CheckCommand([]string{"exec", "/bin/sh", "-c", runWrapper(newMarker("out")), "sh", "printf", "x"}); err != nil {
		t.Errorf("Run's wrapper: %v", err)
	}
	if err := CheckCommand([]string{"kill", "-s", "TERM", "--", "-42"}); err != nil {
		t.Errorf("killRemote: %v", err)
	}
	for _, s := range []Sudo{{}, {Password: []byte("pw")}} {
		argv, _, err := s.Command([]string{"launchctl", "kickstart", "-kp", "system/com.apple.serviceproxy"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckCommand(argv); err != nil {
			t.Errorf("sudo %v: %v", argv, err)
		}
		argv, _, _ = s.Command([]string{"curl", "x"}, nil)
		if err := CheckCommand(argv); err == nil {
			t.Errorf("sudo %v: accepted", argv)
		}
	}
}

func FuzzCheckScript(f *testing.F) {
	for _, s := range []string{"printf x", "a=$(b `c` \"$(d)\") <<E\n$(e)\nE\n", "case x in (a) b;; esac", "f() { g; }", "${x:-$(y)}", "$((1+(2)))", "'", "\"", "`", "$(", "${", "<<", "\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// Must end, without panicking, whatever the text.
		CheckScript(s, map[string]string{"X": "printf"})
	})
}
