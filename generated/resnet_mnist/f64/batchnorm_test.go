package resnet_mnist64

import (
	"testing"
	"unsafe"

	"github.com/bpgen/bpgen/runtime"
	"github.com/stretchr/testify/assert"
)

// TestBatchnormState checks the running statistics after one training batch
// against the batch statistics computed here: running_mean = 0.1·mean and
// running_var = 0.9 + 0.1·(unbiased variance) of the first convolution's
// output, per channel, and num_batches_tracked = 1 for every batchnorm.
func TestBatchnormState(t *testing.T) {
	m := New()
	m.SetTraining(true)
	rng := runtime.NewRNG(9)
	xs, ys := make([]Input, 5), make([]Target, 5)
	for k := range xs {
		for i := range xs[k][0] {
			for j := range xs[k][0][i] {
				xs[k][0][i][j] = rng.NormFloat64()
			}
		}
		ys[k] = k
	}
	m.TrainBatch(xs, ys, nil)
	// conv1's output of each sample, recomputed through Forward in inference
	// mode (conv1 comes before any batchnorm, so the mode does not matter).
	var sum, sq [16]float64
	var outs [5][16][28][28]float64
	for k := range xs {
		m.SetTraining(false)
		m.Forward(&xs[k])
		outs[k] = *(*[16][28][28]float64)(unsafe.Pointer(&m.a0[0]))
	}
	n := float64(5 * 28 * 28)
	for c := range 16 {
		for k := range outs {
			for _, row := range outs[k][c] {
				for _, v := range row {
					sum[c] += v
				}
			}
		}
		mean := sum[c] / n
		for k := range outs {
			for _, row := range outs[k][c] {
				for _, v := range row {
					sq[c] += (v - mean) * (v - mean)
				}
			}
		}
		assert.InDelta(t, 0.1*mean, m.State.Bn1RunningMean[c], 1e-12, "running mean %d", c)
		assert.InDelta(t, 0.9+0.1*sq[c]/(n-1), m.State.Bn1RunningVar[c], 1e-12, "running var %d", c)
	}
	for i, v := range m.State.NumBatchesTracked {
		assert.Equal(t, int64(1), v, StateCounters[i])
	}
}
