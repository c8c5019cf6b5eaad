package wstest

// Cause codes of a Diagnosis. They are part of the JSON output and stable.
const (
	CauseOK           = "ok"
	CauseBadURL       = "bad-url"
	CauseDNS          = "dns"
	CauseRefused      = "refused"
	CauseTLS          = "tls"
	CauseRouteMissing = "route-missing"
	// CauseRouteMissingSite means the request reached a name-based
	// VirtualHost (a custom website's) that has no route for the path,
	// while other sites' VirtualHosts have one: the route was added for
	// the wrong sites. Only a caller that knows the server's config can
	// tell this from CauseRouteMissing (see Report.VHost).
	CauseRouteMissingSite = "route-missing-site"
	CauseUpgradeDropped   = "upgrade-dropped"
	CauseModuleMissing    = "module-missing"
	CauseBackendDown      = "backend-down"
	CauseBadHandshake     = "bad-handshake"
	CauseAppRejected      = "app-rejected"
	CauseTimeout          = "timeout"
	// CauseBadOption means an option (Origin, a header) cannot be sent as
	// given; like CauseBadURL, nothing was sent.
	CauseBadOption = "bad-option"
	// CauseProtocolError means the server broke the HTTP or WebSocket
	// protocol (a malformed or oversized answer, an invalid frame); the
	// message says what it sent.
	CauseProtocolError = "protocol-error"

	// The causes of a URL tested from here and from its Server through
	// SSH (socketbar test --via): only a caller that made both tests can
	// tell them. The first four say it works from the Server but not from
	// here: the name does not resolve here (CauseBetweenDNS), the
	// connection is refused or dropped between (CauseBetweenFirewall),
	// something else answers (CauseBetweenProxy: another HTTP answer or
	// TLS certificate than the Server's side met), or the connection is
	// held or cut (CauseBetween). CauseServerSide says it works from here
	// but not from the Server.
	CauseBetweenDNS      = "between-dns"
	CauseBetweenFirewall = "between-firewall"
	CauseBetweenProxy    = "between-proxy"
	CauseBetween         = "between"
	CauseServerSide      = "server-side"
)

// Step names, in order.
const (
	StepDNS     = "dns"
	StepTCP     = "tcp"
	StepTLS     = "tls"
	StepUpgrade = "upgrade"
	StepEcho    = "echo"
	StepPing    = "ping"
	StepClose   = "close"
)

// Step is one stage of the test.
type Step struct {
	Name   string  `json:"name"`
	OK     bool    `json:"ok"`
	MS     float64 `json:"ms"`
	Detail string  `json:"detail"`
}

// Diagnosis says what went wrong, in words, and what to do about it.
type Diagnosis struct {
	Cause   string `json:"cause"`
	Message string `json:"message"`
	Fix     string `json:"fix"`
}

// Report is the outcome of a test.
type Report struct {
	URL       string    `json:"url"`
	OK        bool      `json:"ok"`
	Steps     []Step    `json:"steps"`
	Diagnosis Diagnosis `json:"diagnosis"`
	// Status and Server describe the HTTP answer to the upgrade, if any.
	Status int    `json:"status,omitempty"`
	Server string `json:"server,omitempty"`
	// Answer is the first message the app sent after the echo was sent
	// (the echo itself, or what it sent instead), as text of at most 200
	// characters with control characters escaped.
	Answer string `json:"answer,omitempty"`
	// CloseCode and CloseReason are the close frame the server sent (1006:
	// it closed without one), the reason shown as Answer is.
	CloseCode   int    `json:"close_code,omitempty"`
	CloseReason string `json:"close_reason,omitempty"`
	// From is where the test was made from (Options.From), "" for this
	// machine.
	From string `json:"from,omitempty"`
	// Certificate is the SHA-256 fingerprint of the certificate the TLS
	// handshake met ("SHA256:" and unpadded base64, as ssh writes a key's),
	// so that two tests of one URL, from here and from the Server, show
	// whether they reached the same TLS endpoint.
	Certificate string `json:"certificate,omitempty"`
	// Connect is the address dialled instead of the URL's (Options.Connect).
	Connect string `json:"connect,omitempty"`
	// Remote is the address the TCP connection reached ("" when none did):
	// with the port, it says which server and VirtualHost address answered.
	Remote string `json:"remote,omitempty"`
	// VHost says which name-based VirtualHost answered and whether it has a
	// route for the path. The wire does not show it: a caller that knows
	// the server's config (Socketbar's action layer) fills it in.
	VHost *VHostAnswer `json:"vhost,omitempty"`
}

// VHostAnswer is the name-based VirtualHost that answered a test, worked
// out from the server's config as Apache picks one: by the port dialled,
// then the request's host name among ServerName and ServerAlias, else the
// first VirtualHost for the address.
type VHostAnswer struct {
	// Site is the answering VirtualHost's ServerName, "" for the default
	// hosts (the VirtualHosts without a site of their own).
	Site string `json:"site"`
	// Port is the port dialled, which picked the VirtualHosts Apache chose among.
	Port int `json:"port"`
	// HasRoute says whether that VirtualHost holds a route for the path.
	HasRoute bool `json:"has_route"`
	// RouteSites are the sites with a route for the path on any port ("" the
	// default hosts), in the config's order.
	RouteSites []string `json:"route_sites"`
}
