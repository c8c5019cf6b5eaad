package validate

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Dial checks HOST:PORT to connect to: a host that is an IP address (IPv6
// in brackets) or a DNS name, and a port from 1 to 65535. Spaces around it
// are dropped; it returns the address as it is to be dialled. f is the
// input it came from (FieldConnect, FieldProxyAddr).
func Dial(f Field, addr string) (string, error) {
	return hostPort(f, addr, false)
}

// Listen checks HOST:PORT to listen on: as Dial, except that the host may
// be left out (":8443", every address of the machine) and the port may be
// 0 (any free port). f is the input it came from (FieldAddr).
func Listen(f Field, addr string) (string, error) {
	return hostPort(f, addr, true)
}

func hostPort(f Field, addr string, listen bool) (string, error) {
	addr = strings.TrimSpace(addr)
	example := "443" // an HTTPS port to dial; the test proxy's to listen on
	if listen {
		example = "8443"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		if strings.Count(addr, ":") > 1 && !strings.HasPrefix(addr, "[") {
			return "", inputErr(f, "%q is not an address and port: put an IPv6 address in brackets, such as [::1]:%s", addr, example)
		}
		return "", inputErr(f, "%q is not an address and port: give it as HOST:PORT, such as 127.0.0.1:%s", addr, example)
	}
	if host == "" && !listen {
		return "", inputErr(f, "%q has no host: give it as HOST:PORT, such as 127.0.0.1:%s", addr, example)
	}
	if err := checkPort(port, listen); err != nil {
		return "", inputErr(f, "%q %s", addr, err)
	}
	if host != "" {
		if err := checkHost(host, strings.HasPrefix(addr, "["), resolverNames); err != nil {
			return "", inputErr(f, "%q %s", addr, err)
		}
	}
	return net.JoinHostPort(host, port), nil
}

// checkPort refuses an empty port, a port that is not all digits, and one
// outside 1–65535 (0–65535 to listen on, where 0 is any free port). Apache
// answers a proxy route to such a port with 400 at run time instead of
// refusing the config, and a dial to it fails only after a DNS lookup.
func checkPort(p string, listen bool) error {
	rng := "a port is a number from 1 to 65535"
	if listen {
		rng = "a port to listen on is a number from 0 (any free port) to 65535"
	}
	if p == "" {
		return fmt.Errorf("has an empty port; write HOST:PORT")
	}
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return fmt.Errorf("has port %s; %s", p, rng)
		}
	}
	n, err := strconv.Atoi(p)
	switch {
	case err != nil || len(p) > 5 || n > 65535:
		return fmt.Errorf("has port %s; %s", p, rng)
	case n == 0 && !listen:
		return fmt.Errorf("has port 0, which nothing listens on; %s", rng)
	}
	return nil
}

// hostSyntax says which DNS names a host may be.
type hostSyntax int

const (
	// resolverNames are the names a resolver looks up: letters, digits,
	// '-' and the '_' of service names (Go's resolver takes them).
	resolverNames hostSyntax = iota
	// hostNames are the host names of RFC 1123 section 2.1: letters,
	// digits and '-', no '_'. A backend is held to them: it is written
	// into Apache's config, which Socketbar keeps to the strict form.
	hostNames
)

// checkHost accepts an IP address (IPv6 only in brackets, with a zone if
// any, RFC 3986 section 3.2.2) or a DNS name: labels of at most 63 bytes
// that neither start nor end with '-', at most 253 bytes in all (RFC 1035
// section 2.3.4), not all digits (a mistyped IPv4 address is not a name).
// An internationalised name is written in its ASCII (xn--) form, as
// resolvers take it.
func checkHost(h string, bracketed bool, syntax hostSyntax) error {
	ip, zone, hasZone := strings.Cut(h, "%")
	if bracketed {
		if p := net.ParseIP(ip); p == nil || p.To4() != nil {
			return fmt.Errorf("has [%s], which is not an IP address", h)
		}
		if hasZone && !interfaceName(zone) {
			return fmt.Errorf("has [%s], whose zone %q is not an interface name (such as en0)", h, zone)
		}
		return nil
	}
	if net.ParseIP(h) != nil {
		return nil
	}
	allowed := "letters, digits and inner hyphens between dots, or an IP address"
	if syntax == resolverNames {
		allowed = "letters, digits, '_' and inner hyphens between dots, or an IP address"
	}
	notName := fmt.Errorf("has host %q, which is not a host name; use %s", h, allowed)
	if len(h) > 253 {
		return fmt.Errorf("has a host name longer than 253 characters")
	}
	numeric := true
	for _, l := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return notName
		}
		for i := 0; i < len(l); i++ {
			switch c := l[i]; {
			case c >= '0' && c <= '9':
			case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_' && syntax == resolverNames:
				numeric = false
			case c >= 0x80:
				return fmt.Errorf("has host %q; write an internationalised name in its xn-- form", h)
			default:
				return notName
			}
		}
	}
	if numeric {
		return fmt.Errorf("has host %q, which is not an IP address", h)
	}
	return nil
}

// interfaceName reports whether zone can name a network interface (en0,
// bridge100, utun3) or its index: the zone of a link-local IPv6 address.
// Nothing else may ride along in it into a config line or a dial.
func interfaceName(zone string) bool {
	if zone == "" || len(zone) > 15 { // IFNAMSIZ 16, with its NUL
		return false
	}
	for i := 0; i < len(zone); i++ {
		switch c := zone[i]; {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '.', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}
