package remote

import (
	"io"
	"slices"
	"strings"
	"testing"
)

func TestSudoCommandLines(t *testing.T) {
	argv, in, err := Sudo{}.Command([]string{"launchctl", "print", "system/x"}, strings.NewReader("data"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"sudo", "-n", "--", "launchctl", "print", "system/x"}; !slices.Equal(argv, want) {
		t.Errorf("no password: %q, want %q", argv, want)
	}
	if b, _ := io.ReadAll(in); string(b) != "data" {
		t.Errorf("no password: stdin %q", b)
	}

	pw := "s3cret pass'word"
	argv, in, err = Sudo{Password: []byte(pw)}.Command([]string{"/bin/sh", "-s"}, strings.NewReader("script\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(argv) != 12 || !slices.Equal(argv[:9], []string{"sudo", "-S", "-k", "-p", "", "--", "/bin/sh", "-c", sudoWrapper}) ||
		!strings.HasPrefix(argv[9], "socketbar-sudo-") || !slices.Equal(argv[10:], []string{"/bin/sh", "-s"}) {
		t.Errorf("password: %q", argv)
	}
	for _, a := range argv {
		if strings.Contains(a, "s3cret") {
			t.Errorf("the password is in argv: %q", argv)
		}
	}
	b, _ := io.ReadAll(in)
	if want := pw + "\n" + argv[9] + "\nscript\n"; string(b) != want {
		t.Errorf("password: stdin %q, want %q", b, want)
	}
	_, _, err2 := Sudo{Password: []byte(pw)}.Command([]string{"id"}, nil)
	argv2, _, _ := Sudo{Password: []byte(pw)}.Command([]string{"id"}, nil)
	if err2 != nil || argv2[9] == argv[9] {
		t.Errorf("markers repeat: %q %q", argv[9], argv2[9])
	}
	if _, _, err := (Sudo{Password: []byte("a\nb")}).Command([]string{"id"}, nil); err == nil {
		t.Error("a password with a line break was accepted")
	}
}

func TestSudoRefusal(t *testing.T) {
	for stderr, want := range map[string]string{
		"Sorry, try again.\nsudo: 3 incorrect password attempts\n":           SudoWrongPassword,
		"sudo: no password was provided\n":                                   SudoWrongPassword,
		"sudo: a password is required\n":                                     SudoNeedsPassword,
		"bob is not in the sudoers file.  This incident will be reported.\n": SudoNotAllowed,
		"Sorry, user bob may not run sudo on mini.\n":                        SudoNotAllowed,
		"ls: x: No such file or directory\n":                                 "",
	} {
		if got := sudoRefusal([]byte(stderr)); got != want {
			t.Errorf("sudoRefusal(%q) = %q, want %q", stderr, got, want)
		}
	}
}
