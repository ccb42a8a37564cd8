package ecg_conv1d

import (
	"testing"

	ecg_conv1d64 "github.com/bpgen/bpgen/generated/ecg_conv1d/f64"
	"github.com/bpgen/bpgen/internal/ecg5000"
	"github.com/bpgen/bpgen/internal/mnisttrain"
	"github.com/bpgen/bpgen/runtime"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// data loads the shipped ECG5000 beats.
func data(tb testing.TB) (train, test *ecg5000.Set) {
	tb.Helper()
	train, test, err := ecg5000.Load()
	require.NoError(tb, err)
	return train, test
}

// TestGradients checks the float64 twin against central differences: 150
// elements of every parameter tensor and of the input, at three random
// inputs. (At a real heartbeat, neighbouring conv outputs inside a max-pool
// window can lie closer than the difference step, so the step moves the
// maximum and the finite difference of the input is meaningless.) Biases
// are set away from zero so that few ReLU inputs sit near their kink.
func TestGradients(t *testing.T) {
	m := ecg_conv1d64.New()
	rng := runtime.NewRNG(5)
	params := m.ParamSlice()
	for _, tn := range ecg_conv1d64.Tensors {
		if tn.Bias {
			for i := tn.Offset; i < tn.Offset+tn.Size; i++ {
				params[i] = 0.05 + 0.1*rng.Float64()
			}
		}
	}
	for trial := range 3 {
		var x ecg_conv1d64.Input
		for l := range x[0] {
			x[0][l] = rng.NormFloat64()
		}
		y := rng.Intn(ecg_conv1d64.OutputSize)
		rep := m.CheckGradients(&x, &y, runtime.CheckOptions{MaxPerTensor: 150, Seed: 1})
		require.True(t, rep.Pass, "trial %d: %s", trial, rep)
	}
}

// TestTwinsAgree checks that the float32 model and its float64 twin compute the
// same function for the same weights, within float32 rounding.
func TestTwinsAgree(t *testing.T) {
	_, test := data(t)
	m32, m64 := New(), ecg_conv1d64.New()
	p32, p64 := m32.ParamSlice(), m64.ParamSlice()
	for i := range p32 {
		p64[i] = float64(p32[i])
	}
	for _, x32 := range test.Signals[:10] {
		var x64 ecg_conv1d64.Input
		for l, v := range x32[0] {
			x64[0][l] = float64(v)
		}
		y32, y64 := m32.Forward(&x32), m64.Forward(&x64)
		for i := range y32 {
			assert.InDelta(t, y64[i], float64(y32[i]), 1e-4*(1+max(y64[i], -y64[i])), "output %d", i)
		}
	}
}

// TestZeroAllocs checks that Forward, Backward, TrainStep, TrainBatch,
// ForwardBatch and the optimizer step allocate nothing.
func TestZeroAllocs(t *testing.T) {
	train, _ := data(t)
	m := New()
	x := train.Signals[0]
	y := Target(train.Labels[0])
	var dy Output
	dy[1] = 1
	xs, ys := train.Signals[:2*BatchChunk+3], train.Labels[:2*BatchChunk+3]
	outs := make([]Output, len(xs))
	opt, err := runtime.NewOptimizer[float32](DefaultTrainConfig().Optimizer, NumParams)
	require.NoError(t, err)
	assert.Zero(t, testing.AllocsPerRun(10, func() { m.Forward(&x) }), "Forward")
	assert.Zero(t, testing.AllocsPerRun(10, func() { m.Backward(&dy) }), "Backward")
	assert.Zero(t, testing.AllocsPerRun(10, func() { m.TrainStep(&x, &y) }), "TrainStep")
	assert.Zero(t, testing.AllocsPerRun(5, func() { m.TrainBatch(xs, ys, nil) }), "TrainBatch")
	assert.Zero(t, testing.AllocsPerRun(5, func() { m.ForwardBatch(xs, outs) }), "ForwardBatch")
	assert.Zero(t, testing.AllocsPerRun(10, func() { opt.Step(m.ParamSlice(), m.GradSlice()) }), "optimizer step")
}

// TestTrainBatchMatchesTrainStep checks that TrainBatch over two full chunks
// and a partial one gives TrainStep's summed loss, correct count and
// gradients within float32 rounding, and that ForwardBatch gives Forward's
// outputs.
func TestTrainBatchMatchesTrainStep(t *testing.T) {
	train, _ := data(t)
	const n = 2*BatchChunk + 5
	xs, ys := train.Signals[:n], train.Labels[:n]
	idx := make([]int, n)
	for i := range idx {
		idx[i] = (i * 7) % n // a permutation, as Fit passes
	}
	a, b := New(), New()
	require.NoError(t, runtime.CompareTrainBatch[float32, Input, Target](a, b, Tensors, xs, ys, idx, 1e-4))
	outs := make([]Output, n)
	b.ForwardBatch(xs, outs)
	for i := range xs {
		want := *a.Forward(&xs[i])
		for j := range want {
			assert.InDelta(t, want[j], outs[i][j], 1e-5*(1+float64(max(want[j], -want[j]))), "sample %d output %d", i, j)
		}
	}
}

// TestLearnsECG trains 20 epochs (half the spec's) on the 402 training beats
// and expects at least 90 % on the 98 test beats; the majority class is 59 %
// of them. cmd/train's full run reaches about 95 %.
func TestLearnsECG(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on real data")
	}
	train, test := data(t)
	m := New()
	cfg := DefaultTrainConfig()
	cfg.Epochs = 20
	_, err := m.Fit(train.Signals, train.Labels, cfg)
	require.NoError(t, err)
	_, acc := m.Accuracy(test.Signals, test.Labels)
	t.Logf("test accuracy after %d epochs: %.4f", cfg.Epochs, acc)
	assert.GreaterOrEqual(t, acc, 0.90)
}

// BenchmarkTrainStep measures training as Fit runs it (the spec's batch and
// adam, a TrainStep per sample).
func BenchmarkTrainStep(b *testing.B) {
	train, _ := data(b)
	cfg := DefaultTrainConfig()
	mnisttrain.BenchTrain[float32](b, New(), train.Signals, train.Labels, cfg.Optimizer, cfg.Batch)
}

// BenchmarkTrainBatch is BenchmarkTrainStep through TrainBatch.
func BenchmarkTrainBatch(b *testing.B) {
	train, _ := data(b)
	cfg := DefaultTrainConfig()
	mnisttrain.BenchTrainWholeBatch[float32](b, New(), train.Signals, train.Labels, cfg.Optimizer, cfg.Batch)
}

// BenchmarkInference measures Forward on real heartbeats.
func BenchmarkInference(b *testing.B) {
	_, test := data(b)
	mnisttrain.BenchInference(b, New().Forward, test.Signals)
}

// BenchmarkForwardBatch measures ForwardBatch over the 98 test beats.
func BenchmarkForwardBatch(b *testing.B) {
	_, test := data(b)
	m := New()
	outs := make([]Output, len(test.Signals))
	b.ReportAllocs()
	for b.Loop() {
		m.ForwardBatch(test.Signals, outs)
	}
	b.ReportMetric(float64(b.N*len(test.Signals))/b.Elapsed().Seconds(), "samples/s")
}
