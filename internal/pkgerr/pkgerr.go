// Package pkgerr is the error Socketbar's libraries return for a failure
// that none of their typed errors names, most often a file that could not
// be read or written.
//
// As Go's own packages do, its Error() starts with the package's name
// ("serverctl: write the backup: …"), which helps whoever reads a log. What
// a person reads in the CLI or the app is Text: the same message without
// the name, which says nothing to them. No front end cuts the name off a
// message; the library keeps it apart, and an *Error wrapped in another
// names its package once, at the front.
package pkgerr

import "fmt"

// Error is a failure of the package Pkg. Err says what failed in words
// that name no package.
type Error struct {
	// Pkg is the package's name, "serverctl".
	Pkg string
	Err error
}

func (e *Error) Error() string { return e.Pkg + ": " + e.Err.Error() }

func (e *Error) Unwrap() error { return e.Err }

// Errorf is fmt.Errorf for the package pkg. An argument that is an *Error,
// of any package, stands for its Err: it is formatted (and wrapped, with
// %w) without its package's name, so the message names a package only at
// its front. errors.Is and errors.As still find everything Err wraps.
func Errorf(pkg, format string, args ...any) error {
	plain := make([]any, len(args))
	for i, a := range args {
		if e, ok := a.(*Error); ok {
			a = e.Err
		}
		plain[i] = a
	}
	return &Error{Pkg: pkg, Err: fmt.Errorf(format, plain...)}
}

// Text is err's message as a person reads it: an *Error's without the
// name of its package, any other error's as it is.
func Text(err error) string {
	if e, ok := err.(*Error); ok {
		return e.Err.Error()
	}
	return err.Error()
}
