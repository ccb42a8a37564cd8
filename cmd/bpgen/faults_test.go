package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/bpgen/bpgen/internal/atomicfile"
	"github.com/bpgen/bpgen/internal/smallfs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// This file covers writing outputs to a full disk or a failing device:
// every output (generated code, embedded weights, trained weights, the log
// and the plot) is written atomically, so a failure leaves the previous
// file as it was and gives an error naming the output. Faults are injected
// through atomicfile.Use, and a real full tmpfs is used where the test may
// mount one.

// faultCases are the injected faults: the disk fills at once or after some
// bytes, or the sync, close or rename fails.
var faultCases = []struct {
	name   string
	faults func() *atomicfile.Faults
	why    string
}{
	{"disk full", func() *atomicfile.Faults { return &atomicfile.Faults{Space: 0} }, "no space left on device"},
	{"disk full after 100 bytes", func() *atomicfile.Faults { return &atomicfile.Faults{Space: 100} }, "no space left on device"},
	{"sync fails", func() *atomicfile.Faults {
		return &atomicfile.Faults{Space: -1, FailSync: true, Err: syscall.EIO}
	}, "input/output error"},
	{"close fails", func() *atomicfile.Faults { return &atomicfile.Faults{Space: -1, FailClose: true} }, "no space left on device"},
	{"rename fails", func() *atomicfile.Faults {
		return &atomicfile.Faults{Space: -1, FailRename: true, Err: syscall.EIO}
	}, "input/output error"},
}

// TestGenerateFaults generates a package with embedded weights over a
// previous one while the file system fails: neither file changes.
func TestGenerateFaults(t *testing.T) {
	for _, c := range faultCases {
		t.Run(c.name, func(t *testing.T) {
			dir := newBadFixture(t)
			before := snapshot(t, dir)
			out := filepath.Join(dir, "out", "prev_gen.go")
			restore := atomicfile.Use(c.faults())
			code, stdout, stderr := runNoPanic(t, "generate", "-weights", filepath.Join(dir, "good.safetensors"), "-o", out, filepath.Join(dir, "good.yaml"))
			restore()
			assert.Equal(t, 1, code)
			assert.Empty(t, stdout)
			assert.Equal(t, "bpgen: writing "+out+": "+c.why+"\n", stderr)
			assert.Empty(t, changes(before, snapshot(t, dir)), "files changed")
		})
	}
}

// TestTrainOutputFaults trains once per fault with -o, -log and -plot over
// previous files while the file system fails: each output's error is
// reported, the summary marks it, and the previous files stay.
func TestTrainOutputFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the trainer program")
	}
	for _, c := range faultCases {
		t.Run(c.name, func(t *testing.T) {
			dir := newBadFixture(t)
			out := filepath.Join(dir, "out")
			prev := []byte("previous contents\n")
			require.NoError(t, os.WriteFile(filepath.Join(out, "h.csv"), prev, 0o644))
			require.NoError(t, os.WriteFile(filepath.Join(out, "c.svg"), prev, 0o644))
			before := snapshot(t, dir)
			w, log, plot := filepath.Join(out, "prev.safetensors"), filepath.Join(out, "h.csv"), filepath.Join(out, "c.svg")
			// The faults start after the three outputs were checked
			// (each check creates a temporary file), as if the disk
			// filled during training.
			faults := c.faults()
			faults.Skip = 3
			restore := atomicfile.Use(faults)
			defer restore()
			code, stdout, stderr := runNoPanic(t, "train", "-data", filepath.Join(dir, "tiny.csv"), "-o", w, "-log", log, "-plot", plot, filepath.Join(dir, "good.yaml"))
			restore()
			assert.Equal(t, 1, code, "stdout:\n%s", stdout)
			assert.Equal(t, "bpgen: writing "+w+": "+c.why+"\nbpgen: writing "+log+": "+c.why+"\nbpgen: writing "+plot+": "+c.why+"\n", stderr)
			assert.Contains(t, stdout, "\nweights (epoch 1): "+w+" (not written)\nhistory: "+log+" (not written)\ncurves: "+plot+" (not written)\n")
			assert.Empty(t, changes(before, snapshot(t, dir)), "files changed")
		})
	}
}

// TestTrainOutputFaultsEarly has the device fail from the start: the
// checks of the outputs before anything is built find it.
func TestTrainOutputFaultsEarly(t *testing.T) {
	dir := newBadFixture(t)
	before := snapshot(t, dir)
	w, log := filepath.Join(dir, "out", "prev.safetensors"), filepath.Join(dir, "out", "h.csv")
	restore := atomicfile.Use(&atomicfile.Faults{Space: -1, FailSync: true, Err: syscall.EIO})
	defer restore()
	code, stdout, stderr := runNoPanic(t, "train", "-data", filepath.Join(dir, "tiny.csv"), "-o", w, "-log", log, filepath.Join(dir, "good.yaml"))
	restore()
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.Equal(t, "bpgen: -o "+w+": input/output error\nbpgen: -log "+log+": input/output error\n", stderr)
	assert.Empty(t, changes(before, snapshot(t, dir)), "files changed")
}

// fill writes a file into dir until the file system is full.
func fill(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "filler"))
	require.NoError(t, err)
	defer f.Close()
	block := make([]byte, 4096)
	for {
		if _, err := f.Write(block); err != nil {
			require.ErrorIs(t, err, syscall.ENOSPC)
			return
		}
	}
}

// TestFullDisk runs generate and train with their outputs on a real tmpfs
// that is full (skipped where the test may not mount one).
func TestFullDisk(t *testing.T) {
	dir := smallfs.Mount(t, 64<<10)
	fixture := newBadFixture(t)
	prev := []byte("previous contents\n")
	names := []string{"m_gen.go", "m_gen.safetensors", "w.safetensors", "h.csv", "c.svg"}
	for _, n := range names {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), prev, 0o644))
	}
	fill(t, dir)
	before := snapshot(t, dir)

	out := filepath.Join(dir, "m_gen.go")
	code, _, stderr := runNoPanic(t, "generate", "-weights", filepath.Join(fixture, "good.safetensors"), "-o", out, filepath.Join(fixture, "good.yaml"))
	assert.Equal(t, 1, code)
	assert.Equal(t, "bpgen: writing "+out+": no space left on device\n", stderr)
	assert.Empty(t, changes(before, snapshot(t, dir)), "files changed")

	if testing.Short() {
		t.Skip("train builds the trainer program")
	}
	w, log, plot := filepath.Join(dir, "w.safetensors"), filepath.Join(dir, "h.csv"), filepath.Join(dir, "c.svg")
	code, stdout, stderr := runNoPanic(t, "train", "-data", filepath.Join(fixture, "tiny.csv"), "-o", w, "-log", log, "-plot", plot, filepath.Join(fixture, "good.yaml"))
	assert.Equal(t, 1, code, "stdout:\n%s", stdout)
	want := "no space left on device\n"
	assert.Equal(t, "bpgen: writing "+w+": "+want+"bpgen: writing "+log+": "+want+"bpgen: writing "+plot+": "+want, stderr)
	assert.True(t, strings.HasPrefix(stdout, "training tiny "), stdout)
	assert.Empty(t, changes(before, snapshot(t, dir)), "files changed")
}

// TestTrainDataChanges removes or rewrites the data file after train has
// checked it and before the trainer loads it: the trainer's error names
// the file (and the line), and nothing is written.
func TestTrainDataChanges(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the trainer program")
	}
	for _, c := range []struct {
		name   string
		change func(path string) error
		want   string
	}{
		{"vanishes", os.Remove, "bpgen: DATA: no such file or directory"},
		{"is cut short", func(path string) error { return os.WriteFile(path, []byte("0,0,0\n0,1"), 0o644) },
			"bpgen: DATA:2: 2 values, want 3 (2 features and 1 class label)"},
		{"gets a bad label", func(path string) error { return os.WriteFile(path, []byte("0,0,0\n0,1,7\n"), 0o644) },
			"bpgen: DATA:2: column 3: class label 7 is out of range [0, 2)"},
		{"becomes a directory", func(path string) error {
			if err := os.Remove(path); err != nil {
				return err
			}
			return os.Mkdir(path, 0o755)
		}, "bpgen: DATA: is a directory"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := newBadFixture(t)
			data := filepath.Join(dir, "tiny.csv")
			afterChecks = func() { require.NoError(t, c.change(data)) }
			defer func() { afterChecks = func() {} }()
			before := snapshot(t, filepath.Join(dir, "out"))
			code, stdout, stderr := runNoPanic(t, "train", "-data", data, "-o", filepath.Join(dir, "out", "prev.safetensors"), filepath.Join(dir, "good.yaml"))
			assert.Equal(t, 1, code, "stdout:\n%s", stdout)
			assert.Equal(t, strings.ReplaceAll(c.want, "DATA", data)+"\n", stderr)
			assert.Empty(t, changes(before, snapshot(t, filepath.Join(dir, "out"))), "files changed")
		})
	}
}

// TestReadOnlyDisk runs generate and train with their outputs on a real
// read-only file system (a tmpfs remounted read-only, which stops root
// too): the previous files stay and the errors name the outputs. train
// finds it before building anything.
func TestReadOnlyDisk(t *testing.T) {
	dir := smallfs.Mount(t, 64<<10)
	fixture := newBadFixture(t)
	prev := []byte("previous contents\n")
	for _, n := range []string{"m_gen.go", "m_gen.safetensors", "w.safetensors", "h.csv"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), prev, 0o644))
	}
	smallfs.ReadOnly(t, dir)
	before := snapshot(t, dir)

	out := filepath.Join(dir, "m_gen.go")
	code, _, stderr := runNoPanic(t, "generate", "-weights", filepath.Join(fixture, "good.safetensors"), "-o", out, filepath.Join(fixture, "good.yaml"))
	assert.Equal(t, 1, code)
	assert.Equal(t, "bpgen: writing "+out+": read-only file system\n", stderr)

	w, log := filepath.Join(dir, "w.safetensors"), filepath.Join(dir, "h.csv")
	code, stdout, stderr := runNoPanic(t, "train", "-data", filepath.Join(fixture, "tiny.csv"), "-o", w, "-log", log, filepath.Join(fixture, "good.yaml"))
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.Equal(t, "bpgen: -o "+w+": read-only file system\nbpgen: -log "+log+": read-only file system\n", stderr)
	assert.Empty(t, changes(before, snapshot(t, dir)), "files changed")
}
