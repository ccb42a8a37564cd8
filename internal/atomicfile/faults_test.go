package atomicfile

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/bpgen/bpgen/internal/smallfs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFaults writes over a previous file through a file system that fails
// at each step: the write (a full disk, at several points), the sync, the
// close and the rename. Every failure leaves the previous contents, no
// temporary file, and an error naming the target, not the temporary file.
func TestFaults(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 1000)
	for _, c := range []struct {
		name   string
		faults *Faults
		want   string
		is     error
	}{
		{"disk full at once", &Faults{Space: 0}, "no space left on device", syscall.ENOSPC},
		{"disk full after 1 byte", &Faults{Space: 1}, "no space left on device", syscall.ENOSPC},
		{"disk full one byte short", &Faults{Space: int64(len(data) - 1)}, "no space left on device", syscall.ENOSPC},
		{"quota", &Faults{Space: 100, Err: syscall.EDQUOT}, "disk quota exceeded", syscall.EDQUOT},
		{"sync fails", &Faults{Space: -1, FailSync: true, Err: syscall.EIO}, "input/output error", syscall.EIO},
		{"close fails", &Faults{Space: -1, FailClose: true}, "no space left on device", syscall.ENOSPC},
		{"rename fails", &Faults{Space: -1, FailRename: true, Err: syscall.EIO}, "input/output error", syscall.EIO},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "w.safetensors")
			require.NoError(t, os.WriteFile(path, []byte("previous"), 0o644))
			restore := Use(c.faults)
			err := Write(path, data)
			restore()
			assert.EqualError(t, err, "writing "+path+": "+c.want)
			assert.ErrorIs(t, err, c.is)
			got, rerr := os.ReadFile(path)
			require.NoError(t, rerr)
			assert.Equal(t, "previous", string(got), "the previous file is intact")
			assert.Equal(t, []string{"w.safetensors"}, names(t, dir), "no temporary file left")

			// A new file: nothing appears.
			restore = Use(c.faults)
			err = Write(filepath.Join(dir, "new"), data)
			restore()
			assert.ErrorIs(t, err, c.is)
			assert.Equal(t, []string{"w.safetensors"}, names(t, dir), "no new file, no temporary file")
		})
	}
}

// TestFaultsWriteAll fails the second of two files: neither is replaced.
func TestFaultsWriteAll(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	require.NoError(t, WriteAll(File{a, []byte("a1")}, File{b, []byte("b1")}))
	faults := &Faults{Space: 5}
	defer Use(faults)()
	err := WriteAll(File{a, []byte("a2a2")}, File{b, []byte("b2b2")})
	assert.EqualError(t, err, "writing "+b+": no space left on device")
	assert.Equal(t, int64(5), faults.Written())
	for path, want := range map[string]string{a: "a1", b: "b1"} {
		got, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, want, string(got), "%s unchanged", path)
	}
	assert.Equal(t, []string{"a", "b"}, names(t, dir))
}

// recorder is an FS that logs what WriteAll does, in order.
type recorder struct {
	OS
	log []string
}

type recordedFile struct {
	TempFile
	r *recorder
}

func (r *recorder) CreateTemp(dir, pattern string) (TempFile, error) {
	f, err := r.OS.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	r.log = append(r.log, "create "+strings.SplitN(filepath.Base(f.Name()), ".tmp", 2)[0])
	return &recordedFile{f, r}, nil
}

func (r *recorder) Rename(oldpath, newpath string) error {
	r.log = append(r.log, "rename to "+filepath.Base(newpath))
	return r.OS.Rename(oldpath, newpath)
}

func (r *recorder) SyncDir(dir string) error {
	r.log = append(r.log, "sync dir")
	return r.OS.SyncDir(dir)
}

func (f *recordedFile) Write(p []byte) (int, error) {
	f.r.log = append(f.r.log, "write")
	return f.TempFile.Write(p)
}

func (f *recordedFile) Sync() error {
	f.r.log = append(f.r.log, "sync")
	return f.TempFile.Sync()
}

func (f *recordedFile) Close() error {
	f.r.log = append(f.r.log, "close")
	return f.TempFile.Close()
}

// TestSyncBeforeRename checks the order of the steps: every temporary file
// is written, synced and closed before the first rename, and the directory
// is synced after the renames.
func TestSyncBeforeRename(t *testing.T) {
	dir := t.TempDir()
	r := &recorder{}
	defer Use(r)()
	require.NoError(t, WriteAll(File{filepath.Join(dir, "a"), []byte("a")}, File{filepath.Join(dir, "b"), []byte("b")}))
	assert.Equal(t, []string{
		"create .a", "write", "sync", "close",
		"create .b", "write", "sync", "close",
		"rename to a", "rename to b", "sync dir",
	}, r.log)
}

// TestFullTmpfs writes to a real file system that fills up: a 64 KiB tmpfs
// mounted by the test (skipped where mounting is not permitted). The write
// that does not fit fails with ENOSPC and leaves the previous file and no
// temporary file; the space is free again for a write that fits.
func TestFullTmpfs(t *testing.T) {
	dir := smallfs.Mount(t, 64<<10)
	path := filepath.Join(dir, "w.safetensors")
	require.NoError(t, Write(path, []byte("previous")))
	err := Write(path, make([]byte, 256<<10))
	assert.EqualError(t, err, "writing "+path+": no space left on device")
	assert.ErrorIs(t, err, syscall.ENOSPC)
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "previous", string(got))
	assert.Equal(t, []string{"w.safetensors"}, names(t, dir), "no temporary file left")

	// A second file that does not fit beside the first, written together:
	// neither changes.
	other := filepath.Join(dir, "other")
	err = WriteAll(File{path, []byte("new")}, File{other, make([]byte, 128<<10)})
	assert.EqualError(t, err, "writing "+other+": no space left on device")
	got, err = os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "previous", string(got))
	assert.Equal(t, []string{"w.safetensors"}, names(t, dir))

	require.NoError(t, Write(path, make([]byte, 16<<10)), "the space of the failed writes is free again")
}
