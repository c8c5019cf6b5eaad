package action

import "github.com/socketbar/socketbar/serverctl/remote"

// Host is a Server to reach over SSH, as Target.Host names it.
type Host = remote.Host

// ParseHost reads a Target.Host ([USER@]HOST[:PORT] or an alias from
// ~/.ssh/config) by the rules every action applies, so that a front end
// can refuse a host as it is typed, with the same *HostError (naming the
// part at fault and the fix) an action would return, before anything runs.
func ParseHost(s string) (Host, error) { return remote.ParseHost(s) }

// SSHError is ssh failing in a way none of the other kinds describes;
// a front end that follows a Server counts it, with ErrClosed, as the
// connection lost.
type SSHError = remote.SSHError

// ErrClosed: the connection to the Server ended (it went away, or the
// network dropped) during an action.
var ErrClosed = remote.ErrClosed
