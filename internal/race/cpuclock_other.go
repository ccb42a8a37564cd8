//go:build !unix

package main

import "time"

// cpuClock is nil where the process's CPU time cannot be read (no
// getrusage): -clock cpu then stops with an error and -clock wall works.
var cpuClock func() time.Duration
