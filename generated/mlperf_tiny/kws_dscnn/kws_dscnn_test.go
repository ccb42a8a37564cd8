package kws_dscnn

import (
	"math"
	"testing"
	"unsafe"

	kws_dscnn_small64 "github.com/bpgen/bpgen/generated/mlperf_tiny/kws_dscnn/small64"
	"github.com/bpgen/bpgen/internal/mnisttrain"
	"github.com/bpgen/bpgen/runtime"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// flat views a sample of the float32 model as one slice.
func flat(x *Input) []float32 { return unsafe.Slice((*float32)(unsafe.Pointer(x)), InputSize) }

// randomInputs returns n inputs of standard normal values and their targets.
func randomInputs(n int, seed uint64) ([]Input, []Target) {
	rng := runtime.NewRNG(seed)
	xs, ys := make([]Input, n), make([]Target, n)
	for k := range xs {
		v := flat(&xs[k])
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		randomTarget(rng, &ys[k])
	}
	return xs, ys
}

// TestGradientsBatch checks the float64 twin of the reduced copy
// (testdata/mlperf_tiny/kws_dscnn_small.yaml: the same layer kinds and options,
// smaller sizes) as TrainBatch trains it, in training mode with batchnorm's
// batch statistics over a chunk of BatchChunk samples, against central
// differences of the summed loss: up to 64 elements of every parameter
// tensor and of every input.
func TestGradientsBatch(t *testing.T) {
	m := kws_dscnn_small64.New()
	m.SetTraining(true)
	rng := runtime.NewRNG(3)
	xs, ys := make([]kws_dscnn_small64.Input, kws_dscnn_small64.BatchChunk), make([]kws_dscnn_small64.Target, kws_dscnn_small64.BatchChunk)
	for k := range xs {
		v := unsafe.Slice((*float64)(unsafe.Pointer(&xs[k])), kws_dscnn_small64.InputSize)
		for i := range v {
			v[i] = rng.NormFloat64()
		}
		randomTarget64(rng, &ys[k])
	}
	rep := m.CheckGradientsBatch(xs, ys, runtime.CheckOptions{MaxPerTensor: 64, Seed: 1})
	require.True(t, rep.Pass, "%s", rep)
}

// TestInference checks that ForwardBatch (inference mode: running
// statistics) gives Forward's outputs up to rounding (its kernels may sum in
// another order), after a training step has moved the running statistics.
func TestInference(t *testing.T) {
	m := New()
	xs, ys := randomInputs(3, 4)
	m.SetTraining(true)
	m.TrainBatch(xs, ys, nil)
	m.SetTraining(false)
	outs := make([]Output, len(xs))
	m.ForwardBatch(xs, outs)
	for k := range xs {
		want := *m.Forward(&xs[k])
		for i := range want {
			assert.InDelta(t, want[i], outs[k][i], 1e-5*(1+math.Abs(float64(want[i]))), "sample %d, output %d", k, i)
		}
	}
}

// TestZeroAllocs checks that Forward, Backward, TrainStep, TrainBatch,
// ForwardBatch and the optimizer step allocate nothing (on 2 samples: the
// code path is the one of a full chunk).
func TestZeroAllocs(t *testing.T) {
	m := New()
	xs, ys := randomInputs(2, 5)
	outs := make([]Output, len(xs))
	var dy Output
	*(*float32)(unsafe.Pointer(&dy)) = 1
	opt, err := runtime.NewOptimizer[float32](DefaultTrainConfig().Optimizer, NumParams)
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

// BenchmarkForward measures Forward (inference mode), one sample at a time:
// the latency of one inference.
func BenchmarkForward(b *testing.B) {
	xs, _ := randomInputs(16, 6)
	m := New()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.Forward(&xs[i%len(xs)])
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/sample")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkForwardBatch measures ForwardBatch (inference mode) over
// BatchChunk samples.
func BenchmarkForwardBatch(b *testing.B) {
	xs, _ := randomInputs(BatchChunk, 7)
	outs := make([]Output, BatchChunk)
	m := New()
	b.ReportAllocs()
	for b.Loop() {
		m.ForwardBatch(xs, outs)
	}
	b.ReportMetric(float64(b.N*BatchChunk)/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkTrainBatch measures training as Fit runs this network: TrainBatch
// over minibatches of the spec's batch (batchnorm needs the whole minibatch
// in one pass), then the spec's adam step.
func BenchmarkTrainBatch(b *testing.B) {
	xs, ys := randomInputs(BatchChunk, 8)
	cfg := DefaultTrainConfig()
	mnisttrain.BenchTrainWholeBatch[float32](b, New(), xs, ys, cfg.Optimizer, cfg.Batch)
}

// BenchmarkTrainStep is BenchmarkTrainBatch a TrainStep per sample (for
// batchnorm a batch of one, which Fit never does with this network): the
// comparison's other half.
func BenchmarkTrainStep(b *testing.B) {
	xs, ys := randomInputs(BatchChunk, 8)
	cfg := DefaultTrainConfig()
	mnisttrain.BenchTrain[float32](b, New(), xs, ys, cfg.Optimizer, cfg.Batch)
}
