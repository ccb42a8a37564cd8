package mobile_block

import (
	"testing"

	mobile_block64 "github.com/bpgen/bpgen/generated/mobile_block/f64"
	"github.com/bpgen/bpgen/internal/mnisttrain"
	"github.com/bpgen/bpgen/runtime"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// batch64 returns n random float64 inputs and classes.
func batch64(rng *runtime.RNG, n int) ([]mobile_block64.Input, []mobile_block64.Target) {
	xs, ys := make([]mobile_block64.Input, n), make([]mobile_block64.Target, n)
	for k := range xs {
		for c := range xs[k] {
			for i := range xs[k][c] {
				for j := range xs[k][c][i] {
					xs[k][c][i][j] = rng.NormFloat64()
				}
			}
		}
		ys[k] = rng.Intn(mobile_block64.OutputSize)
	}
	return xs, ys
}

// TestGradients checks the float64 twin against central differences, every
// element of every tensor: per sample (Forward and Backward; batchnorm sees a
// batch of one) and through the batched pass over 4 samples in training mode
// (batchnorm with batch statistics, as TrainBatch trains), then per sample in
// inference mode.
func TestGradients(t *testing.T) {
	m := mobile_block64.New()
	m.SetTraining(true)
	rng := runtime.NewRNG(7)
	xs, ys := batch64(rng, 4)
	rep := m.CheckGradients(&xs[0], &ys[0], runtime.CheckOptions{Seed: 1})
	require.True(t, rep.Pass, "%s", rep)
	rep = m.CheckGradientsBatch(xs, ys, runtime.CheckOptions{Seed: 2})
	require.True(t, rep.Pass, "%s", rep)
	// Inference mode (running statistics, moved by the batches above): the
	// depthwise convolution runs from its unpadded input (runtime.Depthwise)
	// and Backward makes the padded copy its weight gradient reads; another
	// sample than the one the buffers last held. The step is 1e-7: at 1e-5
	// some (ReLU, ReLU6) kink lies within a step of this sample's values and
	// the differences of bn and conv parameters miss by 1e-4.
	m.SetTraining(false)
	rep = m.CheckGradients(&xs[1], &ys[1], runtime.CheckOptions{Seed: 3, Eps: 1e-7})
	require.True(t, rep.Pass, "%s", rep)
}

// TestInference checks that ForwardBatch (inference mode: running statistics)
// gives Forward's outputs in inference mode, up to float32 rounding, after some training has moved
// the running statistics away from their initial values.
func TestInference(t *testing.T) {
	m := New()
	rng := runtime.NewRNG(3)
	xs, ys := make([]Input, 2*BatchChunk+5), make([]Target, 2*BatchChunk+5)
	for k := range xs {
		for c := range xs[k] {
			for i := range xs[k][c] {
				for j := range xs[k][c][i] {
					xs[k][c][i][j] = float32(rng.NormFloat64()) + 0.5
				}
			}
		}
		ys[k] = rng.Intn(OutputSize)
	}
	m.SetTraining(true)
	m.TrainBatch(xs[:BatchChunk], ys[:BatchChunk], nil)
	assert.NotZero(t, m.State.Block1RunningMean[0])
	m.SetTraining(false)
	outs := make([]Output, len(xs))
	m.ForwardBatch(xs, outs)
	for k := range xs {
		// The pointwise convolution runs through im2col and a GEMM in the
		// batched pass: the same sums in another order.
		want := *m.Forward(&xs[k])
		for i := range want {
			assert.InDelta(t, want[i], outs[k][i], 1e-5*(1+float64(max(want[i], -want[i]))), "sample %d, output %d", k, i)
		}
	}
}

// TestZeroAllocs checks that Forward, Backward, TrainStep, TrainBatch,
// ForwardBatch and the optimizer step allocate nothing.
func TestZeroAllocs(t *testing.T) {
	m := New()
	xs, ys, outs := make([]Input, BatchChunk), make([]Target, BatchChunk), make([]Output, BatchChunk)
	var dy Output
	dy[1] = 1
	opt, err := runtime.NewOptimizer[float32](DefaultTrainConfig().Optimizer, NumParams)
	require.NoError(t, err)
	assert.Zero(t, testing.AllocsPerRun(5, func() { m.Forward(&xs[0]) }), "Forward")
	assert.Zero(t, testing.AllocsPerRun(5, func() { m.Backward(&dy) }), "Backward")
	assert.Zero(t, testing.AllocsPerRun(5, func() { m.TrainStep(&xs[0], &ys[0]) }), "TrainStep")
	m.SetTraining(true)
	assert.Zero(t, testing.AllocsPerRun(5, func() { m.TrainBatch(xs, ys, nil) }), "TrainBatch")
	assert.Zero(t, testing.AllocsPerRun(5, func() { m.ForwardBatch(xs, outs) }), "ForwardBatch")
	assert.Zero(t, testing.AllocsPerRun(5, func() { opt.Step(m.ParamSlice(), m.GradSlice()) }), "optimizer step")
}

// TestLearns trains the block to tell which of the 8 input channels has its
// mean shifted up (classes 0-7 of the 10 outputs) and expects the training
// loss to fall by more than half.
func TestLearns(t *testing.T) {
	rng := runtime.NewRNG(11)
	xs, ys := make([]Input, 512), make([]Target, 512)
	for k := range xs {
		ys[k] = rng.Intn(8)
		for c := range xs[k] {
			for i := range xs[k][c] {
				for j := range xs[k][c][i] {
					xs[k][c][i][j] = float32(rng.NormFloat64())
					if c == ys[k] {
						xs[k][c][i][j] += 1
					}
				}
			}
		}
	}
	m := New()
	cfg := DefaultTrainConfig()
	cfg.Epochs, cfg.Optimizer.LR = 10, 0.01
	h, err := m.Fit(xs, ys, cfg)
	require.NoError(t, err)
	first, last := h.Epochs[0].TrainLoss, h.Epochs[len(h.Epochs)-1].TrainLoss
	t.Logf("training loss %.3f → %.3f, accuracy %.3f", first, last, h.Epochs[len(h.Epochs)-1].TrainAcc)
	assert.Less(t, last, 0.5*first)
}

func randomInputs(n int) ([]Input, []Target) {
	rng := runtime.NewRNG(5)
	xs, ys := make([]Input, n), make([]Target, n)
	for k := range xs {
		for c := range xs[k] {
			for i := range xs[k][c] {
				for j := range xs[k][c][i] {
					xs[k][c][i][j] = float32(rng.NormFloat64())
				}
			}
		}
		ys[k] = rng.Intn(OutputSize)
	}
	return xs, ys
}

// BenchmarkTrainBatch measures TrainBatch over minibatches of the spec's
// batch plus the spec's adam step, as Fit trains this network.
func BenchmarkTrainBatch(b *testing.B) {
	xs, ys := randomInputs(BatchChunk)
	cfg := DefaultTrainConfig()
	mnisttrain.BenchTrainWholeBatch[float32](b, New(), xs, ys, cfg.Optimizer, cfg.Batch)
}

// BenchmarkTrainStep is BenchmarkTrainBatch a TrainStep per sample (for
// batchnorm a batch of one, which Fit never does with this network): the
// comparison's other half.
func BenchmarkTrainStep(b *testing.B) {
	xs, ys := randomInputs(BatchChunk)
	cfg := DefaultTrainConfig()
	mnisttrain.BenchTrain[float32](b, New(), xs, ys, cfg.Optimizer, cfg.Batch)
}

// BenchmarkForward measures Forward, one sample at a time.
func BenchmarkForward(b *testing.B) {
	xs, _ := randomInputs(64)
	m := New()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.Forward(&xs[i%len(xs)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkForwardBatch measures ForwardBatch over BatchChunk samples.
func BenchmarkForwardBatch(b *testing.B) {
	xs, _ := randomInputs(BatchChunk)
	outs := make([]Output, BatchChunk)
	m := New()
	b.ReportAllocs()
	for b.Loop() {
		m.ForwardBatch(xs, outs)
	}
	b.ReportMetric(float64(b.N*BatchChunk)/b.Elapsed().Seconds(), "samples/s")
}
