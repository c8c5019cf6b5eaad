package serverctl

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/socketbar/socketbar/serverctl/apacheconf"
	"github.com/socketbar/socketbar/serverctl/apacheconf/loader"
	"github.com/socketbar/socketbar/serverctl/sites"
)

// SiteFiles returns the files the main config includes that hold custom
// websites' own VirtualHosts, parsed for editing (Config.Included), in
// reading order. That is Server 5.0/5.1's customsites file, into which
// Server.app writes a whole VirtualHost per site and port; on Server 5.2+
// the sites are made by macros in the main config and there are none.
func SiteFiles(lc *loader.Config, list *sites.List) ([]*Config, error) {
	var files []*Config
	seen := map[*loader.File]bool{lc.Main(): true}
	for _, s := range list.Sites {
		if s.Default {
			continue
		}
		for _, v := range s.VHosts {
			f := v.Node.File
			if v.Node.Origin != nil || seen[f] {
				continue
			}
			seen[f] = true
			src := f.Parsed.Bytes()
			parsed, err := apacheconf.Parse(src)
			if err != nil {
				return nil, errorf("%s: %w", f.Local, err)
			}
			files = append(files, &Config{Path: f.Local, Src: src, File: parsed, Included: true})
		}
	}
	return files, nil
}

// AddRouteToSet is AddRoute for the main config c and the site files it
// includes (see SiteFiles): the route goes into the main config's hosts
// and into the selected sites' own VirtualHosts, as one Edit whose Also
// holds the site files it changes. Where a site has its own VirtualHost
// the route needs no Host condition, so every strategy works for it.
func (c *Config) AddRouteToSet(req AddRequest, files []*Config) (*Edit, error) {
	edit, err := c.AddRoute(req)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		e, err := f.AddRoute(req)
		if err != nil {
			return nil, err
		}
		edit.Hosts += e.Hosts
		edit.Notes = append(edit.Notes, e.Notes...)
		if e.Changed() {
			edit.Also = append(edit.Also, FileEdit{Path: f.Path, Old: e.Old, New: e.New})
		}
	}
	if edit.Hosts == 0 {
		return nil, noSiteHostError(req, files)
	}
	return edit, nil
}

// noSiteHostError says which of the chosen sites have no VirtualHost on
// the chosen ports, and the ports they do have.
func noSiteHostError(req AddRequest, files []*Config) error {
	chosen := req.Ports
	if len(chosen) == 0 {
		chosen = req.DefaultPorts
	}
	var names, ports []string
	for _, f := range files {
		for _, vh := range f.siteHosts(nil, nil, req.Sites) {
			if !slices.Contains(names, vh.Site) {
				names = append(names, vh.Site)
			}
			for _, a := range vh.Addrs {
				if i := strings.LastIndexByte(a, ':'); i >= 0 && !slices.Contains(ports, a[i+1:]) {
					ports = append(ports, a[i+1:])
				}
			}
		}
	}
	if len(names) == 0 {
		return &InputError{Field: FieldSite, Msg: "chooses no site with a VirtualHost of its own"}
	}
	return &InputError{Field: FieldSite, Msg: fmt.Sprintf("%s: no VirtualHost on port %s; its VirtualHosts are on %s",
		strings.Join(names, ", "), strings.Join(chosen, ", "), strings.Join(ports, ", "))}
}

// RemoveRouteFromSet is RemoveRouteWith for the main config c and the
// site files it includes: Socketbar's blocks for path go from every file
// that has one in the selected hosts, as one Edit.
func (c *Config) RemoveRouteFromSet(path string, ports []string, opts RemoveOptions, files []*Config) (*Edit, error) {
	edit, err := c.RemoveRouteWith(path, ports, opts)
	var none *NotManagedError
	switch {
	case errors.As(err, &none):
		edit = &Edit{Old: c.Src, New: c.Src}
	case err != nil:
		return nil, err
	}
	for _, f := range files {
		e, err := f.RemoveRouteWith(path, ports, opts)
		var nm *NotManagedError
		if errors.As(err, &nm) {
			continue
		}
		if err != nil {
			return nil, err
		}
		edit.Notes = append(edit.Notes, e.Notes...)
		edit.Also = append(edit.Also, FileEdit{Path: f.Path, Old: e.Old, New: e.New})
	}
	if !edit.Changed() && none != nil {
		return nil, none
	}
	return edit, nil
}

// managedRoutesOf is ManagedRoutes across the main config and its site files.
func managedRoutesOf(c *Config, files []*Config) []ManagedRoute {
	routes := c.ManagedRoutes()
	for _, f := range files {
		routes = append(routes, f.ManagedRoutes()...)
	}
	return routes
}

// hostsByLabel finds the host a recorded route names: in the main config
// its VirtualHosts and macro templates, in a site file its sites' own
// VirtualHosts.
func hostsByLabel(c *Config, label string) (VHost, bool) {
	hosts := c.VirtualHosts()
	if !c.Included {
		hosts = append(hosts, c.MacroHosts()...)
	}
	for _, vh := range hosts {
		if vh.Label() == label && (!c.Included || vh.Site != "") {
			return vh, true
		}
	}
	return VHost{}, false
}
