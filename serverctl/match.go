package serverctl

import (
	"regexp"
	"strings"
)

// matchKind is how much of a URL path a rule claims.
type matchKind int

const (
	// matchComplex: a regular expression Socketbar cannot reason about; it
	// claims nothing for shadowing purposes.
	matchComplex matchKind = iota
	// matchPrefix: every path that starts with prefix.
	matchPrefix
	// matchSegment: prefix itself and every path under prefix + "/"; this is
	// how ProxyPass matches a path that does not end in "/" (mod_proxy's
	// alias_match requires the last path component to match whole).
	matchSegment
	// matchExact: prefix and nothing else.
	matchExact
)

// matcher describes the set of paths a rule answers.
type matcher struct {
	kind   matchKind
	prefix string
	// conditional rules (RewriteCond) may decline a request, so they shadow nothing.
	conditional bool
}

// aliasMatcher is ProxyPass PATH: "/ws" answers /ws and /ws/…, "/ws/" every
// path starting with /ws/.
func aliasMatcher(path string) matcher {
	if strings.HasSuffix(path, "/") {
		return matcher{kind: matchPrefix, prefix: path}
	}
	return matcher{kind: matchSegment, prefix: path}
}

// regexMatcher classifies an anchored regular expression by its literal
// prefix and the shape of what follows it.
func regexMatcher(re string, conditional bool) matcher {
	m := matcher{conditional: conditional}
	if !strings.HasPrefix(re, "^") {
		return m
	}
	prefix, tail := literalPrefix(re[1:])
	m.prefix = prefix
	switch tail {
	case "", "(.*)", "(.*)$", ".*", ".*$", "(.*)?$":
		m.kind = matchPrefix
	case "$":
		m.kind = matchExact
	case "(/.*)?", "(/.*)?$":
		m.kind = matchSegment
	}
	return m
}

// literalPrefix splits a regular expression into its leading literal text
// (escapes resolved) and the rest. A literal followed by a quantifier is
// left to the rest.
func literalPrefix(re string) (string, string) {
	var lit strings.Builder
	i := 0
	for i < len(re) {
		c := re[i]
		width := 1
		if c == '\\' {
			if i+1 >= len(re) || isAlnum(re[i+1]) {
				break
			}
			c, width = re[i+1], 2
		} else if strings.IndexByte(`.[]()*+?{}|$^`, c) >= 0 {
			break
		}
		if i+width < len(re) && strings.IndexByte("*+?{", re[i+width]) >= 0 {
			break
		}
		lit.WriteByte(c)
		i += width
	}
	return lit.String(), re[i:]
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// covers reports whether every path b answers is answered by a first.
func (a matcher) covers(b matcher) bool {
	if a.conditional || a.kind == matchComplex {
		return false
	}
	switch a.kind {
	case matchPrefix:
		return strings.HasPrefix(b.prefix, a.prefix)
	case matchSegment:
		if strings.HasPrefix(b.prefix, a.prefix+"/") {
			return true
		}
		return b.prefix == a.prefix && (b.kind == matchSegment || b.kind == matchExact)
	case matchExact:
		return b.kind == matchExact && b.prefix == a.prefix
	}
	return false
}

// Answers reports whether r answers every path o answers, leaving aside
// r's RewriteCond guards (a WebSocket rule's Upgrade guard, say).
func (r Route) Answers(o Route) bool {
	m := r.match
	m.conditional = false
	return m.covers(o.match)
}

// matches reports whether m answers the URL path p; a complex pattern
// answers nothing here (see Route.Serves, which runs it).
func (m matcher) matches(p string) bool {
	switch m.kind {
	case matchPrefix:
		return strings.HasPrefix(p, m.prefix)
	case matchSegment:
		return p == m.prefix || strings.HasPrefix(p, m.prefix+"/")
	case matchExact:
		return p == m.prefix
	}
	return false
}

// Serves reports whether r answers a request for urlPath, leaving aside
// its RewriteCond guards: its path as ProxyPass matches one ("/ws" answers
// /ws and /ws/…, "/ws/" every path under it), or, for a rule whose path is
// its regular expression (no literal prefix could be read from it), the
// expression itself.
func (r Route) Serves(urlPath string) bool {
	if r.Pattern != "" && r.Path == r.Pattern {
		re, err := regexp.Compile(r.Pattern)
		return err == nil && re.MatchString(urlPath)
	}
	return aliasMatcher(r.Path).matches(urlPath)
}
