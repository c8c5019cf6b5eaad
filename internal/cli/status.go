package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/socketbar/socketbar/serverctl"
	"github.com/socketbar/socketbar/serverctl/action"
)

// statusReport is the JSON of `socketbar status --json`.
type statusReport struct {
	Root          string               `json:"root"`
	ServerVersion string               `json:"server_version"`
	ServerBuild   string               `json:"server_build,omitempty"`
	ApacheVersion action.Version       `json:"apache_version"`
	ApacheSource  string               `json:"apache_version_source,omitempty"`
	ApacheError   string               `json:"apache_version_error,omitempty"`
	Config        string               `json:"config"`
	ErrorLog      string               `json:"error_log"`
	Defines       []string             `json:"defines"`
	Environment   map[string]string    `json:"environment"`
	Webapps       []action.Webapp      `json:"webapps"`
	Unreadable    []action.FileProblem `json:"unreadable"`
	Warnings      []action.FileProblem `json:"warnings"`
	ConfigError   string               `json:"config_error,omitempty"`
	action.ModuleCheck
	// ServiceRunning and ServicePID say whether the Service Proxy runs;
	// ServiceError why that is unknown.
	ServiceRunning bool   `json:"service_running"`
	ServicePID     int    `json:"service_pid,omitempty"`
	ServiceError   string `json:"service_error,omitempty"`
	// Routes counts each path and backend once, whatever the number of
	// VirtualHosts it is in; RouteRules counts every rule.
	Routes          int `json:"routes"`
	RouteRules      int `json:"route_rules"`
	ManagedRoutes   int `json:"managed_routes"`
	WebSocketRoutes int `json:"websocket_routes"`
	// Drift lists Socketbar routes recorded by the last change that the
	// config no longer has (Server.app rewrote it), and in Gone those whose
	// site was deleted; reapply settles both.
	Drift *action.Drift `json:"drift,omitempty"`
	// DriftError and HistoryError say why the drift or the history could
	// not be read: Socketbar's routes may have vanished unnoticed.
	DriftError   string `json:"drift_error,omitempty"`
	HistoryError string `json:"history_error,omitempty"`
	// Interrupted says a change was cut off half-way (Socketbar was killed);
	// InterruptedChange is that change, when its history entry says so.
	Interrupted       bool                `json:"interrupted,omitempty"`
	InterruptedChange *action.BackupEntry `json:"interrupted_change,omitempty"`
	// Sites are the default hosts (Name "") and the custom websites, where
	// a route can go; SitesError says why they are unknown.
	Sites        []siteReport        `json:"sites"`
	SitesError   string              `json:"sites_error,omitempty"`
	SiteFindings []siteFindingReport `json:"site_findings,omitempty"`
}

// siteReport is one site in `socketbar status --json`.
type siteReport struct {
	// Name is the ServerName, "" for the default hosts.
	Name    string   `json:"name"`
	Aliases []string `json:"aliases"`
	Ports   []int    `json:"ports"`
	CertID  string   `json:"cert_id"`
	// Where is each VirtualHost's FILE:LINE (a macro's Use line for a
	// VirtualHost a macro made).
	Where []string `json:"where"`
}

// siteFindingReport is a problem in the site list: a duplicate
// VirtualHost, or a site that Server.app's plist and the config disagree on.
type siteFindingReport struct {
	Kind    string `json:"kind"`
	Where   string `json:"where"`
	Message string `json:"message"`
}

const statusHelp = "Says whether the Service Proxy runs, counts its routes, checks its module files,\nand notices Socketbar routes that vanished when Server.app rewrote the config, and\nroutes whose site was deleted in Server.app (Site gone; reapply lets go of them).\nExits 1 when the config cannot be read, when Socketbar routes vanished (Drift) or\nSocketbar's history cannot be read to tell, and when a change was interrupted, so\nscripts can watch for them."

// StatusOptions are the options of socketbar status.
type StatusOptions struct {
	Target action.Target
	JSON   bool
}

func bindStatus(e *Env, fs *flag.FlagSet) runFunc {
	opts := &StatusOptions{}
	targetFlags(e, fs, &opts.Target, withRoot|withHTTPD|withApacheVersion|withHost)
	jsonFlag(fs, &opts.JSON)
	return func(ctx context.Context, _ []string) error { return statusRun(ctx, e, opts) }
}

// statusRun prints the status; it returns errReported, for exit 1, when
// the config cannot be read, when routes vanished or it cannot be told
// whether they did, and when a change was interrupted.
func statusRun(ctx context.Context, e *Env, opts *StatusOptions) error {
	st, err := e.Actions.Status(ctx, opts.Target)
	if err != nil {
		return err
	}
	r := newStatusReport(st)
	if opts.JSON {
		if err := e.writeJSON(r); err != nil {
			return err
		}
	} else {
		printStatus(e.Stdout, st, r)
	}
	if r.ConfigError != "" || (r.Drift != nil && len(r.Drift.Missing) > 0) || r.DriftError != "" || r.HistoryError != "" || r.Interrupted {
		return errReported
	}
	return nil
}

func newStatusReport(st *action.Status) statusReport {
	srv := st.Server
	r := statusReport{
		Root: srv.Root, ServerVersion: srv.ServerVersion, ServerBuild: srv.ServerBuild,
		ApacheVersion: srv.Apache, ApacheSource: srv.ApacheSource, ApacheError: srv.ApacheError,
		Config: srv.ConfigPath, ErrorLog: srv.ErrorLogPath,
		Defines: srv.Defines, Environment: srv.Environment, Webapps: srv.Webapps,
		Unreadable: srv.Unreadable, Warnings: srv.Warnings, ModuleCheck: st.Modules, Drift: st.Drift,
		ServiceRunning: st.Service.Running, ServicePID: st.Service.PID, Interrupted: st.Interrupted,
	}
	var nh *serverctl.NoHTTPDError
	switch {
	case errors.As(st.ServiceErr, &nh):
		// Not describe's words: they end with what to pass to a change.
		r.ServiceError = "cannot run Apache's config test: no httpd at " + strings.Join(nh.Looked, " or ")
	case st.ServiceErr != nil:
		r.ServiceError = describe(st.ServiceErr).msg
	}
	if st.ConfigErr != nil {
		r.ConfigError = describe(st.ConfigErr).msg
	}
	if st.DriftErr != nil {
		r.DriftError = describe(st.DriftErr).msg
	}
	if st.HistoryErr != nil {
		r.HistoryError = describe(st.HistoryErr).msg
	}
	if r.Interrupted {
		r.InterruptedChange = pendingChange(st.History)
	}
	r.Sites = []siteReport{}
	if st.SitesErr != nil {
		r.SitesError = describe(st.SitesErr).msg
	}
	for _, site := range st.Sites {
		sr := siteReport{Name: site.Name, Aliases: site.Aliases, Ports: site.Ports, CertID: site.CertID, Where: site.Where}
		if sr.Aliases == nil {
			sr.Aliases = []string{}
		}
		if sr.Ports == nil {
			sr.Ports = []int{}
		}
		if sr.Where == nil {
			sr.Where = []string{}
		}
		r.Sites = append(r.Sites, sr)
	}
	for _, f := range st.SiteFindings {
		r.SiteFindings = append(r.SiteFindings, siteFindingReport(f))
	}
	n := st.Counts()
	r.Routes, r.RouteRules, r.ManagedRoutes, r.WebSocketRoutes = n.Routes, n.Rules, n.Managed, n.WebSocket
	return r
}

// pendingChange is the newest change of the history whose outcome was
// never recorded: the one a transaction journal left behind belongs to.
func pendingChange(history []action.HistoryEntry) *action.BackupEntry {
	for i := range history { // newest first
		if history[i].Outcome == serverctl.OutcomePending {
			return &history[i].BackupEntry
		}
	}
	return nil
}

func printStatus(out io.Writer, st *action.Status, r statusReport) {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	server := "macOS Server " + orUnknown(r.ServerVersion)
	if r.ServerBuild != "" {
		server += " (" + r.ServerBuild + ")"
	}
	fmt.Fprintf(w, "Server:\t%s\n", server)
	apache := r.ApacheVersion.String()
	if r.ApacheSource != "" {
		apache += " (from " + r.ApacheSource + ")"
	} else if r.ApacheError != "" {
		apache += " (" + r.ApacheError + "; pass --apache-version X.Y.Z)"
	}
	fmt.Fprintf(w, "Apache:\t%s\n", apache)
	switch {
	case errors.As(st.ServiceErr, new(*serverctl.NoHTTPDError)):
		fmt.Fprintf(w, "Service Proxy:\tstate unknown: no httpd under this root to drive it (pass --httpd PATH)\n")
	case r.ServiceError != "":
		fmt.Fprintf(w, "Service Proxy:\tstate unknown: %s\n", r.ServiceError)
	case r.ServiceRunning:
		fmt.Fprintf(w, "Service Proxy:\trunning (pid %d)\n", r.ServicePID)
	case r.ConfigError == "":
		fmt.Fprintf(w, "Service Proxy:\tSTOPPED: websites on this Server do not answer; start it with socketbar restart\n")
	}
	fmt.Fprintf(w, "Config:\t%s\n", r.Config)
	fmt.Fprintf(w, "Error log:\t%s\n", r.ErrorLog)
	fmt.Fprintf(w, "Defines:\t%s\n", orNone(strings.Join(r.Defines, " ")))
	var env []string
	for k, v := range r.Environment {
		env = append(env, fmt.Sprintf("%s=%q", k, v))
	}
	sort.Strings(env)
	fmt.Fprintf(w, "Environment:\t%s\n", orNone(strings.Join(env, " ")))
	var apps []string
	for _, a := range r.Webapps {
		apps = append(apps, a.Name)
	}
	fmt.Fprintf(w, "Webapps:\t%s\n", orNone(strings.Join(apps, ", ")))
	if r.ConfigError != "" {
		fmt.Fprintf(w, "Routes:\tunknown: %s\n", r.ConfigError)
	} else {
		fmt.Fprintf(w, "Routes:\t%d (%d WebSocket, %d managed by Socketbar)\n", r.Routes, r.WebSocketRoutes, r.ManagedRoutes)
	}
	switch {
	case r.ConfigError != "":
	case !r.Checked:
		fmt.Fprintf(w, "Modules:\t%d loaded; their files are not under this root, so not checked\n", r.Count)
	case len(r.Missing) == 0:
		fmt.Fprintf(w, "Modules:\t%d loaded, all files present\n", r.Count)
	default:
		for _, m := range r.Missing {
			fmt.Fprintf(w, "Missing module:\t%s (line %d): %s does not exist; the Service Proxy will not start\n", m.Name, m.Line, m.File)
		}
	}
	printSites(w, r)
	printChanges(w, r)
	for _, p := range r.Unreadable {
		fmt.Fprintf(w, "Unreadable:\t%s: %s\n", p.Path, p.Reason)
	}
	for _, p := range r.Warnings {
		fmt.Fprintf(w, "Warning:\t%s: %s\n", p.Path, p.Reason)
	}
	w.Flush()
}

// printChanges writes what became of Socketbar's changes: routes that
// vanished or whose site is gone, what could not be read to tell, and a
// change cut off half-way.
func printChanges(w io.Writer, r statusReport) {
	if d := r.Drift; d != nil && len(d.Missing) > 0 {
		var lost []string
		for _, m := range d.Missing {
			lost = append(lost, m.Path+" in "+m.VHost)
		}
		fmt.Fprintf(w, "Drift:\t%d Socketbar route(s) missing since the config was rewritten at %s: %s. Run socketbar reapply.\n",
			len(d.Missing), d.Changed.Local().Format(time.DateTime), strings.Join(lost, ", "))
	}
	if r.DriftError != "" {
		fmt.Fprintf(w, "Drift:\tunknown: %s\n", r.DriftError)
	}
	if r.HistoryError != "" {
		fmt.Fprintf(w, "History:\tunknown: %s\n", r.HistoryError)
	}
	if d := r.Drift; d != nil {
		for _, g := range d.GoneByPath() {
			fmt.Fprintf(w, "Site gone:\t%s; socketbar reapply (or socketbar remove %s) lets the route go with it.\n", g, g.Path)
		}
	}
	if r.Interrupted {
		which := "a change"
		if e := r.InterruptedChange; e != nil {
			which = fmt.Sprintf("the change %q (%s, %s)", e.Description, e.ID, e.Time.Local().Format(time.DateTime))
		}
		fmt.Fprintf(w, "Interrupted:\t%s was cut off half-way, or is running now; the next change (or socketbar restart) finishes or rolls it back\n", which)
	}
}

// printSites writes one line per site: its name, aliases, ports,
// certificate and where its VirtualHosts are; then the site list's problems.
func printSites(w io.Writer, r statusReport) {
	if r.SitesError != "" {
		fmt.Fprintf(w, "Sites:\tunknown: %s\n", r.SitesError)
		return
	}
	for i, s := range r.Sites {
		label := ""
		if i == 0 {
			label = "Sites:"
		}
		name := s.Name
		if name == "" {
			name = "default hosts"
		}
		if len(s.Aliases) > 0 {
			name += " (also " + strings.Join(s.Aliases, ", ") + ")"
		}
		var ports []string
		for _, p := range s.Ports {
			ports = append(ports, strconv.Itoa(p))
		}
		line := name + "; ports " + orNone(strings.Join(ports, ", "))
		if s.CertID != "" {
			line += "; certificate " + s.CertID
		}
		line += "; at " + joinPlaces(s.Where)
		fmt.Fprintf(w, "%s\t%s\n", label, line)
	}
	for _, f := range r.SiteFindings {
		fmt.Fprintf(w, "Site warning:\t%s: %s\n", f.Where, f.Message)
	}
}

// joinPlaces writes FILE:LINE places with each file once:
// "a.conf:1, 2; b.conf:7".
func joinPlaces(places []string) string {
	var out []string
	last := ""
	for _, p := range places {
		i := strings.LastIndexByte(p, ':')
		if i < 0 {
			out = append(out, p)
			last = ""
			continue
		}
		file, line := p[:i], p[i+1:]
		if file == last {
			out[len(out)-1] += ", " + line
			continue
		}
		out = append(out, p)
		last = file
	}
	return strings.Join(out, "; ")
}
