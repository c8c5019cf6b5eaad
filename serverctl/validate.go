package serverctl

import (
	"fmt"
	"strings"

	"github.com/socketbar/socketbar/internal/validate"
)

// Field names the input an InputError is about. The library never words
// it: the CLI names its flag or argument, the app its form field. The type
// and the fields of what a person types (path, backend, URL, …) live in
// package validate, with the rules that check them.
type Field = validate.Field

// The inputs whose rules are package validate's.
const (
	FieldPath      = validate.FieldPath
	FieldBackend   = validate.FieldBackend
	FieldRoute     = validate.FieldRoute
	FieldURL       = validate.FieldURL
	FieldOrigin    = validate.FieldOrigin
	FieldHeader    = validate.FieldHeader
	FieldConnect   = validate.FieldConnect
	FieldAddr      = validate.FieldAddr
	FieldProxyAddr = validate.FieldProxyAddr
)

// The inputs only serverctl checks.
const (
	FieldStrategy      Field = "strategy"       // how a route is written
	FieldVHost         Field = "vhost"          // the VirtualHosts to change, by port
	FieldApacheVersion Field = "apache-version" // the Apache version to assume
	FieldBackup        Field = "backup"         // a backup's ID, to undo
	FieldFile          Field = "file"           // a config file to lint
	FieldCert          Field = "cert"           // the test proxy's certificate and key
)

// Remedy is a way out of an InputError that the front end words in its
// own terms (a flag for the CLI, a control for the app).
type Remedy = validate.Remedy

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
// when it is returned. It is package validate's, so that a refusal by its
// rules and one by serverctl's are the same type to a front end.
type InputError = validate.InputError

func inputErr(f Field, format string, args ...any) *InputError {
	return &InputError{Field: f, Msg: fmt.Sprintf(format, args...)}
}

// normalizeRoute checks path and backend and returns the backend URL the
// route forwards to. A backend without a path keeps the public path
// (http://127.0.0.1:8000 for /ws/ means http://127.0.0.1:8000/ws/). The two
// must agree on a trailing slash, or Apache would join them into "//" or
// glue segments together.
func normalizeRoute(path, backend string) (string, error) {
	if err := validate.Path(path); err != nil {
		return "", err
	}
	u, err := validate.Backend(backend)
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
