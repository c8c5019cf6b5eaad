package validate

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// pathChars are the characters a route path may use: RFC 3986's unreserved
// and sub-delimiter characters plus ':', '@' and '/', minus the quote. They
// need no quoting in an Apache directive, cannot start a comment and are
// never special in a mod_rewrite substitution.
const pathChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!&()*+,;=:@/"

// Path checks a route's public URL path.
func Path(p string) error {
	switch {
	case p == "":
		return inputErr(FieldPath, "is empty; give the URL path to route, such as /ws/")
	case !strings.HasPrefix(p, "/"):
		return inputErr(FieldPath, "%q must start with / (for example /%s)", p, p)
	case p == "/":
		return inputErr(FieldPath, "/ would take over the whole site; route a sub-path such as /ws/")
	}
	for _, r := range p {
		if !strings.ContainsRune(pathChars, r) {
			return badChar(FieldPath, p, r)
		}
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." || seg == "." {
			return inputErr(FieldPath, "%q contains a %q segment; write the path without dot segments", p, seg)
		}
	}
	if strings.Contains(p, "//") {
		return inputErr(FieldPath, "%q contains //; write each / once", p)
	}
	return nil
}

// Backend checks a route's backend URL and returns it parsed. Only what
// Apache can parse and reach goes through: a scheme it proxies, a host that
// is an IP address or a host name, a port from 1 to 65535, and no character
// that could end a directive or start a comment.
func Backend(s string) (*url.URL, error) {
	const f = FieldBackend
	if s == "" {
		return nil, inputErr(f, "is empty; give the app's URL, such as http://127.0.0.1:8000/ws/")
	}
	for _, r := range s {
		switch {
		case r <= ' ' || r == 0x7f || r > 0x7e:
			return nil, inputErr(f, "%q contains whitespace, a control or a non-ASCII character; use a plain URL", s)
		case r == '#':
			return nil, inputErr(f, "%q has a fragment (#…); leave it out", s)
		case r == '?':
			return nil, inputErr(f, "%q has a query (?…); a route forwards the client's own query, so leave it out", s)
		case !strings.ContainsRune(pathChars+"[]", r):
			return nil, badChar(f, s, r)
		}
	}
	if !strings.Contains(s, "://") {
		// Daphne, gunicorn and uvicorn print "127.0.0.1:8000": say what to write.
		return nil, inputErr(f, "%q has no scheme; a backend is a URL: http://%s", s, s)
	}
	u, err := parseURL(f, s)
	if err != nil {
		return nil, err
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "ws", "wss":
	default:
		return nil, inputErr(f, "%q must start with http://, https://, ws:// or wss://", s)
	}
	switch {
	case u.Opaque != "" || u.Host == "" || u.Hostname() == "":
		return nil, inputErr(f, "%q has no host; write it like %s://127.0.0.1:8000/ws/", s, u.Scheme)
	case u.User != nil:
		return nil, inputErr(f, "%q contains user info (user@); Apache would send it in the clear, so leave it out", s)
	}
	if err := checkURLHost(u, hostNames); err != nil {
		return nil, inputErr(f, "%q %s", s, err)
	}
	return u, nil
}

// WebSocketURL checks the URL of a WebSocket to test and returns it parsed,
// http and https read as their WebSocket twins ws and wss, an empty path
// as /. A port out of 1–65535 or a host that is neither an IP address nor
// a DNS name is refused here, not found out by a connection attempt.
func WebSocketURL(s string) (*url.URL, error) {
	const f = FieldURL
	u, err := parseURL(f, s)
	if err != nil {
		return nil, err
	}
	switch u.Scheme {
	case "ws", "wss":
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	default:
		return nil, inputErr(f, "%q must start with ws://, wss://, http:// or https://", s)
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return nil, inputErr(f, "%q has no host; write it like wss://server.example.com/ws/", s)
	}
	if err := checkURLHost(u, resolverNames); err != nil {
		return nil, inputErr(f, "%q %s", s, err)
	}
	if u.Path == "" {
		u.Path = "/"
	}
	return u, nil
}

// Route checks a test proxy route, PATH=BACKEND, by the rules of a route
// added to the Service Proxy, so the test proxy never serves what add
// would refuse.
func Route(s string) (path, backend string, err error) {
	path, backend, ok := strings.Cut(s, "=")
	if !ok {
		return "", "", inputErr(FieldRoute, "%q is not PATH=BACKEND, such as /ws/=http://127.0.0.1:8000/ws/", s)
	}
	if err := Path(path); err != nil {
		return "", "", err
	}
	if _, err := Backend(backend); err != nil {
		return "", "", err
	}
	return path, backend, nil
}

// parseURL parses s, saying what url.Parse found wrong without repeating
// the URL as its error does.
func parseURL(f Field, s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, inputErr(f, "%q is not a URL: %v", s, err)
	}
	return u, nil
}

// checkURLHost checks a URL's port, if it has one, and its host.
func checkURLHost(u *url.URL, syntax hostSyntax) error {
	if p := u.Port(); p != "" || strings.HasSuffix(u.Host, ":") {
		if err := checkPort(p, false); err != nil {
			return err
		}
	}
	return checkHost(u.Hostname(), strings.HasPrefix(u.Host, "["), syntax)
}

// badChar says which character of value is not allowed, and what is.
func badChar(f Field, value string, r rune) error {
	what := fmt.Sprintf("%q", r)
	switch {
	case r == '%':
		what = "percent-encoding (%)"
	case r < ' ' || r == 0x7f:
		what = "a control character"
	case r == ' ' || r == '\t':
		what = "whitespace"
	}
	return inputErr(f, "%q contains %s; a path may use letters, digits and -._~!&()*+,;=:@/", value, what)
}
