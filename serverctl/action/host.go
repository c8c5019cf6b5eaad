package action

import "github.com/socketbar/socketbar/serverctl/remote"

// Host is a Server to reach over SSH, as Target.Host names it.
type Host = remote.Host

// ParseHost reads a Target.Host ([USER@]HOST[:PORT] or an alias from
// ~/.ssh/config) by the rules every action applies, so that a front end
// can refuse a host as it is typed, with the same *HostError (naming the
// part at fault and the fix) an action would return, before anything runs.
func ParseHost(s string) (Host, error) { return remote.ParseHost(s) }
