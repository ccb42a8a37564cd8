//go:build unix

package main

import (
	"log"
	"syscall"
	"time"
)

// cpuClock is the CPU time (user and system) the process has used.
var cpuClock = func() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		log.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
