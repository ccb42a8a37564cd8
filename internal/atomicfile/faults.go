package atomicfile

import (
	"io/fs"
	"sync"
	"syscall"
)

// Faults is an FS for tests that fails the way a full disk or a failing
// device does: it is OS, except that
//
//   - writes to temporary files fail with Err once Space bytes have been
//     written in all (a short write, as write(2) makes, then Err), unless
//     Space is negative;
//   - Sync, Close or Rename fail with Err when FailSync, FailClose or
//     FailRename is set (Close closes the file all the same).
//
// Err is syscall.ENOSPC ("no space left on device") when nil. Errors are
// *fs.PathError values naming the temporary file, as the OS's are. The
// first Skip temporary files (and their renames) see no faults, as if the
// disk filled or the device failed after them.
type Faults struct {
	Space                           int64
	Err                             error
	FailSync, FailClose, FailRename bool
	Skip                            int

	mu      sync.Mutex
	written int64
	created int
	exempt  map[string]bool // temporary files created while skipping
}

func (f *Faults) err() error {
	if f.Err == nil {
		return syscall.ENOSPC
	}
	return f.Err
}

// CreateTemp creates the file with OS and wraps it.
func (f *Faults) CreateTemp(dir, pattern string) (TempFile, error) {
	t, err := OS{}.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.created++
	if f.created <= f.Skip {
		if f.exempt == nil {
			f.exempt = map[string]bool{}
		}
		f.exempt[t.Name()] = true
		return t, nil
	}
	return &faultyFile{TempFile: t, f: f}, nil
}

// Rename fails if FailRename is set; otherwise it is OS's.
func (f *Faults) Rename(oldpath, newpath string) error {
	f.mu.Lock()
	exempt := f.exempt[oldpath]
	f.mu.Unlock()
	if f.FailRename && !exempt {
		return &fs.PathError{Op: "rename", Path: oldpath, Err: f.err()}
	}
	return OS{}.Rename(oldpath, newpath)
}

// Remove is OS's.
func (f *Faults) Remove(name string) error { return OS{}.Remove(name) }

// SyncDir is OS's.
func (f *Faults) SyncDir(dir string) error { return OS{}.SyncDir(dir) }

// Written returns the bytes written to temporary files so far.
func (f *Faults) Written() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.written
}

// faultyFile is a temporary file of Faults.
type faultyFile struct {
	TempFile
	f *Faults
}

func (t *faultyFile) Write(p []byte) (int, error) {
	f := t.f
	f.mu.Lock()
	n := len(p)
	if f.Space >= 0 && f.written+int64(n) > f.Space {
		n = int(max(f.Space-f.written, 0))
	}
	f.written += int64(n)
	f.mu.Unlock()
	if _, err := t.TempFile.Write(p[:n]); err != nil {
		return 0, err
	}
	if n < len(p) {
		return n, &fs.PathError{Op: "write", Path: t.Name(), Err: f.err()}
	}
	return n, nil
}

func (t *faultyFile) Sync() error {
	if t.f.FailSync {
		return &fs.PathError{Op: "sync", Path: t.Name(), Err: t.f.err()}
	}
	return t.TempFile.Sync()
}

func (t *faultyFile) Close() error {
	err := t.TempFile.Close()
	if t.f.FailClose {
		return &fs.PathError{Op: "close", Path: t.Name(), Err: t.f.err()}
	}
	return err
}
