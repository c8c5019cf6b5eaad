//go:build !unix

package sshd

import "os/exec"

// setOwnGroup has no process groups to use here.
func setOwnGroup(*exec.Cmd) {}

// killGroup kills the watchdog alone.
func killGroup(cmd *exec.Cmd) { cmd.Process.Kill() }
