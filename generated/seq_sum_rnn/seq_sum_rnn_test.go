package seq_sum_rnn

import (
	"testing"

	"github.com/bpgen/bpgen/internal/adding"
	"github.com/bpgen/bpgen/internal/seqbench"
	"github.com/bpgen/bpgen/runtime"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAddingProblem trains on 4000 sequences of the adding problem (T = 30)
// and reports the mean squared error on 1000 others; predicting the mean
// scores about 0.167.
func TestAddingProblem(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a recurrent model")
	}
	xs, ys := adding.Data(4000, 1)
	tx, ty := adding.Data(1000, 2)
	m := New()
	cfg := DefaultTrainConfig()
	cfg.Epochs = 12
	h, err := m.Fit(xs, ys, cfg)
	require.NoError(t, err)
	mse, _ := m.Accuracy(tx, ty)
	t.Logf("rnn: test MSE %.4f after %d epochs (%.0f samples/s)", mse, len(h.Epochs), h.Epochs[len(h.Epochs)-1].SamplesPerSec)
	assert.Less(t, mse, 0.25, "the rnn trains without diverging")
}

// TestTrainBatchMatchesTrainStep checks that TrainBatch over 75 sequences
// (two full chunks and a partial one, shuffled) gives TrainStep's summed
// loss and gradients within float32 rounding, and that TrainBatch and
// ForwardBatch allocate nothing.
func TestTrainBatchMatchesTrainStep(t *testing.T) {
	n := 2*BatchChunk + 11
	xs, ys := adding.Data(n, 4)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = (i * 7) % n
	}
	a, b := New(), New()
	require.NoError(t, runtime.CompareTrainBatch[float32, Input, Target](a, b, Tensors, xs, ys, idx, 1e-4))
	assert.Zero(t, testing.AllocsPerRun(5, func() { b.TrainBatch(xs, ys, idx) }), "TrainBatch allocates")
	out := make([]Output, n)
	assert.Zero(t, testing.AllocsPerRun(5, func() { b.ForwardBatch(xs, out) }), "ForwardBatch allocates")
	for i := range 3 {
		assert.InDelta(t, b.Forward(&xs[i])[0], out[i][0], 1e-5, "ForwardBatch row %d", i)
	}
}

// BenchmarkTrainStep measures TrainStep (forward and backward of one
// sequence, no optimizer step) in samples/s and tokens (steps)/s.
func BenchmarkTrainStep(b *testing.B) {
	xs, ys := adding.Data(256, 3)
	seqbench.TrainStep[Input, Target](b, New(), xs, ys, len(Input{}))
}

// BenchmarkTrainBatch is BenchmarkTrainStep through TrainBatch, 32
// sequences a call (the spec's batch).
func BenchmarkTrainBatch(b *testing.B) {
	xs, ys := adding.Data(256, 3)
	seqbench.TrainBatch[Input, Target](b, New(), xs, ys, 32, len(Input{}))
}
