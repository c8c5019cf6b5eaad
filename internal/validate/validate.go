// Package validate holds the one set of rules for what a person types into
// Socketbar: HOST:PORT to dial or listen on, the URL to test, a route's path
// and backend URL, the Origin and the header lines a test sends. The CLI
// and the app reach these rules through the action layer, and the
// libraries that serve and test (proxy, proxy/wstest) apply them again
// themselves, so every door refuses the same input with the same message.
//
// A refusal is an *InputError whose Field says which input it is about and
// whose Msg says what is wrong and what is allowed, in words that name no
// flag or form field: each front end names the field its own way.
//
// It is a leaf package (standard library only) so that serverctl and proxy,
// which do not import each other, can both use it.
package validate

import "fmt"

// Field names the input an InputError is about. The library never words
// it: the CLI names its flag or argument, the app its form field.
type Field string

// The inputs these rules check. Package serverctl declares the fields of
// its own inputs (strategy, VirtualHosts, …) with the same type.
const (
	FieldPath      Field = "path"       // a route's public URL path
	FieldBackend   Field = "backend"    // a route's backend URL
	FieldRoute     Field = "route"      // a test proxy route, PATH=BACKEND
	FieldURL       Field = "url"        // the URL to test
	FieldOrigin    Field = "origin"     // the Origin a test sends
	FieldHeader    Field = "header"     // an extra header a test sends
	FieldConnect   Field = "connect"    // the HOST:PORT a test dials instead of the URL's
	FieldAddr      Field = "addr"       // where the test proxy listens
	FieldProxyAddr Field = "proxy-addr" // where a route check finds the test proxy
)

// Remedy is a way out of an InputError that the front end words in its
// own terms (a flag for the CLI, a control for the app). Package serverctl
// declares the remedies.
type Remedy string

// InputError is a refused input: Field names it, Msg says what is wrong and
// what is allowed, in words that name no flag or form field, and Remedy (if
// set) is a way out for the front end to offer. Nothing has been written
// or sent when it is returned.
type InputError struct {
	Field  Field
	Msg    string
	Remedy Remedy
}

func (e *InputError) Error() string { return fmt.Sprintf("%s: %s", e.Field, e.Msg) }

func inputErr(f Field, format string, args ...any) *InputError {
	return &InputError{Field: f, Msg: fmt.Sprintf(format, args...)}
}

// controlChar returns the first control character of s other than tab
// (RFC 9110 section 5.5 allows none other in a field value), and whether
// there is one. CR and LF above all: either would end a header line early
// and let the rest be read as headers of its own.
func controlChar(s string) (byte, bool) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return c, true
		}
	}
	return 0, false
}
