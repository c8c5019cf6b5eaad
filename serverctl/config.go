package serverctl

import (
	"net"
	"regexp"
	"strings"

	"github.com/socketbar/socketbar/serverctl/apacheconf"
)

// Config is a parsed Apache config file, kept byte for byte.
type Config struct {
	// Path is where the file was read from, on this machine.
	Path string
	Src  []byte
	File *apacheconf.File
	// Included marks a file the main config includes whose VirtualHosts
	// are custom websites (Server 5.0/5.1's customsites file): a route for
	// a site goes into that site's own VirtualHosts, named by ServerName.
	Included bool
}

// ReadConfig reads and parses the config at path. It refuses anything but
// a regular file (a device or FIFO would never end) and files over
// MaxFileSize; the error then wraps ErrNotRegular or ErrTooLarge.
func ReadConfig(path string) (*Config, error) {
	src, err := readFile(path, false)
	if err != nil {
		return nil, errorf("read config: %w", err)
	}
	return ParseConfig(path, src)
}

// ParseConfig parses src, which was read from path.
func ParseConfig(path string, src []byte) (*Config, error) {
	f, err := apacheconf.Parse(src)
	if err != nil {
		return nil, errorf("%s: %w", path, err)
	}
	return &Config{Path: path, Src: src, File: f}, nil
}

// VHost is a <VirtualHost> section that Apache will serve. Sections inside
// <Macro> definitions are templates, not hosts, and are never VHosts.
type VHost struct {
	Node *apacheconf.Node
	// Addrs are the section's addresses ("*:443").
	Addrs []string
	// Macro is the name of the <Macro> whose body holds the section, for
	// the template of Server 5.2+'s custom sites (see MacroHosts); "" for
	// a VirtualHost Apache serves as it is written.
	Macro string
	// Site is the ServerName (without port) of a custom website's own
	// VirtualHost in an included file (see Config.Included); "" elsewhere.
	Site string
}

// Label names the host the way its section does ("*:443"), for a
// macro's template "macro VHost443", and for a custom website's own
// VirtualHost its name and port ("chat.example.com:443").
func (v VHost) Label() string {
	switch {
	case v.Macro != "":
		return "macro " + v.Macro
	case v.Site != "":
		port := ""
		if len(v.Addrs) > 0 {
			if i := strings.LastIndexByte(v.Addrs[0], ':'); i >= 0 {
				port = v.Addrs[0][i:]
			}
		}
		return v.Site + port
	}
	return strings.Join(v.Addrs, " ")
}

// HasPort reports whether one of the host's addresses is on port.
func (v VHost) HasPort(port string) bool {
	for _, a := range v.Addrs {
		if i := strings.LastIndexByte(a, ':'); i >= 0 && a[i+1:] == port {
			return true
		}
	}
	return false
}

// VirtualHosts returns the file's virtual hosts in file order, including
// those inside <IfModule>/<IfDefine>, excluding macro templates.
func (c *Config) VirtualHosts() []VHost {
	var hosts []VHost
	c.File.Walk(func(n *apacheconf.Node) bool {
		switch {
		case n.Is("Macro"):
			return false
		case n.Is("VirtualHost") && n.Kind == apacheconf.Section:
			vh := VHost{Node: n, Addrs: n.Args}
			if c.Included {
				vh.Site = serverName(n)
			}
			hosts = append(hosts, vh)
			return false
		}
		return true
	})
	return hosts
}

// serverName is the ServerName of a VirtualHost section, without scheme
// or port; "" when it has none.
func serverName(vh *apacheconf.Node) string {
	for _, n := range vh.Children {
		if n.Is("ServerName") && n.Kind == apacheconf.Directive && len(n.Args) > 0 {
			name := n.Args[0]
			if i := strings.Index(name, "://"); i >= 0 {
				name = name[i+3:]
			}
			if h, _, err := net.SplitHostPort(name); err == nil {
				name = h
			}
			return strings.Trim(name, "[]")
		}
	}
	return ""
}

// MacroHosts returns the <VirtualHost> sections inside <Macro>
// definitions, in file order. On Server 5.2 and later every custom website's
// VirtualHost is made from one of these (Use VHost443 … in the customsites
// file), so a line written into the template reaches every such site.
func (c *Config) MacroHosts() []VHost {
	var hosts []VHost
	var find func(nodes []*apacheconf.Node, macro string)
	find = func(nodes []*apacheconf.Node, macro string) {
		for _, n := range nodes {
			if n.Kind != apacheconf.Section {
				continue
			}
			switch {
			case n.Is("Macro"):
				if len(n.Args) > 0 && macro == "" {
					find(n.Children, n.Args[0])
				}
			case n.Is("VirtualHost"):
				if macro != "" {
					hosts = append(hosts, VHost{Node: n, Addrs: n.Args, Macro: macro})
				}
			default:
				find(n.Children, macro)
			}
		}
	}
	find(c.File.Nodes, "")
	return hosts
}

// LoadedModules returns the module identifiers of every LoadModule line
// outside macros ("proxy_wstunnel_module" → line).
func (c *Config) LoadedModules() map[string]int {
	mods := map[string]int{}
	c.File.Walk(func(n *apacheconf.Node) bool {
		if n.Is("Macro") {
			return false
		}
		if n.Kind == apacheconf.Directive && n.Is("LoadModule") && len(n.Args) >= 1 {
			if _, seen := mods[n.Args[0]]; !seen {
				mods[n.Args[0]] = n.Line
			}
		}
		return true
	})
	return mods
}

// Vars returns the variables in force for ${NAME} expansion: base (the
// launchd environment) with the config's top-level Define directives on top,
// as Apache resolves Define before the environment.
func (c *Config) Vars(base map[string]string) map[string]string {
	vars := map[string]string{}
	for k, v := range base {
		vars[k] = v
	}
	for _, n := range c.File.Nodes {
		if n.Is("Define") && n.Kind == apacheconf.Directive && len(n.Args) >= 1 {
			val := ""
			if len(n.Args) >= 2 {
				val = n.Args[1]
			}
			vars[n.Args[0]] = val
		}
	}
	return vars
}

var varRef = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`)

// ExpandVars replaces each ${NAME} with its value, as Apache does when it
// reads a directive. Unknown names are left as written, as Apache does
// (with a warning).
func ExpandVars(s string, vars map[string]string) string {
	return varRef.ReplaceAllStringFunc(s, func(ref string) string {
		if v, ok := vars[ref[2:len(ref)-1]]; ok {
			return v
		}
		return ref
	})
}

// Module is a LoadModule line with its file resolved as Apache would.
type Module struct {
	Name string `json:"name"`
	// File is the path as written; Path is File with ${NAME} expanded and,
	// when relative, joined to ServerRoot (a Mac path).
	File string `json:"file"`
	Path string `json:"path"`
	Line int    `json:"line"`
}

// Modules lists the LoadModule lines outside macros with their files
// resolved from vars (see Vars) and the config's ServerRoot.
func (c *Config) Modules(vars map[string]string) []Module {
	serverRoot := ""
	for _, n := range c.File.Nodes {
		if n.Kind == apacheconf.Directive && n.Is("ServerRoot") && len(n.Args) == 1 {
			serverRoot = ExpandVars(n.Args[0], vars)
		}
	}
	var mods []Module
	c.File.Walk(func(n *apacheconf.Node) bool {
		if n.Is("Macro") {
			return false
		}
		if n.Kind == apacheconf.Directive && n.Is("LoadModule") && len(n.Args) == 2 {
			p := ExpandVars(n.Args[1], vars)
			if !strings.HasPrefix(p, "/") && serverRoot != "" {
				p = strings.TrimSuffix(serverRoot, "/") + "/" + p
			}
			mods = append(mods, Module{Name: n.Args[0], File: n.Args[1], Path: p, Line: n.Line})
		}
		return true
	})
	return mods
}
