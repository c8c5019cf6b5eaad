package remote

// Command is a program Socketbar may run on a Server, and how it may be
// called. The Server runs OS X 10.10 to macOS 12 and nothing is installed
// on it (issue 17), so the list holds what all of those ship: /bin/sh and
// its builtins, POSIX utilities with their POSIX options only (BSD and GNU
// agree on those; the tests' Server is Debian), /usr/bin/perl, sudo,
// launchctl, sw_vers, shasum and the Server's own httpd. CheckCommand and
// CheckScript hold argv and scripts to it.
//
// Left out on purpose: stat (BSD -f against GNU -c: use ls -ln or perl),
// base64 (-D on old macOS, -d elsewhere: decode with perl's MIME::Base64),
// sed -i and -E, head -c, mktemp, readlink -f, flock (none on macOS), echo
// with options or backslashes (use printf), eval, and local.
type Command struct {
	// Name is the command as a script names it: a builtin or a program
	// found on PATH ("printf", "launchctl").
	Name string
	// Paths are absolute paths that name it too ("/bin/launchctl").
	Paths []string
	// AnyDir accepts any absolute path ending in "/"+Name: the Server's
	// httpd lives inside Server.app, wherever that was installed.
	AnyDir bool
	// Opts are the single-letter options it may take, in getopt's
	// notation: a letter followed by ":" takes an argument ("n:" for
	// head -n 5 or head -n5). Options must come before the operands, as
	// macOS's utilities stop reading options at the first operand.
	Opts string
	// Words are options written as one word ("-productVersion").
	Words []string
	// Values limits an option's argument ("-a" of shasum: "256").
	Values map[string][]string
	// Subcommands, when set, are what the first argument must be; options
	// follow it (launchctl kickstart -kp …).
	Subcommands []string
	// AnyArgs means its arguments are not options to check (printf's
	// format and data, test's primaries, set's flags).
	AnyArgs bool
	// RunsCommand means its operands are a command, checked in turn
	// (sudo, exec).
	RunsCommand bool
	// ScriptOperand says when the first operand is a shell script, checked
	// in turn: "c" when the -c flag is given (sh -c), "*" always (trap).
	ScriptOperand string
	// Why says where it comes from.
	Why string
}

// Commands lists every command Socketbar may run on a Server. Each call
// returns a new list.
func Commands() []Command {
	const (
		posix   = "POSIX utility; OS X 10.10+ and Debian"
		builtin = "POSIX shell builtin"
	)
	return []Command{
		// The shell and its builtins.
		{Name: "sh", Paths: []string{"/bin/sh"}, Opts: "ceus", ScriptOperand: "c", Why: "/bin/sh: bash 3.2 in POSIX mode on a Mac; runs the scripts Socketbar streams (sh -s) and Run's wrapper (sh -c)"},
		{Name: ":", AnyArgs: true, Why: builtin},
		{Name: "true", Why: builtin},
		{Name: "false", Why: builtin},
		{Name: "break", Why: builtin},
		{Name: "continue", Why: builtin},
		{Name: "return", Why: builtin},
		{Name: "exit", Why: builtin},
		{Name: "shift", Why: builtin},
		{Name: "wait", Why: builtin},
		{Name: "cd", Opts: "LP", Why: builtin},
		{Name: "read", Opts: "r", Why: builtin},
		{Name: "umask", Opts: "S", Why: builtin},
		{Name: "export", Opts: "p", Why: builtin},
		{Name: "readonly", Opts: "p", Why: builtin},
		{Name: "unset", Opts: "fv", Why: builtin},
		{Name: "set", AnyArgs: true, Why: builtin + " (-e, -u, -- …)"},
		{Name: "getopts", AnyArgs: true, Why: builtin},
		{Name: "trap", ScriptOperand: "*", Why: builtin + "; its action is checked as a script"},
		{Name: "exec", RunsCommand: true, Why: builtin + "; the command it runs is checked"},
		{Name: "command", Opts: "pv", RunsCommand: true, Why: builtin + " (command -v NAME finds a listed command)"},
		{Name: "printf", AnyArgs: true, Why: builtin + "; the way to print data"},
		{Name: "echo", AnyArgs: true, Why: builtin + "; only for fixed words, as its options and backslashes differ between shells (use printf)"},
		{Name: "test", AnyArgs: true, Why: builtin},
		{Name: "[", AnyArgs: true, Why: builtin},
		{Name: "kill", Opts: "s:l", Why: builtin + "; kill -s TERM -- -PGID ends a cancelled command's process group"},
		{Name: "pwd", Opts: "LP", Why: builtin},

		// POSIX utilities, POSIX options only.
		{Name: "cat", Opts: "u", Why: posix + "; the master connection's session is exec cat"},
		{Name: "chmod", Opts: "R", Why: posix},
		{Name: "chown", Opts: "RhHLP", Why: posix},
		{Name: "cmp", Opts: "ls", Why: posix},
		{Name: "cp", Opts: "fiPpRHL", Why: posix},
		{Name: "cut", Opts: "b:c:d:f:ns", Why: posix},
		{Name: "date", Opts: "u", Why: posix},
		{Name: "dirname", Why: posix},
		{Name: "basename", Why: posix},
		{Name: "grep", Opts: "EFce:f:ilnqsvx", Why: posix},
		{Name: "head", Opts: "n:", Why: posix + " (not -c)"},
		{Name: "id", Opts: "Ggnru", Why: posix},
		{Name: "ln", Opts: "fsLP", Why: posix},
		{Name: "ls", Opts: "ACFHLRSacdfgiklmnopqrstux1", Why: posix},
		{Name: "mkdir", Opts: "pm:", Why: posix + "; mkdir is atomic, the remote lock"},
		{Name: "mv", Opts: "fi", Why: posix + "; rename(2) within one volume"},
		{Name: "od", Opts: "A:bcdj:N:ost:vx", Why: posix},
		{Name: "rm", Opts: "fiRr", Why: posix},
		{Name: "rmdir", Opts: "p", Why: posix},
		{Name: "sed", Opts: "ne:f:", Why: posix + " (not -i or -E)"},
		{Name: "sleep", Why: posix},
		{Name: "sort", Opts: "cmuo:t:k:bdfinr", Why: posix},
		{Name: "tail", Opts: "fc:n:", Why: posix},
		{Name: "tee", Opts: "ai", Why: posix},
		{Name: "touch", Opts: "acmr:t:", Why: posix},
		{Name: "tr", Opts: "cCds", Why: posix},
		{Name: "uname", Opts: "amnrsv", Why: posix},
		{Name: "wc", Opts: "clmw", Why: posix},
		{Name: "awk", Opts: "F:f:v:", Why: posix},
		{Name: "ps", Opts: "Aeo:p:", Why: posix},

		// What a Mac adds, and every Server has.
		{Name: "perl", Paths: []string{"/usr/bin/perl"}, Opts: "e:w", Why: "perl 5 in /usr/bin on every OS X; for what POSIX tools cannot do portably (stat, base64)"},
		{Name: "sudo", Paths: []string{"/usr/bin/sudo"}, Opts: "nSkp:", Values: map[string][]string{"-p": {""}}, RunsCommand: true,
			Why: "sudo: -n fails instead of asking, -S reads the password on standard input, -p '' silences the prompt, -k ignores a cached login; the command it runs is checked"},
		{Name: "launchctl", Paths: []string{"/bin/launchctl"}, Subcommands: []string{"print", "kickstart", "list"}, Opts: "kp", Why: "launchd's tool on OS X 10.10+: print and kickstart -kp system/com.apple.serviceproxy"},
		{Name: "sw_vers", Paths: []string{"/usr/bin/sw_vers"}, Words: []string{"-productVersion", "-buildVersion", "-productName"}, Why: "the macOS version"},
		{Name: "shasum", Paths: []string{"/usr/bin/shasum"}, Opts: "a:c", Values: map[string][]string{"-a": {"256"}}, Why: "SHA-256 of a file (a perl script on every OS X)"},
		{Name: "httpd", AnyDir: true, Opts: "tf:D:k:E:d:vVMS", Why: "the Server's own httpd (Server.app/Contents/ServerRoot/usr/sbin/httpd): config tests and restarts"},
		{Name: "httpd-server-wrapper", AnyDir: true, Opts: "tf:D:k:E:d:vVMS", Why: "Server.app's wrapper around httpd (ServerRoot/usr/sbin/httpd-server-wrapper, the launchd job's program): it sets CERT_ID and the PROXY_* defines, so the config test runs through it"},
		{Name: "apache2", AnyDir: true, Opts: "tf:D:k:E:d:vVMS", Why: "Debian's name for httpd: the tests' stand-in for a Server"},
	}
}
