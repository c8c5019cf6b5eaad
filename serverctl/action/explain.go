package action

import (
	"fmt"
	"slices"
	"strings"

	"github.com/socketbar/socketbar/proxy/wstest"
	"github.com/socketbar/socketbar/serverctl"
)

// siteName is a site as the words name it.
func siteName(name string) string {
	if name == "" {
		return "the default hosts"
	}
	return name
}

// hasOrHave agrees with siteName: "the default hosts have", "chat.example.com has".
func hasOrHave(name string) string {
	if name == "" {
		return "have"
	}
	return "has"
}

// siteNamesOf lists sites in words: "the default hosts and chat.example.com".
func siteNamesOf(names []string) string {
	var words []string
	for _, n := range names {
		words = append(words, siteName(n))
	}
	switch len(words) {
	case 0:
		return "no site"
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

// explain rewords a route-missing diagnosis with the VirtualHost that
// answered: the Apache 404 alone cannot tell "no route at all" from "a
// route the answering site does not have" (a route added for the default
// hosts only, tested with a custom site's name).
func (v *siteView) explain(r *wstest.Report, here []serverctl.Route, urlPath string) {
	if r.Diagnosis.Cause != wstest.CauseRouteMissing || r.VHost == nil {
		return
	}
	a := r.VHost
	who := "The default hosts' VirtualHost"
	if a.Site != "" {
		who = a.Site + "'s VirtualHost"
	}
	from := fmt.Sprintf("HTTP %d", r.Status)
	if r.Server != "" {
		from += " from " + r.Server
	}
	head := fmt.Sprintf("%s instead of 101: %s answered (port %d)", from, who, a.Port)
	switch {
	case a.HasRoute:
		why := "the Service Proxy may still run the config from before the route was added"
		if here[0].Shadowed {
			why = fmt.Sprintf("the route (line %d) comes after a rule that takes its requests first (line %d)", here[0].Line, here[0].ShadowedBy)
		}
		r.Diagnosis.Message = fmt.Sprintf("%s, and the config has a route for %s there, yet the request fell through to the Websites tier: %s.", head, urlPath, why)
		r.Diagnosis.Fix = "Restart the Service Proxy so that it reads the config on disk, then check the route's order with Socketbar's lint."
	case len(a.RouteSites) == 0:
		r.Diagnosis.Message = fmt.Sprintf("%s, and no site of this Server has a route for %s: the request went through the catch-all to the Websites tier.", head, urlPath)
		r.Diagnosis.Fix = fmt.Sprintf("Add a WebSocket route for %s for %s with Socketbar.", urlPath, siteName(a.Site))
	default:
		r.Diagnosis.Cause = wstest.CauseRouteMissingSite
		reach := "the route reaches only " + siteNamesOf(a.RouteSites)
		if slices.Contains(a.RouteSites, a.Site) {
			reach = fmt.Sprintf("%s %s the route only in VirtualHosts for other ports", siteName(a.Site), hasOrHave(a.Site))
		}
		r.Diagnosis.Message = fmt.Sprintf("%s, and it has no route for %s: %s.", head, urlPath, reach)
		r.Diagnosis.Fix = fmt.Sprintf("Add the route for %s too: Socketbar adds a route for the sites you choose.", siteName(a.Site))
		if a.Site != "" && !v.macros {
			r.Diagnosis.Fix += fmt.Sprintf(" On this Server (5.0/5.1) %s's VirtualHosts are in apache_serviceproxy_customsites.conf, which Server.app rewrites when the sites change; Socketbar then reports the route as lost and can put it back.", a.Site)
		}
	}
}
