// Package sshd runs an OpenSSH sshd on a loopback port, for one folder of
// keys and one account, so that Socketbar's remote path (--host) can be
// tried, and tested, on one machine.
//
// Config renders the sshd_config, ClientConfig the matching ssh_config
// Host block, and Keygen makes their keys with ssh-keygen. Start runs
// "sshd -D" under a small /bin/sh watchdog that holds the read end of a
// pipe whose write end only this process has: when the pipe closes, because
// Stop closed it or because the process died (even by SIGKILL, which no
// cleanup code sees), the watchdog stops sshd and the sessions it forked.
// So no sshd outlives the program that started it, on Linux and macOS alike.
package sshd
