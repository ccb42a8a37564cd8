//go:build unix

package main

import (
	"os"
	"os/exec"
	"syscall"
)

// trainSignals are the signals bpgen train catches and forwards to the
// trainer as SIGINT, which then stops and saves the weights.
var trainSignals = []os.Signal{os.Interrupt, syscall.SIGTERM}

// setProcessGroup starts c in a process group of its own, so that a Ctrl-C
// at the terminal reaches only bpgen, which forwards it once: the trainer
// treats a second SIGINT as "quit without saving".
func setProcessGroup(c *exec.Cmd) {
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}
