package serverctl

import "testing"

// A route serves a URL path as mod_proxy's ProxyPass matches it (a path
// without a trailing slash matches whole segments only), or by its regular
// expression when it has no literal prefix.
func TestRouteServesAPathAsApacheMatchesIt(t *testing.T) {
	for _, tt := range []struct {
		route Route
		path  string
		want  bool
	}{
		{Route{Path: "/ws/"}, "/ws/", true},
		{Route{Path: "/ws/"}, "/ws/chat", true},
		{Route{Path: "/ws/"}, "/ws", false},
		{Route{Path: "/ws"}, "/ws", true},
		{Route{Path: "/ws"}, "/ws/chat", true},
		{Route{Path: "/ws"}, "/wsx", false},
		{Route{Path: "/ws"}, "/w", false},
		{Route{Path: "/"}, "/anything", true},
		// A RewriteRule with a literal prefix is matched by that prefix.
		{Route{Path: "/chat/", Pattern: "^/chat/(.*)$"}, "/chat/room", true},
		{Route{Path: "/chat/", Pattern: "^/chat/(.*)$"}, "/other/", false},
		// Without one its expression decides.
		{Route{Path: "^/(a|b)/ws$", Pattern: "^/(a|b)/ws$"}, "/b/ws", true},
		{Route{Path: "^/(a|b)/ws$", Pattern: "^/(a|b)/ws$"}, "/c/ws", false},
		{Route{Path: "(", Pattern: "("}, "(", false}, // not an expression Go reads
	} {
		if got := tt.route.Serves(tt.path); got != tt.want {
			t.Errorf("route %q (pattern %q) serves %q = %v, want %v", tt.route.Path, tt.route.Pattern, tt.path, got, tt.want)
		}
	}
}
