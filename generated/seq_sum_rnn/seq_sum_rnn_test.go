package seq_sum_rnn

import (
	"testing"

	"github.com/bpgen/bpgen/internal/adding"
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

func BenchmarkTrainStep(b *testing.B) {
	xs, ys := adding.Data(256, 3)
	m := New()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.TrainStep(&xs[i%len(xs)], &ys[i%len(ys)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}
