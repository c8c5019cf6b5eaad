package remote

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The typed errors below are what ssh's exit status 255 and its standard
// error mean, read once here so that no caller parses ssh's words. Each
// carries the facts a front end needs to word its own message, and Remedy
// gives a sentence naming the fix for those that do not.

// HostKeyError is returned by Open when the Server's host key is in no
// known_hosts file: ssh refused to log in (StrictHostKeyChecking=yes), and
// Socketbar read the key the Server offers so that a person can compare
// its fingerprint with the Server's own (System Information, or
// `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on the Server) and
// accept it. Nothing is accepted without a call to Accept.
type HostKeyError struct {
	// Host is the Server as given to Open.
	Host Host
	// Name and Port are where ssh connects after reading its config
	// (an alias's HostName and Port).
	Name string
	Port int
	// Fingerprints are the keys the Server offered, as ssh-keygen -l shows
	// them. ssh offers one; a person should see each before accepting.
	Fingerprints []Fingerprint

	// lines are the known_hosts lines ssh itself wrote for the key, in the
	// form and under the name (HostKeyAlias, [host]:port, hashed or not)
	// it will look them up by; Accept appends exactly these.
	lines []byte
	// ssh is the ssh command line (program and the user's arguments) that
	// Accept asks which known_hosts file it uses.
	ssh []string
}

func (e *HostKeyError) Error() string {
	fps := make([]string, len(e.Fingerprints))
	for i, f := range e.Fingerprints {
		fps[i] = f.String()
	}
	return fmt.Sprintf("remote: the host key of %s is not known (%s): compare it with the Server's and accept it",
		hostPort(e.Name, e.Port), strings.Join(fps, ", "))
}

// Remedy says how to accept the key from a shell.
func (e *HostKeyError) Remedy() string {
	return fmt.Sprintf("Compare the fingerprint with the one the Server shows (on the Server: ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and, if they match, accept the key: run ssh %s true and answer yes.", sshDest(e.Host))
}

// Fingerprint is one host key's type and SHA256 fingerprint.
type Fingerprint struct {
	// Type is the key type as ssh-keygen -l shows it: "ED25519", "RSA", "ECDSA".
	Type string
	// SHA256 is "SHA256:" and the unpadded base64 of the key's hash.
	SHA256 string
}

func (f Fingerprint) String() string { return f.SHA256 + " (" + f.Type + ")" }

// HostKeyChangedError is returned when the Server offers a key other than
// the one known_hosts holds for it: either the Server was reinstalled or
// its keys replaced, or someone is in the middle. It is never accepted
// automatically; the old line has to be removed by hand after checking.
type HostKeyChangedError struct {
	Host Host
	// Fingerprint is the new key's, as ssh reported it ("SHA256:…"); empty
	// when ssh did not say.
	Fingerprint string
	// KnownHosts and Line locate the old key ("Offending … key in FILE:LINE").
	KnownHosts string
	Line       int
}

func (e *HostKeyChangedError) Error() string {
	where := ""
	if e.KnownHosts != "" {
		where = fmt.Sprintf(" than the one in %s line %d", e.KnownHosts, e.Line)
	}
	return fmt.Sprintf("remote: %s offered a different host key%s (new key %s): refusing to connect", e.Host, where, e.Fingerprint)
}

// Remedy says what to check and how to forget the old key.
func (e *HostKeyChangedError) Remedy() string {
	file := ""
	if e.KnownHosts != "" {
		file = " -f " + Quote(e.KnownHosts)
	}
	return fmt.Sprintf("The Server's identity changed. If it was reinstalled or its keys replaced, check the new fingerprint %s with the Server's administrator, then remove the old key (ssh-keygen%s -R %s) and connect again. Otherwise someone may be intercepting the connection: do not continue.",
		e.Fingerprint, file, Quote(e.Host.Name))
}

// AuthError is returned when the Server refused every way ssh tried to log
// in without asking (BatchMode): usually no key of this Mac's is in the
// account's ~/.ssh/authorized_keys there.
type AuthError struct {
	Host Host
	// Login is who ssh tried to log in as, as ssh said ("admin@server").
	Login string
	// Methods are what the Server would accept ("publickey", "password",
	// "keyboard-interactive").
	Methods []string
}

func (e *AuthError) Error() string {
	return fmt.Sprintf("remote: %s refused the login as %s (it accepts: %s)", e.Host, e.Login, strings.Join(e.Methods, ", "))
}

// Remedy says how to install a key.
func (e *AuthError) Remedy() string {
	return fmt.Sprintf("Socketbar logs in with an SSH key, never a typed password. Install this Mac's key on the Server once with: ssh-copy-id %s (it asks for the account's password), after making a key with ssh-keygen -t ed25519 if you have none.",
		sshDest(e.Host))
}

// DialError is returned when ssh could not reach the Server at all.
type DialError struct {
	Host Host
	// Reason is ssh's own words for it ("Connection refused", "Could not
	// resolve hostname server: Name or service not known").
	Reason string
}

func (e *DialError) Error() string {
	return fmt.Sprintf("remote: cannot reach %s: %s", e.Host, e.Reason)
}

// Remedy names the usual causes.
func (e *DialError) Remedy() string {
	return fmt.Sprintf("Check the host name and port of %s, that the Server is on the network, and that Remote Login is on in its System Preferences → Sharing.", e.Host)
}

// LoginTimeoutError is returned by Open when the log-in did not finish
// within its bound (Config.LoginTimeout), or ssh's ConnectTimeout ended a
// peer that accepted the connection and never spoke SSH. Open killed its
// ssh; nothing of it runs on this machine.
type LoginTimeoutError struct {
	Host Host
	// LoggedIn says ssh had logged in (its control socket was up) and the
	// account's login shell never got to Socketbar's command: a startup
	// file there (~/.bashrc, ~/.profile, …) waits for something. When
	// false, the Server accepted the connection but its SSH never
	// completed the handshake and log-in.
	LoggedIn bool
	// After is how long Open waited.
	After time.Duration
}

func (e *LoginTimeoutError) Error() string {
	if e.LoggedIn {
		return fmt.Sprintf("remote: logged in to %s, but the account's shell startup did not finish within %s", e.Host, e.After)
	}
	return fmt.Sprintf("remote: %s accepted the connection but its SSH never answered (waited %s)", e.Host, e.After)
}

// Remedy names where to look.
func (e *LoginTimeoutError) Remedy() string {
	if e.LoggedIn {
		return "Check the account's shell startup files on the Server (~/.bashrc, ~/.bash_profile, ~/.profile, ~/.zshenv): a command there waits (a sleep, a prompt, a network mount). Make them return at once when the shell is not interactive, e.g. with case $- in *i*) ;; *) return;; esac at the top of ~/.bashrc."
	}
	return fmt.Sprintf("Check that %s is the Server's SSH (Remote Login in System Preferences → Sharing) and not another service on that port, and that no firewall or proxy between holds the connection.", hostPort(e.Host.Name, e.Host.Port))
}

// StartupOutputError is returned when the account's login shell on the
// Server printed more on standard output than Socketbar skips (64 KiB)
// before the command, or the master's session, could start: its startup
// files print without end. The command was stopped.
type StartupOutputError struct {
	Host Host
	// Limit is how many bytes are skipped.
	Limit int64
}

func (e *StartupOutputError) Error() string {
	return fmt.Sprintf("remote: the account's shell startup on %s printed more than %d KiB before Socketbar's command could start", e.Host, e.Limit>>10)
}

// Remedy names the files.
func (e *StartupOutputError) Remedy() string {
	return "Make the account's shell startup files on the Server (~/.bashrc, ~/.bash_profile, ~/.profile, ~/.zshenv) print nothing when the shell is not interactive, e.g. with case $- in *i*) ;; *) return;; esac at the top of ~/.bashrc."
}

// SSHError is ssh failing (exit status 255) in a way none of the errors
// above describes. Stderr is the end of what it printed.
type SSHError struct {
	Host   Host
	Stderr string
}

func (e *SSHError) Error() string {
	return fmt.Sprintf("remote: ssh to %s failed: %s", e.Host, e.Stderr)
}

// ExitError is a remote command that ran and exited with a status other
// than 0. Stderr is the end of its standard error.
type ExitError struct {
	Command string
	Code    int
	Stderr  string
}

func (e *ExitError) Error() string {
	msg := fmt.Sprintf("remote: %s exited with status %d", e.Command, e.Code)
	if e.Stderr != "" {
		msg += ": " + e.Stderr
	}
	return msg
}

// OutputLimitError is returned when a remote command printed more than
// the Conn keeps; the command was stopped.
type OutputLimitError struct {
	Command string
	// Stream is "stdout" or "stderr".
	Stream string
	Limit  int64
}

func (e *OutputLimitError) Error() string {
	return fmt.Sprintf("remote: %s printed more than %d bytes on %s; stopped it", e.Command, e.Limit, e.Stream)
}

// ErrClosed is returned for a Conn that was closed, or whose connection
// ended (the Server went away, or the master ssh was killed).
var ErrClosed = errors.New("remote: connection closed")

var (
	permissionDenied = regexp.MustCompile(`(?m)^(.*): Permission denied \(([^)]*)\)`)
	offendingKey     = regexp.MustCompile(`(?m)^Offending \S+ key in (.+):(\d+)\s*$`)
	newFingerprint   = regexp.MustCompile(`(?m)^(SHA256:[A-Za-z0-9+/]+)\.?\s*$`)
	connectFailed    = regexp.MustCompile(`(?m)^ssh: connect to host \S+ port \d+: (.+)$`)
	resolveFailed    = regexp.MustCompile(`(?m)^ssh: (Could not resolve hostname .+)$`)
	bannerTimeout    = regexp.MustCompile(`(?m)^Connection timed out during banner exchange`)
	unknownHostKey   = regexp.MustCompile(`(?m)^No \S+ host key is known for .* and you have requested strict checking\.`)
)

// dialReasons are the words ssh uses when the TCP connection itself fails,
// or when the peer drops it before speaking SSH.
var dialReasons = []string{
	"kex_exchange_identification:",
	"banner exchange:",
	"Connection closed by remote host",
	"Connection reset by peer",
}

// classify maps ssh's standard error after exit status 255 to a typed
// error, or returns nil when it names none of the known failures. It
// leaves an unknown host key to the caller (errUnknownHostKey), which
// reads the key before returning a HostKeyError.
func classify(h Host, stderr []byte) error {
	text := string(bytes.ReplaceAll(stderr, []byte("\r\n"), []byte("\n")))
	switch {
	case strings.Contains(text, "REMOTE HOST IDENTIFICATION HAS CHANGED") ||
		strings.Contains(text, "POSSIBLE DNS SPOOFING DETECTED") ||
		strings.Contains(text, "has changed and you have requested strict checking"):
		e := &HostKeyChangedError{Host: h}
		if m := offendingKey.FindStringSubmatch(text); m != nil {
			e.KnownHosts = m[1]
			e.Line, _ = strconv.Atoi(m[2])
		}
		if m := newFingerprint.FindStringSubmatch(text); m != nil {
			e.Fingerprint = m[1]
		}
		return e
	case unknownHostKey.MatchString(text) || strings.Contains(text, "Host key verification failed."):
		return errUnknownHostKey
	}
	if bannerTimeout.MatchString(text) {
		return &LoginTimeoutError{Host: h}
	}
	if m := permissionDenied.FindStringSubmatch(text); m != nil {
		return &AuthError{Host: h, Login: m[1], Methods: strings.Split(m[2], ",")}
	}
	if m := resolveFailed.FindStringSubmatch(text); m != nil {
		return &DialError{Host: h, Reason: strings.TrimSpace(m[1])}
	}
	if m := connectFailed.FindStringSubmatch(text); m != nil {
		return &DialError{Host: h, Reason: strings.TrimSpace(m[1])}
	}
	for _, r := range dialReasons {
		if i := strings.Index(text, r); i >= 0 {
			line, _, _ := strings.Cut(text[i:], "\n")
			return &DialError{Host: h, Reason: strings.TrimSpace(line)}
		}
	}
	return nil
}

// errUnknownHostKey is classify's answer for an unknown host key; Open
// turns it into a HostKeyError.
var errUnknownHostKey = errors.New("remote: host key unknown")

// tail is the last n bytes of b as trimmed text, for error messages.
func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return strings.TrimSpace(string(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))))
}

func hostPort(name string, port int) string {
	if port == 0 || port == 22 {
		return name
	}
	if strings.Contains(name, ":") {
		return "[" + name + "]:" + strconv.Itoa(port)
	}
	return name + ":" + strconv.Itoa(port)
}

// sshDest writes h as ssh and ssh-copy-id take it on a command line:
// "-p PORT USER@NAME".
func sshDest(h Host) string {
	dest := h.Name
	if h.User != "" {
		dest = h.User + "@" + dest
	}
	if h.Port != 0 {
		return "-p " + strconv.Itoa(h.Port) + " " + Quote(dest)
	}
	return Quote(dest)
}
