// Package remote reaches a Server over SSH with the system's own ssh, and
// runs commands there with nothing installed on it (issue 17).
//
// # Why the system's ssh
//
// Like git, rsync and Ansible, Socketbar runs ssh rather than speaking SSH
// itself, so the admin's ~/.ssh/config (aliases, ProxyJump, IdentityFile),
// agent and known_hosts apply without Socketbar knowing them.
// SOCKETBAR_SSH chooses another ssh command line, as GIT_SSH_COMMAND does
// (split on spaces, no shell: see ParseSSHCommand).
//
// # One connection, many commands
//
// Open logs in once: an ssh master process holds the connection, with a
// control socket in a private 0700 folder under /tmp (a Unix socket path
// has 104 bytes on macOS, whose $TMPDIR alone takes about 50). Run, Stream
// (Run for output read as it comes: the mirror of a Server's files) and
// Dial then open channels over it, a round trip each instead of a handshake
// and a login (BenchmarkOpen against BenchmarkRunWarm). Close ends the
// master with ssh -O exit and removes the folder; a Socketbar killed
// outright leaves no master either, since the master's session ends when
// its standard input, a pipe only this process holds, closes.
//
// # Safe to drive from a program
//
// Socketbar's own ssh options come before the user's, and ssh keeps the
// first value it reads, so no config can make ssh prompt (BatchMode), accept
// an unknown host key (StrictHostKeyChecking=yes), forward anything, or
// run a local command. Hosts are checked before anything runs (ParseHost:
// nothing that starts with "-", no shell characters) and go to ssh after
// "--". Every argument of a command is quoted for the Server's login shell
// (CommandLine), standard output and error are capped (Config.MaxOutput),
// and a cancelled command's remote process group is signalled, since sshd
// sends no signal to a command without a terminal.
//
// # The account's shell startup
//
// Every command, and the master's session, runs in the account's login
// shell, whose startup files (bash runs ~/.bashrc even for sshd's
// commands) may print or wait. Each prints a random marker line just
// before it starts; standard output is skipped up to it (64 KiB at most,
// then a *StartupOutputError), so Run and Stream return exactly the
// command's output. Open is bounded whatever its context: ssh's
// ConnectTimeout (DefaultConnectTimeout, unless the user's config or
// SOCKETBAR_SSH sets one, which ssh -G tells) and Config.LoginTimeout up
// to the master's marker; a stall is a *LoginTimeoutError that says
// whether the log-in had completed (the control socket was up).
//
// # Errors
//
// ssh's exit status 255 and its words become typed errors, so that no
// caller parses them: *HostKeyError (an unknown key, with its fingerprint
// and Accept to record it), *HostKeyChangedError (never accepted
// automatically), *AuthError (with how to install a key), *DialError,
// *LoginTimeoutError, *StartupOutputError, *SSHError; a command's own
// failure is an *ExitError, too much output an
// *OutputLimitError, a lost connection ErrClosed, sudo's refusal a
// *SudoError.
//
// # What runs on the Server
//
// Commands lists every program and option Socketbar may run there, as
// data; CheckCommand and CheckScript hold an argv or a script to it, and
// the tests of every remote script should call them. Root comes through
// Sudo, with the password on standard input only.
package remote
