package cnn_small

import (
	"testing"

	"github.com/bpgen/bpgen/internal/mnisttrain"
	"github.com/bpgen/bpgen/runtime"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestZeroAllocs checks that Forward, Backward, TrainStep and the optimizer step allocate nothing.
func TestZeroAllocs(t *testing.T) {
	m := New()
	var x Input
	y := Target(7)
	var dy Output
	dy[7] = 1
	opt, err := runtime.NewOptimizer[float32](DefaultTrainConfig().Optimizer, NumParams)
	require.NoError(t, err)
	assert.Zero(t, testing.AllocsPerRun(10, func() { m.Forward(&x) }), "Forward")
	assert.Zero(t, testing.AllocsPerRun(10, func() { m.Backward(&dy) }), "Backward")
	assert.Zero(t, testing.AllocsPerRun(10, func() { m.TrainStep(&x, &y) }), "TrainStep")
	assert.Zero(t, testing.AllocsPerRun(10, func() { opt.Step(m.ParamSlice(), m.GradSlice()) }), "optimizer step")
}

// TestLearnsMNIST trains one epoch on 12000 real images and expects at least 90 % on the test set.
func TestLearnsMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on real data")
	}
	train, test := mnisttrain.Data(t)
	m := New()
	cfg := DefaultTrainConfig()
	cfg.Epochs = 1
	_, err := m.Fit(train.Images3D()[:12000], train.Labels[:12000], cfg)
	require.NoError(t, err)
	_, acc := m.Accuracy(test.Images3D(), test.Labels)
	t.Logf("test accuracy after one epoch on 12000 images: %.4f", acc)
	assert.GreaterOrEqual(t, acc, 0.90)
}

// BenchmarkTrainStep is the comparison with gorgonia 0.9.18 in PERF.md: the
// same network at batch 32, the spec's (gorgonia: about 3.5k samples/s on
// this machine), a TrainStep per sample.
func BenchmarkTrainStep(b *testing.B) {
	train, _ := mnisttrain.Data(b)
	cfg := DefaultTrainConfig()
	mnisttrain.BenchTrain[float32](b, New(), train.Images3D(), train.Labels, cfg.Optimizer, cfg.Batch)
}

// BenchmarkTrainBatch is BenchmarkTrainStep through TrainBatch.
func BenchmarkTrainBatch(b *testing.B) {
	train, _ := mnisttrain.Data(b)
	cfg := DefaultTrainConfig()
	mnisttrain.BenchTrainWholeBatch[float32](b, New(), train.Images3D(), train.Labels, cfg.Optimizer, cfg.Batch)
}

// BenchmarkInference measures Forward on real images.
func BenchmarkInference(b *testing.B) {
	_, test := mnisttrain.Data(b)
	mnisttrain.BenchInference(b, New().Forward, test.Images3D())
}

// BenchmarkFitWorkers measures Fit (one epoch over 2048 images) with one and
// two workers at batch 32 and 128.
func BenchmarkFitWorkers(b *testing.B) {
	train, _ := mnisttrain.Data(b)
	mnisttrain.BenchFitWorkers(b, New, DefaultTrainConfig(), train.Images3D()[:2048], train.Labels[:2048], 32, 128)
}
