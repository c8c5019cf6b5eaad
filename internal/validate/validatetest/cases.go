// Package validatetest holds the table of inputs that shows package
// validate's rules, one row or more per rule. The validator's own test
// checks each row's refusal and message; the CLI's and the app's tests
// type the same rows into their flags and forms, which shows that the two
// front ends refuse exactly the same input.
package validatetest

import (
	"strings"

	"github.com/socketbar/socketbar/internal/validate"
)

// Case is one input as a person types it.
type Case struct {
	// Field is the input it is typed into. Header input holds one header
	// line per line: the CLI gives each as its own -H, the app's Headers
	// field takes them as they are.
	Field validate.Field
	Input string
	// Refusal is a part of the refusal's message; "" means the input is
	// accepted.
	Refusal string
}

// Cases are the inputs both front ends take as they are typed. None is
// empty: an empty field means "not given" to a front end, and the rules
// for that are in the validator's own test, with the listen address of
// every interface (":0"), which a front end's test would really bind.
func Cases() []Case {
	long := strings.Repeat("a", 64)
	return []Case{
		// HOST:PORT to dial.
		{validate.FieldConnect, "127.0.0.1:443", ""},
		{validate.FieldConnect, " 127.0.0.1:443 ", ""},
		{validate.FieldConnect, "[::1]:443", ""},
		{validate.FieldConnect, "[fe80::1%lo0]:443", ""},
		{validate.FieldConnect, "server.local:8443", ""},
		{validate.FieldConnect, "my_host:1", ""},
		{validate.FieldConnect, "::1:443", "put an IPv6 address in brackets"},
		{validate.FieldConnect, "127.0.0.1", "give it as HOST:PORT"},
		{validate.FieldConnect, ":443", "has no host"},
		{validate.FieldConnect, "127.0.0.1:", "has an empty port"},
		{validate.FieldConnect, "127.0.0.1:0", "has port 0, which nothing listens on"},
		{validate.FieldConnect, "127.0.0.1:65536", "a port is a number from 1 to 65535"},
		{validate.FieldConnect, "127.0.0.1:https", "has port https"},
		{validate.FieldConnect, "127.0.0.1:+80", "has port +80"},
		{validate.FieldConnect, "bad host:443", "not a host name"},
		{validate.FieldConnect, "[127.0.0.1]:443", "which is not an IP address"},
		{validate.FieldConnect, "999.1.1.1:443", "which is not an IP address"},
		{validate.FieldConnect, "-x.example:443", "not a host name"},
		{validate.FieldConnect, "a..b:443", "not a host name"},
		{validate.FieldConnect, long + ".example:443", "not a host name"},
		{validate.FieldConnect, strings.Repeat("abc.", 64) + "example:443", "longer than 253"},
		{validate.FieldConnect, "bücher.example:443", "xn-- form"},

		// HOST:PORT to listen on.
		{validate.FieldAddr, "127.0.0.1:0", ""},
		{validate.FieldAddr, "localhost:0", ""},
		{validate.FieldAddr, "bogus", "give it as HOST:PORT"},
		{validate.FieldAddr, "127.0.0.1:99999", "a port to listen on is a number from 0 (any free port) to 65535"},
		{validate.FieldAddr, "bad host:8443", "not a host name"},

		// The URL to test.
		{validate.FieldURL, "ws://127.0.0.1:8080/ws", ""},
		{validate.FieldURL, "https://example.com", ""},
		{validate.FieldURL, "ws://[::1]:1/", ""},
		{validate.FieldURL, "ws://[fe80::1%25lo]:80/", ""},
		{validate.FieldURL, "ws://my_host.local:65535/", ""},
		{validate.FieldURL, "ftp://host/", "must start with ws://, wss://, http:// or https://"},
		{validate.FieldURL, "ws:///path", "has no host"},
		{validate.FieldURL, "ws://[::1/", "is not a URL"},
		{validate.FieldURL, "ws://host:abc/", "is not a URL"},
		{validate.FieldURL, "ws://host:/", "has an empty port"},
		{validate.FieldURL, "ws://host:0/", "has port 0"},
		{validate.FieldURL, "ws://host:65536/", "a port is a number from 1 to 65535"},
		{validate.FieldURL, "ws://host:123456789012345678901234567890/", "a port is a number from 1 to 65535"},
		{validate.FieldURL, "ws://ho*st/", "not a host name"},
		{validate.FieldURL, "ws://a..b/", "not a host name"},
		{validate.FieldURL, "ws://" + long + ".example/", "not a host name"},
		{validate.FieldURL, "ws://[127.0.0.1]/", "is not a URL"},
		{validate.FieldURL, "ws://999.1.1.1/", "which is not an IP address"},
		{validate.FieldURL, "ws://127.0.0.1/\r\nX: 1", "is not a URL"},

		// The Origin.
		{validate.FieldOrigin, "https://a.example", ""},
		{validate.FieldOrigin, "null", ""},
		{validate.FieldOrigin, "https://a.example\r\nX-Injected: 1", "contains the control character '\\r'"},
		{validate.FieldOrigin, "https://a.example\nX: 1", "contains the control character '\\n'"},

		// Extra header lines.
		{validate.FieldHeader, "Cookie: a=1; b=2\tc", ""},
		{validate.FieldHeader, "Host: chat.example.com", ""},
		{validate.FieldHeader, "X-Empty:", ""},
		{validate.FieldHeader, "X-A: 1\n\nX-B: 2", ""},
		{validate.FieldHeader, "Cookie a=1", "is not a header line"},
		{validate.FieldHeader, ": 1", "is not a header line"},
		{validate.FieldHeader, "X-A b: 1", "is not an HTTP field name"},
		{validate.FieldHeader, "Cookie: a=1\rX-Injected: 1", "contains the control character '\\r'"},
		{validate.FieldHeader, "Cookie: a\x00", "contains the control character '\\x00'"},
		{validate.FieldHeader, "Upgrade: h2c", "sends itself for the WebSocket handshake"},
		{validate.FieldHeader, "connection: close", "sends itself for the WebSocket handshake"},
		{validate.FieldHeader, "Sec-WebSocket-Key: x", "sends itself for the WebSocket handshake"},
		{validate.FieldHeader, "Sec-WebSocket-Version: 8", "sends itself for the WebSocket handshake"},
		{validate.FieldHeader, "Sec-WebSocket-Extensions: permessage-deflate", "sends itself for the WebSocket handshake"},
		{validate.FieldHeader, "Origin: https://a.example", "has an input of its own"},
		{validate.FieldHeader, "Host: a.example\nHost: b.example", "is a second Host"},

		// A route's path.
		{validate.FieldPath, "/ws/", ""},
		{validate.FieldPath, "/a-b_c.~!&()*+,;=:@/x", ""},
		{validate.FieldPath, "ws", "must start with /"},
		{validate.FieldPath, "/", "whole site"},
		{validate.FieldPath, "/ws\nProxyPass / http://evil/", "control character"},
		{validate.FieldPath, "/a b", "whitespace"},
		{validate.FieldPath, `/a"b`, `'"'`},
		{validate.FieldPath, "/a#b", `'#'`},
		{validate.FieldPath, `/a\b`, `'\\'`},
		{validate.FieldPath, "/a$1", `'$'`},
		{validate.FieldPath, "/a%20b", "percent-encoding"},
		{validate.FieldPath, "/a/../b", `".."`},
		{validate.FieldPath, "/a//b", "contains //"},

		// A route's backend.
		{validate.FieldBackend, "http://127.0.0.1:8000", ""},
		{validate.FieldBackend, "WSS://chat.example.com:8443/ws/", ""},
		{validate.FieldBackend, "http://[::1]:8000/ws/", ""},
		{validate.FieldBackend, "ftp://127.0.0.1/ws", "http://, https://, ws:// or wss://"},
		{validate.FieldBackend, "127.0.0.1:5020", "a backend is a URL: http://127.0.0.1:5020"},
		{validate.FieldBackend, "http:///ws", "has no host"},
		{validate.FieldBackend, "http://admin:pw@127.0.0.1/ws", "user info"},
		{validate.FieldBackend, "http://127.0.0.1/ws\n</VirtualHost>", "control"},
		{validate.FieldBackend, "http://127.0.0.1/ws retry=0", "whitespace"},
		{validate.FieldBackend, `http://127.0.0.1/w"s`, `'"'`},
		{validate.FieldBackend, "http://127.0.0.1/ws#x", "fragment"},
		{validate.FieldBackend, "http://127.0.0.1/ws?a=1", "query"},
		{validate.FieldBackend, "http://127.0.0.1:0/ws", "has port 0"},
		{validate.FieldBackend, "http://127.0.0.1:99999/ws", "a port is a number from 1 to 65535"},
		{validate.FieldBackend, "http://a_b/ws", "not a host name; use letters, digits and inner hyphens"},
		{validate.FieldBackend, "http://[zz::1]/ws", "is not a URL"},
	}
}

// Check runs c's input through the rule its field takes, as the action
// layer does for a front end.
func Check(c Case) error {
	var err error
	switch c.Field {
	case validate.FieldConnect, validate.FieldProxyAddr:
		_, err = validate.Dial(c.Field, c.Input)
	case validate.FieldAddr:
		_, err = validate.Listen(c.Field, c.Input)
	case validate.FieldURL:
		_, err = validate.WebSocketURL(c.Input)
	case validate.FieldOrigin:
		err = validate.Origin(c.Input)
	case validate.FieldHeader:
		_, err = validate.Headers(strings.Split(c.Input, "\n"))
	case validate.FieldPath:
		err = validate.Path(c.Input)
	case validate.FieldBackend:
		_, err = validate.Backend(c.Input)
	case validate.FieldRoute:
		_, _, err = validate.Route(c.Input)
	default:
		panic("validatetest: no rule for the field " + string(c.Field))
	}
	return err
}
