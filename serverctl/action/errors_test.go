package action

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode"

	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/apacheconf/loader"
	"github.com/socketbar/socketbar/serverctl/demo"
	"github.com/socketbar/socketbar/serverctl/elevate"
	"github.com/socketbar/socketbar/serverctl/remote"
)

// errorSources are the packages whose errors the actions return.
var errorSources = map[string]string{
	"serverctl": "..", "action": ".", "demo": "../demo", "elevate": "../elevate",
	"loader": "../apacheconf/loader", "proxy": "../../proxy", "remote": "../remote",
}

// notKinds are the exported error types of errorSources that are not a
// kind of their own, and why.
var notKinds = map[string]string{
	"serverctl.WriteAccessError": "the action layer turns it into a NeedsRootError",
	"loader.UseError":            "the Err of a LoadError",
	// A bug in Socketbar, not something a person can fix: a command
	// outside the list it may run on a Server, refused before it ran.
	"remote.CommandError": "Socketbar's own command outside remote.Commands; its message names it",
}

// sentinels are the exported error values of errorSources, by name, and
// whether each is a kind of its own (Kinds has an error that is it).
var sentinels = map[string]struct {
	err  error
	kind bool
}{
	"serverctl.ErrChangedOnDisk": {serverctl.ErrChangedOnDisk, true},
	"serverctl.ErrInterrupted":   {serverctl.ErrInterrupted, true},
	"serverctl.ErrForeignOwner":  {serverctl.ErrForeignOwner, true},
	"serverctl.ErrSymlink":       {serverctl.ErrSymlink, true},
	"serverctl.ErrNotDir":        {serverctl.ErrNotDir, true},
	"serverctl.ErrWasStopped":    {serverctl.ErrWasStopped, true},
	"serverctl.ErrLocked":        {serverctl.ErrLocked, true},
	// Why a read failed; the message names the file and says it.
	"serverctl.ErrNotRegular": {serverctl.ErrNotRegular, false},
	"serverctl.ErrTooLarge":   {serverctl.ErrTooLarge, false},
	// The action layer turns it into NeedsRootError.ReadOnly.
	"serverctl.ErrReadOnlyFS": {serverctl.ErrReadOnlyFS, false},
	"elevate.ErrCancelled":    {elevate.ErrCancelled, true},
	"elevate.ErrTampered":     {elevate.ErrTampered, true},
	"demo.ErrNoHTTPD":         {demo.ErrNoHTTPD, true},
	"demo.ErrNotDemoTree":     {demo.ErrNotDemoTree, true},
	// Only an action started while the app quits meets it; nobody reads it.
	"action.ErrPoolClosed":    {ErrPoolClosed, false},
	"action.ErrNoRoutes":      {ErrNoRoutes, true},
	"action.ErrNothingToUndo": {ErrNothingToUndo, true},
	"action.ErrNoHTTPD":       {ErrNoHTTPD, true},
	// Never returned: Demo.SSHErr wraps it, and the demo says it in a line.
	"action.ErrNoSSHD":        {ErrNoSSHD, false},
	"action.ErrChangedOnDisk": {ErrChangedOnDisk, true},
	"action.ErrWasStopped":    {ErrWasStopped, true},
	"action.ErrInterrupted":   {ErrInterrupted, true},
	"action.ErrForeignOwner":  {ErrForeignOwner, true},
	"action.ErrSymlink":       {ErrSymlink, true},
	"action.ErrNotDir":        {ErrNotDir, true},
	"action.ErrCancelled":     {ErrCancelled, true},
	"action.ErrTampered":      {ErrTampered, true},
	"action.ErrNotDemoTree":   {ErrNotDemoTree, true},
	"action.ErrClosed":        {ErrClosed, true},
	"action.ErrLocked":        {ErrLocked, true},
	"remote.ErrClosed":        {ErrClosed, true},
	// An argument with a NUL, refused before anything runs: no argument
	// or path a person gives on a command line can hold one.
	"remote.ErrNUL": {remote.ErrNUL, false},
	// Why a load stopped: the Err of a LoadError, which words them.
	"loader.ErrCycle":            {loader.ErrCycle, false},
	"loader.ErrTooDeep":          {loader.ErrTooDeep, false},
	"loader.ErrTooManyFiles":     {loader.ErrTooManyFiles, false},
	"loader.ErrTooLarge":         {loader.ErrTooLarge, false},
	"loader.ErrNotRegular":       {loader.ErrNotRegular, false},
	"loader.ErrNoMatch":          {loader.ErrNoMatch, false},
	"loader.ErrTooManyNodes":     {loader.ErrTooManyNodes, false},
	"loader.ErrMacro":            {loader.ErrMacro, false},
	"loader.ErrLineTooLong":      {loader.ErrLineTooLong, false},
	"loader.ErrTooMuchExpansion": {loader.ErrTooMuchExpansion, false},
}

// TestKindsListsEveryErrorOfTheLibraries reads the libraries' sources for
// exported error types and values: each must be a kind in Kinds (so both
// front ends have words for it) or be named above as none, with why. A
// new error a person would meet fails here until it is one or the other.
func TestKindsListsEveryErrorOfTheLibraries(t *testing.T) {
	inKinds := map[string]bool{}
	for _, k := range Kinds() {
		for _, e := range chain(k) {
			inKinds[typeName(e)] = true
		}
	}
	for pkg, dir := range errorSources {
		types, values := exportedErrors(t, dir)
		for _, name := range types {
			full := pkg + "." + name
			if !inKinds[full] && notKinds[full] == "" {
				t.Errorf("%s is an error type that Kinds does not list: add an example to Kinds (and words to both front ends), or say in notKinds why it is none", full)
			}
		}
		for _, name := range values {
			full := pkg + "." + name
			s, ok := sentinels[full]
			switch {
			case !ok:
				t.Errorf("%s is an error value this test does not know: add it to sentinels, and to Kinds if a person may meet it", full)
			case s.kind && !isAnyKind(s.err):
				t.Errorf("%s is a kind, but no error of Kinds is it", full)
			}
		}
	}
}

func isAnyKind(target error) bool {
	for _, k := range Kinds() {
		if errors.Is(k, target) {
			return true
		}
	}
	return false
}

// chain is err and every error it wraps.
func chain(err error) []error {
	out := []error{err}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		if inner := u.Unwrap(); inner != nil {
			out = append(out, chain(inner)...)
		}
	case interface{ Unwrap() []error }:
		for _, inner := range u.Unwrap() {
			out = append(out, chain(inner)...)
		}
	}
	return out
}

// typeName is "pkg.Type" for an error of a named type, the package by its
// last path element.
func typeName(err error) string {
	t := reflect.TypeOf(err)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return filepath.Base(t.PkgPath()) + "." + t.Name()
}

// exportedErrors lists the exported types of the package in dir that have
// an Error() string method, and its exported package-level Err… values.
func exportedErrors(t *testing.T, dir string) (types, values []string) {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no Go files in %s: %v", dir, err)
	}
	seen := map[string]bool{}
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil || d.Name.Name != "Error" || len(d.Type.Params.List) != 0 {
					continue
				}
				recv := d.Recv.List[0].Type
				if star, ok := recv.(*ast.StarExpr); ok {
					recv = star.X
				}
				if id, ok := recv.(*ast.Ident); ok && exported(id.Name) && !seen[id.Name] {
					seen[id.Name] = true
					types = append(types, id.Name)
				}
			case *ast.GenDecl:
				if d.Tok != token.VAR {
					continue
				}
				for _, spec := range d.Specs {
					for _, n := range spec.(*ast.ValueSpec).Names {
						if strings.HasPrefix(n.Name, "Err") && exported(n.Name) {
							values = append(values, n.Name)
						}
					}
				}
			}
		}
	}
	return types, values
}

func exported(name string) bool { return unicode.IsUpper([]rune(name)[0]) }
