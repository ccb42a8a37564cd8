package mlp_block

import (
	"math"
	"testing"

	mlp_block64 "github.com/bpgen/bpgen/generated/mlp_block/f64"
	"github.com/bpgen/bpgen/runtime"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// randomInput returns a sequence of standard normal values.
func randomInput[T float32 | float64](rng *runtime.RNG) (x [8][16]T) {
	for t := range x {
		for j := range x[t] {
			x[t][j] = T(rng.NormFloat64())
		}
	}
	return x
}

// TestForwardReference checks the float64 twin against the block written
// out in plain Go, y = x + fc2(gelu(fc1(layernorm(x)))), with random
// parameters (layernorm's weight and bias too, which start at 1 and 0).
func TestForwardReference(t *testing.T) {
	m := mlp_block64.New()
	assert.Equal(t, [16]float64{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, m.Params.NormWeight, "layernorm weight starts at 1")
	assert.Equal(t, [16]float64{}, m.Params.NormBias, "layernorm bias starts at 0")
	rng := runtime.NewRNG(2)
	for i, p := range m.ParamSlice() {
		m.ParamSlice()[i] = p + 0.3*rng.NormFloat64()
	}
	x := randomInput[float64](rng)
	got := *m.Forward(&x)

	pm := &m.Params
	for step := range x {
		var mean, sq float64
		for _, v := range x[step] {
			mean += v / 16
		}
		for _, v := range x[step] {
			sq += (v - mean) * (v - mean) / 16
		}
		var norm [16]float64
		for j, v := range x[step] {
			norm[j] = (v-mean)/math.Sqrt(sq+1e-5)*pm.NormWeight[j] + pm.NormBias[j]
		}
		var hidden [64]float64
		for o := range hidden {
			z := pm.MlpFc1Bias[o]
			for j, v := range norm {
				z += pm.MlpFc1Weight[o][j] * v
			}
			hidden[o] = z * 0.5 * (1 + math.Erf(z/math.Sqrt2))
		}
		for o := range 16 {
			want := pm.MlpFc2Bias[o] + x[step][o]
			for j, v := range hidden {
				want += pm.MlpFc2Weight[o][j] * v
			}
			assert.InDelta(t, want, got[step][o], 1e-12, "step %d, feature %d", step, o)
		}
	}
}

// TestGradients checks every tensor and the input of the float64 twin
// against central differences, at the initial parameters and at random ones.
func TestGradients(t *testing.T) {
	rng := runtime.NewRNG(7)
	for trial := range 3 {
		m := mlp_block64.New()
		if trial > 0 {
			for i, p := range m.ParamSlice() {
				m.ParamSlice()[i] = p + 0.2*rng.NormFloat64()
			}
		}
		x, y := randomInput[float64](rng), randomInput[float64](rng)
		rep := m.CheckGradients(&x, &y, runtime.CheckOptions{})
		require.True(t, rep.Pass, "trial %d\n%s", trial, rep)
		t.Logf("trial %d:\n%s", trial, rep)
		for _, tc := range rep.Tensors {
			assert.LessOrEqual(t, tc.RelErr, 1e-6, "trial %d: %s", trial, tc.Name)
		}
	}
}

// TestTwinsAgree checks that the float32 model and its float64 twin compute
// the same function for the same weights, within float32 rounding.
func TestTwinsAgree(t *testing.T) {
	m32, m64 := New(), mlp_block64.New()
	p32, p64 := m32.ParamSlice(), m64.ParamSlice()
	for i := range p32 {
		p64[i] = float64(p32[i])
	}
	x32 := randomInput[float32](runtime.NewRNG(3))
	var x64 mlp_block64.Input
	for t := range x32 {
		for j := range x32[t] {
			x64[t][j] = float64(x32[t][j])
		}
	}
	y32, y64 := m32.Forward(&x32), m64.Forward(&x64)
	for step := range y32 {
		for j := range y32[step] {
			assert.InDelta(t, y64[step][j], float64(y32[step][j]), 1e-5*(1+math.Abs(y64[step][j])), "step %d, feature %d", step, j)
		}
	}
}

// task is the synthetic task: every token x maps to x + ½·tanh(A x) for a
// fixed random matrix A, a residual of the kind the block can learn.
func task(n int, seed uint64) (xs []Input, ys []Target) {
	rng := runtime.NewRNG(99)
	var a [16][16]float64
	for i := range a {
		for j := range a[i] {
			a[i][j] = rng.NormFloat64() / 4
		}
	}
	rng = runtime.NewRNG(seed)
	xs, ys = make([]Input, n), make([]Target, n)
	for k := range xs {
		xs[k] = randomInput[float32](rng)
		for step, x := range xs[k] {
			for i := range a {
				var z float64
				for j, v := range x {
					z += a[i][j] * float64(v)
				}
				ys[k][step][i] = x[i] + float32(0.5*math.Tanh(z))
			}
		}
	}
	return xs, ys
}

// TestLearnsResidual trains with the spec's configuration on 512 sequences
// of the synthetic task: the loss on 128 held-out sequences must fall to a
// fifth of its initial value.
func TestLearnsResidual(t *testing.T) {
	xs, ys := task(512, 1)
	testX, testY := task(128, 2)
	m := New()
	before, _ := m.Accuracy(testX, testY)
	_, err := m.Fit(xs, ys, DefaultTrainConfig())
	require.NoError(t, err)
	after, _ := m.Accuracy(testX, testY)
	t.Logf("held-out loss: %.5f before, %.5f after %d epochs", before, after, DefaultTrainConfig().Epochs)
	assert.Less(t, after, before/5)
}

// TestTrainBatchMatchesTrainStep checks that TrainBatch over two full chunks
// and a partial one gives TrainStep's summed loss and gradients within
// float32 rounding.
func TestTrainBatchMatchesTrainStep(t *testing.T) {
	const n = 2*BatchChunk + 5
	xs, ys := task(n, 4)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = (i * 7) % n // a permutation, as Fit passes
	}
	require.NoError(t, runtime.CompareTrainBatch[float32, Input, Target](New(), New(), Tensors, xs, ys, idx, 1e-4))
}

// TestZeroAllocs checks that Forward, Backward, TrainStep, TrainBatch,
// ForwardBatch and the optimizer step allocate nothing.
func TestZeroAllocs(t *testing.T) {
	m := New()
	xs, ys := task(BatchChunk+3, 5)
	outs := make([]Output, len(xs))
	var dy Output
	dy[2][3] = 1
	opt, err := runtime.NewOptimizer[float32](DefaultTrainConfig().Optimizer, NumParams)
	require.NoError(t, err)
	assert.Zero(t, testing.AllocsPerRun(20, func() { m.Forward(&xs[0]) }), "Forward")
	assert.Zero(t, testing.AllocsPerRun(20, func() { m.Backward(&dy) }), "Backward")
	assert.Zero(t, testing.AllocsPerRun(20, func() { m.TrainStep(&xs[0], &ys[0]) }), "TrainStep")
	assert.Zero(t, testing.AllocsPerRun(5, func() { m.TrainBatch(xs, ys, nil) }), "TrainBatch")
	assert.Zero(t, testing.AllocsPerRun(5, func() { m.ForwardBatch(xs, outs) }), "ForwardBatch")
	assert.Zero(t, testing.AllocsPerRun(20, func() { opt.Step(m.ParamSlice(), m.GradSlice()) }), "optimizer step")
}

// samples reports the samples/s metric of a benchmark that ran n samples.
func samples(b *testing.B, n int) {
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "samples/s")
}

func BenchmarkForward(b *testing.B) {
	xs, _ := task(64, 6)
	m := New()
	b.ReportAllocs()
	n := 0
	for ; b.Loop(); n++ {
		m.Forward(&xs[n%len(xs)])
	}
	samples(b, n)
}

func BenchmarkForwardBatch(b *testing.B) {
	xs, _ := task(64, 6)
	outs := make([]Output, len(xs))
	m := New()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		m.ForwardBatch(xs, outs)
		n += len(xs)
	}
	samples(b, n)
}

func BenchmarkTrainStep(b *testing.B) {
	xs, ys := task(64, 6)
	m := New()
	b.ReportAllocs()
	n := 0
	for ; b.Loop(); n++ {
		m.TrainStep(&xs[n%len(xs)], &ys[n%len(xs)])
	}
	samples(b, n)
}

func BenchmarkTrainBatch(b *testing.B) {
	xs, ys := task(64, 6)
	m := New()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		m.TrainBatch(xs, ys, nil)
		n += len(xs)
	}
	samples(b, n)
}
