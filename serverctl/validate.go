package serverctl

import (
	"fmt"
	"net/url"
	"strings"
)

// InputError is a refused argument: Field names it, Msg says what is wrong
// and what is allowed. Nothing has been written when it is returned.
type InputError struct {
	Field string
	Msg   string
}

func (e *InputError) Error() string { return fmt.Sprintf("%s: %s", e.Field, e.Msg) }

// pathChars are the characters a route path may use: RFC 3986's unreserved
// and sub-delimiter characters plus ':', '@' and '/', minus the quote. They
// need no quoting in an Apache directive, cannot start a comment and are
// never special in a mod_rewrite substitution.
const pathChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!&()*+,;=:@/"

// ValidatePath checks a route's public URL path.
func ValidatePath(p string) error {
	field := "PATH"
	switch {
	case p == "":
		return &InputError{field, "is empty; give the URL path to route, such as /ws/"}
	case !strings.HasPrefix(p, "/"):
		return &InputError{field, fmt.Sprintf("%q must start with / (for example /%s)", p, p)}
	case p == "/":
		return &InputError{field, "/ would take over the whole site; route a sub-path such as /ws/"}
	}
	if err := checkChars(field, p); err != nil {
		return err
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." || seg == "." {
			return &InputError{field, fmt.Sprintf("%q contains a %q segment; write the path without dot segments", p, seg)}
		}
	}
	if strings.Contains(p, "//") {
		return &InputError{field, fmt.Sprintf("%q contains //; write each / once", p)}
	}
	return nil
}

// ValidateBackend checks a backend URL and returns it parsed.
func ValidateBackend(s string) (*url.URL, error) {
	field := "BACKEND"
	if s == "" {
		return nil, &InputError{field, "is empty; give the app's URL, such as http://127.0.0.1:8000/ws/"}
	}
	for _, r := range s {
		switch {
		case r <= ' ' || r == 0x7f || r > 0x7e:
			return nil, &InputError{field, fmt.Sprintf("%q contains whitespace, a control or a non-ASCII character; use a plain URL", s)}
		case r == '#':
			return nil, &InputError{field, fmt.Sprintf("%q has a fragment (#…); leave it out", s)}
		case r == '?':
			return nil, &InputError{field, fmt.Sprintf("%q has a query (?…); a route forwards the client's own query, so leave it out", s)}
		case !strings.ContainsRune(pathChars+"[]", r):
			return nil, badChar(field, s, r)
		}
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, &InputError{field, fmt.Sprintf("%q is not a URL: %v", s, err)}
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "ws", "wss":
	default:
		return nil, &InputError{field, fmt.Sprintf("%q must start with http://, https://, ws:// or wss://", s)}
	}
	switch {
	case u.Opaque != "" || u.Host == "" || u.Hostname() == "":
		return nil, &InputError{field, fmt.Sprintf("%q has no host; write it like %s://127.0.0.1:8000/ws/", s, u.Scheme)}
	case u.User != nil:
		return nil, &InputError{field, fmt.Sprintf("%q contains user info (user@); Apache would send it in the clear, so leave it out", s)}
	}
	if p := u.Port(); p == "" && strings.HasSuffix(u.Host, ":") {
		return nil, &InputError{field, fmt.Sprintf("%q has an empty port; write host:port", s)}
	}
	for _, c := range u.Host {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-.:[]_", c)) {
			return nil, &InputError{field, fmt.Sprintf("%q: the host may only use letters, digits, '-', '.', and a :port", s)}
		}
	}
	return u, nil
}

func checkChars(field, s string) error {
	for _, r := range s {
		if !strings.ContainsRune(pathChars, r) {
			return badChar(field, s, r)
		}
	}
	return nil
}

// badChar says which character of value is not allowed, and what is.
func badChar(field, value string, r rune) error {
	what := fmt.Sprintf("%q", r)
	switch {
	case r == '%':
		what = "percent-encoding (%)"
	case r < ' ' || r == 0x7f:
		what = "a control character"
	case r == ' ' || r == '\t':
		what = "whitespace"
	}
	return &InputError{field, fmt.Sprintf("%q contains %s; a path may use letters, digits and -._~!&()*+,;=:@/", value, what)}
}

// normalizeRoute checks path and backend and returns the backend URL the
// route forwards to. A backend without a path keeps the public path
// (http://127.0.0.1:8000 for /ws/ means http://127.0.0.1:8000/ws/). The two
// must agree on a trailing slash, or Apache would join them into "//" or
// glue segments together.
func normalizeRoute(path, backend string) (string, error) {
	if err := ValidatePath(path); err != nil {
		return "", err
	}
	u, err := ValidateBackend(backend)
	if err != nil {
		return "", err
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Path == "" {
		u.Path = path
	}
	if strings.HasSuffix(path, "/") != strings.HasSuffix(u.Path, "/") {
		want := strings.TrimSuffix(u.String(), "/")
		if strings.HasSuffix(path, "/") {
			want += "/"
		}
		return "", &InputError{"BACKEND", fmt.Sprintf("%q and PATH %q must both end in / or both not; use %s", backend, path, want)}
	}
	return u.String(), nil
}
