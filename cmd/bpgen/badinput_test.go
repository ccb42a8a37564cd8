package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/bpgen/bpgen/gen"
	bprt "github.com/bpgen/bpgen/runtime"
	"github.com/bpgen/bpgen/spec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// This file is the catalogue of bad inputs: every command given files that
// are missing, unreadable, directories, empty or corrupt, and outputs that
// cannot be written. Each case must exit 1 (2 for a usage error) with an
// error that names the file (file:line:col for a spec's contents), must not
// panic, and must leave the files around it as they were: no new output, no
// temporary file, a previous output byte for byte, nothing left in TMPDIR.
//
// Output paths in a missing directory are errors, not created: generate
// and train write where they are told, into directories that exist, as go
// generate expects; the errors say "no directory DIR".

// badSpec is the network of the catalogue: two features, two classes, so
// that tinyCSV fits it.
const badSpec = `name: tiny
input: [2]
layers:
  - {type: dense, units: 2}
loss: softmax_cross_entropy
train: {epochs: 1, batch: 2}
`

const tinyCSV = "0,0,0\n0,1,1\n1,0,1\n1,1,0\n"

// divergeSpec is a linear regression of tinyCSV's third column that a
// learning rate of 1e30 drives to infinity within a step or two.
const divergeSpec = `name: tiny
input: [2]
layers:
  - {type: dense, units: 1}
loss: mse
optimizer: {type: sgd, lr: 0.1}
train: {epochs: 3, batch: 2}
`

// Requirements of a case that not every run can meet.
const (
	needUnreadable = 1 << iota // a file of mode 000 cannot be read (not root)
	needReadOnly               // a directory of mode 0555 cannot be written (not root)
	needBuild                  // builds the trainer program (skipped with -short)
)

// badCase is a command line and what it must do. In args, want, chdir and
// tmp, "$D/" is the fixture directory (see newBadFixture) and "$R/" the same
// directory relative to the current one.
type badCase struct {
	name  string
	args  []string
	code  int    // the exit status: 1, or 2 for a usage error
	want  string // stderr exactly; for status 2, a line stderr contains
	needs int    // needUnreadable, needReadOnly, needBuild
	chdir string // run in this directory
	tmp   string // TMPDIR, if not a fresh empty directory
}

// weightsFile returns a safetensors file with the tensors of the spec text,
// every value 0.5. Files are made once per spec.
func weightsFile(t *testing.T, text string) []byte {
	t.Helper()
	return weightsFileWith(t, text, -1, 0)
}

// weightsFileWith is weightsFile with the value v at element i of the
// flat parameters (none if i < 0).
func weightsFileWith(t *testing.T, text string, i int, v float32) []byte {
	t.Helper()
	weightsMu.Lock()
	defer weightsMu.Unlock()
	key := fmt.Sprintf("%s\x00%d %v", text, i, v)
	if b, ok := weightsFiles[key]; ok {
		return b
	}
	m, err := spec.Parse("w.yaml", []byte(text))
	require.NoError(t, err)
	ts, err := gen.Tensors(m)
	require.NoError(t, err)
	n := 0
	for _, x := range ts {
		n += x.Size
	}
	vals := make([]float32, n)
	for i := range vals {
		vals[i] = 0.5
	}
	if i >= 0 {
		vals[i] = v
	}
	var buf bytes.Buffer
	require.NoError(t, bprt.WriteSafetensors(&buf, vals, ts, nil))
	weightsFiles[key] = buf.Bytes()
	return buf.Bytes()
}

// weightsFile64 is weightsFile with float64 (F64) tensors.
func weightsFile64(t *testing.T, text string) []byte {
	t.Helper()
	m, err := spec.Parse("w.yaml", []byte(text))
	require.NoError(t, err)
	ts, err := gen.Tensors(m)
	require.NoError(t, err)
	n := 0
	for _, x := range ts {
		n += x.Size
	}
	vals := make([]float64, n)
	var buf bytes.Buffer
	require.NoError(t, bprt.WriteSafetensors(&buf, vals, ts, nil))
	return buf.Bytes()
}

var (
	weightsMu    sync.Mutex
	weightsFiles = map[string][]byte{}
)

// newBadFixture fills a new directory with the inputs and outputs of the
// catalogue and returns it:
//
//	good.yaml            badSpec
//	diverge.yaml         divergeSpec
//	empty.yaml           empty
//	comment.yaml         nothing but a comment
//	invalid.yaml         unclosed flow sequence
//	garbage.yaml         binary bytes
//	list.yaml            valid YAML, not a mapping
//	unreadable.yaml      badSpec, mode 000
//	specdir.yaml/        a directory
//	good.safetensors     weights of badSpec
//	wrong.safetensors    weights of a 3-unit layer
//	nan.safetensors      good weights but NaN at element 3 of layers.0.weight
//	inf.safetensors      good weights but -Inf at element 1 of layers.0.bias
//	f64.safetensors      weights of badSpec as float64
//	empty.safetensors    empty
//	junk.safetensors     not safetensors
//	unreadable.safetensors  good weights, mode 000
//	tiny.csv, empty.csv, unreadable.csv (mode 000), ddir.csv/
//	images.idx, labels.idx  not IDX files
//	short.idx            IDX images [4, 2] cut short after 5 bytes
//	images4.idx          IDX images [4, 2]
//	labels4.idx          IDX labels [4] in [0, 2); bad-labels4.idx has a 2
//	cut.csv              tinyCSV whose last line is cut short
//	afile                a file where a directory is expected
//	out/                 prev_gen.go, prev_gen.safetensors, prev.safetensors,
//	                     busy_gen.go/ (a directory), busy_gen.safetensors, plots.svg/
//	ro/                  mode 0555, holding prev_gen.go and prev.safetensors
//
// Files named prev* hold "previous contents": outputs a failing command
// must leave alone.
func newBadFixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	prev := []byte("previous contents\n")
	files := map[string][]byte{
		"good.yaml":                []byte(badSpec),
		"diverge.yaml":             []byte(divergeSpec),
		"empty.yaml":               nil,
		"comment.yaml":             []byte("# nothing but a comment\n"),
		"invalid.yaml":             []byte("name: tiny\ninput: [2\n"),
		"garbage.yaml":             {0, 1, 0xff, 0xfe, 'x'},
		"list.yaml":                []byte("- a\n- b\n"),
		"unreadable.yaml":          []byte(badSpec),
		"good.safetensors":         weightsFile(t, badSpec),
		"wrong.safetensors":        weightsFile(t, strings.Replace(badSpec, "units: 2", "units: 3", 1)),
		"nan.safetensors":          weightsFileWith(t, badSpec, 3, float32(math.NaN())),
		"inf.safetensors":          weightsFileWith(t, badSpec, 5, float32(math.Inf(-1))),
		"f64.safetensors":          weightsFile64(t, badSpec),
		"empty.safetensors":        nil,
		"junk.safetensors":         {0xff, 0xff, 0, 0, 0, 0, 0, 0, '{', '}'}, // a header length beyond the file
		"unreadable.safetensors":   weightsFile(t, badSpec),
		"tiny.csv":                 []byte(tinyCSV),
		"empty.csv":                nil,
		"unreadable.csv":           []byte(tinyCSV),
		"images.idx":               []byte("junk"),
		"labels.idx":               []byte("junk"),
		"short.idx":                {0, 0, 8, 2, 0, 0, 0, 4, 0, 0, 0, 2, 0, 255, 255, 0, 0},
		"images4.idx":              {0, 0, 8, 2, 0, 0, 0, 4, 0, 0, 0, 2, 0, 0, 0, 255, 255, 0, 255, 255},
		"labels4.idx":              {0, 0, 8, 1, 0, 0, 0, 4, 0, 1, 1, 0},
		"bad-labels4.idx":          {0, 0, 8, 1, 0, 0, 0, 4, 0, 2, 1, 0},
		"cut.csv":                  []byte("0,0,0\n0,1,1\n1,0,1\n1,"),
		"afile":                    []byte("a file\n"),
		"out/prev_gen.go":          prev,
		"out/prev_gen.safetensors": prev,
		"out/prev.safetensors":     prev,
		"out/busy_gen.safetensors": prev,
		"out/busy_gen.go/keep":     prev,
		"out/plots.svg/keep":       prev,
		"ro/prev_gen.go":           prev,
		"ro/prev.safetensors":      prev,
		"specdir.yaml/keep":        prev,
		"ddir.csv/keep":            prev,
		"wdir.safetensors/keep":    prev,
	}
	for name, data := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, data, 0o644))
	}
	for _, name := range []string{"unreadable.yaml", "unreadable.safetensors", "unreadable.csv"} {
		require.NoError(t, os.Chmod(filepath.Join(dir, name), 0))
	}
	ro := filepath.Join(dir, "ro")
	require.NoError(t, os.Chmod(ro, 0o555))
	t.Cleanup(func() { os.Chmod(ro, 0o755) }) // before TempDir's cleanup removes it
	return dir
}

// snapshot describes every file under dir: its mode and its contents.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	s := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		desc := fi.Mode().String()
		if fi.Mode().IsRegular() {
			if b, err := os.ReadFile(path); err == nil {
				desc += " " + string(b)
			} else {
				desc += fmt.Sprintf(" (unreadable, %d bytes)", fi.Size())
			}
		}
		s[path] = desc
		return nil
	})
	require.NoError(t, err)
	return s
}

// changes lists the differences between two snapshots.
func changes(before, after map[string]string) []string {
	var diff []string
	for path, b := range before {
		switch a, ok := after[path]; {
		case !ok:
			diff = append(diff, "removed "+path)
		case a != b:
			diff = append(diff, fmt.Sprintf("changed %s: %q, was %q", path, a, b))
		}
	}
	for path := range after {
		if _, ok := before[path]; !ok {
			diff = append(diff, "new "+path)
		}
	}
	sort.Strings(diff)
	return diff
}

// permissions finds out whether modes 000 and 0555 stop this process.
func permissions(t *testing.T) (unreadable, readOnly bool) {
	dir := newBadFixture(t)
	_, err := os.ReadFile(filepath.Join(dir, "unreadable.yaml"))
	unreadable = err != nil
	f, err := os.CreateTemp(filepath.Join(dir, "ro"), "probe")
	if err == nil {
		f.Close()
		os.Remove(f.Name())
	}
	return unreadable, err != nil
}

// runNoPanic runs bpgen in this process and fails the test if it panics.
func runNoPanic(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("bpgen %s panicked: %v\n%s", strings.Join(args, " "), r, debug.Stack())
		}
	}()
	return runCmd(args...)
}

// runBadCases runs each case in a fresh fixture and checks its promises.
func runBadCases(t *testing.T, cases []badCase) {
	unreadable, readOnly := permissions(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			switch {
			case c.needs&needUnreadable != 0 && !unreadable:
				t.Skip("a file of mode 000 is readable here (running as root?)")
			case c.needs&needReadOnly != 0 && !readOnly:
				t.Skip("a directory of mode 0555 is writable here (running as root?)")
			case c.needs&needBuild != 0 && testing.Short():
				t.Skip("builds the trainer program")
			}
			dir := newBadFixture(t)
			tmp := t.TempDir()
			wd, err := os.Getwd()
			require.NoError(t, err)
			rel, err := filepath.Rel(wd, dir)
			require.NoError(t, err)
			sep := string(filepath.Separator)
			d := func(s string) string {
				return strings.ReplaceAll(strings.ReplaceAll(s, "$D/", dir+sep), "$R/", rel+sep)
			}
			args := make([]string, len(c.args))
			for i, a := range c.args {
				args[i] = d(a)
			}
			if c.tmp != "" {
				tmp = d(c.tmp)
			}
			t.Setenv("TMPDIR", tmp)
			if c.chdir != "" {
				t.Chdir(d(c.chdir))
			}
			before := snapshot(t, dir)

			code, stdout, stderr := runNoPanic(t, args...)

			assert.Equal(t, c.code, code, "exit status; stderr:\n%s", stderr)
			if c.code == 2 {
				assert.Contains(t, stderr, d(c.want))
			} else {
				assert.Equal(t, d(c.want)+"\n", stderr)
			}
			if c.needs&needBuild != 0 {
				assert.True(t, strings.HasPrefix(stdout, "training tiny "), "stdout: %s", stdout)
			} else {
				assert.Empty(t, stdout)
			}
			assert.Empty(t, changes(before, snapshot(t, dir)), "files changed")
			if c.tmp == "" {
				left, err := os.ReadDir(tmp)
				require.NoError(t, err)
				assert.Empty(t, left, "left in TMPDIR")
			}
		})
	}
}

// specCases are the bad specs every command that reads one must reject:
// the name of the command and any arguments before the spec go first.
func specCases(cmd ...string) []badCase {
	c := func(name, specFile, want string, needs int) badCase {
		return badCase{name: name, args: append(append([]string(nil), cmd...), "$D/"+specFile), code: 1, want: want, needs: needs}
	}
	return []badCase{
		c("missing spec", "missing.yaml", "bpgen: $D/missing.yaml: no such file or directory", 0),
		c("unreadable spec", "unreadable.yaml", "bpgen: $D/unreadable.yaml: permission denied", needUnreadable),
		c("spec is a directory", "specdir.yaml", "bpgen: $D/specdir.yaml: is a directory", 0),
		c("empty spec", "empty.yaml", "bpgen: $D/empty.yaml:1:1: empty spec: expected a mapping with keys name, input, layers, loss", 0),
		c("comment-only spec", "comment.yaml", "bpgen: $D/comment.yaml:1:1: empty spec: expected a mapping with keys name, input, layers, loss", 0),
		c("invalid YAML", "invalid.yaml", "bpgen: $D/invalid.yaml:2:1: did not find expected ',' or ']'", 0),
		c("binary garbage", "garbage.yaml", "bpgen: $D/garbage.yaml:1:1: control characters are not allowed", 0),
		c("not a mapping", "list.yaml", "bpgen: $D/list.yaml:1:1: expected a mapping with keys name, input, layers, loss, got a list", 0),
	}
}

func TestBadInputGenerate(t *testing.T) {
	cases := specCases("generate", "-o", "$D/out/prev_gen.go")
	g := func(name string, args []string, want string, needs int) badCase {
		return badCase{name: name, args: append([]string{"generate"}, args...), code: 1, want: want, needs: needs}
	}
	cases = append(cases,
		g("output is a directory", []string{"-o", "$D/out", "$D/good.yaml"}, "bpgen: $D/out: is a directory", 0),
		g("output in a read-only directory", []string{"-o", "$D/ro/new_gen.go", "$D/good.yaml"},
			"bpgen: writing $D/ro/new_gen.go: permission denied", needReadOnly),
		g("output replaces a file in a read-only directory", []string{"-o", "$D/ro/prev_gen.go", "$D/good.yaml"},
			"bpgen: writing $D/ro/prev_gen.go: permission denied", needReadOnly),
		g("output in a missing directory", []string{"-o", "$D/nodir/m_gen.go", "$D/good.yaml"},
			"bpgen: writing $D/nodir/m_gen.go: no directory $D/nodir", 0),
		g("output under a file", []string{"-o", "$D/afile/m_gen.go", "$D/good.yaml"},
			"bpgen: writing $D/afile/m_gen.go: $D/afile is not a directory", 0),
		g("output is the spec", []string{"-o", "$D/good.yaml", "$D/good.yaml"}, "bpgen: -o $D/good.yaml: the same file as the spec", 0),
		g("output is the weights", []string{"-weights", "$D/good.safetensors", "-o", "$D/good.safetensors", "$D/good.yaml"},
			"bpgen: -o $D/good.safetensors: the same file as -weights", 0),
		g("missing weights", []string{"-weights", "$D/missing.safetensors", "-o", "$D/out/prev_gen.go", "$D/good.yaml"},
			"bpgen: $D/missing.safetensors: no such file or directory", 0),
		g("unreadable weights", []string{"-weights", "$D/unreadable.safetensors", "-o", "$D/out/prev_gen.go", "$D/good.yaml"},
			"bpgen: $D/unreadable.safetensors: permission denied", needUnreadable),
		g("weights are a directory", []string{"-weights", "$D/wdir.safetensors", "-o", "$D/out/prev_gen.go", "$D/good.yaml"},
			"bpgen: $D/wdir.safetensors: is a directory", 0),
		g("empty weights", []string{"-weights", "$D/empty.safetensors", "-o", "$D/out/prev_gen.go", "$D/good.yaml"},
			"bpgen: $D/empty.safetensors: safetensors: file is 0 bytes, shorter than the 8-byte header length", 0),
		g("corrupt weights", []string{"-weights", "$D/junk.safetensors", "-o", "$D/out/prev_gen.go", "$D/good.yaml"},
			"bpgen: $D/junk.safetensors: safetensors: header length 65535 runs past the end of the file (2 bytes follow the length)", 0),
		g("weights of another network", []string{"-weights", "$D/wrong.safetensors", "-o", "$D/out/prev_gen.go", "$D/good.yaml"},
			`bpgen: $D/wrong.safetensors: safetensors: tensor "layers.0.weight": shape [3 2] in file, model expects [2 2]`+"\n"+
				`bpgen: $D/wrong.safetensors: safetensors: tensor "layers.0.bias": shape [3] in file, model expects [2]`, 0),
		// Weights are checked for NaN and ±Inf (ReadSafetensors loads
		// them, as PyTorch does; an embedded model must not hold them).
		g("NaN weights", []string{"-weights", "$D/nan.safetensors", "-o", "$D/out/prev_gen.go", "$D/good.yaml"},
			`bpgen: $D/nan.safetensors: tensor "layers.0.weight" holds NaN at element 3; refusing to embed non-finite weights`, 0),
		g("infinite weights", []string{"-weights", "$D/inf.safetensors", "-o", "$D/out/prev_gen.go", "$D/good.yaml"},
			`bpgen: $D/inf.safetensors: tensor "layers.0.bias" holds -Inf at element 1; refusing to embed non-finite weights`, 0),
		// With -weights, generate writes two files: the package and the
		// weights beside it. Neither may change unless both can.
		g("weights, output is a directory", []string{"-weights", "$D/good.safetensors", "-o", "$D/out/busy_gen.go", "$D/good.yaml"},
			"bpgen: $D/out/busy_gen.go: is a directory", 0),
		g("weights, output in a read-only directory", []string{"-weights", "$D/good.safetensors", "-o", "$D/ro/prev_gen.go", "$D/good.yaml"},
			"bpgen: writing $D/ro/prev_gen.go: permission denied", needReadOnly),
		g("weights, output in a missing directory", []string{"-weights", "$D/good.safetensors", "-o", "$D/nodir/m_gen.go", "$D/good.yaml"},
			"bpgen: writing $D/nodir/m_gen.go: no directory $D/nodir", 0),
		badCase{name: "default output in a read-only directory", args: []string{"generate", "$D/good.yaml"}, code: 1,
			want: "bpgen: writing good_gen.go: permission denied", needs: needReadOnly, chdir: "$D/ro"},
		badCase{name: "bad flag", args: []string{"generate", "-x", "$D/good.yaml"}, code: 2, want: "flag provided but not defined: -x"},
	)
	runBadCases(t, cases)
}

func TestBadInputSummary(t *testing.T) {
	runBadCases(t, specCases("summary"))
}

func TestBadInputCheck(t *testing.T) {
	runBadCases(t, append(specCases("check"),
		badCase{name: "TMPDIR missing", args: []string{"check", "$D/good.yaml"}, code: 1, tmp: "$D/nodir",
			want: "bpgen: creating a temporary module in $D/nodir: no such file or directory"},
	))
}

func TestBadInputVersion(t *testing.T) {
	runBadCases(t, []badCase{
		{name: "bad flag", args: []string{"version", "-x"}, code: 2, want: "flag provided but not defined: -x"},
		{name: "argument", args: []string{"version", "$D/good.yaml"}, code: 2, want: "usage: bpgen version"},
	})
}

func TestBadInputTrain(t *testing.T) {
	data := []string{"train", "-data", "$D/tiny.csv"}
	cases := specCases(data...)
	tr := func(name string, args []string, want string, needs int) badCase {
		return badCase{name: name, args: append([]string{"train"}, args...), code: 1, want: want, needs: needs}
	}
	w := []string{"-o", "$D/out/prev.safetensors"}
	a := func(args ...string) []string { return append(append(args, w...), "$D/good.yaml") }
	cases = append(cases,
		// Data files that are not there or cannot be read: found before
		// anything is built.
		tr("missing data", a("-data", "$D/missing.csv"), "bpgen: $D/missing.csv: no such file or directory", 0),
		tr("unreadable data", a("-data", "$D/unreadable.csv"), "bpgen: $D/unreadable.csv: permission denied", needUnreadable),
		tr("data is a directory", a("-data", "$D/ddir.csv"), "bpgen: $D/ddir.csv: is a directory", 0),
		tr("IDX images without labels", a("-data", "$D/images.idx"),
			"bpgen: $D/images.idx: unknown data format: want a .csv or .safetensors file, or IDX images with a labels file", 0),
		tr("missing labels", a("-data", "$D/images.idx", "-labels", "$D/missing.idx"), "bpgen: $D/missing.idx: no such file or directory", 0),
		tr("labels are a directory", a("-data", "$D/images.idx", "-labels", "$D/ddir.csv"), "bpgen: $D/ddir.csv: is a directory", 0),
		tr("labels with CSV", a("-data", "$D/tiny.csv", "-labels", "$D/labels.idx"),
			"bpgen: $D/tiny.csv: a .csv file holds its own targets; a labels file ($D/labels.idx) goes only with IDX images", 0),
		tr("missing test data", a("-data", "$D/tiny.csv", "-test", "$D/missing.csv"), "bpgen: $D/missing.csv: no such file or directory", 0),
		tr("unreadable test data", a("-data", "$D/tiny.csv", "-test", "$D/unreadable.csv"), "bpgen: $D/unreadable.csv: permission denied", needUnreadable),
		tr("test data is a directory", a("-data", "$D/tiny.csv", "-test", "$D/ddir.csv"), "bpgen: $D/ddir.csv: is a directory", 0),
		tr("missing test labels", a("-data", "$D/tiny.csv", "-test", "$D/images.idx", "-test-labels", "$D/missing.idx"),
			"bpgen: $D/missing.idx: no such file or directory", 0),

		// Bad contents: the trainer program finds them when it loads the
		// data, before training. (Each case builds the trainer, so there
		// are few; TestTrainBadData has more contents.) The trainer gets
		// the paths as given and runs in the current directory, so its
		// errors name the files as the user did.
		tr("empty CSV", []string{"-data", "$R/empty.csv", "-o", "$R/out/prev.safetensors", "$R/good.yaml"},
			"bpgen: $R/empty.csv: empty file, want rows of 2 features and 1 class label", needBuild),
		tr("corrupt safetensors test set", a("-data", "$D/tiny.csv", "-test", "$D/junk.safetensors"),
			"bpgen: $D/junk.safetensors: safetensors: header length 65535 runs past the end of the file (2 bytes follow the length)", needBuild),
		tr("corrupt IDX", a("-data", "$D/images.idx", "-labels", "$D/labels.idx"),
			"bpgen: $D/images.idx: idx: bad magic 6a 75 6e 6b, want 00 00 followed by type and dimension count", needBuild),
		tr("truncated IDX", a("-data", "$D/short.idx", "-labels", "$D/labels4.idx"),
			"bpgen: $D/short.idx: idx: truncated data: dims [4 2] need 8 bytes, got 5 (row 3 of 4 is cut short)", needBuild),
		tr("IDX label out of range", a("-data", "$D/images4.idx", "-labels", "$D/bad-labels4.idx"),
			"bpgen: $D/bad-labels4.idx: row 2: class label 2 is out of range [0, 2)", needBuild),
		tr("truncated CSV", a("-data", "$D/cut.csv"),
			"bpgen: $D/cut.csv:4: 2 values, want 3 (2 features and 1 class label)", needBuild),

		// Training that diverges: Fit stops at the first NaN or ±Inf with
		// its error, and train writes no weights, no log and no plot (the
		// previous -o stays as it was).
		tr("training diverges", []string{"-data", "$D/tiny.csv", "-lr", "1e30", "-o", "$D/out/prev.safetensors",
			"-log", "$D/out/h.csv", "-plot", "$D/out/c.svg", "$D/diverge.yaml"},
			`bpgen: epoch 1, step 2: parameter "layers.0.weight" is +Inf after the optimizer step (element 0)`, needBuild),

		// -init weights: checked before anything is built, with the
		// errors of generate -weights.
		tr("missing init", a("-data", "$D/tiny.csv", "-init", "$D/missing.safetensors"), "bpgen: $D/missing.safetensors: no such file or directory", 0),
		tr("init is a directory", a("-data", "$D/tiny.csv", "-init", "$D/wdir.safetensors"), "bpgen: $D/wdir.safetensors: is a directory", 0),
		tr("corrupt init", a("-data", "$D/tiny.csv", "-init", "$D/junk.safetensors"),
			"bpgen: $D/junk.safetensors: safetensors: header length 65535 runs past the end of the file (2 bytes follow the length)", 0),
		tr("init of another network", a("-data", "$D/tiny.csv", "-init", "$D/wrong.safetensors"),
			`bpgen: $D/wrong.safetensors: safetensors: tensor "layers.0.weight": shape [3 2] in file, model expects [2 2]`+"\n"+
				`bpgen: $D/wrong.safetensors: safetensors: tensor "layers.0.bias": shape [3] in file, model expects [2]`, 0),
		tr("init of another dtype", a("-data", "$D/tiny.csv", "-init", "$D/f64.safetensors"), `bpgen: $D/f64.safetensors: safetensors: tensor "layers.0.weight": dtype F64 in file, model expects F32`+"\n"+
			`bpgen: $D/f64.safetensors: safetensors: tensor "layers.0.bias": dtype F64 in file, model expects F32`, 0),
		tr("NaN init", a("-data", "$D/tiny.csv", "-init", "$D/nan.safetensors"),
			`bpgen: $D/nan.safetensors: tensor "layers.0.weight" holds NaN at element 3; refusing to train from non-finite weights`, 0),
		tr("output is the init", []string{"-data", "$D/tiny.csv", "-init", "$D/good.safetensors", "-o", "$D/good.safetensors", "$D/good.yaml"},
			"bpgen: -o $D/good.safetensors: the same file as -init", 0),

		// Outputs that cannot be written, or would overwrite an input:
		// found before anything is built.
		tr("output is a directory", []string{"-data", "$D/tiny.csv", "-o", "$D/out", "$D/good.yaml"}, "bpgen: -o $D/out: is a directory", 0),
		tr("output in a read-only directory", []string{"-data", "$D/tiny.csv", "-o", "$D/ro/prev.safetensors", "$D/good.yaml"},
			"bpgen: -o $D/ro/prev.safetensors: permission denied", needReadOnly),
		tr("output in a missing directory", []string{"-data", "$D/tiny.csv", "-o", "$D/nodir/w.safetensors", "$D/good.yaml"},
			"bpgen: -o $D/nodir/w.safetensors: no directory $D/nodir", 0),
		tr("output under a file", []string{"-data", "$D/tiny.csv", "-o", "$D/afile/w.safetensors", "$D/good.yaml"},
			"bpgen: -o $D/afile/w.safetensors: $D/afile is not a directory", 0),
		tr("output is the data", []string{"-data", "$D/tiny.csv", "-o", "$D/tiny.csv", "$D/good.yaml"},
			"bpgen: -o $D/tiny.csv: the same file as -data", 0),
		tr("output is the spec", []string{"-data", "$D/tiny.csv", "-o", "$D/good.yaml", "$D/good.yaml"},
			"bpgen: -o $D/good.yaml: the same file as the spec", 0),
		badCase{name: "default output in a read-only directory", args: []string{"train", "-data", "$D/tiny.csv", "$D/good.yaml"}, code: 1,
			want: "bpgen: -o good.safetensors: permission denied", needs: needReadOnly, chdir: "$D/ro"},
		tr("log is a directory", a("-data", "$D/tiny.csv", "-log", "$D/out"), "bpgen: -log $D/out: is a directory", 0),
		tr("log in a read-only directory", a("-data", "$D/tiny.csv", "-log", "$D/ro/h.csv"), "bpgen: -log $D/ro/h.csv: permission denied", needReadOnly),
		tr("log in a missing directory", a("-data", "$D/tiny.csv", "-log", "$D/nodir/h.csv"), "bpgen: -log $D/nodir/h.csv: no directory $D/nodir", 0),
		tr("log is the test data", a("-data", "$D/tiny.csv", "-test", "$D/tiny.csv", "-log", "$D/tiny.csv"),
			"bpgen: -log $D/tiny.csv: the same file as -data", 0),
		tr("log is the output", a("-data", "$D/tiny.csv", "-log", "$D/out/prev.safetensors"),
			"bpgen: -log $D/out/prev.safetensors: the same file as -o", 0),
		tr("plot is a directory", a("-data", "$D/tiny.csv", "-plot", "$D/out/plots.svg"), "bpgen: -plot $D/out/plots.svg: is a directory", 0),
		tr("plot in a read-only directory", a("-data", "$D/tiny.csv", "-plot", "$D/ro/c.svg"), "bpgen: -plot $D/ro/c.svg: permission denied", needReadOnly),
		tr("plot in a missing directory", a("-data", "$D/tiny.csv", "-plot", "$D/nodir/c.png"), "bpgen: -plot $D/nodir/c.png: no directory $D/nodir", 0),
		tr("plot is the log", a("-data", "$D/tiny.csv", "-log", "$D/c.svg", "-plot", "$D/c.svg"), "bpgen: -plot $D/c.svg: the same file as -log", 0),
		badCase{name: "TMPDIR missing", args: append([]string{"train"}, a("-data", "$D/tiny.csv")...), code: 1, tmp: "$D/nodir",
			want: "bpgen: creating a temporary module in $D/nodir: no such file or directory"},
	)
	runBadCases(t, cases)
}
