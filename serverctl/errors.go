package serverctl

import (
	"fmt"
	"strings"

	"github.com/socketbar/socketbar/internal/pkgerr"
)

// errorf is fmt.Errorf for this package's own errors: their Error() names
// the package for logs, and pkgerr.Text gives people the message without it.
func errorf(format string, args ...any) error { return pkgerr.Errorf("serverctl", format, args...) }

// RouteExistsError refuses to add a route for a path that already has one
// of Socketbar's in a VirtualHost, when replacing it was not asked for. It
// is an input error about the path: errors.As finds an *InputError (Field
// FieldPath, Remedy RemedyReplace) in it, so a form can mark the field.
type RouteExistsError struct {
	Path string
	// VHost labels where the route is: a VirtualHost's address ("*:443")
	// or the custom sites' macro ("macro VHost").
	VHost string
	// Backend, Strategy and Hosts are the existing route's; Hosts is empty
	// when it serves every site. Line is its begin marker's line.
	Backend  string
	Strategy Strategy
	Hosts    []string
	Line     int
}

func (e *RouteExistsError) Error() string { return "serverctl: " + e.input().Msg }

func (e *RouteExistsError) Unwrap() error { return e.input() }

func (e *RouteExistsError) input() *InputError {
	hosts := ""
	if len(e.Hosts) > 0 {
		hosts = ", for " + strings.Join(e.Hosts, ", ")
	}
	return &InputError{Field: FieldPath, Remedy: RemedyReplace,
		Msg: fmt.Sprintf("%s already has a Socketbar route for %s (to %s, %s%s, line %d)", e.VHost, e.Path, e.Backend, e.Strategy, hosts, e.Line)}
}

// OutcomeNotRecordedError is a change whose outcome could not be written
// into its history entry. What the change did to the files stands
// (Outcome says what became of it); the history goes on listing the
// change as pending, which is not what happened, and keeps the journal
// of the change, so that the next Socketbar command settles it again.
type OutcomeNotRecordedError struct {
	Entry   BackupEntry
	Outcome Outcome
	Err     error
}

func (e *OutcomeNotRecordedError) Error() string {
	return fmt.Sprintf("serverctl: change %s was %s, but Socketbar could not record that in its history (%v); the next Socketbar command records it", e.Entry.ID, e.Outcome, e.Err)
}

func (e *OutcomeNotRecordedError) Unwrap() error { return e.Err }
