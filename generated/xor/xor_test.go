package xor

import (
	"math"
	"testing"

	"github.com/bpgen/bpgen/internal/mnisttrain"
	"github.com/bpgen/bpgen/runtime"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	xorX = []Input{{0, 0}, {0, 1}, {1, 0}, {1, 1}}
	xorY = []Target{{0}, {1}, {1}, {0}}
)

// TestForwardByHand checks the forward pass against values computed by hand:
// h = tanh(W0 x + b0), y = sigmoid(W1 h + b1).
func TestForwardByHand(t *testing.T) {
	m := New()
	m.Params.Layers0Weight = [4][2]float64{{1, 0}, {0, 1}, {1, 1}, {0.5, -0.5}}
	m.Params.Layers0Bias = [4]float64{0, 0, -1, 0}
	m.Params.Layers1Weight = [1][4]float64{{1, 1, 1, 2}}
	m.Params.Layers1Bias = [1]float64{-0.5}
	x := Input{0.5, -1}
	// z0 = [0.5, -1, -1.5, 0.75]; h = tanh(z0)
	h := []float64{math.Tanh(0.5), math.Tanh(-1), math.Tanh(-1.5), math.Tanh(0.75)}
	z1 := h[0] + h[1] + h[2] + 2*h[3] - 0.5
	want := 1 / (1 + math.Exp(-z1))
	got := m.Forward(&x)
	assert.InDelta(t, want, got[0], 1e-15)
	assert.InDelta(t, 0.3930934757436487, want, 1e-12, "hand value of the example")
}

// TestGradients checks every tensor and the input against central differences.
func TestGradients(t *testing.T) {
	m := New()
	for i, x := range xorX {
		x := Input{x[0] + 0.13, x[1] - 0.29} // away from symmetric points
		y := xorY[i]
		rep := m.CheckGradients(&x, &y, runtime.CheckOptions{})
		require.True(t, rep.Pass, "sample %d\n%s", i, rep)
		for _, tc := range rep.Tensors {
			assert.LessOrEqual(t, tc.RelErr, 1e-6, tc.Name)
		}
	}
}

// TestTrainsXOR trains with the spec's own configuration to 100 % accuracy.
func TestTrainsXOR(t *testing.T) {
	m := New()
	cfg := DefaultTrainConfig()
	h, err := m.Fit(xorX, xorY, cfg)
	require.NoError(t, err)
	loss, acc := m.Accuracy(xorX, xorY)
	assert.Equal(t, 1.0, acc, "final loss %g after %d epochs", loss, len(h.Epochs))
	assert.Less(t, loss, 0.05)
}

// TestZeroAllocs checks that Forward, Backward, TrainStep and the optimizer step allocate nothing.
func TestZeroAllocs(t *testing.T) {
	m := New()
	x, y := xorX[1], xorY[1]
	var dy Output
	dy[0] = 1
	opt, err := runtime.NewOptimizer[float64](DefaultTrainConfig().Optimizer, NumParams)
	require.NoError(t, err)
	assert.Zero(t, testing.AllocsPerRun(100, func() { m.Forward(&x) }), "Forward")
	assert.Zero(t, testing.AllocsPerRun(100, func() { m.Backward(&dy) }), "Backward")
	assert.Zero(t, testing.AllocsPerRun(100, func() { m.TrainStep(&x, &y) }), "TrainStep")
	assert.Zero(t, testing.AllocsPerRun(100, func() { opt.Step(m.ParamSlice(), m.GradSlice()) }), "optimizer step")
}

// BenchmarkTrainStep measures training per sample: minibatches of the
// spec's batch (the four samples), a TrainStep per sample, then the spec's
// optimizer step.
func BenchmarkTrainStep(b *testing.B) {
	cfg := DefaultTrainConfig()
	mnisttrain.BenchTrain[float64](b, New(), xorX, xorY, cfg.Optimizer, cfg.Batch)
}

// BenchmarkTrainBatch is BenchmarkTrainStep through TrainBatch.
func BenchmarkTrainBatch(b *testing.B) {
	cfg := DefaultTrainConfig()
	mnisttrain.BenchTrainWholeBatch[float64](b, New(), xorX, xorY, cfg.Optimizer, cfg.Batch)
}

func BenchmarkForward(b *testing.B) {
	m := New()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.Forward(&xorX[i&3])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkFit measures Fit's training steps on the four samples (batch 4,
// one optimizer step per epoch), through TrainBatch and per sample.
func BenchmarkFit(b *testing.B) {
	for _, whole := range []bool{false, true} {
		name := "PerSample"
		if whole {
			name = "WholeBatch"
		}
		b.Run(name, func(b *testing.B) {
			m := New()
			cfg := DefaultTrainConfig()
			cfg.Epochs, cfg.WholeBatch = 100, whole
			for b.Loop() {
				if _, err := m.Fit(xorX[:], xorY[:], cfg); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*cfg.Epochs*len(xorX))/b.Elapsed().Seconds(), "samples/s")
		})
	}
}

// TestFitInfiniteInput trains on a sample with an infinite feature: tanh
// saturates, so the loss stays finite, but the weight gradient is 0·Inf. Fit
// stops before the optimizer step with an error that names the tensor, and
// the model keeps its initial weights.
func TestFitInfiniteInput(t *testing.T) {
	m := New()
	before := m.Params
	xs := []Input{{0, 0}, {0, 1}, {1, 0}, {math.Inf(1), 1}}
	_, err := m.Fit(xs, xorY, DefaultTrainConfig())
	require.Error(t, err)
	assert.Equal(t, `epoch 1, step 1: gradient of "layers.0.weight" is NaN (element 0)`, err.Error())
	assert.Equal(t, before, m.Params)
}
