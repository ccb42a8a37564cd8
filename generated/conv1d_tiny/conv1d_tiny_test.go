package conv1d_tiny

import (
	"testing"

	"github.com/bpgen/bpgen/internal/mnisttrain"
	"github.com/bpgen/bpgen/runtime"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// signal is the input x[0] = 1 2 3 4 5, x[1] = 10 20 30 40 50.
func signal() Input {
	var x Input
	for l := 0; l < 5; l++ {
		x[0][l] = float64(l + 1)
		x[1][l] = float64(10 * (l + 1))
	}
	return x
}

// TestForwardByHand checks every layer against values computed by hand.
//
// conv1d, groups 2, padding 1: filter 0 reads only channel 0 with W = [1 −1],
// b = 0.5; filter 1 only channel 1 with W = [2 1], b = −1. Padded, channel 0
// is 0 1 2 3 4 5 0 and channel 1 is 0 10 20 30 40 50 0, so
//
//	z0[l] = xp0[l] − xp0[l+1] + 0.5   = −0.5 −0.5 −0.5 −0.5 −0.5 5.5
//	z1[l] = 2·xp1[l] + xp1[l+1] − 1   = 9 39 69 99 129 99
//
// (had filter 0 also read channel 1, its values would be far from −0.5).
// avgpool1d size 3, stride 2, padding 1, count_include_pad false: the windows
// start at −1, 1, 3; the first holds two in-range elements and divides by 2:
//
//	−1/2 = −0.5, −1.5/3 = −0.5, 4.5/3 = 1.5;   48/2 = 24, 207/3 = 69, 327/3 = 109
//
// maxpool1d size 2, stride 1: −0.5 1.5 69 109 (the first window of channel 0
// ties; its first element wins). global average: 0.5 and 89.
func TestForwardByHand(t *testing.T) {
	m := New()
	m.Params.Layers0Weight = [2][1][2]float64{{{1, -1}}, {{2, 1}}}
	m.Params.Layers0Bias = [2]float64{0.5, -1}
	x := signal()
	out := m.Forward(&x)
	assert.Equal(t, [12]float64{-0.5, -0.5, -0.5, -0.5, -0.5, 5.5, 9, 39, 69, 99, 129, 99}, m.a0[0], "conv1d")
	assert.Equal(t, [6]float64{-0.5, -0.5, 1.5, 24, 69, 109}, m.a1[0], "avgpool1d")
	assert.Equal(t, [4]float64{-0.5, 1.5, 69, 109}, m.a2[0], "maxpool1d")
	assert.Equal(t, [4]int32{0, 2, 4, 5}, m.arg2[0], "maxpool1d arguments")
	assert.Equal(t, Output{0.5, 89}, *out, "global_avgpool1d")
}

// TestWeightLayout checks the conv1d weight against PyTorch's nn.Conv1d(2, 2,
// 2, groups=2): shape [filters, channels/groups, kernel], fan-in
// (channels/groups)·kernel.
func TestWeightLayout(t *testing.T) {
	require.Len(t, Tensors, 2)
	assert.Equal(t, "layers.0.weight", Tensors[0].Name)
	assert.Equal(t, []int{2, 1, 2}, Tensors[0].Shape)
	assert.Equal(t, 2, Tensors[0].FanIn)
	assert.Equal(t, []int{2}, Tensors[1].Shape)
}

// TestGradients checks every tensor and the input against central differences.
func TestGradients(t *testing.T) {
	m := New()
	rng := runtime.NewRNG(7)
	for trial := 0; trial < 3; trial++ {
		var x Input
		for c := range x {
			for l := range x[c] {
				x[c][l] = rng.NormFloat64()
			}
		}
		y := Target{rng.NormFloat64(), rng.NormFloat64()}
		rep := m.CheckGradients(&x, &y, runtime.CheckOptions{})
		require.True(t, rep.Pass, "%s", rep)
	}
}

// randomSamples returns n inputs and targets of standard normal values.
func randomSamples(n int) ([]Input, []Target) {
	rng := runtime.NewRNG(3)
	xs, ys := make([]Input, n), make([]Target, n)
	for k := range xs {
		for c := range xs[k] {
			for l := range xs[k][c] {
				xs[k][c][l] = rng.NormFloat64()
			}
		}
		for i := range ys[k] {
			ys[k][i] = rng.NormFloat64()
		}
	}
	return xs, ys
}

// BenchmarkTrainStep measures training per sample: minibatches of the
// spec's batch, a TrainStep per sample, then the spec's optimizer step.
func BenchmarkTrainStep(b *testing.B) {
	xs, ys := randomSamples(64)
	cfg := DefaultTrainConfig()
	mnisttrain.BenchTrain[float64](b, New(), xs, ys, cfg.Optimizer, cfg.Batch)
}

// BenchmarkTrainBatch is BenchmarkTrainStep through TrainBatch.
func BenchmarkTrainBatch(b *testing.B) {
	xs, ys := randomSamples(64)
	cfg := DefaultTrainConfig()
	mnisttrain.BenchTrainWholeBatch[float64](b, New(), xs, ys, cfg.Optimizer, cfg.Batch)
}
