package demo

import (
	"context"
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"runtime"

	"github.com/socketbar/socketbar/internal/loopport"
	"github.com/socketbar/socketbar/serverctl/demo/sshd"
)

// SSHAlias is the Host name the demo's ssh_config gives its sshd.
const SSHAlias = "socketbar-demo"

// SSHDir is the demo tree's private folder (0700) for its sshd: keys,
// configs, known_hosts. Clear removes it with the tree.
const SSHDir = "socketbar-demo-ssh"

// SSH is the sshd the demo runs in front of its tree, on a loopback port
// chosen when it starts, for the account running the demo and the demo's
// own client key alone: the remote path (--host) on one machine.
type SSH struct {
	// Port is where sshd listens on 127.0.0.1.
	Port int
	// User is the login: the account running the demo.
	User string
	// ConfigFile is an ssh_config with the Host block, for ssh -F.
	ConfigFile string
	// HostBlock is the Host block itself, for ~/.ssh/config.
	HostBlock string
	// PidFile is where sshd writes its process id.
	PidFile string

	srv *sshd.Server
}

// StartSSH starts the sshd at path (sshd.Path) in front of the tree. The
// host and client keys are made once and kept, so the Host block changes
// only in its Port from one start to the next; known_hosts and the
// configs are written again each time. An error wrapping
// sshd.ErrNotInstalled means there is no sshd to run.
func (st *State) StartSSH(ctx context.Context, path string) (*SSH, error) {
	if err := sshd.Installed(path); err != nil {
		return nil, err
	}
	me, err := user.Current()
	if err != nil {
		return nil, errorf("who runs the demo: %w", err)
	}
	dir := filepath.Join(st.Root, SSHDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, errorf("%w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, errorf("%w", err)
	}
	hostKey, clientKey := filepath.Join(dir, "ssh_host_ed25519_key"), filepath.Join(dir, "client_ed25519")
	for _, k := range []struct{ path, comment string }{{hostKey, "socketbar-demo host"}, {clientKey, "socketbar-demo client"}} {
		if err := keepOrMakeKey(ctx, k.path, k.comment); err != nil {
			return nil, err
		}
	}
	hostPub, err := os.ReadFile(hostKey + ".pub")
	if err != nil {
		return nil, errorf("%w", err)
	}
	known, err := sshd.KnownHostsLine(SSHAlias, hostPub)
	if err != nil {
		return nil, err
	}
	clientPub, err := os.ReadFile(clientKey + ".pub")
	if err != nil {
		return nil, errorf("%w", err)
	}
	port, err := loopport.Reserve()
	if err != nil {
		return nil, errorf("%w", err)
	}
	defer port.Release()
	s := &SSH{Port: port.Number, User: me.Username, ConfigFile: filepath.Join(dir, "ssh_config"), PidFile: filepath.Join(dir, "sshd.pid")}
	conf := filepath.Join(dir, "sshd_config")
	serverConf, err := sshd.Config{Port: s.Port, HostKey: hostKey, AuthorizedKeys: filepath.Join(dir, "authorized_keys"),
		PidFile: s.PidFile, AllowUsers: []string{s.User}}.Text()
	if err != nil {
		return nil, err
	}
	knownHosts := filepath.Join(dir, "known_hosts")
	if s.HostBlock, err = (sshd.Client{Alias: SSHAlias, Port: s.Port, User: s.User, IdentityFile: clientKey, KnownHosts: knownHosts}).Text(); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		path    string
		content []byte
	}{
		{filepath.Join(dir, "authorized_keys"), clientPub},
		{knownHosts, []byte(known)},
		{conf, []byte(serverConf)},
		{s.ConfigFile, []byte(s.HostBlock)},
	} {
		if err := os.WriteFile(f.path, f.content, 0o600); err != nil {
			return nil, errorf("%w", err)
		}
	}
	if os.Geteuid() == 0 && runtime.GOOS == "linux" {
		// sshd run by root separates privileges and, on Debian, refuses
		// to start without this folder, which its service unit makes at
		// boot (macOS uses /var/empty, which is always there).
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, errorf("%w", err)
		}
	}
	if s.srv, err = sshd.Start(ctx, path, conf, s.Port, nil); err != nil {
		return nil, err
	}
	return s, nil
}

// keepOrMakeKey makes the key pair at path unless both halves are there.
func keepOrMakeKey(ctx context.Context, path, comment string) error {
	_, errPriv := os.Stat(path)
	_, errPub := os.Stat(path + ".pub")
	if errPriv == nil && errPub == nil {
		return nil
	}
	os.Remove(path)
	os.Remove(path + ".pub")
	return sshd.Keygen(ctx, path, comment)
}

// Stop stops the sshd and the sessions it runs.
func (s *SSH) Stop(ctx context.Context) error { return s.srv.Stop(ctx) }
