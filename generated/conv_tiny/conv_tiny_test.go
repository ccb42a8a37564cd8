package conv_tiny

import (
	"testing"

	"github.com/bpgen/bpgen/internal/mnisttrain"
	"github.com/bpgen/bpgen/runtime"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ramp is the input x[i][j] = 4i + j + 1.
func ramp() Input {
	var x Input
	for i := 0; i < 4; i++ {
		for j := 0; j < 4; j++ {
			x[0][i][j] = float64(4*i + j + 1)
		}
	}
	return x
}

// TestForwardByHand checks every layer against values computed by hand.
//
// conv2d, W = [[1 2] [3 4]], b = −1: with v = x[i][j] = 4i+j+1 the window sum is
// v + 2(v+1) + 3(v+4) + 4(v+5) − 1 = 10v + 33, so z = [[43 53 63] [83 93 103] [123 133 143]].
// maxpool 2×2 stride 1: [[93 103] [133 143]].
// avgpool 2×2 stride 1 padding 1, padded zeros counted (÷4):
// [[23.25 49 25.75] [56.5 118 61.5] [33.25 69 35.75]].
// global average: 472 / 9.
func TestForwardByHand(t *testing.T) {
	m := New()
	m.Params.Layers0Weight = [1][1][2][2]float64{{{{1, 2}, {3, 4}}}}
	m.Params.Layers0Bias = [1]float64{-1}
	x := ramp()
	out := m.Forward(&x)
	assert.Equal(t, [9]float64{43, 53, 63, 83, 93, 103, 123, 133, 143}, m.a0[0], "conv2d")
	assert.Equal(t, [4]float64{93, 103, 133, 143}, m.a1[0], "maxpool2d")
	assert.Equal(t, [9]float64{23.25, 49, 25.75, 56.5, 118, 61.5, 33.25, 69, 35.75}, m.a2[0], "avgpool2d")
	assert.InDelta(t, 472.0/9, out[0], 1e-12, "global_avgpool2d")
}

// TestMaxPoolTies checks that on ties the gradient goes to the first maximum
// of the window in row-major order, and only there.
func TestMaxPoolTies(t *testing.T) {
	m := New()
	m.Params.Layers0Weight = [1][1][2][2]float64{} // z = b everywhere: every window ties
	m.Params.Layers0Bias = [1]float64{2}
	x := ramp()
	m.Forward(&x)
	assert.Equal(t, [4]float64{2, 2, 2, 2}, m.a1[0])
	// Windows start at (0,0), (0,1), (1,0), (1,1) of the 3×3 conv output:
	// the first maximum of each is its top-left element.
	assert.Equal(t, [4]int32{0, 1, 3, 4}, m.arg1[0])
	// dL/dy = 1 reaches every maxpool output as 1/9 (global average, then each
	// element lies in four padded 2×2 windows, each passing a quarter).
	m.Backward(&Output{1})
	for j, v := range m.d1[0] {
		assert.InDelta(t, 1.0/9, v, 1e-15, "maxpool output %d", j)
	}
	ninth := 1.0 / 9
	want := [9]float64{ninth, ninth, 0, ninth, ninth, 0, 0, 0, 0}
	// The conv output's gradient lives in d2: avgpool's dL/doutput is dead
	// once avgpool's backward has run, so the conv reuses its field.
	for j := range want {
		assert.InDelta(t, want[j], m.d2[0][j], 1e-15, "conv output %d", j)
	}
}

// TestGradients checks every tensor and the input against central differences.
func TestGradients(t *testing.T) {
	m := New()
	rng := runtime.NewRNG(11)
	for trial := 0; trial < 3; trial++ {
		var x Input
		for i := range x[0] {
			for j := range x[0][i] {
				x[0][i][j] = rng.NormFloat64()
			}
		}
		y := Target{rng.NormFloat64()}
		rep := m.CheckGradients(&x, &y, runtime.CheckOptions{})
		require.True(t, rep.Pass, "%s", rep)
	}
}

// randomSamples returns n inputs and targets of standard normal values.
func randomSamples(n int) ([]Input, []Target) {
	rng := runtime.NewRNG(3)
	xs, ys := make([]Input, n), make([]Target, n)
	for k := range xs {
		for i := range xs[k][0] {
			for j := range xs[k][0][i] {
				xs[k][0][i][j] = rng.NormFloat64()
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
