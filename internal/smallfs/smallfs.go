// Package smallfs gives tests a real, small file system that fills up: a
// tmpfs of a given size mounted in a temporary directory (Linux, as root or
// with CAP_SYS_ADMIN), which ReadOnly can remount read-only: an unwritable
// place even for root, whom file modes do not stop. Where mounting is not
// permitted, Mount skips the test with a message saying why.
package smallfs

import "testing"

// Mount mounts a tmpfs of size bytes (rounded up to whole pages by the
// kernel) on a new temporary directory, returns the directory, and unmounts
// it when the test ends. It skips the test when mounting is not permitted
// or not supported here.
func Mount(t testing.TB, size int) string {
	t.Helper()
	dir := t.TempDir()
	if err := mount(dir, size); err != nil {
		t.Skipf("cannot mount a %d-byte tmpfs (needs Linux and root or CAP_SYS_ADMIN): %v", size, err)
	}
	t.Cleanup(func() {
		if err := unmount(dir); err != nil {
			t.Errorf("unmounting the tmpfs at %s: %v", dir, err)
		}
	})
	return dir
}

// ReadOnly remounts the tmpfs Mount returned read-only; writes then fail
// with EROFS ("read-only file system").
func ReadOnly(t testing.TB, dir string) {
	t.Helper()
	if err := remountReadOnly(dir); err != nil {
		t.Fatalf("remounting the tmpfs at %s read-only: %v", dir, err)
	}
}
