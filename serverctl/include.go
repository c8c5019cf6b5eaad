package serverctl

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/socketbar/socketbar/serverctl/apacheconf"
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
			return nil, fmt.Errorf("serverctl: %s line %d: %w", n.Name, n.Line, err)
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
				return nil, fmt.Errorf("serverctl: cannot test the new config: the path %q cannot be written in an Include line", m)
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
			return nil, fmt.Errorf("serverctl: cannot test the new config: no Include line of the main config reads %s", real)
		}
	}
	return f.Bytes(), nil
}

// includeMatches returns the files an Include pattern reads, in Apache's
// order, leaving out skip (the test copies, which Apache will not find
// there once the test is done). Like Apache (and the loader): a wildcard,
// in any segment, matches names sorted per folder and skips hidden ones
// unless the segment starts with a dot (fnmatch with FNM_PERIOD), a
// non-final wildcard segment matches folders only, and a folder is read
// whole, hidden files included, its sub-folders in turn.
func includeMatches(pattern string, skip map[string]bool) ([]string, error) {
	pattern = filepath.Clean(pattern)
	cur := []string{pattern}
	if strings.ContainsAny(pattern, `*?[\`) {
		segs := strings.Split(pattern, string(filepath.Separator))
		cur = []string{segs[0] + string(filepath.Separator)}
		for i, seg := range segs[1:] {
			last := i == len(segs)-2
			var next []string
			for _, dir := range cur {
				if !strings.ContainsAny(seg, `*?[\`) {
					next = append(next, filepath.Join(dir, seg))
					continue
				}
				entries, err := os.ReadDir(dir)
				if err != nil {
					continue // IncludeOptional; Include fails in the test itself
				}
				for _, e := range entries {
					name := e.Name()
					if name[0] == '.' && seg[0] != '.' {
						continue
					}
					ok, err := filepath.Match(seg, name)
					if err != nil {
						return nil, err
					}
					m := filepath.Join(dir, name)
					if ok && (last || isDir(m)) {
						next = append(next, m)
					}
				}
			}
			cur = next
		}
	}
	var files []string
	for _, m := range cur {
		if err := readTree(m, skip, &files, 0); err != nil {
			return nil, err
		}
	}
	return files, nil
}

// maxIncludeDepth bounds how deep readTree follows folders (and links to
// folders, which could loop).
const maxIncludeDepth = 32

// readTree appends path to files, or for a folder every file below it,
// sorted per folder, as Apache includes a folder.
func readTree(path string, skip map[string]bool, files *[]string, depth int) error {
	if skip[path] {
		return nil
	}
	if !isDir(path) {
		*files = append(*files, path)
		return nil
	}
	if depth >= maxIncludeDepth {
		return fmt.Errorf("%s: folders more than %d levels deep", path, maxIncludeDepth)
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return err
	}
	for _, e := range entries { // sorted by name, as Apache sorts them
		if err := readTree(filepath.Join(path, e.Name()), skip, files, depth+1); err != nil {
			return err
		}
	}
	return nil
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// leadingSpace is the indentation of a line.
func leadingSpace(raw []byte) string {
	s := string(raw)
	return s[:len(s)-len(strings.TrimLeft(s, " \t"))]
}
