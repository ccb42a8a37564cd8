package runtime

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFitOnBatch checks that OnBatch sees every minibatch after its step,
// with the samples done, the training part's size and the running mean loss.
func TestFitOnBatch(t *testing.T) {
	type call struct {
		done, total int
		loss        float64
	}
	// 10 samples, validation split 0.3: 7 training samples in batches of
	// 3, 3, 1. Epoch e has training loss trainLoss[e] for every sample.
	m := newScript[float64]([]float64{2, 0.5}, []float64{1, 1})
	var calls []call
	var params []float64
	hist, err := Fit(m, ints(10), ints(10), TrainConfig{
		Epochs: 2, Batch: 3, ValidationSplit: 0.3,
		Optimizer: OptimizerConfig{Type: "sgd", LR: 1},
		OnBatch: func(done, total int, loss float64) {
			calls = append(calls, call{done, total, loss})
			params = append(params, m.p[0])
		},
	})
	require.NoError(t, err)
	require.Len(t, hist.Epochs, 2)
	assert.Equal(t, []call{{3, 7, 2}, {6, 7, 2}, {7, 7, 2}, {3, 7, 0.5}, {6, 7, 0.5}, {7, 7, 0.5}}, calls)
	// Every sample's gradient is -1, so each SGD step with lr 1 adds 1: the
	// callback runs after the step.
	assert.Equal(t, []float64{1, 2, 3, 4, 5, 6}, params)

	// A nil OnBatch is fine, and Stop still ends training between batches.
	stop := make(chan struct{})
	m = newScript[float64](nil, nil)
	n := 0
	hist, err = Fit(m, ints(8), ints(8), TrainConfig{
		Epochs: 3, Batch: 2, Stop: stop, Optimizer: OptimizerConfig{Type: "sgd", LR: 1},
		OnBatch: func(done, total int, loss float64) {
			if n++; n == 2 {
				close(stop)
			}
		},
	})
	require.NoError(t, err)
	assert.True(t, hist.Interrupted)
	assert.Equal(t, 2, n)
	assert.Empty(t, hist.Epochs)
}
