package remote

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Host is a Server to reach with ssh. Only Name is required; what is left
// empty, ssh takes from ~/.ssh/config or its defaults, as it does for git.
type Host struct {
	// User is the login name; empty means ssh's choice (the config's User,
	// else the local login name).
	User string
	// Name is a host name, an IP address (IPv6 without brackets), or an
	// alias from ~/.ssh/config.
	Name string
	// Port is the TCP port; 0 means ssh's choice (the config's Port, else 22).
	Port int
}

// HostError says why a host was refused: which part of it, what is wrong,
// and what to write instead. Nothing is run for a refused host.
type HostError struct {
	// Input is the text given, as given.
	Input string
	// Field is the part at fault: "host", "user" or "port".
	Field string
	// Value is that part's text.
	Value string
	// Problem says what is wrong with Value ("starts with \"-\"").
	Problem string
	// Fix says what to write instead, as a sentence.
	Fix string
}

func (e *HostError) Error() string {
	return fmt.Sprintf("remote: %s %q in %q %s: %s", e.Field, e.Value, e.Input, e.Problem, e.Fix)
}

const hostForm = "write the host as [USER@]HOST[:PORT], e.g. admin@server.example.com:22, admin@[2001:db8::1]:22 or an alias from ~/.ssh/config"

// ParseHost reads "[USER@]HOST[:PORT]". HOST is a host name, an alias
// from ~/.ssh/config, an IPv4 address, or an IPv6 address (in brackets when
// a port follows: "[::1]:2222").
//
// The parts go to ssh as separate arguments after "--", never through a
// shell, but ssh and the config files it reads (Match exec, ProxyCommand
// tokens such as %h and %r) treat them as text of their own, so only the
// characters a host name, address or login can hold are accepted: letters,
// digits, ".", "_" and "-" (and ":" and "%" in an IPv6 address), never a
// leading "-", which ssh would read as an option ("-oProxyCommand=…").
func ParseHost(s string) (Host, error) {
	fail := func(field, value, problem, fix string) (Host, error) {
		return Host{}, &HostError{Input: s, Field: field, Value: value, Problem: problem, Fix: fix}
	}
	if strings.TrimSpace(s) == "" {
		return fail("host", s, "is empty", hostForm)
	}
	var h Host
	rest := s
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		h.User, rest = s[:i], s[i+1:]
		if h.User == "" {
			return fail("user", h.User, "is empty", "leave out the \"@\" to log in with ssh's default user, or name the user before it")
		}
		if problem := badName(h.User, false); problem != "" {
			return fail("user", h.User, problem, "a login name holds only letters, digits, \".\", \"_\" and \"-\", and does not start with \"-\"")
		}
	}
	port := ""
	switch {
	case strings.HasPrefix(rest, "["):
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return fail("host", rest, "has no closing \"]\"", hostForm)
		}
		h.Name = rest[1:end]
		after := rest[end+1:]
		if after != "" {
			if after[0] != ':' {
				return fail("host", rest, "has text after \"]\" that is not \":PORT\"", hostForm)
			}
			port = after[1:]
			if port == "" {
				return fail("port", port, "is empty", "write a port number after the \":\", or leave the \":\" out for ssh's default")
			}
		}
		if !isIPv6(h.Name) {
			return fail("host", h.Name, "is in brackets but is not an IPv6 address", "brackets are for IPv6 addresses only, e.g. [2001:db8::1]:22")
		}
	case strings.Count(rest, ":") > 1:
		// A bare IPv6 address: it cannot take a port without brackets.
		h.Name = rest
		if !isIPv6(h.Name) {
			return fail("host", h.Name, "has more than one \":\" and is not an IPv6 address", "write an IPv6 address with a port as [ADDRESS]:PORT")
		}
	default:
		h.Name = rest
		if i := strings.IndexByte(rest, ':'); i >= 0 {
			h.Name, port = rest[:i], rest[i+1:]
			if port == "" {
				return fail("port", port, "is empty", "write a port number after the \":\", or leave the \":\" out for ssh's default")
			}
		}
		if h.Name == "" {
			return fail("host", h.Name, "is empty", hostForm)
		}
		if problem := badName(h.Name, false); problem != "" {
			return fail("host", h.Name, problem, "a host name or ~/.ssh/config alias holds only letters, digits, \".\", \"_\" and \"-\", and does not start with \"-\"")
		}
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || len(port) > 5 || port[0] == '+' || port[0] == '-' {
			return fail("port", port, "is not a number", "write the port as digits, from 1 to 65535")
		}
		if n < 1 || n > 65535 {
			return fail("port", port, "is outside 1-65535", "write a port from 1 to 65535")
		}
		h.Port = n
	}
	return h, nil
}

// maxName bounds a host name (DNS allows 253) or a login name.
const maxName = 255

// badName says what is wrong with a host name or login name, or "" when
// nothing is. ipv6 admits ":" and "%".
func badName(s string, ipv6 bool) string {
	switch {
	case s == "":
		return "is empty"
	case s[0] == '-':
		return "starts with \"-\", which ssh would read as an option"
	case len(s) > maxName:
		return fmt.Sprintf("is longer than %d characters", maxName)
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
		case ipv6 && (r == ':' || r == '%'):
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			return "contains white space"
		case r < 0x20 || r == 0x7f:
			return "contains a control character"
		case r > 0x7e:
			return fmt.Sprintf("contains %q, which is not ASCII (write an internationalized host name in its xn-- form)", r)
		default:
			return fmt.Sprintf("contains %q", r)
		}
	}
	return ""
}

// isIPv6 reports whether s is an IPv6 address, with an optional zone
// ("fe80::1%en0") made of name characters.
func isIPv6(s string) bool {
	if badName(s, true) != "" {
		return false
	}
	addr, zone, _ := strings.Cut(s, "%")
	if strings.Contains(s, "%") && (zone == "" || badName(zone, false) != "") {
		return false
	}
	ip := net.ParseIP(addr)
	return ip != nil && strings.Contains(addr, ":")
}

// String writes h back in ParseHost's form; ParseHost(h.String()) is h.
func (h Host) String() string {
	name := h.Name
	if strings.Contains(name, ":") {
		name = "[" + name + "]"
	}
	if h.User != "" {
		name = h.User + "@" + name
	}
	if h.Port != 0 {
		name += ":" + strconv.Itoa(h.Port)
	}
	return name
}

// args are ssh's arguments naming h: the login and port as options, then
// "--" and the name, so that nothing in them is read as an option.
func (h Host) args() []string {
	var a []string
	if h.User != "" {
		a = append(a, "-l", h.User)
	}
	if h.Port != 0 {
		a = append(a, "-p", strconv.Itoa(h.Port))
	}
	return append(a, "--", h.Name)
}

// validate checks a Host built without ParseHost by the same rules.
func (h Host) validate() error {
	parsed, err := ParseHost(h.String())
	if err != nil {
		return err
	}
	if parsed != h {
		return &HostError{Input: h.String(), Field: "host", Value: h.Name, Problem: "does not read back as itself", Fix: hostForm}
	}
	return nil
}
