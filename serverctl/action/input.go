package action

import (
	"net/http"

	"github.com/socketbar/socketbar/internal/validate"
)

// The input checks a front end runs on what a person types before it asks
// for an action, so that it can mark the field at fault as it is typed.
// They are package validate's rules, the ones the actions apply again
// themselves: a front end that uses them refuses exactly what the action
// would. Each refusal is a *serverctl.InputError naming its field.

// ValidatePath checks a route's public URL path (AddOptions.Path).
func ValidatePath(p string) error { return validate.Path(p) }

// ValidateBackend checks a route's backend URL (AddOptions.Backend).
func ValidateBackend(s string) error {
	_, err := validate.Backend(s)
	return err
}

// ParseHeaders reads the extra headers of a test (TestOptions.Header) as
// a person writes them, one "Name: value" line each: the CLI's repeated
// -H, the lines of the app's Headers field. A blank line is no header; a
// Host header replaces the URL's host in the request.
func ParseHeaders(lines []string) (http.Header, error) { return validate.Headers(lines) }
