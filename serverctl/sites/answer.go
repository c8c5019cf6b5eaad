package sites

import (
	"net"
	"path"
	"strconv"
	"strings"
)

// Answering is the VirtualHost Apache picks for a request for host that
// reached ip:port, and its site, as name-based virtual hosting does
// (https://httpd.apache.org/docs/2.4/vhosts/details.html): among the
// VirtualHosts for that address (those naming the IP itself when there
// are any, else the "*" and _default_ ones), in config order, the first
// whose ServerName or a ServerAlias matches host, else the first of them.
// ip is "" when the address dialled is not known as an IP. False when no
// VirtualHost is for the port.
func (l *List) Answering(host, ip string, port int) (*Site, *VHost, bool) {
	var exact, wild []placed
	for _, pv := range l.inOrder {
		for _, a := range pv.vhost.Addrs {
			h, p, err := net.SplitHostPort(a)
			if err != nil || (p != strconv.Itoa(port) && p != "*") {
				continue
			}
			switch {
			case h == "*" || strings.EqualFold(h, "_default_"):
				wild = append(wild, pv)
			case ip != "" && net.ParseIP(h) != nil && net.ParseIP(h).Equal(net.ParseIP(ip)):
				exact = append(exact, pv)
			default:
				continue
			}
			break
		}
	}
	group := wild
	if len(exact) > 0 {
		group = exact
	}
	if len(group) == 0 {
		return nil, nil, false
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	for _, pv := range group {
		if nameMatches(pv.vhost.ServerName, host) {
			return pv.site, pv.vhost, true
		}
		for _, a := range pv.vhost.Aliases {
			if nameMatches(a, host) {
				return pv.site, pv.vhost, true
			}
		}
	}
	return group[0].site, group[0].vhost, true
}

// nameMatches compares a ServerName or ServerAlias with a request's host
// as Apache does: without case, a ServerAlias's * and ? as wildcards.
func nameMatches(pattern, host string) bool {
	if pattern == "" {
		return false
	}
	ok, err := path.Match(strings.ToLower(strings.TrimSuffix(pattern, ".")), host)
	return err == nil && ok
}
