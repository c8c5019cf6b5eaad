package cli

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/socketbar/socketbar/serverctl/action"
)

const routesHelp = "Every proxy route of the Service Proxy config and the files it includes, per site and\nVirtualHost, in the order Apache matches them (RewriteRule [P] first, then\nProxyPass/ProxyPassMatch in file order). SITE is \"default\" for the default hosts, else the\ncustom website's domain; a rule made by a macro has its line in the macro's body."

// RoutesOptions are the options of socketbar routes.
type RoutesOptions struct {
	Target action.Target
	JSON   bool
}

func bindRoutes(e *Env, fs *flag.FlagSet) runFunc {
	opts := &RoutesOptions{}
	targetFlags(e, fs, &opts.Target, withRoot|withHost)
	jsonFlag(fs, &opts.JSON)
	return func(ctx context.Context, _ []string) error { return routesRun(ctx, e, opts) }
}

func routesRun(ctx context.Context, e *Env, opts *RoutesOptions) error {
	rl, err := e.Actions.Routes(ctx, opts.Target)
	if err != nil {
		return err
	}
	if opts.JSON {
		return e.writeJSON(rl)
	}
	fmt.Fprintf(e.Stdout, "%s\n\n", rl.Config)
	if rl.Warning != "" {
		fmt.Fprintf(e.Stdout, "warning: %s\n\n", rl.Warning)
	}
	w := tabwriter.NewWriter(e.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SITE\tVHOST\tPATH\tBACKEND\tLINE\tWEBSOCKET\tNOTES")
	for _, r := range rl.Routes {
		var notes []string
		if r.Managed {
			notes = append(notes, "managed")
		}
		if r.Shadowed {
			notes = append(notes, fmt.Sprintf("shadowed by line %d", r.ShadowedBy))
		}
		if len(r.Conditions) > 0 {
			notes = append(notes, "conditional")
		}
		ws := "no"
		if r.WebSocket {
			ws = "yes"
		}
		site := r.Site
		if site == "" {
			site = "default"
		}
		line := fmt.Sprint(r.Line)
		if r.File != "" {
			line = shortFile(rl.Config, r.File) + ":" + line
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", site, r.VHost, r.Path, r.Backend, line, ws, strings.Join(notes, ", "))
	}
	return w.Flush()
}

// shortFile names an included file in the routes table: by its name when
// it sits beside the config (the customsites file), else by its path, so
// that the LINE column does not grow by a folder every row repeats. The
// JSON keeps the whole path. file is the path Apache reads (without
// --root), config the file on this machine (under it).
func shortFile(config, file string) string {
	if dir := filepath.Dir(file); strings.HasPrefix(dir, "/") && strings.HasSuffix(filepath.Dir(config), dir) {
		return filepath.Base(file)
	}
	return file
}
