// Package agent runs Socketbar's root agent on a Server reached over SSH:
// one perl program (agent.pl), streamed to /usr/bin/perl over an SSH
// channel and never written to the Server's disk, that runs as root for
// one change and serves every serverctl.Disk method, run.Runner's Run and
// Alive, so that the change transaction of package serverctl runs there
// as it runs here (issue 17, items 3 to 5).
//
// # Starting
//
// Start sends one command line, which passes remote.CheckCommand: a root
// login execs perl itself (no sudo, no password, no extra round trip);
// any other login runs it through sudo, the password (when given) going
// to sudo on standard input (remote.Sudo), never in an argument, the
// environment or a file. perl -e runs a short loader that reads the
// program from standard input, length first.
//
// # Protocol
//
// Both ways: frames of a 4-byte length and fields, each a 4-byte length
// and its bytes, so paths are bytes (spaces, quotes, newlines) that no
// shell ever reads. Each request carries a sequence number its answer
// repeats. This side reads at most maxFrame bytes per answer and bounds
// every request in time (Disk methods have no context); an answer that
// breaks the protocol, a stall, or the end of the agent stops it, and
// every request fails from then on with a *ProtocolError, *TimeoutError
// or *DiedError.
//
// # Locks
//
// Lock's flock is held by the agent's process: Close of the lock, Close
// of the agent, the death of the process or of the SSH connection (the
// end of its standard input) releases it.
package agent
