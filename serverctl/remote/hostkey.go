package remote

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
)

// maxKnownHostsLines bounds what the probe may record: ssh records one key.
const maxKnownHostsLines = 8

// hostKeyError reads the key the Server offers and returns a HostKeyError
// holding it.
//
// ssh itself reads the key: it connects again with StrictHostKeyChecking=
// accept-new into an empty known_hosts file of our own, and no way to log
// in, so it records the key and stops. Unlike ssh-keyscan, this goes
// through the user's ProxyJump or ProxyCommand, negotiates the key type
// ssh will check, and writes the line under the very name ssh looks up
// (HostKeyAlias, "[host]:port", hashed when HashKnownHosts says so): the
// line Accept appends is the one the next login finds.
func (c *Conn) hostKeyError(ctx context.Context) error {
	file := filepath.Join(c.dir, "probe_known_hosts")
	opts := []string{
		"-o", "BatchMode=yes",
		"-o", "StrictHostKeyChecking=accept-new",
		"-o", "UserKnownHostsFile=" + file,
		"-o", "GlobalKnownHostsFile=/dev/null",
		"-o", "UpdateHostKeys=no",
		"-o", "CheckHostIP=no",
		"-o", "ControlMaster=no",
		"-o", "ControlPath=none",
		"-o", "PreferredAuthentications=publickey",
		"-o", "PubkeyAuthentication=no",
		"-o", "ClearAllForwardings=yes",
		"-o", "PermitLocalCommand=no",
		"-o", "RemoteCommand=none",
		"-a", "-x", "-T",
	}
	cmd := c.command(ctx, opts, "true")
	stderr := &tailBuffer{max: stderrKeep}
	cmd.Stderr = stderr
	cmd.Run() // fails by design, at the login
	lines, err := readKnownHosts(file)
	if err != nil || len(lines) == 0 {
		if ctx.Err() != nil {
			return fmt.Errorf("remote: read the host key of %s: %w", c.host, ctx.Err())
		}
		if typed := classify(c.host, stderr.Bytes()); typed != nil && !errors.Is(typed, errUnknownHostKey) {
			return typed
		}
		return &SSHError{Host: c.host, Stderr: "the host key is not known, and reading it failed: " + tail(stderr.Bytes(), 2000)}
	}
	e := &HostKeyError{Host: c.host, ssh: c.ssh}
	for _, l := range lines {
		fp, err := fingerprint(l)
		if err != nil {
			return fmt.Errorf("remote: read the host key of %s: %w", c.host, err)
		}
		e.Fingerprints = append(e.Fingerprints, fp)
		e.lines = append(append(e.lines, l...), '\n')
	}
	e.Name, e.Port = c.host.Name, c.host.Port
	if g, err := sshConfig(ctx, c.ssh, c.host); err == nil {
		e.Name = g["hostname"]
		e.Port, _ = strconv.Atoi(g["port"])
	}
	return e
}

// readKnownHosts reads the key lines of a known_hosts file ssh wrote.
func readKnownHosts(file string) ([]string, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(io.LimitReader(f, 64<<10))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if len(lines) == maxKnownHostsLines {
			return nil, fmt.Errorf("more than %d host keys", maxKnownHostsLines)
		}
		lines = append(lines, l)
	}
	return lines, sc.Err()
}

// keyTypes names key types as ssh-keygen -l does.
var keyTypes = map[string]string{
	"ssh-ed25519":                        "ED25519",
	"ssh-rsa":                            "RSA",
	"ecdsa-sha2-nistp256":                "ECDSA",
	"ecdsa-sha2-nistp384":                "ECDSA",
	"ecdsa-sha2-nistp521":                "ECDSA",
	"sk-ssh-ed25519@openssh.com":         "ED25519-SK",
	"sk-ecdsa-sha2-nistp256@openssh.com": "ECDSA-SK",
	"ssh-dss":                            "DSA",
}

// fingerprint computes ssh-keygen's SHA256 fingerprint of a known_hosts
// line ("NAMES TYPE BASE64 [COMMENT]"): the unpadded base64 of the SHA-256
// of the key blob.
func fingerprint(line string) (Fingerprint, error) {
	f := strings.Fields(line)
	if len(f) > 0 && strings.HasPrefix(f[0], "@") { // @cert-authority, @revoked
		return Fingerprint{}, fmt.Errorf("unexpected marker %q in a recorded host key", f[0])
	}
	if len(f) < 3 {
		return Fingerprint{}, fmt.Errorf("recorded host key %q has too few fields", line)
	}
	blob, err := base64.StdEncoding.DecodeString(f[2])
	if err != nil {
		return Fingerprint{}, fmt.Errorf("recorded host key: %w", err)
	}
	// The blob starts with its own type, as a length-prefixed string.
	if len(blob) < 4 {
		return Fingerprint{}, errors.New("recorded host key is too short")
	}
	n := int(blob[0])<<24 | int(blob[1])<<16 | int(blob[2])<<8 | int(blob[3])
	if n > len(blob)-4 || string(blob[4:4+n]) != f[1] {
		return Fingerprint{}, fmt.Errorf("recorded host key's type %q does not match its data", f[1])
	}
	typ, ok := keyTypes[f[1]]
	if !ok {
		typ = strings.ToUpper(f[1])
	}
	sum := sha256.Sum256(blob)
	return Fingerprint{Type: typ, SHA256: "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])}, nil
}

// Accept records the key in the known_hosts file ssh uses for the host
// (the first UserKnownHostsFile `ssh -G` reports, normally
// ~/.ssh/known_hosts), so that the next Open logs in. Call it only after a
// person has compared Fingerprints with the Server's own.
func (e *HostKeyError) Accept(ctx context.Context) error {
	if len(e.lines) == 0 {
		return errors.New("remote: no host key to accept")
	}
	g, err := sshConfig(ctx, e.ssh, e.Host)
	if err != nil {
		return err
	}
	file, err := firstPath(g["userknownhostsfile"])
	if err != nil {
		return err
	}
	return appendLines(file, e.lines)
}

// KnownHostsLines are the lines Accept appends, as ssh wrote them.
func (e *HostKeyError) KnownHostsLines() string { return string(e.lines) }

// appendLines appends lines to a known_hosts file, making the file (0600)
// and its folder (0700) when missing, and starting on a new line when the
// file's last line has no end.
func appendLines(file string, lines []byte) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return fmt.Errorf("remote: accept host key: %w", err)
	}
	f, err := os.OpenFile(file, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("remote: accept host key: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, fi.Size()-1); err == nil && last[0] != '\n' {
			lines = append([]byte{'\n'}, lines...)
		}
	}
	if _, err := f.Write(lines); err != nil {
		return fmt.Errorf("remote: accept host key: write %s: %w", file, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("remote: accept host key: %s: %w", file, err)
	}
	return nil
}

// sshConfig is `ssh -G`'s answer for h: the options ssh would use, after
// the user's arguments and config files, keyed by lower-case name.
func sshConfig(ctx context.Context, ssh []string, h Host) (map[string]string, error) {
	args := append(append(append([]string(nil), ssh[1:]...), "-G"), h.args()...)
	cmd := exec.CommandContext(ctx, ssh[0], args...)
	stdout, stderr := &capBuffer{limit: 1 << 20}, &capBuffer{limit: 64 << 10}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("remote: ssh -G %s: %w: %s", h, err, tail(stderr.Bytes(), 500))
	}
	g := map[string]string{}
	for _, line := range strings.Split(string(stdout.Bytes()), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), " ")
		if ok {
			if _, seen := g[k]; !seen {
				g[k] = v
			}
		}
	}
	return g, nil
}

// firstPath is the first of ssh -G's space-separated paths (in double
// quotes when it holds spaces), with a leading ~ read as the home folder
// of the account, as ssh reads it (the password database, not $HOME).
func firstPath(list string) (string, error) {
	list = strings.TrimSpace(list)
	var p string
	if strings.HasPrefix(list, `"`) {
		end := strings.IndexByte(list[1:], '"')
		if end < 0 {
			return "", fmt.Errorf("remote: ssh -G: unterminated quote in %q", list)
		}
		p = list[1 : end+1]
	} else {
		p, _, _ = strings.Cut(list, " ")
	}
	if p == "" || p == "none" {
		return "", errors.New("remote: ssh names no UserKnownHostsFile to record the key in")
	}
	if p == "~" || strings.HasPrefix(p, "~/") {
		u, err := user.Current()
		if err != nil {
			return "", fmt.Errorf("remote: home folder: %w", err)
		}
		p = filepath.Join(u.HomeDir, p[1:])
	}
	if !filepath.IsAbs(p) {
		return "", fmt.Errorf("remote: ssh's UserKnownHostsFile %q is not an absolute path", p)
	}
	return p, nil
}
