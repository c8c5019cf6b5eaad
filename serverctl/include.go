package serverctl

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/socketbar/socketbar/serverctl/apacheconf"
	"github.com/socketbar/socketbar/serverctl/apacheconf/loader"
)

// redirectIncludes returns the main config text with every Include or
// IncludeOptional line that reads one of the files in redirect (a path on
// this machine → the path of its new text) replaced by one Include line per
// file it reads, in Apache's order, naming the new text instead. Only the
// config test reads the result. resolve maps a line's argument to the path
// or wildcard pattern on this machine (nil: as it is).
//
// A file that no Include line reads is an error: testing without it would
// pass a config Apache was never shown.
func redirectIncludes(text []byte, redirect map[string]string, resolve func(string) string) ([]byte, error) {
	f, err := apacheconf.Parse(text)
	if err != nil {
		return nil, err
	}
	var includes []*apacheconf.Node
	f.Walk(func(n *apacheconf.Node) bool {
		switch {
		case n.Kind == apacheconf.Section && n.Is("Macro"):
			return false
		case n.Kind == apacheconf.Directive && (n.Is("Include") || n.Is("IncludeOptional")) && len(n.Args) == 1:
			includes = append(includes, n)
		}
		return true
	})
	done := map[string]bool{}
	tmps := map[string]bool{}
	for _, tmp := range redirect {
		tmps[tmp] = true
	}
	for _, n := range includes {
		pattern := n.Args[0]
		if resolve != nil {
			pattern = resolve(pattern)
		}
		matches, err := includeMatches(pattern, tmps)
		if err != nil {
			return nil, errorf("%s line %d: %w", n.Name, n.Line, err)
		}
		hit := false
		for _, m := range matches {
			if _, ok := redirect[m]; ok {
				hit = true
			}
		}
		if !hit {
			continue
		}
		var lines strings.Builder
		indent := leadingSpace(n.Raw)
		for _, m := range matches {
			if tmp, ok := redirect[m]; ok {
				m = tmp
				done[m] = true
			}
			if strings.ContainsAny(m, "\"\\\r\n") {
				return nil, errorf("cannot test the new config: the path %q cannot be written in an Include line", m)
			}
			fmt.Fprintf(&lines, "%sInclude %s\n", indent, strconv.Quote(m))
		}
		nodes, err := apacheconf.Lines(lines.String())
		if err != nil {
			return nil, err
		}
		if err := f.InsertBefore(n, nodes); err != nil {
			return nil, err
		}
		if err := f.RemoveRun(n, n); err != nil {
			return nil, err
		}
	}
	for real, tmp := range redirect {
		if !done[tmp] {
			return nil, errorf("cannot test the new config: no Include line of the main config reads %s", real)
		}
	}
	return f.Bytes(), nil
}

// includeMatches returns the files an Include pattern reads, as the loader
// follows it, leaving out skip (the test copies, which Apache will not
// find there once the test is done).
func includeMatches(pattern string, skip map[string]bool) ([]string, error) {
	all, err := loader.Match(pattern, true)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, f := range all {
		if f = filepath.FromSlash(f); !skip[f] {
			files = append(files, f)
		}
	}
	return files, nil
}

// leadingSpace is the indentation of a line.
func leadingSpace(raw []byte) string {
	s := string(raw)
	return s[:len(s)-len(strings.TrimLeft(s, " \t"))]
}
