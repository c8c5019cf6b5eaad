package validate_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/socketbar/socketbar/internal/validate"
	"github.com/socketbar/socketbar/internal/validate/validatetest"
)

// extraCases are the rules a front end cannot be shown as typed input: an
// empty input, which a front end takes as "not given", the listen address
// of every interface, and PATH=BACKEND, which only the CLI takes.
func extraCases() []validatetest.Case {
	return []validatetest.Case{
		{Field: validate.FieldPath, Input: "", Refusal: "is empty"},
		{Field: validate.FieldBackend, Input: "", Refusal: "is empty"},
		{Field: validate.FieldConnect, Input: "", Refusal: "give it as HOST:PORT"},
		{Field: validate.FieldProxyAddr, Input: "127.0.0.1:8443", Refusal: ""},
		{Field: validate.FieldAddr, Input: ":0", Refusal: ""},
		{Field: validate.FieldAddr, Input: "[::1]:0", Refusal: ""},
		{Field: validate.FieldURL, Input: "", Refusal: "must start with ws://"},
		{Field: validate.FieldOrigin, Input: "", Refusal: ""},
		{Field: validate.FieldHeader, Input: "", Refusal: ""},
		{Field: validate.FieldRoute, Input: "/ws/=http://127.0.0.1:8000/ws/", Refusal: ""},
		{Field: validate.FieldRoute, Input: "/ws/", Refusal: "is not PATH=BACKEND"},
	}
}

// TestRules runs every row of the table through the validator: a refusal
// is an *InputError naming the row's field, with the row's words.
func TestRules(t *testing.T) {
	for _, c := range append(validatetest.Cases(), extraCases()...) {
		err := validatetest.Check(c)
		var in *validate.InputError
		switch {
		case c.Refusal == "" && err != nil:
			t.Errorf("%s %q refused: %v", c.Field, c.Input, err)
		case c.Refusal == "":
		case !errors.As(err, &in):
			t.Errorf("%s %q: %v, want an *InputError saying %q", c.Field, c.Input, err, c.Refusal)
		case !strings.Contains(in.Msg, c.Refusal):
			t.Errorf("%s %q: %q, want it to say %q", c.Field, c.Input, in.Msg, c.Refusal)
		case in.Field != c.Field && c.Field != validate.FieldRoute:
			t.Errorf("%s %q: refused as the field %s", c.Field, c.Input, in.Field)
		}
	}
}

// A route is refused by the field at fault: its path or its backend.
func TestRouteNamesThePartAtFault(t *testing.T) {
	for in, want := range map[string]validate.Field{
		"ws=http://127.0.0.1:8000/ws": validate.FieldPath,
		"/ws/=127.0.0.1:8000":         validate.FieldBackend,
		"/ws/":                        validate.FieldRoute,
	} {
		var ie *validate.InputError
		if _, _, err := validate.Route(in); !errors.As(err, &ie) || ie.Field != want {
			t.Errorf("Route(%q) = %v, want a refusal of the %s", in, err, want)
		}
	}
}

// The values returned are what is dialled, listened on and tested.
func TestNormalForms(t *testing.T) {
	for _, tt := range []struct {
		got, want string
	}{
		{must(validate.Dial(validate.FieldConnect, " 127.0.0.1:443\t")), "127.0.0.1:443"},
		{must(validate.Dial(validate.FieldConnect, "[::1]:443")), "[::1]:443"},
		{must(validate.Listen(validate.FieldAddr, ":8443")), ":8443"},
		{mustURL(validate.WebSocketURL("https://example.com")), "wss://example.com/"},
		{mustURL(validate.WebSocketURL("http://[fe80::1%25lo]:80")), "ws://[fe80::1%25lo]:80/"},
		{mustURL(validate.Backend("http://127.0.0.1:8000")), "http://127.0.0.1:8000"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
	h, err := validate.Headers([]string{"  X-A :  1 ", "Host: chat.example.com", ""})
	if err != nil || len(h) != 2 || h.Get("X-A") != "1" || h.Get("Host") != "chat.example.com" {
		t.Errorf("Headers = %v, %v", h, err)
	}
}

// Header holds headers already split, as the action layer and the tester
// take them, to the rules of the lines a person types.
func TestHeader(t *testing.T) {
	for _, tt := range []struct {
		name    string
		h       http.Header
		refusal string
	}{
		{"none", nil, ""},
		{"a cookie and a Host", http.Header{"Cookie": {"a=1; b=2\tc"}, "Host": {"chat.example.com"}}, ""},
		{"CR in a value", http.Header{"Cookie": {"a=1\rX: 1"}}, "control character"},
		{"NUL in a value", http.Header{"Cookie": {"a\x00"}}, "control character"},
		{"CRLF in a name", http.Header{"X-A\r\nX-B": {"1"}}, "control character"},
		{"colon in a name", http.Header{"X-A: b": {"1"}}, "not an HTTP field name"},
		{"empty name", http.Header{"": {"1"}}, "not an HTTP field name"},
		{"two Hosts", http.Header{"Host": {"a", "b"}}, "second Host"},
		{"two Hosts under two spellings", http.Header{"Host": {"a"}, "host": {"b"}}, "second Host"},
		{"the handshake's Upgrade", http.Header{"Upgrade": {"h2c"}}, "handshake"},
		{"the handshake's key", http.Header{"Sec-Websocket-Key": {"x"}}, "handshake"},
		{"Origin as a header", http.Header{"Origin": {"https://a"}}, "input of its own"},
	} {
		err := validate.Header(tt.h)
		var in *validate.InputError
		switch {
		case tt.refusal == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.refusal != "" && (!errors.As(err, &in) || in.Field != validate.FieldHeader || !strings.Contains(in.Msg, tt.refusal)):
			t.Errorf("%s: %v, want a header refusal saying %q", tt.name, err, tt.refusal)
		}
	}
}

func must(s string, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	return s
}

func mustURL(u interface{ String() string }, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	return u.String()
}
