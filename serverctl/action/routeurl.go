package action

import (
	"net"
	"strings"

	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/service"
)

// vhostURL is where the Service Proxy answers a route in its own
// VirtualHost: the endpoint on that VirtualHost's port, "" when nothing
// listens there. A route outside every VirtualHost (Apache merges those
// into each one) is tested where routeURL says.
func vhostURL(eps []service.Endpoint, rt serverctl.Route) string {
	if !strings.Contains(rt.VHost, ":") {
		return routeURL(eps, rt)
	}
	port := rt.VHost[strings.LastIndexByte(rt.VHost, ':')+1:]
	for _, e := range eps {
		if _, p, _ := net.SplitHostPort(e.Addr); p == port {
			if e.TLS {
				return "wss://" + e.Addr + rt.Path
			}
			return "ws://" + e.Addr + rt.Path
		}
	}
	return ""
}

// routeURL is where the Service Proxy answers a route, by loopback
// address: the endpoint on the route's VirtualHost port, else the first
// TLS endpoint; "" when the config listens nowhere.
func routeURL(eps []service.Endpoint, rt serverctl.Route) string {
	port := rt.VHost[strings.LastIndexByte(rt.VHost, ':')+1:]
	var fallback string
	for _, e := range eps {
		_, p, _ := net.SplitHostPort(e.Addr)
		scheme := "ws://"
		if e.TLS {
			scheme = "wss://"
		}
		if p == port {
			return scheme + e.Addr + rt.Path
		}
		if fallback == "" && e.TLS {
			fallback = scheme + e.Addr + rt.Path
		}
	}
	return fallback
}

// routeTarget is where a person would test a route: routeURL, except that
// a custom site's route is tested under the site's name (a request for
// 127.0.0.1 reaches the default hosts, never the site), dialled at the
// Service Proxy's loopback endpoint, which connect returns.
func routeTarget(eps []service.Endpoint, rt serverctl.Route) (url, connect string) {
	u := routeURL(eps, rt)
	scheme, rest, ok := strings.Cut(u, "://")
	slash := strings.IndexByte(rest, '/')
	if rt.Site == "" || !ok || slash < 0 {
		return u, ""
	}
	addr := rest[:slash]
	host := rt.Site
	if _, port, err := net.SplitHostPort(addr); err == nil && !(scheme == "wss" && port == "443") && !(scheme == "ws" && port == "80") {
		host = net.JoinHostPort(rt.Site, port)
	}
	return scheme + "://" + host + rt.Path, addr
}
