package resnet8

import (
	"testing"

	resnet8_small64 "github.com/bpgen/bpgen/generated/mlperf_tiny/resnet8/small64"
	"github.com/bpgen/bpgen/runtime"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func randomTarget(rng *runtime.RNG, y *Target) { *y = rng.Intn(OutputSize) }

func randomTarget64(rng *runtime.RNG, y *resnet8_small64.Target) {
	*y = rng.Intn(resnet8_small64.OutputSize)
}

// TestLearns trains the network on a synthetic task, since none of the MLPerf
// Tiny data sets (CIFAR-10) is reachable from here: the class k of 4
// shifts the k-th 4-th of the input (in row-major order) up by 1 over
// standard normal noise. The training loss must fall by half.
func TestLearns(t *testing.T) {
	if testing.Short() {
		t.Skip("trains the full network")
	}
	const classes = 4
	xs, ys := randomInputs(128, 9)
	rng := runtime.NewRNG(10)
	for k := range xs {
		ys[k] = rng.Intn(classes)
		v := flat(&xs[k])
		for i := ys[k] * InputSize / classes; i < (ys[k]+1)*InputSize/classes; i++ {
			v[i]++
		}
	}
	m := New()
	cfg := DefaultTrainConfig()
	cfg.Epochs, cfg.Optimizer.LR, cfg.Schedule = 4, 0.003, runtime.Schedule{}
	h, err := m.Fit(xs, ys, cfg)
	require.NoError(t, err)
	first, last := h.Epochs[0].TrainLoss, h.Epochs[len(h.Epochs)-1].TrainLoss
	t.Logf("training loss %.3f → %.3f, accuracy %.3f", first, last, h.Epochs[len(h.Epochs)-1].TrainAcc)
	assert.Less(t, last, 0.5*first)
}
