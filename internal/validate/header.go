package validate

import (
	"net/http"
	"slices"
	"strings"
)

// Origin checks the Origin a test sends: any text on one line. It is not
// held to the form of an origin: a test may send what a misbehaving page
// would, to see what the app does with it.
func Origin(s string) error {
	if c, ok := controlChar(s); ok {
		return inputErr(FieldOrigin, "%q contains the control character %q; an Origin is one line of text", s, c)
	}
	return nil
}

// HeaderLine checks one extra header written as "Name: value" and returns
// its name and value without the spaces around them. The name is an HTTP
// token (RFC 9110 section 5.6.2), the line has no control character but
// tab, and it is none of the handshake's own headers. A Host header is
// allowed: it replaces the URL's host in the request (a name-based
// VirtualHost reached by address). The Origin is refused as a header: it
// has an input of its own.
func HeaderLine(line string) (name, value string, err error) {
	if c, ok := controlChar(line); ok {
		return "", "", inputErr(FieldHeader, "%q contains the control character %q; a header is one line of text", line, c)
	}
	name, value, ok := strings.Cut(line, ":")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return "", "", inputErr(FieldHeader, "%q is not a header line; write it as Name: value", line)
	}
	if err := checkHeader(line, name); err != nil {
		return "", "", err
	}
	return name, strings.TrimSpace(value), nil
}

// Headers reads extra headers, one "Name: value" line each (HeaderLine),
// as the CLI's repeated -H and the app's Headers field take them. A blank
// line is no header. At most one Host is allowed, since it replaces the
// request's own.
func Headers(lines []string) (http.Header, error) {
	var h http.Header
	for _, line := range lines {
		if strings.TrimSpace(line) == "" {
			continue
		}
		name, value, err := HeaderLine(line)
		if err != nil {
			return nil, err
		}
		if h == nil {
			h = http.Header{}
		}
		if http.CanonicalHeaderKey(name) == "Host" && len(h.Values("Host")) > 0 {
			return nil, inputErr(FieldHeader, "%q is a second Host; give one", line)
		}
		h.Add(name, value)
	}
	return h, nil
}

// Header checks extra headers already split into names and values, by the
// rules of Headers: what a caller of the action layer or the tester passes
// is held to the rules of what a person types.
func Header(h http.Header) error {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	slices.Sort(names) // the first refusal is the same every time
	hosts := 0
	for _, k := range names {
		for _, v := range h[k] {
			line := k + ": " + v
			if c, ok := controlChar(k + v); ok {
				return inputErr(FieldHeader, "%q contains the control character %q; a header is one line of text", line, c)
			}
			if err := checkHeader(line, k); err != nil {
				return err
			}
			if http.CanonicalHeaderKey(k) == "Host" {
				if hosts++; hosts > 1 {
					return inputErr(FieldHeader, "%q is a second Host; give one", line)
				}
			}
		}
	}
	return nil
}

// checkHeader checks a header's name; line is the header as given, for
// the message. The headers a WebSocket test sends itself to open the
// connection (RFC 6455 section 4.1) are refused: an extra one would
// replace or repeat them, and the test would no longer be the handshake it
// reports on. Sec-WebSocket-Extensions is among them because the test
// reads no extension's frames (RFC 6455 section 9).
func checkHeader(line, name string) error {
	if !isToken(name) {
		return inputErr(FieldHeader, "%q has the name %q, which is not an HTTP field name: use letters, digits and !#$%%&'*+-.^_`|~, no spaces", line, name)
	}
	switch key := http.CanonicalHeaderKey(name); key {
	case "Upgrade", "Connection", "Sec-Websocket-Key", "Sec-Websocket-Version", "Sec-Websocket-Extensions":
		return inputErr(FieldHeader, "%q sets %s, which the test sends itself for the WebSocket handshake; leave it out", line, name)
	case "Origin":
		return inputErr(FieldHeader, "%q sets the Origin, which has an input of its own; give it there", line)
	}
	return nil
}

// isToken reports whether s is an HTTP token (RFC 9110 section 5.6.2).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}
