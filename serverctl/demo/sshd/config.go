package sshd

import (
	"strconv"
	"strings"
)

// Config is an sshd_config for one listener on 127.0.0.1 that takes key
// logins only.
type Config struct {
	// Port is the loopback port to listen on.
	Port int
	// HostKey is the private host key file.
	HostKey string
	// AuthorizedKeys is the one authorized_keys file for every account.
	AuthorizedKeys string
	// PidFile is where sshd writes its process id.
	PidFile string
	// AllowUsers are the only accounts that may log in; none lets in any
	// account with a key in AuthorizedKeys.
	AllowUsers []string
	// LogLevel is sshd's LogLevel; "" is INFO.
	LogLevel string
}

// Text is the sshd_config. It refuses a value that sshd would read as
// something else (a quote, a backslash, a newline, a % token, a pattern in
// a user name), naming the field, rather than quote it wrongly.
func (c Config) Text() (string, error) {
	for _, f := range []struct{ name, value string }{
		{"host key", c.HostKey}, {"authorized_keys", c.AuthorizedKeys}, {"pid file", c.PidFile},
	} {
		if err := checkPath(f.name, f.value); err != nil {
			return "", err
		}
	}
	for _, u := range c.AllowUsers {
		if err := checkUser(u); err != nil {
			return "", err
		}
	}
	level := c.LogLevel
	if level == "" {
		level = "INFO"
	}
	lines := []string{
		"ListenAddress 127.0.0.1:" + strconv.Itoa(c.Port),
		"HostKey " + quote(c.HostKey),
		"PidFile " + quote(c.PidFile),
		"AuthorizedKeysFile " + quote(c.AuthorizedKeys),
	}
	if len(c.AllowUsers) > 0 {
		lines = append(lines, "AllowUsers "+strings.Join(c.AllowUsers, " "))
	}
	lines = append(lines,
		"PubkeyAuthentication yes",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"HostbasedAuthentication no",
		// A root that runs it logs in with the key, never a password.
		"PermitRootLogin prohibit-password",
		// The files live in a private folder made for this server, which
		// may sit in a world-writable one (/tmp) StrictModes would refuse.
		"StrictModes no",
		"UsePAM no",
		"PrintMotd no",
		"PrintLastLog no",
		// ssh -W: Socketbar dials the Server's loopback through it.
		"AllowTcpForwarding local",
		"AllowAgentForwarding no",
		"AllowStreamLocalForwarding no",
		"X11Forwarding no",
		"PermitTunnel no",
		"PermitUserEnvironment no",
		"LogLevel "+level,
		"",
	)
	return strings.Join(lines, "\n"), nil
}

// Client is an ssh_config Host block that reaches a Config's server.
type Client struct {
	// Alias is the Host name the block gives the server.
	Alias string
	Port  int
	User  string
	// IdentityFile is the private key the server's authorized_keys holds.
	IdentityFile string
	// KnownHosts holds the host key under Alias (HostKeyAlias), so that the
	// account's own known_hosts is neither read nor written.
	KnownHosts string
}

// Text is the Host block, ready for ~/.ssh/config or ssh -F. It refuses
// what ssh would read as something else, naming the field.
func (c Client) Text() (string, error) {
	if err := checkUser(c.User); err != nil {
		return "", err
	}
	if c.Alias == "" || strings.ContainsAny(c.Alias, " \t\"\\%*?!,") || hasControl(c.Alias) {
		return "", errorf("the alias %q must be one plain word", c.Alias)
	}
	for _, f := range []struct{ name, value string }{{"identity file", c.IdentityFile}, {"known_hosts", c.KnownHosts}} {
		if err := checkPath(f.name, f.value); err != nil {
			return "", err
		}
	}
	return strings.Join([]string{
		"Host " + c.Alias,
		"  HostName 127.0.0.1",
		"  Port " + strconv.Itoa(c.Port),
		"  User " + c.User,
		"  IdentityFile " + quote(c.IdentityFile),
		"  IdentitiesOnly yes",
		"  PasswordAuthentication no",
		"  KbdInteractiveAuthentication no",
		"  HostKeyAlias " + c.Alias,
		"  UserKnownHostsFile " + quote(c.KnownHosts),
		"  StrictHostKeyChecking yes",
		"",
	}, "\n"), nil
}

// KnownHostsLine is the known_hosts line that trusts the public key pub
// (an OpenSSH .pub file's text) for alias, as HostKeyAlias looks it up.
func KnownHostsLine(alias string, pub []byte) (string, error) {
	f := strings.Fields(string(pub))
	if len(f) < 2 {
		return "", errorf("not an OpenSSH public key: %.40q", pub)
	}
	return alias + " " + f[0] + " " + f[1] + "\n", nil
}

// quote puts a path in double quotes, which ssh and sshd read as one
// argument whatever spaces it holds (checkPath has refused the rest).
func quote(s string) string { return `"` + s + `"` }

// checkPath refuses a path ssh or sshd would not read back as written:
// relative, or with a quote, a backslash, a control character, or a %
// (a token to them).
func checkPath(field, p string) error {
	switch {
	case !strings.HasPrefix(p, "/"):
		return errorf("the %s path %q is not absolute", field, p)
	case strings.ContainsAny(p, "\"\\%") || hasControl(p):
		return errorf("the %s path %q holds a quote, a backslash, a %% or a control character, which ssh reads differently; use a folder without them", field, p)
	}
	return nil
}

// checkUser refuses a login name that ssh or sshd would read as a pattern
// or as more than one word.
func checkUser(u string) error {
	if u == "" || strings.ContainsAny(u, " \t\"\\%*?!,@") || hasControl(u) {
		return errorf("the login name %q cannot be written in an ssh config (spaces, quotes or patterns)", u)
	}
	return nil
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}
