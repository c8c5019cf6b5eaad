package wstest

import (
	"fmt"
	"net/http"
	"strings"
)

// diagnoseRefusal explains a non-101 answer to the upgrade.
func (r *run) diagnoseRefusal(resp *http.Response, body string) {
	code, server := resp.StatusCode, resp.Header.Get("Server")
	lower := strings.ToLower(body)
	from := "the server"
	if server != "" {
		from = server
	}
	path := r.u.Path
	if server == serveServer || strings.HasPrefix(body, "socketbar serve") {
		r.diagnoseServe(code, strings.TrimSpace(body))
		return
	}
	if r.opts.Direct {
		r.diagnoseApp(code, strings.TrimSpace(body))
		return
	}
	switch {
	case code == http.StatusBadRequest && !r.secure() && mentionsAny(lower, "plain http to an ssl-enabled server port", "http request was sent to https port"):
		// Apache's and nginx's answer to plain HTTP on a TLS port.
		r.diagnose(CauseTLS, fmt.Sprintf("HTTP 400 from %s: this port speaks TLS, and the test spoke plain HTTP to it: a ws:// URL for a wss:// port.", from),
			"Use wss:// for this port (ws:// is for the plain HTTP port).")
	case strings.Contains(body, "No protocol handler was valid"):
		r.diagnose(CauseModuleMissing, fmt.Sprintf("HTTP %d from %s: Apache has no module for the route's ws:// target (\"No protocol handler was valid for the URL\").", code, from),
			"Load mod_proxy_wstunnel in the Service Proxy config (Socketbar's lint prints the exact LoadModule line), or on Apache 2.4.47+ add the route again with the upgrade strategy.")
	case code == http.StatusInternalServerError && strings.HasPrefix(server, "Apache"):
		// Apache keeps AH01144's text for its error log and sends a bare 500.
		r.diagnose(CauseModuleMissing, fmt.Sprintf("HTTP 500 from %s on a WebSocket route: most often a proxy module for the route's target is not loaded — the error log then says AH01144 \"No protocol handler was valid for the URL\".", from),
			"Load mod_proxy_wstunnel in the Service Proxy config (Socketbar's lint prints the exact LoadModule line), or on Apache 2.4.47+ add the route again with the upgrade strategy.")
	case code == http.StatusBadRequest && mentionsAny(lower, "origin", "host", "not allowed", "forbidden"):
		r.diagnose(CauseAppRejected, fmt.Sprintf("HTTP %d from %s: the app refused the connection's Origin or Host (%.80q).", code, from, strings.TrimSpace(body)),
			"Allow the public host name in the app (Django's ALLOWED_HOSTS and AllowedHostsOriginValidator, Socket.IO's cors_allowed_origins), or send the Origin the app expects.")
	case code == http.StatusUpgradeRequired || code == http.StatusBadRequest || (code == http.StatusMethodNotAllowed && mentionsAny(lower, "upgrade", "websocket")):
		r.diagnose(CauseUpgradeDropped, fmt.Sprintf("HTTP %d from %s: the app received a plain request without the Upgrade header. A proxy on the way dropped it: an http:// route without upgrade=websocket, or a rule in the Websites tier behind the Service Proxy's plain ProxyPass.", code, from),
			fmt.Sprintf("Add a WebSocket route for %s in the Service Proxy with Socketbar; it writes the form your Apache tunnels. Socketbar's route check shows which tier drops it.", path))
	case code == http.StatusBadGateway || code == http.StatusServiceUnavailable || code == http.StatusGatewayTimeout:
		r.diagnose(CauseBackendDown, fmt.Sprintf("HTTP %d from %s: the proxy could not reach the app behind %s%s.", code, from, path, proxyErrorHint(body)),
			"Start the app, or check the backend address and port of the route (Socketbar lists the routes).")
	case code >= 500:
		r.diagnose(CauseBackendDown, fmt.Sprintf("HTTP %d from %s: the server failed while handling the upgrade%s.", code, from, proxyErrorHint(body)),
			"Read the Service Proxy's error log (Socketbar's status shows where it is) and the app's log.")
	case code == http.StatusForbidden || code == http.StatusUnauthorized:
		r.diagnose(CauseAppRejected, fmt.Sprintf("HTTP %d from %s: the request reached something that refused the WebSocket.", code, from),
			"Apps often refuse an Origin or Host they do not know (Django's ALLOWED_HOSTS and AllowedHostsOriginValidator, Socket.IO's cors_allowed_origins): allow the public host name, or send the Origin the app expects.")
	default:
		tier := "an Apache page"
		if strings.Contains(lower, "websites tier") || (strings.HasPrefix(server, "Apache") && strings.Contains(lower, "not found")) {
			tier = "Apache's own \"Not Found\" — the Websites tier behind the catch-all"
		}
		r.diagnose(CauseRouteMissing, fmt.Sprintf("HTTP %d from %s instead of 101: the request never reached a WebSocket route (%s). The Service Proxy has no WebSocket route for %s, or one that comes after the catch-all ProxyPass /.", code, from, tier, path),
			fmt.Sprintf("Add a WebSocket route for %s in the Service Proxy with Socketbar, then check its order with Socketbar's lint.", path))
	}
}

// diagnoseApp explains a non-101 answer from the app itself, reached with
// no proxy in between: no proxy or route can be at fault.
func (r *run) diagnoseApp(code int, body string) {
	path := r.u.Path
	said := ""
	if body != "" {
		said = " (" + shownText(body, 80) + ")"
	}
	switch {
	case code == http.StatusNotFound:
		r.diagnose(CauseRouteMissing, fmt.Sprintf("HTTP 404 from the app itself%s: it has no WebSocket at %s.", said, path),
			fmt.Sprintf("Correct the route's backend URL to the path where the app serves its WebSocket, or add %s to the app's WebSocket routing (Django Channels: websocket_urlpatterns).", path))
	case code == http.StatusForbidden || code == http.StatusUnauthorized || (code == http.StatusBadRequest && mentionsAny(strings.ToLower(body), "origin", "host", "not allowed", "forbidden")):
		r.diagnose(CauseAppRejected, fmt.Sprintf("HTTP %d from the app itself%s: it refused the WebSocket.", code, said),
			"Allow the public host name and Origin in the app (Django's ALLOWED_HOSTS and AllowedHostsOriginValidator, Socket.IO's cors_allowed_origins), or send the Origin it expects.")
	case code >= 500:
		r.diagnose(CauseBackendDown, fmt.Sprintf("HTTP %d from the app itself%s: it failed while handling the upgrade.", code, said),
			"Read the app's log for the error, and fix the app.")
	default:
		r.diagnose(CauseAppRejected, fmt.Sprintf("HTTP %d from the app itself%s instead of 101: it does not take a WebSocket at %s.", code, said, path),
			fmt.Sprintf("Check that the app serves WebSockets at %s (a WebSocket handler, not a plain HTTP view; Django: an ASGI server such as Daphne or uvicorn), or correct the route's backend URL.", path))
	}
}

// serveServer is the Server header of socketbar serve's own answers
// (proxy.ServerHeader); the backend answers it passes on keep theirs.
const serveServer = "socketbar-serve"

// diagnoseServe explains an answer socketbar serve, the test proxy, gave
// itself: the Service Proxy and its config were not involved, so the fix
// is in how serve was started or in the app behind it.
func (r *run) diagnoseServe(code int, body string) {
	path := r.u.Path
	said := shownText(body, maxShown)
	switch {
	case code == http.StatusNotFound:
		routes := "the routes it printed when it started"
		if _, list, ok := strings.Cut(body, "Its routes: "); ok {
			routes = strings.TrimSuffix(list, ".")
			if routes == "none" {
				routes = "no route at all"
			}
		}
		r.diagnose(CauseRouteMissing, fmt.Sprintf("HTTP 404 from socketbar serve, the test proxy, not from Apache: socketbar serve has no route for this path (%s): it serves only %s.", path, shownText(routes, maxShown)),
			fmt.Sprintf("Test a path that socketbar serve routes, or start it again with a route for %s: it serves the Service Proxy's routes and any given to it by hand.", path))
	case code == http.StatusBadGateway || code == http.StatusServiceUnavailable || code == http.StatusGatewayTimeout:
		r.diagnose(CauseBackendDown, fmt.Sprintf("HTTP %d from socketbar serve, the test proxy: it could not reach the app behind %s (%s).", code, path, said),
			"Start the app, or check the backend address and port of the route socketbar serve uses.")
	case code >= 500:
		r.diagnose(CauseBackendDown, fmt.Sprintf("HTTP %d from socketbar serve, the test proxy: %s.", code, said),
			"socketbar serve logs every request where it runs: read its log there.")
	default:
		r.diagnose(CauseBadURL, fmt.Sprintf("HTTP %d from socketbar serve, the test proxy, which refused the request: %s.", code, said),
			"socketbar serve forwards only the paths of its routes, such as /ws/; test one of them.")
	}
}

func mentionsAny(lower string, words ...string) bool {
	for _, w := range words {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// proxyErrorHint quotes the reason in an Apache or Socketbar proxy error page.
func proxyErrorHint(body string) string {
	for _, marker := range []string{"Reason: <strong>", "Reason: "} {
		if i := strings.Index(body, marker); i >= 0 {
			rest := body[i+len(marker):]
			if j := strings.IndexAny(rest, "<\n"); j >= 0 {
				rest = rest[:j]
			}
			return " (" + strings.TrimSpace(rest) + ")"
		}
	}
	if strings.HasPrefix(body, "socketbar serve:") {
		return " (" + strings.TrimSpace(body) + ")"
	}
	return ""
}
