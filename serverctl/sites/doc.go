// Package sites lists the websites a macOS Server's Service Proxy serves.
//
// Apache picks a name-based VirtualHost by SNI and Host, so a route that
// lives only in the default *:80/*:443 VirtualHosts never reaches a website
// with a domain of its own: Server.app gives each such site its own
// VirtualHost (from a mod_macro Use line on Server 5.2+, or a whole block
// on 5.0/5.1) in apache_serviceproxy_customsites.conf. This package turns
// the expanded config (see apacheconf/loader) into that list of sites, so
// callers can put a route in every VirtualHost that must carry it, and
// checks it against the site list Server.app keeps in its plist.
package sites
