package mlp_block

import (
	"math"
	"testing"

	mlp_block64 "github.com/bpgen/bpgen/generated/mlp_block/f64"
	"github.com/bpgen/bpgen/internal/mnisttrain"
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

// layerNorm is nn.LayerNorm(16) in plain Go.
func layerNorm(x [16]float64, weight, bias [16]float64) (y [16]float64) {
	var mean, sq float64
	for _, v := range x {
		mean += v / 16
	}
	for _, v := range x {
		sq += (v - mean) * (v - mean) / 16
	}
	for j, v := range x {
		y[j] = (v-mean)/math.Sqrt(sq+1e-5)*weight[j] + bias[j]
	}
	return y
}

// TestForwardReference checks the float64 twin against the network written
// out in plain Go, per step: r = x + proj(gelu(fc(ln(x)))), y =
// head(ln_f(r)), with random parameters (the layernorms' weights and biases
// too, which start at 1 and 0).
func TestForwardReference(t *testing.T) {
	m := mlp_block64.New()
	ones := [16]float64{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}
	assert.Equal(t, ones, m.Params.LnWeight, "layernorm weight starts at 1")
	assert.Equal(t, [16]float64{}, m.Params.LnBias, "layernorm bias starts at 0")
	assert.Equal(t, ones, m.Params.LnFWeight, "layernorm weight starts at 1")
	rng := runtime.NewRNG(2)
	for i, p := range m.ParamSlice() {
		m.ParamSlice()[i] = p + 0.3*rng.NormFloat64()
	}
	x := randomInput[float64](rng)
	got := *m.Forward(&x)

	pm := &m.Params
	for step := range x {
		norm := layerNorm(x[step], pm.LnWeight, pm.LnBias)
		var hidden [32]float64
		for o := range hidden {
			z := pm.MlpFcBias[o]
			for j, v := range norm {
				z += pm.MlpFcWeight[o][j] * v
			}
			hidden[o] = z * 0.5 * (1 + math.Erf(z/math.Sqrt2))
		}
		var res [16]float64
		for o := range res {
			res[o] = pm.MlpProjBias[o] + x[step][o]
			for j, v := range hidden {
				res[o] += pm.MlpProjWeight[o][j] * v
			}
		}
		final := layerNorm(res, pm.LnFWeight, pm.LnFBias)
		for c := range 4 {
			want := pm.HeadBias[c]
			for j, v := range final {
				want += pm.HeadWeight[c][j] * v
			}
			assert.InDelta(t, want, got[step][c], 1e-12, "step %d, class %d", step, c)
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
		x := randomInput[float64](rng)
		var y mlp_block64.Target
		for step := range y {
			y[step] = rng.Intn(mlp_block64.HeadOut)
		}
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

// task is the synthetic task: the class of every token x is the argmax of
// B(x − mean(x)) for a fixed random matrix B [4, 16], which the block can
// learn through its residual path and ln_f.
func task(n int, seed uint64) (xs []Input, ys []Target) {
	rng := runtime.NewRNG(99)
	var b [HeadOut][16]float64
	for i := range b {
		for j := range b[i] {
			b[i][j] = rng.NormFloat64()
		}
	}
	rng = runtime.NewRNG(seed)
	xs, ys = make([]Input, n), make([]Target, n)
	for k := range xs {
		xs[k] = randomInput[float32](rng)
		for step, x := range xs[k] {
			var mean float64
			for _, v := range x {
				mean += float64(v) / 16
			}
			best := math.Inf(-1)
			for c := range b {
				var z float64
				for j, v := range x {
					z += b[c][j] * (float64(v) - mean)
				}
				if z > best {
					best, ys[k][step] = z, c
				}
			}
		}
	}
	return xs, ys
}

// TestLearnsTokenClasses trains with the spec's configuration on 1024
// sequences of the synthetic task: on 256 held-out sequences the loss must
// fall to half its initial value and most tokens be classified right.
func TestLearnsTokenClasses(t *testing.T) {
	xs, ys := task(1024, 1)
	testX, testY := task(256, 2)
	m := New()
	before, _ := m.Accuracy(testX, testY)
	_, err := m.Fit(xs, ys, DefaultTrainConfig())
	require.NoError(t, err)
	after, _ := m.Accuracy(testX, testY)
	right := 0
	for k := range testX {
		out := m.Forward(&testX[k])
		for step, logits := range out {
			best := 0
			for c := range logits {
				if logits[c] > logits[best] {
					best = c
				}
			}
			if best == testY[k][step] {
				right++
			}
		}
	}
	tokens := float64(right) / float64(len(testX)*len(testY[0]))
	t.Logf("held-out loss: %.4f before, %.4f after %d epochs; %.1f %% of the tokens right", before, after, DefaultTrainConfig().Epochs, 100*tokens)
	assert.Less(t, after, before/2)
	assert.Greater(t, tokens, 0.8)
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
	dy[2][3] = 1 // any gradient: Backward's work does not depend on it
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

// BenchmarkTrainStep measures training per sample: minibatches of the
// spec's batch, a TrainStep per sample, then the spec's optimizer step.
func BenchmarkTrainStep(b *testing.B) {
	xs, ys := task(64, 6)
	cfg := DefaultTrainConfig()
	mnisttrain.BenchTrain[float32](b, New(), xs, ys, cfg.Optimizer, cfg.Batch)
}

// BenchmarkTrainBatch is BenchmarkTrainStep through TrainBatch, as Fit
// trains this network (DefaultTrainConfig's WholeBatch).
func BenchmarkTrainBatch(b *testing.B) {
	xs, ys := task(64, 6)
	cfg := DefaultTrainConfig()
	mnisttrain.BenchTrainWholeBatch[float32](b, New(), xs, ys, cfg.Optimizer, cfg.Batch)
}
