package mnist_cnn

import (
	"testing"

	mnist_cnn64 "github.com/bpgen/bpgen/generated/mnist_cnn/f64"
	"github.com/bpgen/bpgen/internal/mnisttrain"
	"github.com/bpgen/bpgen/runtime"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGradients checks the float64 twin against central differences: 150
// elements of every parameter tensor and of the input, at a random input.
// (A real image is mostly blank: its conv outputs tie exactly inside the
// max-pool windows and sit on ReLU kinks, where finite differences are
// meaningless.) Biases are set away from zero for the same reason.
func TestGradients(t *testing.T) {
	m := mnist_cnn64.New()
	rng := runtime.NewRNG(5)
	params := m.ParamSlice()
	for _, tn := range mnist_cnn64.Tensors {
		if tn.Bias {
			for i := tn.Offset; i < tn.Offset+tn.Size; i++ {
				params[i] = 0.05 + 0.1*rng.Float64()
			}
		}
	}
	var x mnist_cnn64.Input
	for i := range x[0] {
		for j := range x[0][i] {
			x[0][i][j] = rng.NormFloat64()
		}
	}
	y := 4
	rep := m.CheckGradients(&x, &y, runtime.CheckOptions{MaxPerTensor: 150, Seed: 1})
	require.True(t, rep.Pass, "%s", rep)
}

// TestTwinsAgree checks that the float32 model and its float64 twin compute the
// same function for the same weights, within float32 rounding.
func TestTwinsAgree(t *testing.T) {
	_, test := mnisttrain.Data(t)
	m32, m64 := New(), mnist_cnn64.New()
	p32, p64 := m32.ParamSlice(), m64.ParamSlice()
	for i := range p32 {
		p64[i] = float64(p32[i])
	}
	x32 := test.Images3D()[1]
	var x64 mnist_cnn64.Input
	for i := range x32[0] {
		for j := range x32[0][i] {
			x64[0][i][j] = float64(x32[0][i][j])
		}
	}
	y32, y64 := m32.Forward(&x32), m64.Forward(&x64)
	for i := range y32 {
		assert.InDelta(t, y64[i], float64(y32[i]), 1e-4*(1+max(y64[i], -y64[i])), "output %d", i)
	}
}

// TestZeroAllocs checks that Forward, Backward, TrainStep and the optimizer step allocate nothing.
func TestZeroAllocs(t *testing.T) {
	m := New()
	var x Input
	y := Target(3)
	var dy Output
	dy[3] = 1
	opt, err := runtime.NewOptimizer[float32](DefaultTrainConfig().Optimizer, NumParams)
	require.NoError(t, err)
	assert.Zero(t, testing.AllocsPerRun(10, func() { m.Forward(&x) }), "Forward")
	assert.Zero(t, testing.AllocsPerRun(10, func() { m.Backward(&dy) }), "Backward")
	assert.Zero(t, testing.AllocsPerRun(10, func() { m.TrainStep(&x, &y) }), "TrainStep")
	assert.Zero(t, testing.AllocsPerRun(10, func() { opt.Step(m.ParamSlice(), m.GradSlice()) }), "optimizer step")
}

// TestLearnsMNIST trains one epoch on 6000 real images and expects at least
// 90 % on the test set (cmd/train's full run reaches ≥ 98.5 %).
func TestLearnsMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on real data")
	}
	train, test := mnisttrain.Data(t)
	m := New()
	cfg := DefaultTrainConfig()
	cfg.Epochs = 1
	_, err := m.Fit(train.Images3D()[:6000], train.Labels[:6000], cfg)
	require.NoError(t, err)
	_, acc := m.Accuracy(test.Images3D(), test.Labels)
	t.Logf("test accuracy after one epoch on 6000 images: %.4f", acc)
	assert.GreaterOrEqual(t, acc, 0.90)
}

// BenchmarkTrainStep measures training as Fit runs it (a TrainStep per
// sample, the spec's batch and adam).
func BenchmarkTrainStep(b *testing.B) {
	train, _ := mnisttrain.Data(b)
	cfg := DefaultTrainConfig()
	mnisttrain.BenchTrain[float32](b, New(), train.Images3D(), train.Labels, cfg.Optimizer, cfg.Batch)
}

// BenchmarkInference measures Forward on real images.
func BenchmarkInference(b *testing.B) {
	_, test := mnisttrain.Data(b)
	mnisttrain.BenchInference(b, New().Forward, test.Images3D())
}

// BenchmarkTrainBatch measures training through TrainBatch (minibatches of
// the spec's batch through the batched kernels), then the spec's adam step.
func BenchmarkTrainBatch(b *testing.B) {
	train, _ := mnisttrain.Data(b)
	cfg := DefaultTrainConfig()
	mnisttrain.BenchTrainWholeBatch[float32](b, New(), train.Images3D(), train.Labels, cfg.Optimizer, cfg.Batch)
}

// BenchmarkForwardBatch measures ForwardBatch over chunks of BatchChunk real images.
func BenchmarkForwardBatch(b *testing.B) {
	_, test := mnisttrain.Data(b)
	mnisttrain.BenchForwardBatch(b, New().ForwardBatch, test.Images3D(), BatchChunk)
}

// BenchmarkFitWorkers measures Fit (one epoch over 4096 images) with one and
// two workers at batch 64 and 128: issue #14's two-core target.
func BenchmarkFitWorkers(b *testing.B) {
	train, _ := mnisttrain.Data(b)
	mnisttrain.BenchFitWorkers(b, New, DefaultTrainConfig(), train.Images3D()[:4096], train.Labels[:4096], 64, 128)
}
