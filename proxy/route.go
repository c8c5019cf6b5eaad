package proxy

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// Route forwards requests under Path to Backend.
type Route struct {
	// Path is the public path prefix ("/ws/"). As with Apache's ProxyPass,
	// "/ws" answers /ws and /ws/…, not /wsx.
	Path string
	// Backend is an http, https, ws or wss URL; the rest of the request path
	// after Path is appended to its path.
	Backend *url.URL
}

func (r Route) String() string { return r.Path + " → " + r.Backend.String() }

// NewRoute checks a route's backend URL.
func NewRoute(path, backend string) (Route, error) {
	u, err := url.Parse(backend)
	if err != nil {
		return Route{}, errorf("route %s: backend %q: %w", path, backend, err)
	}
	switch u.Scheme {
	case "http", "https", "ws", "wss":
	default:
		return Route{}, errorf("route %s: backend %q must be an http, https, ws or wss URL", path, backend)
	}
	if u.Host == "" {
		return Route{}, errorf("route %s: backend %q has no host", path, backend)
	}
	if !strings.HasPrefix(path, "/") {
		return Route{}, errorf("route path %q must start with /", path)
	}
	return Route{Path: path, Backend: u}, nil
}

// routeTable finds the route for a request path: the longest route path
// that matches it.
type routeTable []Route

func newRouteTable(routes []Route) routeTable {
	t := append(routeTable(nil), routes...)
	sort.SliceStable(t, func(i, j int) bool { return len(t[i].Path) > len(t[j].Path) })
	return t
}

// match returns the route for path and the rest of path after the route's.
func (t routeTable) match(path string) (Route, string, bool) {
	for _, r := range t {
		if rest, ok := matchPrefix(r.Path, path); ok {
			return r, rest, true
		}
	}
	return Route{}, "", false
}

// matchPrefix is Apache's alias_match without its slash folding: prefix
// matches path when path starts with it and, unless prefix ends in "/",
// the match ends at a path segment boundary.
func matchPrefix(prefix, path string) (string, bool) {
	if !strings.HasPrefix(path, prefix) {
		return "", false
	}
	rest := path[len(prefix):]
	if !strings.HasSuffix(prefix, "/") && rest != "" && rest[0] != '/' {
		return "", false
	}
	return rest, true
}

// cleanPath normalises a request path the way Apache does before it maps
// it to a route (ap_normalize_path with AP_NORMALIZE_DECODE_UNRESERVED and
// AP_NORMALIZE_NOT_ABOVE_ROOT, server/util.c): %-escapes are decoded, then
// "." and ".." segments removed (RFC 3986 section 5.2.4), so that
// /app/%2e%2e/x is the /x it means. Like Apache with AllowEncodedSlashes
// Off, it refuses an encoded slash (%2F), which a backend may decode into a
// separator after the route was matched, and an encoded NUL; like Apache,
// it refuses a ".." above the root. raw is the path as sent, still
// escaped; decoded is it decoded with dot segments kept.
func cleanPath(raw string) (clean, decoded string, err error) {
	for i := 0; i+2 < len(raw); i++ {
		if raw[i] != '%' {
			continue
		}
		switch strings.ToLower(raw[i+1 : i+3]) {
		case "2f":
			return "", "", fmt.Errorf("it has an encoded slash (%s)", raw[i:i+3])
		case "00":
			return "", "", fmt.Errorf("it has an encoded NUL (%s)", raw[i:i+3])
		}
	}
	decoded, err = url.PathUnescape(raw)
	if err != nil {
		return "", "", fmt.Errorf("it has an invalid %%-escape: %w", err)
	}
	if !strings.HasPrefix(decoded, "/") {
		return "", "", fmt.Errorf("it does not start with /")
	}
	segs := strings.Split(decoded[1:], "/")
	out := make([]string, 0, len(segs))
	for i, seg := range segs {
		last := i == len(segs)-1
		switch seg {
		case ".":
		case "..":
			if len(out) == 0 {
				return "", "", fmt.Errorf("its .. segments climb above the root")
			}
			out = out[:len(out)-1]
		default:
			out = append(out, seg)
			continue
		}
		if last {
			out = append(out, "") // "/a/." and "/a/b/.." are "/a/"
		}
	}
	return "/" + strings.Join(out, "/"), decoded, nil
}

// route finds the route for a request's raw path after cleanPath. A path
// whose dot segments lead out of the route it names (/app/../secret)
// is refused rather than sent to whichever route, if any, the cleaned
// path falls in: nobody types that by mistake.
func (t routeTable) route(raw string) (r Route, rest string, ok bool, err error) {
	clean, decoded, err := cleanPath(raw)
	if err != nil {
		return Route{}, "", false, err
	}
	r, rest, ok = t.match(clean)
	if clean != decoded {
		if named, _, found := t.match(decoded); found && (!ok || named.Path != r.Path) {
			return Route{}, "", false, fmt.Errorf("its dot segments leave the route %s", named.Path)
		}
	}
	return r, rest, ok, nil
}

// target is the backend URL for a request: the route's backend path with
// the rest of the request path appended, and the client's query.
func (r Route) target(rest, rawQuery string) *url.URL {
	u := *r.Backend
	u.Path = u.Path + rest
	if u.RawPath != "" {
		u.RawPath = u.RawPath + rest
	}
	u.RawQuery = rawQuery
	return &u
}

// httpScheme maps ws/wss backends to the scheme the connection uses.
func httpScheme(s string) string {
	switch s {
	case "ws":
		return "http"
	case "wss":
		return "https"
	}
	return s
}
