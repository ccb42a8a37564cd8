// Package atomicfile writes files so that readers see the old contents or the
// new ones, never a part: the data goes to a temporary file in the target's
// directory, which is flushed to the disk (fsync) and then renamed over the
// target; the directory is then synced too, where the system allows, so
// that the rename survives a crash.
//
// A full disk, a quota, an I/O error or a directory that cannot be written
// fails the write before the rename, so the target keeps its previous
// contents and no temporary file is left. Tests inject such faults with Use
// and Faults.
package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// Error is the error of Write, WriteAll and Check: the file it is about, as
// the caller named it, and why. It reads "writing PATH: why" ("writing
// out/m_gen.go: permission denied", "writing out/m_gen.go: no directory
// out"), or "PATH: why" when PATH itself cannot be replaced by a file
// ("out: is a directory"). Why never names a temporary file.
type Error struct {
	Op   string // "writing", or empty
	Path string
	Err  error
}

func (e *Error) Error() string {
	if e.Op == "" {
		return e.Path + ": " + e.Err.Error()
	}
	return e.Op + " " + e.Path + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// reason is an explanation that keeps the error it explains for errors.Is.
type reason struct {
	msg string
	err error
}

func (r *reason) Error() string { return r.msg }
func (r *reason) Unwrap() error { return r.err }

// File is a file for WriteAll: its path and contents.
type File struct {
	Path string
	Data []byte
}

// Write writes data to path atomically with mode 0644. On any error the
// temporary file is removed and path is left as it was. The error is an
// *Error. A symbolic link to a regular file stays a link: the file it points
// to is replaced. A path that is a directory or another kind of file than a
// regular one (a device, a pipe) is an error.
func Write(path string, data []byte) error {
	return WriteAll(File{path, data})
}

// WriteAll writes several files as Write does, as one step as far as the
// file system allows: every file is first written in full to a temporary
// file beside its target, and only when all of them are written are they
// renamed over their targets, in order. An error before the renames (a
// directory that is missing or not writable, a full disk) leaves every
// target as it was; only a rename failing after the first one succeeded
// could leave some files new and others old.
//
// Each temporary file is synced to the disk (fsync) before any rename, so
// that a crash after a rename cannot leave an empty or partial file under
// the target's name; after the renames their directories are synced.
func WriteAll(files ...File) (err error) {
	fsys := fileSystem()
	var tmps []string
	defer func() {
		for _, t := range tmps {
			if t != "" {
				fsys.Remove(t)
			}
		}
	}()
	targets := make([]string, len(files))
	for i, f := range files {
		if targets[i], err = target(f.Path); err != nil {
			return err
		}
		tmp, err := stage(fsys, targets[i], f.Data)
		if err != nil {
			return &Error{"writing", f.Path, explain(targets[i], err)}
		}
		tmps = append(tmps, tmp)
	}
	dirs := map[string]bool{}
	for i, f := range files {
		if err := fsys.Rename(tmps[i], targets[i]); err != nil {
			return &Error{"writing", f.Path, explain(targets[i], err)}
		}
		tmps[i] = ""
		dirs[filepath.Dir(targets[i])] = true
	}
	for dir := range dirs {
		fsys.SyncDir(dir) // best effort: the files are in place
	}
	return nil
}

// Check returns the error Write(path, …) would fail with because of where
// path is, without changing anything that exists: path is a directory or
// not a regular file, its directory is missing or not a directory, or no
// file can be created there (it creates and removes a temporary file).
func Check(path string) error {
	t, err := target(path)
	if err != nil {
		return err
	}
	fsys := fileSystem()
	tmp, err := stage(fsys, t, nil)
	if err != nil {
		return &Error{"writing", path, explain(t, err)}
	}
	fsys.Remove(tmp)
	return nil
}

// TempFile is a temporary file being written: what Write needs of *os.File.
type TempFile interface {
	Write(p []byte) (int, error)
	Name() string
	Chmod(mode fs.FileMode) error
	Sync() error
	Close() error
}

// FS is the file system Write, WriteAll and Check create, rename and remove
// files in: OS, or in tests one that fails on purpose (see Faults).
type FS interface {
	CreateTemp(dir, pattern string) (TempFile, error)
	Rename(oldpath, newpath string) error
	Remove(name string) error
	// SyncDir flushes the directory dir's entries to the disk after a
	// rename, as far as the system allows; its error is ignored (the
	// rename has happened).
	SyncDir(dir string) error
}

// OS is the operating system's file system.
type OS struct{}

// CreateTemp is os.CreateTemp.
func (OS) CreateTemp(dir, pattern string) (TempFile, error) { return os.CreateTemp(dir, pattern) }

// Rename is os.Rename.
func (OS) Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }

// Remove is os.Remove.
func (OS) Remove(name string) error { return os.Remove(name) }

// SyncDir opens dir and syncs it. Where directories cannot be opened or
// synced (Windows, some file systems) it returns that error, which callers
// ignore.
func (OS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

var (
	fsMu    sync.Mutex
	current FS = OS{}
)

// Use makes Write, WriteAll and Check work on fsys until the returned
// function is called, which restores the file system before. It is for
// tests that inject faults; it affects the whole process.
func Use(fsys FS) (restore func()) {
	fsMu.Lock()
	prev := current
	current = fsys
	fsMu.Unlock()
	return func() {
		fsMu.Lock()
		current = prev
		fsMu.Unlock()
	}
}

// fileSystem returns the file system in use.
func fileSystem() FS {
	fsMu.Lock()
	defer fsMu.Unlock()
	return current
}

// target returns the file to replace for path: path itself, or the file a
// symbolic link at path points to. It fails if that is a directory or not
// a regular file.
func target(path string) (string, error) {
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		return path, nil // a new file (or a dangling link, replaced); creating it will tell
	case fi.IsDir():
		return "", &Error{"", path, errors.New("is a directory")}
	case !fi.Mode().IsRegular():
		return "", &Error{"", path, errors.New("is not a regular file")}
	}
	if li, err := os.Lstat(path); err == nil && li.Mode()&fs.ModeSymlink != 0 {
		if real, err := filepath.EvalSymlinks(path); err == nil {
			return real, nil
		}
	}
	return path, nil
}

// stage writes data to a new temporary file beside path, mode 0644, syncs
// it to the disk and returns its name; on an error it leaves nothing behind.
func stage(fsys FS, path string, data []byte) (name string, err error) {
	tmp, err := fsys.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return "", err
	}
	closed := false
	defer func() {
		if err != nil {
			if !closed {
				tmp.Close()
			}
			fsys.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return "", err
	}
	if err = tmp.Chmod(0o644); err != nil {
		return "", err
	}
	if err = tmp.Sync(); err != nil {
		return "", err
	}
	closed = true
	if err = tmp.Close(); err != nil {
		return "", err
	}
	return tmp.Name(), nil
}

// explain turns an error of creating, writing or renaming a file beside
// path into the reason, without the temporary file's name: "permission
// denied", "no directory out", "out is not a directory".
func explain(path string, err error) error {
	dir := filepath.Dir(path)
	switch fi, serr := os.Stat(dir); {
	case serr == nil && !fi.IsDir():
		return &reason{dir + " is not a directory", err}
	case serr != nil:
		// The directory is missing, or a file is where one of its
		// parents should be.
		for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
			if fi, err := os.Stat(p); err == nil {
				if !fi.IsDir() {
					return &reason{p + " is not a directory", serr}
				}
				break
			}
			if p == filepath.Dir(p) {
				break
			}
		}
		if errors.Is(serr, fs.ErrNotExist) {
			return &reason{"no directory " + dir, serr}
		}
	}
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return pe.Err
	case errors.As(err, &le):
		return le.Err
	}
	return err
}
