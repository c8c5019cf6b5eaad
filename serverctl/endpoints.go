package serverctl

import (
	"net"
	"strings"

	"github.com/socketbar/socketbar/serverctl/apacheconf"
	"github.com/socketbar/socketbar/serverctl/service"
)

// active reports whether a conditional section applies: <IfDefine X> when X
// is defined, <IfModule m> when the module is loaded (by identifier or
// source file name), each negated by a leading '!'. Other sections apply.
func active(n *apacheconf.Node, defines map[string]bool, modules map[string]int) bool {
	if len(n.Args) == 0 {
		return true
	}
	arg := n.Args[0]
	neg := strings.HasPrefix(arg, "!")
	arg = strings.TrimPrefix(arg, "!")
	switch {
	case n.Is("IfDefine"):
		return defines[arg] != neg
	case n.Is("IfModule"):
		id := arg
		if strings.HasPrefix(id, "mod_") && strings.HasSuffix(id, ".c") {
			id = strings.TrimSuffix(strings.TrimPrefix(id, "mod_"), ".c") + "_module"
		}
		_, loaded := modules[id]
		return loaded != neg
	}
	return true
}

// Endpoints lists where the Service Proxy listens with the given -D defines:
// every Listen in an active section, dialled on loopback, with TLS when the
// Listen says https or an active VirtualHost on its port turns on SSLEngine
// (mod_ssl) or MSTEngine (Apple's mod_secure_transport).
func (c *Config) Endpoints(defines []string) []service.Endpoint {
	defs := map[string]bool{}
	for _, d := range defines {
		defs[d] = true
	}
	mods := c.LoadedModules()
	tlsPorts := map[string]bool{}
	var listens []struct{ addr, proto string }
	var visit func(nodes []*apacheconf.Node, port string)
	visit = func(nodes []*apacheconf.Node, port string) {
		for _, n := range nodes {
			switch {
			case n.Kind == apacheconf.Section && (n.Is("Macro") || !active(n, defs, mods)):
			case n.Kind == apacheconf.Section && n.Is("VirtualHost"):
				for _, a := range n.Args {
					if i := strings.LastIndexByte(a, ':'); i >= 0 {
						visit(n.Children, a[i+1:])
					}
				}
			case n.Kind == apacheconf.Section:
				visit(n.Children, port)
			case n.Is("Listen") && port == "" && len(n.Args) >= 1:
				l := struct{ addr, proto string }{addr: n.Args[0]}
				if len(n.Args) >= 2 {
					l.proto = strings.ToLower(n.Args[1])
				}
				listens = append(listens, l)
			case (n.Is("SSLEngine") || n.Is("MSTEngine")) && port != "" && len(n.Args) == 1 && strings.EqualFold(n.Args[0], "on"):
				tlsPorts[port] = true
			}
		}
	}
	visit(c.File.Nodes, "")
	var eps []service.Endpoint
	seen := map[string]bool{}
	for _, l := range listens {
		host, port := "127.0.0.1", l.addr
		if h, p, err := net.SplitHostPort(l.addr); err == nil {
			host, port = h, p
			switch host {
			case "", "*", "0.0.0.0":
				host = "127.0.0.1"
			case "::":
				host = "::1"
			}
		}
		addr := net.JoinHostPort(host, port)
		if seen[addr] {
			continue
		}
		seen[addr] = true
		eps = append(eps, service.Endpoint{Addr: addr, TLS: l.proto == "https" || tlsPorts[port]})
	}
	return eps
}

// PidFile returns where httpd writes its pid: the PidFile directive with
// ${NAME} expanded and a relative path joined to ServerRoot, or Apache's
// default logs/httpd.pid.
func (c *Config) PidFile(vars map[string]string) string {
	serverRoot, pid := "", "logs/httpd.pid"
	for _, n := range c.File.Nodes {
		switch {
		case n.Kind != apacheconf.Directive || len(n.Args) != 1:
		case n.Is("ServerRoot"):
			serverRoot = ExpandVars(n.Args[0], vars)
		case n.Is("PidFile"):
			pid = ExpandVars(n.Args[0], vars)
		}
	}
	if !strings.HasPrefix(pid, "/") && serverRoot != "" {
		pid = strings.TrimSuffix(serverRoot, "/") + "/" + pid
	}
	return pid
}
