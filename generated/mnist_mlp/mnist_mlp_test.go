package mnist_mlp

import (
	"testing"

	"github.com/bpgen/bpgen/generated/mnist_mlp/f64"
	"github.com/bpgen/bpgen/internal/mnisttrain"
	"github.com/bpgen/bpgen/runtime"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGradients checks the float64 twin of the model against central
// differences: 400 elements of every parameter tensor and of the input.
func TestGradients(t *testing.T) {
	m := mnist_mlp64.New()
	rng := runtime.NewRNG(7)
	var x mnist_mlp64.Input
	for i := range x {
		x[i] = rng.Float64()
	}
	for y := 0; y < 3; y++ {
		rep := m.CheckGradients(&x, &y, runtime.CheckOptions{MaxPerTensor: 400, Seed: uint64(y)})
		require.True(t, rep.Pass, "class %d\n%s", y, rep)
	}
}

// TestTwinsAgree checks that the float32 model and its float64 twin compute the
// same function for the same weights, within float32 rounding.
func TestTwinsAgree(t *testing.T) {
	m32, m64 := New(), mnist_mlp64.New()
	p32, p64 := m32.ParamSlice(), m64.ParamSlice()
	for i := range p32 {
		p64[i] = float64(p32[i])
	}
	var x32 Input
	var x64 mnist_mlp64.Input
	rng := runtime.NewRNG(3)
	for i := range x32 {
		x32[i] = float32(rng.Float64())
		x64[i] = float64(x32[i])
	}
	y32, y64 := m32.Forward(&x32), m64.Forward(&x64)
	for i := range y32 {
		assert.InDelta(t, y64[i], float64(y32[i]), 1e-4*(1+abs(y64[i])), "output %d", i)
	}
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
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
	assert.Zero(t, testing.AllocsPerRun(20, func() { m.Forward(&x) }), "Forward")
	assert.Zero(t, testing.AllocsPerRun(20, func() { m.Backward(&dy) }), "Backward")
	assert.Zero(t, testing.AllocsPerRun(20, func() { m.TrainStep(&x, &y) }), "TrainStep")
	assert.Zero(t, testing.AllocsPerRun(20, func() { opt.Step(m.ParamSlice(), m.GradSlice()) }), "optimizer step")
}

// TestLearnsMNIST trains one epoch on the first 12000 real training images and
// expects at least 90 % on the 10000 test images (the full run in cmd/train
// reaches more than 97 %).
func TestLearnsMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on real data")
	}
	train, test := mnisttrain.Data(t)
	m := New()
	cfg := DefaultTrainConfig()
	cfg.Epochs = 1
	_, err := m.Fit(train.Images[:12000], train.Labels[:12000], cfg)
	require.NoError(t, err)
	_, acc := m.Accuracy(test.Images, test.Labels)
	t.Logf("test accuracy after one epoch on 12000 images: %.4f", acc)
	assert.GreaterOrEqual(t, acc, 0.90)
}

// BenchmarkTrain measures training as Fit runs it (TrainBatch, batch 32, the
// spec's adam).
func BenchmarkTrain(b *testing.B) {
	train, _ := mnisttrain.Data(b)
	mnisttrain.BenchTrain[float32](b, New(), train.Images, train.Labels, DefaultTrainConfig().Optimizer, 32)
}

// BenchmarkTrainPerSample is BenchmarkTrain with a TrainStep per sample.
func BenchmarkTrainPerSample(b *testing.B) {
	train, _ := mnisttrain.Data(b)
	mnisttrain.BenchTrainPerSample[float32](b, New(), train.Images, train.Labels, DefaultTrainConfig().Optimizer, 32)
}

// BenchmarkTrainSGDBatch1 measures training with a plain SGD step after
// every sample (batch 1), the setting of gorgonia's 1.2k samples/s in PERF.md.
func BenchmarkTrainSGDBatch1(b *testing.B) {
	train, _ := mnisttrain.Data(b)
	mnisttrain.BenchTrain[float32](b, New(), train.Images, train.Labels, runtime.OptimizerConfig{Type: "sgd", LR: 0.01}, 1)
}

// BenchmarkTrainSGD is BenchmarkTrain with plain SGD, the setting of
// gorgonia's 17.6k samples/s at batch 32 in PERF.md.
func BenchmarkTrainSGD(b *testing.B) {
	train, _ := mnisttrain.Data(b)
	mnisttrain.BenchTrain[float32](b, New(), train.Images, train.Labels, runtime.OptimizerConfig{Type: "sgd", LR: 0.01}, 32)
}

// TestTrainBatchMatchesTrainStep checks that TrainBatch over 75 samples (two
// full chunks and a partial one) gives TrainStep's summed loss, correct count
// and gradients within float32 rounding.
func TestTrainBatchMatchesTrainStep(t *testing.T) {
	const n = 2*BatchChunk + 11
	rng := runtime.NewRNG(5)
	xs, ys := make([]Input, n), make([]Target, n)
	for i := range xs {
		for j := range xs[i] {
			xs[i][j] = float32(rng.Float64())
		}
		ys[i] = Target(rng.Intn(OutputSize))
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = (i * 7) % n // a permutation, as Fit passes
	}
	a, b := New(), New()
	require.NoError(t, runtime.CompareTrainBatch[float32, Input, Target](a, b, Tensors, xs, ys, idx, 1e-4))
	assert.Zero(t, testing.AllocsPerRun(5, func() { b.TrainBatch(xs, ys, idx) }), "TrainBatch allocates")
}

// BenchmarkInference measures Forward on real images.
func BenchmarkInference(b *testing.B) {
	_, test := mnisttrain.Data(b)
	mnisttrain.BenchInference(b, New().Forward, test.Images)
}

// TestTwoWorkers trains one epoch on 3000 images with the minibatches split
// across two cores: the run must be repeatable bit for bit, and it must
// learn as much as the same run on one core (the gradients differ only by
// rounding).
func TestTwoWorkers(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on real data")
	}
	train, test := mnisttrain.Data(t)
	run := func(workers int) *Model {
		m := New()
		cfg := DefaultTrainConfig()
		cfg.Epochs, cfg.Workers, cfg.Batch = 1, workers, 64
		_, err := m.Fit(train.Images[:3000], train.Labels[:3000], cfg)
		require.NoError(t, err)
		return m
	}
	a, b, one := run(2), run(2), run(1)
	assert.Equal(t, a.Params, b.Params, "two runs with 2 workers differ")
	_, acc2 := a.Accuracy(test.Images[:2000], test.Labels[:2000])
	_, acc1 := one.Accuracy(test.Images[:2000], test.Labels[:2000])
	t.Logf("test accuracy: 1 worker %.4f, 2 workers %.4f", acc1, acc2)
	assert.Greater(t, acc2, 0.75)
	assert.InDelta(t, acc1, acc2, 0.01)
}

// BenchmarkFitWorkers measures Fit (one epoch over 8192 images) with one and
// two workers at several batch sizes: the scaling of the second core.
func BenchmarkFitWorkers(b *testing.B) {
	train, _ := mnisttrain.Data(b)
	mnisttrain.BenchFitWorkers(b, New, DefaultTrainConfig(), train.Images[:8192], train.Labels[:8192], 32, 64, 128, 256)
}
