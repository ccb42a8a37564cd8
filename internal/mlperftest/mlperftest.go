// Package mlperftest holds the tests and benchmarks that the four MLPerf Tiny
// packages of generated/mlperf_tiny share: each package's test file names a
// Net (its model, targets and training configuration) and calls its methods
// under the test and benchmark names scripts/mlperf_ort.sh and the README
// use.
package mlperftest

import (
	"encoding/json"
	"flag"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unsafe"

	"github.com/bpgen/bpgen/internal/mnisttrain"
	"github.com/bpgen/bpgen/runtime"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var ortDir = flag.String("ort.dir", "", "write the network's weights, inputs, outputs and timings here (scripts/mlperf_ort.sh)")

// Model is the part of a generated MLPerf Tiny model (float32, or its float64
// reduced copy) that the shared tests use. X, Y and O are its Input, Target
// and Output types; X and O are arrays of T.
type Model[T runtime.Float, X, Y, O any] interface {
	Forward(x *X) *O
	Backward(dy *O) *X
	ForwardBatch(xs []X, ys []O)
	TrainStep(x *X, y *Y) float64
	TrainBatch(xs []X, ys []Y, idx []int) (loss float64, correct int)
	SetTraining(on bool)
	ZeroGrads()
	ParamSlice() []T
	GradSlice() []T
	WriteSafetensors(w io.Writer) error
	CheckGradients(x *X, y *Y, opt runtime.CheckOptions) runtime.CheckReport
	CheckGradientsBatch(xs []X, ys []Y, opt runtime.CheckOptions) runtime.CheckReport
	Fit(xs []X, ys []Y, cfg runtime.TrainConfig) (runtime.History, error)
}

// Net describes one generated network to the shared tests.
type Net[T runtime.Float, X, Y, O any, M Model[T, X, Y, O]] struct {
	Name   string                     // the package's name: the files TestORTFixture writes
	New    func() M                   // the package's New
	Target func(*runtime.RNG, *Y)     // draws a random target
	Chunk  int                        // the package's BatchChunk
	Config func() runtime.TrainConfig // the package's DefaultTrainConfig
}

// Flat views an array of T (an Input or Output) as one slice.
func Flat[T runtime.Float, A any](a *A) []T {
	var z T
	return unsafe.Slice((*T)(unsafe.Pointer(a)), unsafe.Sizeof(*a)/unsafe.Sizeof(z))
}

// ClassTarget returns a Target function that draws a class in [0, classes).
func ClassTarget(classes int) func(*runtime.RNG, *int) {
	return func(rng *runtime.RNG, y *int) { *y = rng.Intn(classes) }
}

// NormalTarget draws a Target (an array of T) of standard normal values.
func NormalTarget[T runtime.Float, Y any](rng *runtime.RNG, y *Y) {
	for i, v := 0, Flat[T](y); i < len(v); i++ {
		v[i] = T(rng.NormFloat64())
	}
}

// Inputs returns n inputs of standard normal values and random targets.
func (n Net[T, X, Y, O, M]) Inputs(k int, seed uint64) ([]X, []Y) {
	rng := runtime.NewRNG(seed)
	xs, ys := make([]X, k), make([]Y, k)
	for i := range xs {
		v := Flat[T](&xs[i])
		for j := range v {
			v[j] = T(rng.NormFloat64())
		}
		n.Target(rng, &ys[i])
	}
	return xs, ys
}

// TestGradientsBatch checks a model (the float64 reduced copy of a network,
// testdata/mlperf_tiny/<name>_small.yaml: the same layer kinds and options,
// smaller sizes) as TrainBatch trains it, in training mode with batchnorm's
// batch statistics over a chunk of Chunk samples, against central
// differences of the summed loss: up to 64 elements of every parameter
// tensor and of every input.
func (n Net[T, X, Y, O, M]) TestGradientsBatch(t *testing.T) {
	m := n.New()
	m.SetTraining(true)
	xs, ys := n.Inputs(n.Chunk, 3)
	rep := m.CheckGradientsBatch(xs, ys, runtime.CheckOptions{MaxPerTensor: 64, Seed: 1})
	require.True(t, rep.Pass, "%s", rep)
}

// TestGradientsEval checks the reduced copy per sample in inference mode
// (Forward and Backward with batchnorm's running statistics, after a
// training step has moved them): the path where a GEMM convolution, its
// batchnorm and ReLU run in one store and the batchnorm's output is not
// written, against central differences of the loss, every element of every
// tensor up to 64, on another sample than the last one of the training step.
func (n Net[T, X, Y, O, M]) TestGradientsEval(t *testing.T) {
	m := n.New()
	xs, ys := n.Inputs(n.Chunk, 11)
	m.SetTraining(true)
	m.TrainBatch(xs, ys, nil)
	m.SetTraining(false)
	// another sample than the one row 0 of the buffers last held: the
	// depthwise layers' padded copy (read by the weight gradient, not written
	// by an inference-mode forward pass) must be Backward's own. The step is
	// 1e-7: at 1e-5 a ReLU kink lies within a step of some of vww's values
	// for this sample, and the differences of the biases before it miss.
	rep := m.CheckGradients(&xs[1], &ys[1], runtime.CheckOptions{MaxPerTensor: 64, Seed: 1, Eps: 1e-7})
	require.True(t, rep.Pass, "%s", rep)
}

// TestInference checks that ForwardBatch (inference mode: running
// statistics) gives Forward's outputs up to rounding (its kernels may sum in
// another order), after a training step has moved the running statistics.
func (n Net[T, X, Y, O, M]) TestInference(t *testing.T) {
	m := n.New()
	xs, ys := n.Inputs(3, 4)
	m.SetTraining(true)
	m.TrainBatch(xs, ys, nil)
	m.SetTraining(false)
	outs := make([]O, len(xs))
	m.ForwardBatch(xs, outs)
	for k := range xs {
		want := Flat[T](m.Forward(&xs[k]))
		got := Flat[T](&outs[k])
		for i := range want {
			assert.InDelta(t, want[i], got[i], 1e-5*(1+math.Abs(float64(want[i]))), "sample %d, output %d", k, i)
		}
	}
}

// TestZeroAllocs checks that Forward, Backward, TrainStep, TrainBatch,
// ForwardBatch and the optimizer step allocate nothing (on 2 samples: the
// code path is the one of a full chunk).
func (n Net[T, X, Y, O, M]) TestZeroAllocs(t *testing.T) {
	m := n.New()
	xs, ys := n.Inputs(2, 5)
	outs := make([]O, len(xs))
	var dy O
	Flat[T](&dy)[0] = 1
	opt, err := runtime.NewOptimizer[T](n.Config().Optimizer, len(m.ParamSlice()))
	require.NoError(t, err)
	assert.Zero(t, testing.AllocsPerRun(3, func() { m.Forward(&xs[0]) }), "Forward")
	assert.Zero(t, testing.AllocsPerRun(3, func() { m.Backward(&dy) }), "Backward")
	assert.Zero(t, testing.AllocsPerRun(3, func() { m.TrainStep(&xs[0], &ys[0]) }), "TrainStep")
	m.SetTraining(true)
	assert.Zero(t, testing.AllocsPerRun(3, func() { m.TrainBatch(xs, ys, nil) }), "TrainBatch")
	m.SetTraining(false)
	assert.Zero(t, testing.AllocsPerRun(3, func() { m.ForwardBatch(xs, outs) }), "ForwardBatch")
	assert.Zero(t, testing.AllocsPerRun(3, func() { opt.Step(m.ParamSlice(), m.GradSlice()) }), "optimizer step")
}

// TestLearns trains the network with Fit (from its default configuration
// changed by edit) on xs and ys; the training loss must fall by half.
func (n Net[T, X, Y, O, M]) TestLearns(t *testing.T, xs []X, ys []Y, edit func(*runtime.TrainConfig)) {
	cfg := n.Config()
	edit(&cfg)
	h, err := n.New().Fit(xs, ys, cfg)
	require.NoError(t, err)
	first, last := h.Epochs[0].TrainLoss, h.Epochs[len(h.Epochs)-1].TrainLoss
	t.Logf("training loss %.3f → %.3f", first, last)
	if _, classes := any(ys).([]int); classes {
		t.Logf("training accuracy %.3f", h.Epochs[len(h.Epochs)-1].TrainAcc)
	}
	assert.Less(t, last, 0.5*first)
}

// TestLearnsShift trains a classifier on a synthetic task, for networks
// whose data set is not reachable from here: samples inputs of standard
// normal noise, where class k of classes shifts the k-th of classes equal
// parts of the input (in row-major order) up by 1; epochs of Fit at learning
// rate 0.003 with no schedule. The training loss must fall by half. Y must be
// int.
func (n Net[T, X, Y, O, M]) TestLearnsShift(t *testing.T, samples, classes, epochs int) {
	if testing.Short() {
		t.Skip("trains the full network")
	}
	xs, ys := n.Inputs(samples, 9)
	cls, ok := any(ys).([]int)
	require.True(t, ok, "TestLearnsShift needs int targets")
	rng := runtime.NewRNG(10)
	for k := range xs {
		cls[k] = rng.Intn(classes)
		v := Flat[T](&xs[k])
		for i := cls[k] * len(v) / classes; i < (cls[k]+1)*len(v)/classes; i++ {
			v[i]++
		}
	}
	n.TestLearns(t, xs, ys, func(cfg *runtime.TrainConfig) {
		cfg.Epochs, cfg.Optimizer.LR, cfg.Schedule = epochs, 0.003, runtime.Schedule{}
	})
}

// BenchForward measures Forward (inference mode), one sample at a time: the
// latency of one inference.
func (n Net[T, X, Y, O, M]) BenchForward(b *testing.B) {
	xs, _ := n.Inputs(16, 6)
	m := n.New()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.Forward(&xs[i%len(xs)])
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/sample")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}

// BenchForwardBatch measures ForwardBatch (inference mode) over Chunk
// samples.
func (n Net[T, X, Y, O, M]) BenchForwardBatch(b *testing.B) {
	xs, _ := n.Inputs(n.Chunk, 7)
	outs := make([]O, n.Chunk)
	m := n.New()
	b.ReportAllocs()
	for b.Loop() {
		m.ForwardBatch(xs, outs)
	}
	b.ReportMetric(float64(b.N*n.Chunk)/b.Elapsed().Seconds(), "samples/s")
}

// BenchTrainBatch measures training as Fit runs these networks: TrainBatch
// over minibatches of the configuration's batch (batchnorm needs the whole
// minibatch in one pass), then its optimizer step.
func (n Net[T, X, Y, O, M]) BenchTrainBatch(b *testing.B) {
	xs, ys := n.Inputs(n.Chunk, 8)
	cfg := n.Config()
	mnisttrain.BenchTrainWholeBatch[T](b, n.New(), xs, ys, cfg.Optimizer, cfg.Batch)
}

// BenchTrainStep is BenchTrainBatch a TrainStep per sample (for batchnorm a
// batch of one, which Fit never does with these networks): the comparison's
// other half.
func (n Net[T, X, Y, O, M]) BenchTrainStep(b *testing.B) {
	xs, ys := n.Inputs(n.Chunk, 8)
	cfg := n.Config()
	mnisttrain.BenchTrain[T](b, n.New(), xs, ys, cfg.Optimizer, cfg.Batch)
}

// TestORTFixture writes, for scripts/mlperf_ort.sh (flag -ort.dir), the
// weights of a model whose running statistics one training step has moved
// (<name>.safetensors, for bpgen export), 64 random inputs with the model's
// outputs in inference mode, and the timings of Forward (one sample) and
// ForwardBatch (64 samples), each measured for a second (<name>.json).
func (n Net[T, X, Y, O, M]) TestORTFixture(t *testing.T) {
	if *ortDir == "" {
		t.Skip("run by scripts/mlperf_ort.sh")
	}
	const k = 64
	m := n.New()
	xs, ys := n.Inputs(k, 12)
	m.SetTraining(true)
	m.TrainBatch(xs[:min(n.Chunk, k)], ys, nil)
	m.SetTraining(false)
	f, err := os.Create(filepath.Join(*ortDir, n.Name+".safetensors"))
	require.NoError(t, err)
	require.NoError(t, m.WriteSafetensors(f))
	require.NoError(t, f.Close())
	var in, out []T
	for i := range xs {
		in = append(in, Flat[T](&xs[i])...)
		out = append(out, Flat[T](m.Forward(&xs[i]))...)
	}
	start, calls := time.Now(), 0
	for ; time.Since(start) < time.Second; calls++ {
		m.Forward(&xs[calls%k])
	}
	latency := time.Since(start).Seconds() / float64(calls)
	outs := make([]O, k)
	start, batches := time.Now(), 0
	for ; time.Since(start) < time.Second; batches++ {
		m.ForwardBatch(xs, outs)
	}
	throughput := float64(k*batches) / time.Since(start).Seconds()
	data, err := json.Marshal(map[string]any{
		"name": n.Name, "n": k, "input": in, "output": out,
		"go_forward_us": latency * 1e6, "go_batch64_per_s": throughput,
	})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(*ortDir, n.Name+".json"), data, 0o644))
}
