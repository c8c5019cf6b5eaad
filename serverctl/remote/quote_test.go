package remote

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// hostile are arguments a remote shell must pass through untouched.
var hostile = []string{
	"", " ", "a b", "  two  spaces  ", "\t", "tab\there",
	"'", "''", "it's", `"`, `a"b'c`, `\`, `\\`, `\'`, `'\''`,
	"$HOME", "${HOME}", "$(id)", "`id`", "$((1+1))", "$", "$1", "$@",
	"a;b", "a && b", "a|b", "a&", "(a)", "{a,b}", "<x", ">x", "2>&1",
	"*", "?", "[a]", "~", "~root", "=cmd", "#comment", "!", "!!", "%1", "^", "a=b",
	"line1\nline2", "\n", "\r\n", "-", "--", "-rf", "--help", "-oProxyCommand=id",
	"\x01\x7f", "\xff\xfe", "é", "日本", strings.Repeat("x'y\"z$`\n", 2000),
}

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"":                   "''",
		"plain-word_1.2/x:y": "plain-word_1.2/x:y",
		"a b":                "'a b'",
		"it's":               `'it'\''s'`,
		"$HOME":              "'$HOME'",
		"=cmd":               "'=cmd'",
		"~":                  "'~'",
		"a\nb":               "'a\nb'",
	} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestCommandLineRoundTripsThroughLocalShells runs the quoted line in each
// POSIX-like shell installed here, as a login shell on the Server would.
func TestCommandLineRoundTripsThroughLocalShells(t *testing.T) {
	line, err := CommandLine(append([]string{"printf", `%s\000`}, hostile...))
	if err != nil {
		t.Fatal(err)
	}
	ran := 0
	for _, sh := range []string{"/bin/sh", "dash", "bash", "zsh", "ksh", "mksh"} {
		path, err := exec.LookPath(sh)
		if err != nil {
			continue
		}
		ran++
		out, err := exec.Command(path, "-c", line).Output()
		if err != nil {
			t.Errorf("%s: %v", sh, err)
			continue
		}
		got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
		if len(got) != len(hostile) {
			t.Errorf("%s: %d arguments came back, want %d", sh, len(got), len(hostile))
			continue
		}
		for i := range hostile {
			if got[i] != hostile[i] {
				t.Errorf("%s: argument %d came back as %q, want %q", sh, i, got[i], hostile[i])
			}
		}
	}
	if ran == 0 {
		t.Fatal("no shell to test with")
	}
}

func TestCommandLineRefusesNUL(t *testing.T) {
	if _, err := CommandLine([]string{"printf", "a\x00b"}); !errors.Is(err, ErrNUL) {
		t.Errorf("err = %v, want ErrNUL", err)
	}
	if _, err := CommandLine(nil); err == nil {
		t.Error("empty command accepted")
	}
}

func FuzzQuote(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.IndexByte(s, 0) >= 0 {
			return
		}
		out, err := exec.Command("/bin/sh", "-c", "printf %s "+Quote(s)).Output()
		if err != nil || !bytes.Equal(out, []byte(s)) {
			t.Fatalf("sh -c 'printf %%s %s' = %q, %v; want %q", Quote(s), out, err, s)
		}
	})
}
