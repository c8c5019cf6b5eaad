package serverctl

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Field names the input an InputError is about. The library never words
// it: the CLI names its flag or argument, the app its form field.
type Field string

// The inputs Socketbar takes.
const (
	FieldPath          Field = "path"           // a route's public URL path
	FieldBackend       Field = "backend"        // a route's backend URL
	FieldStrategy      Field = "strategy"       // how a route is written
	FieldVHost         Field = "vhost"          // the VirtualHosts to change, by port
	FieldApacheVersion Field = "apache-version" // the Apache version to assume
	FieldBackup        Field = "backup"         // a backup's ID, to undo
	FieldURL           Field = "url"            // the URL to test
	FieldOrigin        Field = "origin"         // the Origin a test sends
	FieldHeader        Field = "header"         // an extra header a test sends
	FieldConnect       Field = "connect"        // the HOST:PORT a test dials instead of the URL's
	FieldAddr          Field = "addr"           // where the test proxy listens
	FieldRoute         Field = "route"          // a test proxy route, PATH=BACKEND
	FieldFile          Field = "file"           // a config file to lint
	FieldCert          Field = "cert"           // the test proxy's certificate and key
)

// Remedy is a way out of an InputError that the front end words in its
// own terms (a flag for the CLI, a control for the app).
type Remedy string

// The remedies an InputError may offer.
const (
	RemedyReplace       Remedy = "replace"        // replace Socketbar's existing route
	RemedyTunnel        Remedy = "tunnel"         // write the route with the tunnel strategy
	RemedyApacheVersion Remedy = "apache-version" // say which Apache version the Server runs
	RemedyChooseVHost   Remedy = "choose-vhost"   // pick the VirtualHosts explicitly
	RemedyHistory       Remedy = "history"        // look the ID up in the history
	RemedyEverySite     Remedy = "every-site"     // remove for every site, or add again for the sites that keep it
)

// InputError is a refused input: Field names it, Msg says what is wrong and
// what is allowed, in words that name no flag or form field, and Remedy (if
// set) is a way out for the front end to offer. Nothing has been written
// when it is returned.
type InputError struct {
	Field  Field
	Msg    string
	Remedy Remedy
}

func (e *InputError) Error() string { return fmt.Sprintf("%s: %s", e.Field, e.Msg) }

func inputErr(f Field, format string, args ...any) *InputError {
	return &InputError{Field: f, Msg: fmt.Sprintf(format, args...)}
}

// pathChars are the characters a route path may use: RFC 3986's unreserved
// and sub-delimiter characters plus ':', '@' and '/', minus the quote. They
// need no quoting in an Apache directive, cannot start a comment and are
// never special in a mod_rewrite substitution.
const pathChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!&()*+,;=:@/"

// ValidatePath checks a route's public URL path.
func ValidatePath(p string) error {
	field := FieldPath
	switch {
	case p == "":
		return &InputError{Field: field, Msg: "is empty; give the URL path to route, such as /ws/"}
	case !strings.HasPrefix(p, "/"):
		return &InputError{Field: field, Msg: fmt.Sprintf("%q must start with / (for example /%s)", p, p)}
	case p == "/":
		return &InputError{Field: field, Msg: "/ would take over the whole site; route a sub-path such as /ws/"}
	}
	if err := checkChars(field, p); err != nil {
		return err
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." || seg == "." {
			return &InputError{Field: field, Msg: fmt.Sprintf("%q contains a %q segment; write the path without dot segments", p, seg)}
		}
	}
	if strings.Contains(p, "//") {
		return &InputError{Field: field, Msg: fmt.Sprintf("%q contains //; write each / once", p)}
	}
	return nil
}

// ValidateBackend checks a backend URL and returns it parsed. Only what
// Apache can parse and reach goes through: a scheme it proxies, a host that
// is an IP address or a DNS name, a port from 1 to 65535, and no character
// that could end a directive or start a comment.
func ValidateBackend(s string) (*url.URL, error) {
	field := FieldBackend
	if s == "" {
		return nil, inputErr(field, "is empty; give the app's URL, such as http://127.0.0.1:8000/ws/")
	}
	for _, r := range s {
		switch {
		case r <= ' ' || r == 0x7f || r > 0x7e:
			return nil, inputErr(field, "%q contains whitespace, a control or a non-ASCII character; use a plain URL", s)
		case r == '#':
			return nil, inputErr(field, "%q has a fragment (#…); leave it out", s)
		case r == '?':
			return nil, inputErr(field, "%q has a query (?…); a route forwards the client's own query, so leave it out", s)
		case !strings.ContainsRune(pathChars+"[]", r):
			return nil, badChar(field, s, r)
		}
	}
	if !strings.Contains(s, "://") {
		// Daphne, gunicorn and uvicorn print "127.0.0.1:8000": say what to write.
		return nil, inputErr(field, "%q has no scheme; a backend is a URL: http://%s", s, s)
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, inputErr(field, "%q is not a URL: %v", s, err)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "ws", "wss":
	default:
		return nil, inputErr(field, "%q must start with http://, https://, ws:// or wss://", s)
	}
	switch {
	case u.Opaque != "" || u.Host == "" || u.Hostname() == "":
		return nil, inputErr(field, "%q has no host; write it like %s://127.0.0.1:8000/ws/", s, u.Scheme)
	case u.User != nil:
		return nil, inputErr(field, "%q contains user info (user@); Apache would send it in the clear, so leave it out", s)
	}
	if err := checkPort(u); err != nil {
		return nil, inputErr(field, "%q %s", s, err)
	}
	if err := checkHost(u.Hostname(), strings.HasPrefix(u.Host, "[")); err != nil {
		return nil, inputErr(field, "%q %s", s, err)
	}
	return u, nil
}

// checkPort refuses an empty port after ':' and ports outside 1–65535,
// which Apache answers with 400 at run time instead of refusing the config.
func checkPort(u *url.URL) error {
	p := u.Port()
	if p == "" {
		if strings.HasSuffix(u.Host, ":") {
			return errors.New("has an empty port; write host:port")
		}
		return nil
	}
	n, err := strconv.Atoi(p)
	switch {
	case err != nil || len(p) > 5:
		return fmt.Errorf("has port %s; a port is a number from 1 to 65535", p)
	case n == 0:
		return errors.New("has port 0, which nothing listens on; a port is a number from 1 to 65535")
	case n > 65535:
		return fmt.Errorf("has port %d; a port is a number from 1 to 65535", n)
	}
	return nil
}

// checkHost accepts an IP address (IPv6 in brackets) or a DNS name of
// letters, digits and inner hyphens, as Apache's URL parser does.
func checkHost(h string, bracketed bool) error {
	if bracketed {
		if ip := net.ParseIP(h); ip == nil || ip.To4() != nil {
			return fmt.Errorf("has [%s], which is not an IP address", h)
		}
		return nil
	}
	if net.ParseIP(h) != nil {
		return nil
	}
	labels := strings.Split(strings.TrimSuffix(h, "."), ".")
	numeric := true
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Errorf("has host %q, which is not a host name; use letters, digits and inner hyphens between dots, or an IP address", h)
		}
		for _, c := range l {
			switch {
			case c >= '0' && c <= '9':
			case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-':
				numeric = false
			default:
				return fmt.Errorf("has host %q, which is not a host name; use letters, digits and inner hyphens between dots, or an IP address", h)
			}
		}
	}
	if numeric {
		return fmt.Errorf("has host %q, which is not an IP address", h)
	}
	return nil
}

func checkChars(field Field, s string) error {
	for _, r := range s {
		if !strings.ContainsRune(pathChars, r) {
			return badChar(field, s, r)
		}
	}
	return nil
}

// badChar says which character of value is not allowed, and what is.
func badChar(field Field, value string, r rune) error {
	what := fmt.Sprintf("%q", r)
	switch {
	case r == '%':
		what = "percent-encoding (%)"
	case r < ' ' || r == 0x7f:
		what = "a control character"
	case r == ' ' || r == '\t':
		what = "whitespace"
	}
	return &InputError{Field: field, Msg: fmt.Sprintf("%q contains %s; a path may use letters, digits and -._~!&()*+,;=:@/", value, what)}
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
		return "", &InputError{Field: FieldBackend, Msg: fmt.Sprintf("%q and PATH %q must both end in / or both not; use %s", backend, path, want)}
	}
	return u.String(), nil
}
