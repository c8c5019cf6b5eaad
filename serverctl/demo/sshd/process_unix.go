//go:build unix

package sshd

import (
	"os/exec"
	"syscall"
)

// setOwnGroup puts the watchdog and sshd in a process group of their own,
// so that the terminal's Ctrl-C reaches the program that started them,
// which then stops them in order, and not them directly.
func setOwnGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

// killGroup kills the watchdog's process group: the watchdog, sshd and
// the reader (sessions have left the group).
func killGroup(cmd *exec.Cmd) { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
