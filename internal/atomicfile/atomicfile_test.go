package atomicfile

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// names lists the entries of dir.
func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var n []string
	for _, e := range entries {
		n = append(n, e.Name())
	}
	return n
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.txt")
	require.NoError(t, Write(path, []byte("one")))
	require.NoError(t, Write(path, []byte("two")))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "two", string(data))
	assert.EqualError(t, Write(dir, []byte("x")), dir+": is a directory")
	missing := filepath.Join(dir, "missing", "f")
	assert.EqualError(t, Write(missing, []byte("x")), "writing "+missing+": no directory "+filepath.Join(dir, "missing"))
	assert.ErrorIs(t, Write(missing, []byte("x")), fs.ErrNotExist)
	under := filepath.Join(path, "f")
	assert.EqualError(t, Write(under, []byte("x")), "writing "+under+": "+path+" is not a directory")
	deeper := filepath.Join(path, "sub", "f")
	assert.EqualError(t, Write(deeper, []byte("x")), "writing "+deeper+": "+path+" is not a directory")
	var ae *Error
	require.ErrorAs(t, Write(missing, nil), &ae)
	assert.Equal(t, missing, ae.Path)
	assert.Equal(t, []string{"f.txt"}, names(t, dir), "no temporary files left behind")
}

// TestWriteAll checks that no file is replaced unless all can be written.
func TestWriteAll(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	require.NoError(t, WriteAll(File{a, []byte("a1")}, File{b, []byte("b1")}))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "c"), 0o755))
	err := WriteAll(File{a, []byte("a2")}, File{filepath.Join(dir, "c"), []byte("c2")})
	assert.EqualError(t, err, filepath.Join(dir, "c")+": is a directory")
	err = WriteAll(File{b, []byte("b2")}, File{filepath.Join(dir, "no", "d"), []byte("d2")})
	assert.EqualError(t, err, "writing "+filepath.Join(dir, "no", "d")+": no directory "+filepath.Join(dir, "no"))
	for path, want := range map[string]string{a: "a1", b: "b1"} {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, want, string(data), "%s unchanged", path)
	}
	assert.Equal(t, []string{"a", "b", "c"}, names(t, dir), "no temporary files left behind")
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	require.NoError(t, Check(path))
	assert.NoFileExists(t, path)
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o644))
	require.NoError(t, Check(path))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "old", string(data))
	assert.EqualError(t, Check(dir), dir+": is a directory")
	assert.EqualError(t, Check(filepath.Join(dir, "no", "f")), "writing "+filepath.Join(dir, "no", "f")+": no directory "+filepath.Join(dir, "no"))
	assert.Equal(t, []string{"f"}, names(t, dir))
}

func TestWriteSpecialFiles(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links and devices")
	}
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	require.NoError(t, os.WriteFile(real, []byte("old"), 0o644))
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink("real", link))
	require.NoError(t, Write(link, []byte("new")))
	fi, err := os.Lstat(link)
	require.NoError(t, err)
	assert.Equal(t, fs.ModeSymlink, fi.Mode()&fs.ModeSymlink, "the link stays a link")
	data, err := os.ReadFile(real)
	require.NoError(t, err)
	assert.Equal(t, "new", string(data))
	assert.EqualError(t, Write(os.DevNull, []byte("x")), os.DevNull+": is not a regular file")
	assert.EqualError(t, Check(os.DevNull), os.DevNull+": is not a regular file")
	assert.Equal(t, []string{"link", "real"}, names(t, dir))
}

func TestWriteReadOnlyDir(t *testing.T) {
	dir := t.TempDir()
	ro := filepath.Join(dir, "ro")
	require.NoError(t, os.Mkdir(ro, 0o755))
	path := filepath.Join(ro, "f")
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o644))
	require.NoError(t, os.Chmod(ro, 0o555))
	defer os.Chmod(ro, 0o755)
	if f, err := os.CreateTemp(ro, "probe"); err == nil {
		f.Close()
		os.Remove(f.Name())
		t.Skip("a directory of mode 0555 is writable here (running as root?)")
	}
	assert.EqualError(t, Write(path, []byte("new")), "writing "+path+": permission denied")
	assert.ErrorIs(t, Write(path, []byte("new")), fs.ErrPermission)
	assert.EqualError(t, Check(path), "writing "+path+": permission denied")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "old", string(data))
}
