package ad_autoencoder

import (
	"testing"

	ad_autoencoder_small64 "github.com/bpgen/bpgen/generated/mlperf_tiny/ad_autoencoder/small64"
	"github.com/bpgen/bpgen/runtime"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func randomTarget(rng *runtime.RNG, y *Target) {
	for i := range y {
		y[i] = float32(rng.NormFloat64())
	}
}

func randomTarget64(rng *runtime.RNG, y *ad_autoencoder_small64.Target) {
	for i := range y {
		y[i] = rng.NormFloat64()
	}
}

// TestLearns trains the autoencoder to reconstruct its input on a synthetic
// task, since the MLPerf Tiny data set (ToyADMOS) is not reachable from here:
// inputs on a 4-dimensional subspace of R^640 (random normal combinations of 4
// fixed random vectors), which the bottleneck of 8 can carry. The training
// mse must fall by half.
func TestLearns(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for 10 epochs")
	}
	rng := runtime.NewRNG(9)
	var basis [4][InputSize]float32
	for j := range basis {
		for i := range basis[j] {
			basis[j][i] = float32(rng.NormFloat64())
		}
	}
	xs := make([]Input, 512)
	for k := range xs {
		for j := range basis {
			z := float32(rng.NormFloat64())
			for i := range xs[k] {
				xs[k][i] += z * basis[j][i]
			}
		}
	}
	m := New()
	cfg := DefaultTrainConfig()
	cfg.Epochs, cfg.Batch, cfg.ValidationSplit, cfg.Optimizer.LR = 10, 64, 0, 0.003
	h, err := m.Fit(xs, xs, cfg)
	require.NoError(t, err)
	first, last := h.Epochs[0].TrainLoss, h.Epochs[len(h.Epochs)-1].TrainLoss
	t.Logf("training mse %.3f → %.3f", first, last)
	assert.Less(t, last, 0.5*first)
}
