package action

import (
	"context"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/socketbar/socketbar/proxy/wstest"
	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/sites"
)

// siteView is what a test needs of the Server's config to say which
// VirtualHost answered it: the sites (which know the VirtualHost Apache
// picks, see sites.List.Answering) and every route with its site.
type siteView struct {
	list   *sites.List
	routes []serverctl.Route
	// macros says that custom sites are made by the main config's macros
	// (Server 5.2 and later), which Socketbar edits; without them the
	// custom sites' VirtualHosts are in the customsites file.
	macros bool
}

// readSiteView reads the whole config the Service Proxy reads (its
// includes, the customsites file and its macros); nil when it cannot.
func readSiteView(ctx context.Context, srv *serverctl.Server, cfg *serverctl.Config) *siteView {
	lc, err := loadAll(ctx, srv, cfg)
	if err != nil {
		return nil
	}
	list := sites.Read(lc, srv.Root)
	return &siteView{list: list, routes: serverctl.SiteRoutes(lc, list), macros: len(cfg.MacroHosts()) > 0}
}

// custom reports whether the Server has websites of its own beyond the default hosts.
func (v *siteView) custom() bool {
	return slices.ContainsFunc(v.list.Sites, func(s *sites.Site) bool { return !s.Default })
}

// answers reports whether r takes requests for urlPath away from the
// Websites tier: a rule that serves the path, other than the catch-all
// that hands every request to that tier.
func answers(r serverctl.Route, urlPath string) bool {
	return (r.Path != "/" || r.WebSocket) && r.Serves(urlPath)
}

// answer fills r.VHost: which VirtualHost answered the request for host
// at the address r reached, and whether it and the other sites have a
// route for urlPath; it returns the routes for urlPath there. False when
// the address is not one of the config's.
func (v *siteView) answer(r *wstest.Report, host, urlPath string) ([]serverctl.Route, bool) {
	h, p, err := net.SplitHostPort(r.Remote)
	port, perr := strconv.Atoi(p)
	if err != nil || perr != nil {
		return nil, false
	}
	site, vhost, ok := v.list.Answering(host, h, port)
	if !ok {
		return nil, false
	}
	label := strings.Join(vhost.Addrs, " ")
	a := &wstest.VHostAnswer{Site: site.Name, Port: port, RouteSites: []string{}}
	var here []serverctl.Route
	for _, rt := range v.routes {
		if !answers(rt, urlPath) {
			continue
		}
		if rt.VHost == serverctl.MainServer {
			if rt.Directive == "RewriteRule" {
				continue // not inherited by VirtualHosts without RewriteOptions Inherit
			}
			here = append(here, rt) // Apache merges the main server's ProxyPass into every host
			continue
		}
		if !slices.Contains(a.RouteSites, rt.Site) {
			a.RouteSites = append(a.RouteSites, rt.Site)
		}
		if rt.Site == site.Name && rt.VHost == label {
			here = append(here, rt)
		}
	}
	a.HasRoute = len(here) > 0
	r.VHost = a
	return here, true
}
