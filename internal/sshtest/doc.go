// Package sshtest runs a real OpenSSH sshd on loopback for tests.
//
// Start writes everything the server and its clients need below a new
// folder: host keys and a client key made by ssh-keygen, the server's own
// authorized_keys, an sshd_config that listens on a 127.0.0.1 port reserved
// with internal/loopport, and an ssh_config naming the server under an
// alias, so that `ssh -F CONFIG ALIAS` logs in without reading the
// account's ~/.ssh (OpenSSH finds ~/.ssh through the password database, not
// $HOME, so a test can only keep out of it with -F). Cleanup stops sshd and
// removes the folder.
//
// Tests call Start (or Require first): without /usr/sbin/sshd they skip,
// but under CI (the CI environment variable set) a missing sshd fails the
// test, since CI installs openssh-server (.dev/setup.sh).
package sshtest
