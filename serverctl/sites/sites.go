package sites

import (
	"cmp"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"howett.net/plist"

	"github.com/socketbar/socketbar/serverctl/apacheconf"
	"github.com/socketbar/socketbar/serverctl/apacheconf/loader"
)

const sectionKind = apacheconf.Section

// PlistPath is the Mac path of Server.app's Websites settings, whose
// "Sites" array is the list Server.app builds the customsites file from.
const PlistPath = "/Library/Server/Web/Config/apache2/servermgr_web_apache2_config.plist"

// VHost is one <VirtualHost> of the expanded config.
type VHost struct {
	// Node is the section; Node.Pos says where its text is and
	// Node.Origin which Use line made it, if any.
	Node *loader.Node
	// Addrs are the section's addresses as written ("*:443").
	Addrs []string
	// Ports are the addresses' ports.
	Ports []int
	// ServerName is the name without scheme or port; "" when there is none.
	ServerName string
	// Aliases are the ServerAlias names, in order.
	Aliases []string
	// CertID is the certificate identity from an /etc/certificates/ID.cert.pem
	// path, possibly an unresolved "${CERT_ID}"; "" without TLS.
	CertID string
}

// Site is the default hosts or one custom website.
type Site struct {
	// Name is the ServerName without port, "" for the default hosts.
	Name string
	// Default marks the default hosts: VirtualHosts without a ServerName,
	// and the main config's own ones (not made by a macro).
	Default bool
	// Aliases are the ServerAlias names of all its VirtualHosts, first seen first.
	Aliases []string
	// Ports are its VirtualHosts' ports, sorted.
	Ports []int
	// CertID is the certificate identity of its first TLS VirtualHost.
	CertID string
	// VHosts are its VirtualHosts in config order.
	VHosts []*VHost
}

// Finding is a problem in the site list; none of them stops Apache.
type Finding struct {
	// Kind is "duplicate", "plist-only", "config-only" or "plist-unreadable".
	Kind string
	Pos  loader.Pos
	Msg  string
	// Site and Port name the site and port a "duplicate" is for, and
	// First is where the VirtualHost Apache serves instead is (its Use
	// line when a macro made it), so a checker can word its own message.
	Site  string
	Port  int
	First loader.Pos
}

func (f Finding) String() string { return fmt.Sprintf("%s: %s: %s", f.Pos, f.Kind, f.Msg) }

// List is the sites of one config, the default hosts first, then the
// custom sites by name.
type List struct {
	Sites    []*Site
	Findings []Finding

	// inOrder is every VirtualHost with its site, in the order Apache
	// reads them, which decides the one that answers (see Answering).
	inOrder []placed
}

// placed is a VirtualHost and the site it belongs to.
type placed struct {
	site  *Site
	vhost *VHost
}

// Lookup returns the site a name selects: "" or "default" the default
// hosts, else the site whose ServerName or ServerAlias is name.
func (l *List) Lookup(name string) *Site {
	name = strings.ToLower(name)
	for _, s := range l.Sites {
		if s.Default && (name == "" || name == "default") {
			return s
		}
		if !s.Default && (strings.EqualFold(s.Name, name) || slices.ContainsFunc(s.Aliases, func(a string) bool { return strings.EqualFold(a, name) })) {
			return s
		}
	}
	return nil
}

// certPath finds the identity in a certificate path. Server.app's are
// /etc/certificates/ID.cert.pem; a tree made to run on another machine (the
// demo's) names the same file below its own folder.
var certPath = regexp.MustCompile(`(?:^|/)etc/certificates/([^/]+)\.cert\.pem$`)

// FromConfig lists the sites of an expanded config and finds duplicate
// VirtualHosts for one ServerName and port (Server.app has written those
// after a certificate import).
func FromConfig(c *loader.Config) *List {
	var vhosts []*VHost
	c.Walk(func(n *loader.Node) bool {
		if n.Is("VirtualHost") && n.Kind == sectionKind {
			vhosts = append(vhosts, readVHost(n))
		}
		return true
	})
	l := &List{}
	def := &Site{Default: true}
	byName := map[string]*Site{}
	seen := map[string]*VHost{}
	for _, v := range vhosts {
		// The main file's own VirtualHosts are the default hosts whatever
		// their ports (a copy run on other ports, like the tests' and the
		// demo's, keeps them): Server.app puts custom sites elsewhere.
		isDefault := v.ServerName == "" || (v.Node.Origin == nil && v.Node.File == c.Main())
		s := def
		if !isDefault {
			key := strings.ToLower(v.ServerName)
			if s = byName[key]; s == nil {
				s = &Site{Name: v.ServerName}
				byName[key] = s
			}
			for _, p := range v.Ports {
				k := key + ":" + strconv.Itoa(p)
				if first, ok := seen[k]; ok {
					l.Findings = append(l.Findings, Finding{Kind: "duplicate", Pos: where(v.Node),
						Msg:  fmt.Sprintf("second VirtualHost for %s port %d (first at %s); Apache uses only the first", v.ServerName, p, where(first.Node)),
						Site: v.ServerName, Port: p, First: where(first.Node)})
				} else {
					seen[k] = v
				}
			}
		}
		s.VHosts = append(s.VHosts, v)
		l.inOrder = append(l.inOrder, placed{s, v})
		for _, a := range v.Aliases {
			if !slices.Contains(s.Aliases, a) {
				s.Aliases = append(s.Aliases, a)
			}
		}
		for _, p := range v.Ports {
			if !slices.Contains(s.Ports, p) {
				s.Ports = append(s.Ports, p)
			}
		}
		if s.CertID == "" {
			s.CertID = v.CertID
		}
	}
	slices.Sort(def.Ports)
	if len(def.VHosts) > 0 {
		l.Sites = append(l.Sites, def)
	}
	var custom []*Site
	for _, s := range byName {
		slices.Sort(s.Ports)
		custom = append(custom, s)
	}
	slices.SortFunc(custom, func(a, b *Site) int { return cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	l.Sites = append(l.Sites, custom...)
	return l
}

// where is the place to name for a VirtualHost: its Use line when a macro
// made it (that is the line that differs per site), else its own line.
func where(n *loader.Node) loader.Pos {
	if n.Origin != nil {
		return n.Origin.Use
	}
	return n.Pos
}

func readVHost(n *loader.Node) *VHost {
	v := &VHost{Node: n, Addrs: n.Args}
	for _, a := range n.Args {
		if _, p, err := net.SplitHostPort(a); err == nil {
			if port, err := strconv.Atoi(p); err == nil && !slices.Contains(v.Ports, port) {
				v.Ports = append(v.Ports, port)
			}
		}
	}
	var visit func(nodes []*loader.Node)
	visit = func(nodes []*loader.Node) {
		for _, c := range nodes {
			switch {
			case c.Is("VirtualHost") && c.Kind == sectionKind:
				continue // nested VirtualHosts are Apache errors; not ours
			case c.Is("ServerName") && len(c.Args) > 0:
				v.ServerName = hostOnly(c.Args[0])
			case c.Is("ServerAlias"):
				for _, a := range c.Args {
					if a != "" && !slices.Contains(v.Aliases, a) {
						v.Aliases = append(v.Aliases, a)
					}
				}
			case c.Is("SSLCertificateFile") && len(c.Args) > 0:
				if m := certPath.FindStringSubmatch(path.Clean(c.Args[0])); m != nil {
					v.CertID = m[1]
				}
			}
			visit(c.Children)
		}
	}
	visit(n.Children)
	return v
}

// hostOnly strips a scheme and a port: "https://chat.example.com:443" → "chat.example.com".
func hostOnly(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	if h, _, err := net.SplitHostPort(s); err == nil {
		return h
	}
	return strings.Trim(s, "[]")
}

// PlistSite is one entry of the plist's Sites array.
type PlistSite struct {
	Name    string
	Port    int
	Aliases []string
	CertID  string
}

// maxPlistSize bounds the plist read; Apple's is a few KiB.
const maxPlistSize = 4 << 20

// ReadPlist reads the Sites array of servermgr_web_apache2_config.plist at
// path (a path on this machine). Keys are matched case-insensitively:
// serverName, port, serverAliases, sslCertificateIdentifier. A Websites-tier
// port (34580, 34543) counts as the public port it sits behind (80, 443).
func ReadPlist(name string) ([]PlistSite, error) {
	f, err := os.OpenFile(name, os.O_RDONLY|oNonBlock, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() || fi.Size() > maxPlistSize {
		return nil, fmt.Errorf("%s: not a regular file of at most %d bytes", name, maxPlistSize)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxPlistSize))
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if _, err := plist.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	raw, _ := get(doc, "Sites").([]any)
	var out []PlistSite
	for _, e := range raw {
		d, ok := e.(map[string]any)
		if !ok {
			continue
		}
		s := PlistSite{}
		s.Name, _ = get(d, "serverName").(string)
		s.CertID, _ = get(d, "sslCertificateIdentifier").(string)
		switch p := get(d, "port").(type) {
		case uint64:
			s.Port = int(p)
		case int64:
			s.Port = int(p)
		case string:
			s.Port, _ = strconv.Atoi(p)
		}
		switch s.Port {
		case 34580:
			s.Port = 80
		case 34543:
			s.Port = 443
		}
		if as, ok := get(d, "serverAliases").([]any); ok {
			for _, a := range as {
				if a, ok := a.(string); ok && a != "" {
					s.Aliases = append(s.Aliases, a)
				}
			}
		}
		out = append(out, s)
	}
	return out, nil
}

func get(d map[string]any, key string) any {
	if v, ok := d[key]; ok {
		return v
	}
	for k, v := range d {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}

// CrossCheck adds a finding for each custom site and port the plist lists
// but the config has no VirtualHost for, and each the config has but the
// plist lacks. Plist entries named "", "*" or "default" are the default
// hosts and are not compared.
func (l *List) CrossCheck(planned []PlistSite, plistPath string) {
	want := map[string]bool{}
	for _, p := range planned {
		if p.Name == "" || p.Name == "*" || strings.EqualFold(p.Name, "default") {
			continue
		}
		k := strings.ToLower(p.Name) + ":" + strconv.Itoa(p.Port)
		want[k] = true
		s := l.Lookup(p.Name)
		if s == nil || s.Default || !slices.Contains(s.Ports, p.Port) {
			l.Findings = append(l.Findings, Finding{Kind: "plist-only", Pos: loader.Pos{File: plistPath},
				Msg: fmt.Sprintf("Server.app lists site %s port %d, but the Service Proxy has no VirtualHost for it", p.Name, p.Port)})
		}
	}
	for _, s := range l.Sites {
		if s.Default {
			continue
		}
		for _, v := range s.VHosts {
			for _, p := range v.Ports {
				if !want[strings.ToLower(s.Name)+":"+strconv.Itoa(p)] {
					l.Findings = append(l.Findings, Finding{Kind: "config-only", Pos: where(v.Node),
						Msg: fmt.Sprintf("VirtualHost for %s port %d is not among Server.app's sites (%s)", s.Name, p, plistPath)})
				}
			}
		}
	}
}

// Read lists the sites of c and, when the Server's plist exists below
// root (the folder standing for the Mac's "/"), cross-checks them with
// it. A plist that cannot be read becomes a finding, not an error.
func Read(c *loader.Config, root string) *List {
	l := FromConfig(c)
	local := filepath.Join(root, filepath.FromSlash(PlistPath))
	if _, err := os.Lstat(local); err != nil {
		return l
	}
	planned, err := ReadPlist(local)
	if err != nil {
		l.Findings = append(l.Findings, Finding{Kind: "plist-unreadable", Pos: loader.Pos{File: PlistPath}, Msg: err.Error()})
		return l
	}
	l.CrossCheck(planned, PlistPath)
	return l
}
