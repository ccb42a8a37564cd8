//go:build !unix

package main

import (
	"os"
	"os/exec"
)

// trainSignals are the signals bpgen train catches and forwards to the
// trainer as SIGINT, which then stops and saves the weights.
var trainSignals = []os.Signal{os.Interrupt}

// setProcessGroup does nothing: on Windows a Ctrl-C reaches every process
// of the console, the trainer included, and bpgen cannot forward it.
func setProcessGroup(c *exec.Cmd) {}
