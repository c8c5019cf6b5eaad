package app

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The app reaches the Server through the action layer alone, so that an
// Actions for a Server elsewhere (over SSH) needs nothing else: of this
// module's packages it imports serverctl/action, the tester's report
// type (proxy/wstest), its own icons (assets) and locale fix.
func TestTheAppImportsOnlyTheActionLayer(t *testing.T) {
	const module = "github.com/socketbar/socketbar/"
	allowed := map[string]bool{
		module + "serverctl/action": true, module + "proxy/wstest": true,
		module + "assets": true, module + "app/posixlocale": true,
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(path, module) && !allowed[path] {
				t.Errorf("%s imports %s; the app goes through serverctl/action", name, path)
			}
		}
	}
}
