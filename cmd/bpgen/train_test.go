package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bpgen/bpgen/generated/mnist_mlp"
	"github.com/bpgen/bpgen/generated/xor"
	bprt "github.com/bpgen/bpgen/runtime"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/plot"
)

// mainEnv, when set to 1, makes the test binary run bpgen itself with its
// arguments: the interrupt test sends a real SIGINT to a bpgen process.
const mainEnv = "BPGEN_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(mainEnv) == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// xorCSV is the four XOR rows repeated 25 times, under a header.
func xorCSV() string {
	var b strings.Builder
	b.WriteString("a,b,xor\n")
	for range 25 {
		b.WriteString("0,0,0\n0,1,1\n1,0,1\n1,1,0\n")
	}
	return b.String()
}

// readHistory reads a -log CSV file.
func readHistory(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.NotEmpty(t, rows)
	assert.Equal(t, historyHeader, rows[0])
	return rows[1:]
}

// TestTrainXOR trains testdata/xor.yaml on a CSV file of the XOR table and
// loads the weights into the checked-in package generated from that spec.
func TestTrainXOR(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the trainer program")
	}
	dir := t.TempDir()
	data := writeSpec(t, "xor.csv", xorCSV())
	weights := filepath.Join(dir, "xor.safetensors")
	log := filepath.Join(dir, "history.csv")
	code, stdout, stderr := runCmd("train", "-data", data, "-epochs", "60", "-o", weights, "-log", log, "../../testdata/xor.yaml")
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	assert.Empty(t, stderr)
	t.Logf("bpgen train:\n%s", stdout)

	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	require.Greater(t, len(lines), 62, stdout)
	assert.Equal(t, "training xor (17 parameters, float64) on "+data, lines[0])
	assert.Regexp(t, `^data: 100 training samples \(loaded in \d+\.\d\ds\)$`, lines[1])
	epochLine := regexp.MustCompile(`^epoch (\d+)/60  loss \d\.\d{4}  acc \d+\.\d\d%  lr 0\.2  [\d,]+ samples/s  \d+\.\d\ds$`)
	for i := 1; i <= 60; i++ {
		m := epochLine.FindStringSubmatch(lines[1+i])
		if assert.NotNil(t, m, lines[1+i]) {
			assert.Equal(t, strconv.Itoa(i), m[1])
		}
	}
	assert.Regexp(t, `(?m)^done: 60 epochs in .*; best epoch \d+ \(loss \d\.\d{4}\)$`, stdout)
	assert.Contains(t, stdout, "\nfinal: loss ")
	assert.Contains(t, stdout, "acc 100.00%\n")
	assert.Contains(t, stdout, "\nweights (epoch 60): "+weights+"\n")
	assert.Contains(t, stdout, "\nhistory: "+log+"\n")
	assert.NotContains(t, stdout, "test:")

	// The weights load into the package generated from the same spec, and
	// it computes XOR.
	m := xor.New()
	f, err := os.Open(weights)
	require.NoError(t, err)
	defer f.Close()
	require.NoError(t, m.ReadSafetensors(f))
	for _, c := range []struct{ a, b, want float64 }{{0, 0, 0}, {0, 1, 1}, {1, 0, 1}, {1, 1, 0}} {
		out := m.Forward(&xor.Input{c.a, c.b})
		assert.InDelta(t, c.want, out[0], 0.2, "xor(%v, %v)", c.a, c.b)
	}

	rows := readHistory(t, log)
	require.Len(t, rows, 60)
	for i, r := range rows {
		require.Len(t, r, len(historyHeader))
		assert.Equal(t, strconv.Itoa(i+1), r[0])
		assert.Equal(t, "0.2", r[1], "lr")
		loss, err := strconv.ParseFloat(r[2], 64)
		require.NoError(t, err)
		assert.True(t, loss >= 0 && loss < 1, "train_loss %v", loss)
		assert.Equal(t, []string{"", ""}, r[4:6], "no validation split: empty val_loss, val_acc")
	}
	assert.Equal(t, "1", rows[59][3], "train_acc of the last epoch")

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 2, "no temporary files left beside the weights and the history")
}

// classifierSpec is a small 3-class classifier of 2-D points.
const classifierSpec = `name: blobs
input: [2]
layers:
  - {type: dense, units: 16, activation: tanh}
  - {type: dense, units: 3}
loss: softmax_cross_entropy
init: {scheme: xavier_uniform, seed: 3}
optimizer: {type: adam, lr: 0.01}
train: {epochs: 15, batch: 16, shuffle: true}
`

// blobs returns n points around three centres and their classes.
func blobs(n int, seed uint64) ([][2]float32, []int) {
	r := bprt.NewRNG(seed)
	centres := [3][2]float64{{-2, 0}, {2, 0}, {0, 2.5}}
	xs, ys := make([][2]float32, n), make([]int, n)
	for i := range xs {
		c := r.Intn(3)
		xs[i] = [2]float32{float32(centres[c][0] + 0.6*r.NormFloat64()), float32(centres[c][1] + 0.6*r.NormFloat64())}
		ys[i] = c
	}
	return xs, ys
}

func blobsCSV(xs [][2]float32, ys []int) string {
	var b strings.Builder
	for i, x := range xs {
		fmt.Fprintf(&b, "%g,%g,%d\n", x[0], x[1], ys[i])
	}
	return b.String()
}

// blobsSafetensors is a safetensors file with x [N, 2] and y [N], both F32.
func blobsSafetensors(t *testing.T, xs [][2]float32, ys []int) []byte {
	n := len(xs)
	vals := make([]float32, 0, 3*n)
	for _, x := range xs {
		vals = append(vals, x[0], x[1])
	}
	for _, y := range ys {
		vals = append(vals, float32(y))
	}
	var buf bytes.Buffer
	require.NoError(t, bprt.WriteSafetensors(&buf, vals, []bprt.Tensor{
		{Name: "x", Shape: []int{n, 2}, Offset: 0, Size: 2 * n},
		{Name: "y", Shape: []int{n}, Offset: 2 * n, Size: n},
	}, nil))
	return buf.Bytes()
}

// TestTrainClassifier trains a classifier on generated CSV and safetensors
// files with a validation split and a test set.
func TestTrainClassifier(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the trainer program")
	}
	dir := t.TempDir()
	spec := writeSpec(t, "blobs.yaml", classifierSpec)
	trainX, trainY := blobs(600, 1)
	testX, testY := blobs(200, 2)
	for _, format := range []string{"csv", "safetensors"} {
		t.Run(format, func(t *testing.T) {
			train, test := filepath.Join(dir, "train."+format), filepath.Join(dir, "test."+format)
			if format == "csv" {
				require.NoError(t, os.WriteFile(train, []byte(blobsCSV(trainX, trainY)), 0o644))
				require.NoError(t, os.WriteFile(test, []byte(blobsCSV(testX, testY)), 0o644))
			} else {
				require.NoError(t, os.WriteFile(train, blobsSafetensors(t, trainX, trainY), 0o644))
				require.NoError(t, os.WriteFile(test, blobsSafetensors(t, testX, testY), 0o644))
			}
			weights := filepath.Join(dir, "blobs-"+format+".safetensors")
			code, stdout, stderr := runCmd("train", spec, "-data", train, "-test", test, "-val", "0.25", "-o", weights)
			require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
			t.Logf("bpgen train:\n%s", stdout)
			assert.Contains(t, stdout, "\ndata: 450 training, 150 validation and 200 test samples (loaded in ")
			assert.Regexp(t, `(?m)^epoch 15/15  loss \d\.\d{4}  acc [\d.]+%  val loss \d\.\d{4}  val acc [\d.]+%  lr 0\.01  `, stdout)
			assert.Regexp(t, `(?m)^final: loss \d\.\d{4}  acc [\d.]+%  val loss \d\.\d{4}  val acc [\d.]+%$`, stdout)
			m := regexp.MustCompile(`(?m)^test: loss \d\.\d{4}  acc ([\d.]+)% \(200 samples\)$`).FindStringSubmatch(stdout)
			require.NotNil(t, m, stdout)
			acc, err := strconv.ParseFloat(m[1], 64)
			require.NoError(t, err)
			assert.Greater(t, acc, 90.0, "test accuracy")

			b, err := os.ReadFile(weights)
			require.NoError(t, err)
			st, err := bprt.ParseSafetensors(b)
			require.NoError(t, err)
			var got []string
			for _, e := range st.Entries {
				got = append(got, fmt.Sprintf("%s %s %v", e.Name, e.DType, e.Shape))
			}
			assert.Equal(t, []string{"layers.0.weight F32 [16 2]", "layers.0.bias F32 [16]", "layers.1.weight F32 [3 16]", "layers.1.bias F32 [3]"}, got)
		})
	}

	// Overrides: early stopping on a plateau that cannot improve by 1.
	weights := filepath.Join(dir, "early.safetensors")
	train := filepath.Join(dir, "train.csv")
	code, stdout, stderr := runCmd("train", "-data", train, "-val", "0.25", "-epochs", "50", "-patience", "2", "-min-delta", "1",
		"-optimizer", "sgd", "-lr", "0.05", "-batch", "32", "-seed", "7", "-o", weights, spec)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	assert.Regexp(t, `(?m)^epoch 1/50  .*  lr 0\.05  `, stdout)
	assert.Regexp(t, `(?m)^stopped early \(patience 2\): 3 epochs in .*; best epoch 1 \(val loss \d\.\d{4}\)$`, stdout)
	assert.Contains(t, stdout, "\nweights (epoch 1, restored): "+weights+"\n")
}

// TestTrainBadData checks the errors for bad data files: the file, the
// line or row, and what was expected.
func TestTrainBadData(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the trainer program")
	}
	spec := writeSpec(t, "blobs.yaml", classifierSpec)
	xs, ys := blobs(4, 1)
	good := blobsSafetensors(t, xs, ys)
	noY := bytes.Replace(good, []byte(`"y"`), []byte(`"z"`), 1)
	for _, c := range []struct {
		name, file, text string
		want             string
	}{
		{"wrong feature count", "d.csv", "1,2,0\n1,2,3,0\n", "FILE:2: 4 values, want 3 (2 features and 1 class label)"},
		{"label out of range", "d.csv", "x,y,class\n1,2,0\n1,2,3\n", "FILE:3: column 3: class label 3 is out of range [0, 3)"},
		{"label not an integer", "d.csv", "1,2,0\n1,2,1.5\n", "FILE:2: column 3: class label 1.5 is not an integer"},
		{"NaN", "d.csv", "1,2,0\n\n1,NaN,1\n", "FILE:3: column 2: NaN is not finite"},
		{"Inf", "d.csv", "1,2,0\n1,+Inf,1\n", "FILE:2: column 2: +Inf is not finite"},
		{"not a number", "d.csv", "1,2,0\n1,two,1\n", `FILE:2: column 2: "two" is not a number`},
		{"empty file", "d.csv", "", "FILE: empty file, want rows of 2 features and 1 class label"},
		{"header only", "d.csv", "a,b,c\n", "FILE: no samples after the header, want rows of 2 features and 1 class label"},
		{"ragged rows", "d.csv", "1,2,0\n3,4,1\n5,6\n", "FILE:3: 2 values, want 3 (2 features and 1 class label)"},
		{"no y tensor", "d.safetensors", string(noY), `FILE: no tensor "y" (the file has tensors "x", "z"); want x [N, ...] with 2 values and y [N]`},
		{"unknown format", "d.txt", "1,2,0\n", "FILE: unknown data format: want a .csv or .safetensors file, or IDX images with a labels file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			file := writeSpec(t, c.file, c.text)
			code, stdout, stderr := runCmd("train", "-data", file, "-o", filepath.Join(t.TempDir(), "w.safetensors"), spec)
			assert.Equal(t, 1, code, stdout)
			assert.Equal(t, "bpgen: "+strings.ReplaceAll(c.want, "FILE", file)+"\n", stderr)
		})
	}
}

// TestTrainFlagErrors checks the errors bpgen reports before it builds anything.
func TestTrainFlagErrors(t *testing.T) {
	dir := t.TempDir()
	spec := writeSpec(t, "blobs.yaml", classifierSpec)
	data := filepath.Join(dir, "d.csv")
	require.NoError(t, os.WriteFile(data, []byte("1,2,0\n"), 0o644))
	xorSpec := "../../testdata/xor.yaml"
	for _, c := range []struct {
		name string
		args []string
		code int
		err  string // the whole of stderr, or for usage errors a prefix
	}{
		{"no spec", []string{"-data", data}, 2, "usage: bpgen train "},
		{"two specs", []string{spec, spec}, 2, "usage: bpgen train "},
		{"bad flag", []string{"-x", spec}, 2, "flag provided but not defined: -x"},
		{"bad spec", []string{"-data", data, data}, 1, "bpgen: " + data + `:1:1: expected a mapping with keys name, input, layers, loss, got "1,2,0"` + "\n"},
		{"bad overrides", []string{"-data", data, "-epochs", "0", "-batch", "-1", "-lr", "0", "-optimizer", "adamm", "-val", "1", "-patience", "-2", "-limit", "-1", spec}, 1,
			"bpgen: -epochs 0: expected at least 1\nbpgen: -batch -1: expected at least 1\n" +
				`bpgen: -optimizer "adamm": expected one of sgd, momentum, nesterov, adam, adamw, rmsprop, adagrad` + "\n" +
				"bpgen: -lr 0: expected a number > 0\nbpgen: -val 1: expected a fraction in [0, 1)\n" +
				"bpgen: -patience -2: expected 0 (off) or more\nbpgen: -limit -1: expected 0 (all samples) or more\n"},
		{"min-delta without early stopping", []string{"-data", data, "-min-delta", "0.1", spec}, 1,
			"bpgen: -min-delta 0.1: early stopping is off; set -patience or the spec's train.early_stopping\n"},
		{"plot format", []string{"-data", data, "-plot", "curves.pdf", spec}, 1, "bpgen: -plot curves.pdf: expected a .svg or .png file\n"},
		{"missing data", []string{"-data", filepath.Join(dir, "none.csv"), spec}, 1,
			"bpgen: " + filepath.Join(dir, "none.csv") + ": no such file or directory\n"},
		{"missing test", []string{"-data", data, "-test", filepath.Join(dir, "none.csv"), spec}, 1,
			"bpgen: " + filepath.Join(dir, "none.csv") + ": no such file or directory\n"},
		{"test labels without test", []string{"-data", data, "-test-labels", data, spec}, 1, "bpgen: -test-labels " + data + ": no -test\n"},
		{"output directory", []string{"-data", data, "-o", dir, spec}, 1, "bpgen: -o " + dir + ": is a directory\n"},
		{"no output directory", []string{"-data", data, "-o", filepath.Join(dir, "no", "w.safetensors"), spec}, 1,
			"bpgen: -o " + filepath.Join(dir, "no", "w.safetensors") + ": no directory " + filepath.Join(dir, "no") + "\n"},
		{"checkpoint flags", []string{"-data", data, "-checkpoint-every", "0", "-workers", "0", "-resume", filepath.Join(dir, "none.ckpt"), spec}, 1,
			"bpgen: -checkpoint-every 0: expected at least 1\nbpgen: -workers 0: expected at least 1\n" +
				"bpgen: -resume " + filepath.Join(dir, "none.ckpt") + ": no such file or directory\n"},
		{"checkpoint-every without checkpoint", []string{"-data", data, "-checkpoint-every", "5", spec}, 1, "bpgen: -checkpoint-every 5: no -checkpoint\n"},
		{"resume a directory", []string{"-data", data, "-resume", dir, spec}, 1, "bpgen: -resume " + dir + ": is a directory\n"},
		{"checkpoint over the data", []string{"-data", data, "-checkpoint", data, spec}, 1, "bpgen: -checkpoint " + data + ": the same file as -data\n"},
		{"checkpoint over the weights", []string{"-data", data, "-o", filepath.Join(dir, "w"), "-checkpoint", filepath.Join(dir, "w"), spec}, 1,
			"bpgen: -checkpoint " + filepath.Join(dir, "w") + ": the same file as -o\n"},
		{"mnist input", []string{xorSpec}, 1,
			"bpgen: -data mnist: the network's input is [2], but MNIST images need [784] or [1, 28, 28]\n"},
		{"mnist loss", []string{"-test", "mnist", "-data", data, "../../testdata/mnist_mlp.yaml"}, 0, ""},
		{"mnist labels", []string{"-labels", data, "../../testdata/mnist_mlp.yaml"}, 1, "bpgen: -labels " + data + ": -data mnist brings its own labels\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.name == "mnist loss" {
				// A spec whose input fits MNIST but whose loss does not.
				s := writeSpec(t, "m.yaml", "name: m\ninput: [1, 28, 28]\nlayers:\n  - {type: flatten}\n  - {type: dense, units: 10}\nloss: mse\n")
				c.args, c.code = []string{"-data", "mnist", s}, 1
				c.err = "bpgen: -data mnist: the network's loss is mse, but MNIST's digit labels need softmax_cross_entropy\n"
			}
			code, stdout, stderr := runCmd(append([]string{"train"}, c.args...)...)
			assert.Equal(t, c.code, code, stderr)
			assert.Empty(t, stdout)
			if c.code == 2 {
				assert.Contains(t, stderr, c.err)
			} else {
				assert.Equal(t, c.err, stderr)
			}
		})
	}
	// The output of a 10-class MNIST network must be [10].
	s := writeSpec(t, "m.yaml", "name: m\ninput: [784]\nlayers:\n  - {type: dense, units: 5}\nloss: softmax_cross_entropy\n")
	code, _, stderr := runCmd("train", s)
	assert.Equal(t, 1, code)
	assert.Equal(t, "bpgen: -data mnist: the network's output is [5], but MNIST has 10 classes: want [10]\n", stderr)
}

// TestTrainPlot checks that -plot writes an SVG or PNG file by its extension.
func TestTrainPlot(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the trainer program")
	}
	dir := t.TempDir()
	data := writeSpec(t, "xor.csv", xorCSV())
	for _, c := range []struct {
		file  string
		magic string
	}{
		{"curves.svg", "<?xml"},
		{"curves.PNG", "\x89PNG\r\n\x1a\n"},
	} {
		plot := filepath.Join(dir, c.file)
		code, stdout, stderr := runCmd("train", "-data", data, "-epochs", "8", "-val", "0.2", "-plot", plot,
			"-o", filepath.Join(dir, "w.safetensors"), "../../testdata/xor.yaml")
		require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
		assert.Contains(t, stdout, "\ncurves: "+plot+"\n")
		b, err := os.ReadFile(plot)
		require.NoError(t, err)
		assert.True(t, bytes.HasPrefix(b, []byte(c.magic)), "%s starts with %q", c.file, b[:min(len(b), 16)])
		if strings.HasSuffix(c.file, ".svg") {
			assert.Contains(t, string(b), "<svg")
			assert.Contains(t, string(b), "xor: loss")
			assert.Contains(t, string(b), "validation")
		}
		assert.Greater(t, len(b), 2000)
	}
}

// TestHistoryOutputs checks the -log and -plot writers on a history with and
// without validation values and with a single epoch.
func TestHistoryOutputs(t *testing.T) {
	dir := t.TempDir()
	nan := num(math.NaN())
	epochs := []trainEvent{
		{Epoch: 1, LR: 0.1, TrainLoss: 0.5, TrainAcc: 0.75, ValLoss: nan, ValAcc: nan, Seconds: 1.5, SamplesPerSec: 1000},
	}
	log := filepath.Join(dir, "h.csv")
	require.NoError(t, writeHistoryCSV(log, epochs))
	b, err := os.ReadFile(log)
	require.NoError(t, err)
	assert.Equal(t, "epoch,lr,train_loss,train_acc,val_loss,val_acc,seconds,samples_per_sec\n1,0.1,0.5,0.75,,,1.5,1000\n", string(b))
	for _, name := range []string{"one.svg", "one.png"} {
		require.NoError(t, plotHistory(filepath.Join(dir, name), "m", epochs))
	}
	for i := 2; i <= 120; i++ { // many epochs: lines without glyphs, ticks 20 apart
		epochs = append(epochs, trainEvent{Epoch: i, LR: 0.1, TrainLoss: num(1 / float64(i)), TrainAcc: 0.9, ValLoss: 0.3, ValAcc: 0.8})
	}
	require.NoError(t, plotHistory(filepath.Join(dir, "many.svg"), "m", epochs))
	assert.Equal(t, []float64{1, 20, 40, 60, 80, 100, 120}, tickValues(epochTicks{}.Ticks(1, 120)))
	assert.Equal(t, []float64{1, 2, 3}, tickValues(epochTicks{}.Ticks(0.9, 3.1)))
	assert.Equal(t, []float64{1, 5, 10, 15, 20, 25, 30}, tickValues(epochTicks{}.Ticks(1, 30)))
	assert.ErrorContains(t, plotHistory(filepath.Join(dir, "x.pdf"), "m", epochs), "-plot "+filepath.Join(dir, "x.pdf")+": expected a .svg or .png file")
}

func tickValues(ts []plot.Tick) []float64 {
	var v []float64
	for _, t := range ts {
		v = append(v, t.Value)
	}
	return v
}

// TestTrainMNIST trains the MNIST MLP of the README for one epoch on the
// first 10,000 training images and tests it on the 10,000 test images.
func TestTrainMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on MNIST")
	}
	dir := t.TempDir()
	weights := filepath.Join(dir, "mlp.safetensors")
	code, stdout, stderr := runCmd("train", "-epochs", "1", "-limit", "10000", "-o", weights, "../../testdata/mnist_mlp.yaml")
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	t.Logf("bpgen train:\n%s", stdout)
	assert.Regexp(t, `^training mnist_mlp \(101,770 parameters, float32\) on MNIST from \S+\n`, stdout)
	assert.Contains(t, stdout, "\ndata: 10,000 training and 10,000 test samples (loaded in ")
	m := regexp.MustCompile(`(?m)^test: loss \d\.\d{4}  acc ([\d.]+)% \(10,000 samples\)$`).FindStringSubmatch(stdout)
	require.NotNil(t, m, stdout)
	acc, err := strconv.ParseFloat(m[1], 64)
	require.NoError(t, err)
	assert.Greater(t, acc, 85.0, "test accuracy")

	net := mnist_mlp.New()
	f, err := os.Open(weights)
	require.NoError(t, err)
	defer f.Close()
	require.NoError(t, net.ReadSafetensors(f))
}

// TestTrainInterrupt sends SIGINT to a running bpgen train after its first
// epoch: the trainer must stop, save loadable weights and report it, and
// bpgen must exit 130.
func TestTrainInterrupt(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on MNIST")
	}
	if runtime.GOOS == "windows" {
		t.Skip("no SIGINT to send on Windows")
	}
	exe, err := os.Executable()
	require.NoError(t, err)
	dir := t.TempDir()
	weights := filepath.Join(dir, "mlp.safetensors")
	log := filepath.Join(dir, "history.csv")
	cmd := exec.Command(exe, "train", "-epochs", "500", "-limit", "3000", "-o", weights, "-log", log, "../../testdata/mnist_mlp.yaml")
	cmd.Env = append(os.Environ(), mainEnv+"=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	defer cmd.Process.Kill()

	var stdout strings.Builder
	lines := bufio.NewScanner(out)
	signalled := false
	timeout := time.AfterFunc(2*time.Minute, func() { cmd.Process.Kill() })
	defer timeout.Stop()
	for lines.Scan() {
		stdout.WriteString(lines.Text() + "\n")
		if !signalled && strings.HasPrefix(lines.Text(), "epoch 1/500 ") {
			require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
			signalled = true
		}
	}
	err = cmd.Wait()
	t.Logf("bpgen train:\n%s%s", stdout.String(), stderr.String())
	require.True(t, signalled, "no epoch line")
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, 130, exit.ExitCode())
	assert.Contains(t, stdout.String(), "\ninterrupted: stopping after this minibatch and saving the weights (interrupt again to quit without saving)\n")
	assert.Regexp(t, `(?m)^interrupted in epoch \d+: \d+ epochs? in `, stdout.String())
	assert.Regexp(t, `(?m)^weights \(as interrupted in epoch \d+\): `+regexp.QuoteMeta(weights)+`$`, stdout.String())
	assert.Equal(t, "bpgen: interrupted: weights saved to "+weights+"\n", stderr.String())

	net := mnist_mlp.New()
	f, err := os.Open(weights)
	require.NoError(t, err)
	defer f.Close()
	require.NoError(t, net.ReadSafetensors(f))
	assert.NotEqual(t, mnist_mlp.New().Params, net.Params, "trained weights")
	rows := readHistory(t, log)
	assert.NotEmpty(t, rows)
	assert.Less(t, len(rows), 500)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 2, "no temporary files left beside the weights and the history")
}

// TestTrainKeep checks that -keep leaves the trainer module in place.
func TestTrainKeep(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the trainer program")
	}
	data := writeSpec(t, "xor.csv", xorCSV())
	code, _, stderr := runCmd("train", "-keep", "-data", data, "-epochs", "1", "-o", filepath.Join(t.TempDir(), "w.safetensors"), "../../testdata/xor.yaml")
	require.Equal(t, 0, code, stderr)
	m := regexp.MustCompile(`^bpgen: kept the trainer module in (\S+)\n$`).FindStringSubmatch(stderr)
	require.NotNil(t, m, stderr)
	defer os.RemoveAll(m[1])
	for _, f := range []string{"go.mod", "go.sum", "main.go", "model/model_gen.go"} {
		assert.FileExists(t, filepath.Join(m[1], f))
	}
}

// copierSpec reads 4 token ids and, at every step, predicts the id it read:
// token input and a class target per step.
const copierSpec = `name: copier
input: [4]
layers:
  - {type: embedding, vocab: 5, dim: 8}
  - {type: rnn, units: 16, return_sequences: true}
  - {type: dense, units: 5}
loss: softmax_cross_entropy
optimizer: {type: adam, lr: 0.02}
train: {epochs: 20, batch: 16, clip_norm: 1.0}
`

// TestTrainTokenSequence trains a network with a token input and a class
// per step from a CSV file, and checks a bad token id.
func TestTrainTokenSequence(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the trainer program")
	}
	spec := writeSpec(t, "copier.yaml", copierSpec)
	r := bprt.NewRNG(5)
	var b strings.Builder
	b.WriteString("t0,t1,t2,t3,c0,c1,c2,c3\n")
	for range 400 {
		var ids [4]int
		for i := range ids {
			ids[i] = r.Intn(5)
		}
		fmt.Fprintf(&b, "%d,%d,%d,%d,%d,%d,%d,%d\n", ids[0], ids[1], ids[2], ids[3], ids[0], ids[1], ids[2], ids[3])
	}
	data := writeSpec(t, "copy.csv", b.String())
	code, stdout, stderr := runCmd("train", "-data", data, "-val", "0.25", "-o", filepath.Join(t.TempDir(), "w.safetensors"), spec)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	assert.Contains(t, stdout, "\ndata: 300 training and 100 validation samples (loaded in ")
	m := regexp.MustCompile(`(?m)^final: loss \S+  acc \S+  val loss \S+  val acc ([\d.]+)%$`).FindStringSubmatch(stdout)
	require.NotNil(t, m, stdout)
	acc, err := strconv.ParseFloat(m[1], 64)
	require.NoError(t, err)
	assert.Greater(t, acc, 90.0, "validation accuracy (every step right)")

	bad := writeSpec(t, "bad.csv", "0,1,2,3,0,1,2,3\n0,1,5,3,0,1,2,3\n")
	code, _, stderr = runCmd("train", "-data", bad, "-o", filepath.Join(t.TempDir(), "w.safetensors"), spec)
	assert.Equal(t, 1, code)
	assert.Equal(t, "bpgen: "+bad+":2: column 3: token id 5 is out of range [0, 5)\n", stderr)
}

// TestTrainUITerminal checks the progress bar of a terminal: it shows the
// epoch, the loss so far and the samples done, and gives way to the epoch
// line when the epoch ends.
func TestTrainUITerminal(t *testing.T) {
	var buf bytes.Buffer
	ui := newTrainUI(&buf, true, 3)
	ui.start(trainEvent{Train: 1000, Val: 200, Seconds: 0.5})
	ui.batch(trainEvent{Epoch: 1, Done: 320, Total: 1000, Loss: 0.75})
	ui.batch(trainEvent{Epoch: 1, Done: 1000, Total: 1000, Loss: 0.5})
	require.NotNil(t, ui.bar)
	ui.epoch(trainEvent{Epoch: 1, LR: 0.01, TrainLoss: 0.5, TrainAcc: 0.8, ValLoss: 0.4, ValAcc: 0.85, Seconds: 2, SamplesPerSec: 500})
	assert.Nil(t, ui.bar, "the epoch line replaces the bar")
	ui.batch(trainEvent{Epoch: 2, Done: 100, Total: 1000, Loss: 0.25})
	ui.close()
	out := buf.String()
	assert.True(t, strings.HasPrefix(out, "data: 1,000 training and 200 validation samples (loaded in 0.50s)\n"), out)
	assert.Contains(t, out, "epoch 1/3  loss 0.7500")
	assert.Contains(t, out, "(1000/1000")
	assert.Contains(t, out, "samples/s")
	assert.Contains(t, out, "\repoch 1/3  loss 0.5000  acc 80.00%  val loss 0.4000  val acc 85.00%  lr 0.01  500 samples/s  2.00s\n")
	assert.Contains(t, out, "epoch 2/3  loss 0.2500")
	assert.True(t, strings.HasSuffix(out, "\r"), "the bar is cleared at the end: %q", out[max(0, len(out)-40):])

	// Not a terminal: no bar, the same lines.
	buf.Reset()
	ui = newTrainUI(&buf, false, 3)
	ui.batch(trainEvent{Epoch: 1, Done: 320, Total: 1000, Loss: 0.75})
	ui.epoch(trainEvent{Epoch: 1, LR: 0.01, TrainLoss: 0.5, TrainAcc: 0.8, ValLoss: num(math.NaN()), ValAcc: num(math.NaN()), Seconds: 12.5, SamplesPerSec: 80})
	assert.Equal(t, "epoch 1/3  loss 0.5000  acc 80.00%  lr 0.01  80 samples/s  12.5s\n", buf.String())
	assert.False(t, isTerminal(&buf))
}

// TestTrainInit trains from -init weights at a learning rate too small to
// move a float32 away from 0.5: the weights written are the ones given,
// not the spec's initialisation.
func TestTrainInit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the trainer program")
	}
	dir := t.TempDir()
	spec := writeSpec(t, "tiny.yaml", badSpec)
	data := writeSpec(t, "tiny.csv", tinyCSV)
	init := filepath.Join(dir, "init.safetensors")
	require.NoError(t, os.WriteFile(init, weightsFile(t, badSpec), 0o644))
	read := func(path string) []float32 {
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		f, err := bprt.ParseSafetensors(b)
		require.NoError(t, err)
		var vals []float32
		for _, e := range f.Entries {
			require.Equal(t, "F32", e.DType, e.Name)
			for i := 0; i < len(e.Data); i += 4 {
				vals = append(vals, math.Float32frombits(binary.LittleEndian.Uint32(e.Data[i:])))
			}
		}
		return vals
	}
	want := []float32{0.5, 0.5, 0.5, 0.5, 0.5, 0.5}

	out := filepath.Join(dir, "w.safetensors")
	code, stdout, stderr := runCmd("train", "-data", data, "-init", init, "-lr", "1e-30", "-epochs", "2", "-o", out, spec)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	assert.True(t, strings.HasPrefix(stdout, "training tiny (6 parameters, float32) from "+init+" on "+data+"\n"), stdout)
	assert.Equal(t, want, read(out), "trained from -init")

	// Without -init the same run starts from the spec's initialisation.
	code, stdout, stderr = runCmd("train", "-data", data, "-lr", "1e-30", "-epochs", "2", "-o", out, spec)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	assert.NotEqual(t, want, read(out), "trained from the spec's init")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 2, "no temporary files left beside the weights")
}
