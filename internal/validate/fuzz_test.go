package validate_test

import (
	"net"
	"strings"
	"testing"

	"github.com/socketbar/socketbar/internal/validate"
	"github.com/socketbar/socketbar/internal/validate/validatetest"
)

// seeds adds the table's inputs of the given fields to f's corpus.
func seeds(f *testing.F, fields ...validate.Field) {
	for _, c := range validatetest.Cases() {
		for _, field := range fields {
			if c.Field == field {
				f.Add(c.Input)
			}
		}
	}
}

// A header line that is accepted is one line on the wire: written as the
// tester writes it, it holds a single CRLF, at its end, and reads back as
// the same name and value.
func FuzzHeaderLine(f *testing.F) {
	seeds(f, validate.FieldHeader, validate.FieldOrigin)
	f.Fuzz(func(t *testing.T, line string) {
		name, value, err := validate.HeaderLine(line)
		if err != nil {
			return
		}
		wire := name + ": " + value + "\r\n"
		if strings.Count(wire, "\r") != 1 || strings.Count(wire, "\n") != 1 || strings.ContainsRune(name, ':') {
			t.Fatalf("HeaderLine(%q) accepted %q: %q", line, name, value)
		}
		n2, v2, err := validate.HeaderLine(name + ": " + value)
		if err != nil || n2 != name || v2 != value {
			t.Fatalf("%q: %q, %q read back as %q, %q, %v", line, name, value, n2, v2, err)
		}
	})
}

// An accepted HOST:PORT is one that net can split and dial, with nothing
// around it, and checking it again changes nothing.
func FuzzHostPort(f *testing.F) {
	seeds(f, validate.FieldConnect, validate.FieldAddr)
	f.Fuzz(func(t *testing.T, addr string) {
		for _, check := range []func(validate.Field, string) (string, error){validate.Dial, validate.Listen} {
			got, err := check(validate.FieldConnect, addr)
			if err != nil {
				continue
			}
			if _, _, err := net.SplitHostPort(got); err != nil || strings.ContainsAny(got, " \t\r\n/") {
				t.Fatalf("%q accepted as %q: %v", addr, got, err)
			}
			if again, err := check(validate.FieldConnect, got); err != nil || again != got {
				t.Fatalf("%q accepted as %q, then as %q, %v", addr, got, again, err)
			}
		}
	})
}

// An accepted URL prints as one that is accepted again with the same
// host and port. An accepted backend holds no character that could end an
// Apache directive or start a comment.
func FuzzURL(f *testing.F) {
	seeds(f, validate.FieldURL, validate.FieldBackend)
	f.Fuzz(func(t *testing.T, s string) {
		if u, err := validate.WebSocketURL(s); err == nil {
			again, err := validate.WebSocketURL(u.String())
			if err != nil || again.Host != u.Host || again.Scheme != u.Scheme {
				t.Fatalf("%q accepted as %s, which reads back as %v, %v", s, u, again, err)
			}
		}
		if _, err := validate.Backend(s); err == nil && strings.ContainsAny(s, " \t\r\n\"'#\\<>") {
			t.Fatalf("backend %q accepted", s)
		}
	})
}

// An accepted path is safe in an Apache directive as it is.
func FuzzPath(f *testing.F) {
	seeds(f, validate.FieldPath)
	f.Fuzz(func(t *testing.T, p string) {
		if validate.Path(p) == nil && (strings.ContainsAny(p, " \t\r\n\"'#\\<>$%") || strings.Contains(p, "//") || !strings.HasPrefix(p, "/")) {
			t.Fatalf("path %q accepted", p)
		}
	})
}
