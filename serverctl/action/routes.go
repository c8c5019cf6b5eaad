package action

import (
	"context"

	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/sites"
)

// RouteList is the Service Proxy's routes, in the order Apache matches them.
type RouteList struct {
	Config string  `json:"config"`
	Routes []Route `json:"routes"`
	// Warning says why the routes are the main config's only (an included
	// file that cannot be read); "" when they are the whole config's.
	Warning string `json:"warning,omitempty"`
}

// Routes lists the routes of the Server of t.
func (l *Local) Routes(ctx context.Context, t Target) (*RouteList, error) {
	if t.Host != "" {
		return onServer(ctx, l, t, (*Local).Routes)
	}
	srv, cfg, err := l.load(ctx, t)
	if err != nil {
		return nil, err
	}
	routes := cfg.Routes()
	rl := &RouteList{Config: cfg.Path}
	if lc, err := loadAll(ctx, srv, cfg); err == nil {
		routes = serverctl.SiteRoutes(lc, sites.Read(lc, srv.Root))
	} else {
		rl.Warning = err.Error() + "; listing the main config's routes only"
	}
	rl.Routes = routeViews(routes, cfg.Endpoints(srv.Job.Defines))
	return rl, nil
}
