//go:build !linux

package smallfs

import (
	"errors"
	"runtime"
)

func mount(dir string, size int) error {
	return errors.New("tmpfs mounts are Linux's; this is " + runtime.GOOS)
}

func unmount(dir string) error { return nil }

func remountReadOnly(dir string) error { return errors.New("tmpfs mounts are Linux's") }
