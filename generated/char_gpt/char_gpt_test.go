package char_gpt

import (
	"os"
	"testing"

	"github.com/bpgen/bpgen/gen"
	"github.com/bpgen/bpgen/generated/char_lm"
	"github.com/bpgen/bpgen/runtime"
	"github.com/bpgen/bpgen/spec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSameWindowsAsCharLM: the same text gives char_lm's token ids and
// training windows, so the two models' losses compare.
func TestSameWindowsAsCharLM(t *testing.T) {
	ids := Encode("Of the Refractions of Light, Prop. I.")
	xs, ys := Sequences(ids, 2)
	lxs, lys := char_lm.Sequences(char_lm.Encode("Of the Refractions of Light, Prop. I."), 2)
	require.Len(t, xs, len(lxs))
	for i := range xs {
		assert.Equal(t, lxs[i][:], xs[i][:])
		assert.Equal(t, lys[i][:], ys[i][:])
	}
	assert.Equal(t, char_lm.Layers0Vocab, WteVocab)
}

// TestLearnsText trains on the first 400 sequences of the text for two epochs
// and requires the loss to fall well below that of guessing uniformly among
// the characters used (ln 56 ≈ 4.03 nats per character).
func TestLearnsText(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a transformer")
	}
	text, err := os.ReadFile("../../testdata/text/opticks.txt")
	require.NoError(t, err)
	xs, ys := Sequences(Encode(string(text)), 16)
	xs, ys = xs[:400], ys[:400]
	m := New()
	before, _ := m.Accuracy(xs, ys)
	cfg := DefaultTrainConfig()
	cfg.Epochs = 2
	h, err := m.Fit(xs, ys, cfg)
	require.NoError(t, err)
	after, _ := m.Accuracy(xs, ys)
	t.Logf("loss %.3f → %.3f (%.0f samples/s); sample: %q", before, after, h.Epochs[len(h.Epochs)-1].SamplesPerSec,
		Sample(m, "the light ", 60, 0.7, runtime.NewRNG(1)))
	assert.Greater(t, before, 3.9)
	assert.Less(t, after, 3.2)
}

// TestDescent checks the float32 model's plumbing cheaply (the float64
// gradient checks of attention and of whole blocks live in
// gen/gradcheck_test.go): the loss must fall along the negative gradient.
func TestDescent(t *testing.T) {
	m := New()
	xs, ys := Sequences(Encode("the rays of light are refracted by the prism and the colours appear"), 4)
	m.ZeroGrads()
	loss := m.TrainStep(&xs[0], &ys[0])
	p, g := m.ParamSlice(), m.GradSlice()
	for i := range p {
		p[i] -= 0.05 * g[i]
	}
	after, _ := m.Evaluate(&xs[0], &ys[0])
	assert.Less(t, after, loss)
}

// TestCausal: the logits of step t depend on the ids up to t only.
func TestCausal(t *testing.T) {
	m := New()
	m.SetTraining(false)
	xs, _ := Sequences(Encode("the rays of light are refracted by the prism and the colours appear"), 4)
	x := xs[0]
	before := *m.Forward(&x)
	x[20] = (x[20] + 1) % WteVocab
	after := *m.Forward(&x)
	assert.Equal(t, before[:20], after[:20], "steps before the change")
	assert.NotEqual(t, before[20], after[20], "the changed step")
	assert.NotEqual(t, before[31], after[31], "a later step")
}

// TestZeroAllocs checks that Forward, Backward, TrainStep and TrainBatch allocate nothing.
func TestZeroAllocs(t *testing.T) {
	m := New()
	xs, ys := Sequences(Encode("the rays of light are refracted by the prism and the colours appear"), 4)
	var dy Output
	dy[31][3] = 1
	idx := []int{0, 1, 2, 3}
	assert.Zero(t, testing.AllocsPerRun(5, func() { m.Forward(&xs[0]) }), "Forward")
	assert.Zero(t, testing.AllocsPerRun(5, func() { m.Backward(&dy) }), "Backward")
	assert.Zero(t, testing.AllocsPerRun(5, func() { m.TrainStep(&xs[0], &ys[0]) }), "TrainStep")
	assert.Zero(t, testing.AllocsPerRun(5, func() { m.TrainBatch(xs, ys, idx) }), "TrainBatch")
	assert.Zero(t, testing.AllocsPerRun(5, func() {
		m.ResetCache()
		for pos, id := range xs[0] {
			if _, err := m.Step(id, pos); err != nil {
				panic(err)
			}
		}
	}), "ResetCache and Step")
}

// trained returns a model after a few training steps on the text, so that
// its logits are not those of the initialisation.
func trained(t testing.TB) (*Model, []Input) {
	text, err := os.ReadFile("../../testdata/text/opticks.txt")
	require.NoError(t, err)
	xs, ys := Sequences(Encode(string(text[:20000])), 31)
	m := New()
	opt, err := runtime.NewOptimizer[float32](runtime.OptimizerConfig{Type: "adam", LR: 0.003}, NumParams)
	require.NoError(t, err)
	for i := range 20 {
		m.ZeroGrads()
		m.TrainBatch(xs, ys, []int{i, i + 100, i + 200, i + 300})
		opt.Step(m.ParamSlice(), m.GradSlice())
	}
	m.SetTraining(false)
	return m, xs
}

// TestStepMatchesForward: the cached step's logits equal Forward's at every
// position of a window, after a rewind too (float32 rounding: the
// projections' sums run in another order).
func TestStepMatchesForward(t *testing.T) {
	m, xs := trained(t)
	for _, x := range []Input{xs[7], xs[400]} {
		want := *m.Forward(&x)
		m.ResetCache()
		for pos, id := range x {
			got, err := m.Step(id, pos)
			require.NoError(t, err)
			assert.InDeltaSlice(t, want[pos][:], got[:], 2e-4, "position %d", pos)
		}
		// Rewind to position 10 and feed the rest again.
		for pos := 10; pos < Window; pos++ {
			got, err := m.Step(x[pos], pos)
			require.NoError(t, err)
			assert.InDeltaSlice(t, want[pos][:], got[:], 2e-4, "position %d after a rewind", pos)
		}
	}
}

// TestStepErrors: positions outside the window or beyond the cache and
// tokens outside the vocabulary are errors, and change nothing; Forward
// empties the cache.
func TestStepErrors(t *testing.T) {
	m := New()
	m.ResetCache()
	_, err := m.Step(3, 1)
	assert.EqualError(t, err, "Step: position 1 after 0 cached steps: feed the positions in order from 0 (ResetCache)")
	_, err = m.Step(3, -1)
	assert.EqualError(t, err, "Step: position -1 outside the window [0, 32)")
	_, err = m.Step(3, Window)
	assert.EqualError(t, err, "Step: position 32 outside the window [0, 32)")
	_, err = m.Step(WteVocab, 0)
	assert.EqualError(t, err, "Step: token 64 outside [0, 64)")
	_, err = m.Step(-1, 0)
	assert.EqualError(t, err, "Step: token -1 outside [0, 64)")
	_, err = m.Step(3, 0)
	require.NoError(t, err)
	_, err = m.Step(4, 1)
	require.NoError(t, err)
	var x Input
	m.Forward(&x)
	_, err = m.Step(5, 2)
	assert.EqualError(t, err, "Step: position 2 after 0 cached steps: feed the positions in order from 0 (ResetCache)")
}

// BenchmarkTrainStep reports training samples/s, tokens/s and GFLOP/s,
// counting the forward FLOPs of bpgen summary (every matrix product) three
// times: the backward pass of a product costs two more.
func BenchmarkTrainStep(b *testing.B) {
	sm, err := spec.ParseFile("char_gpt.yaml")
	require.NoError(b, err)
	sum, err := gen.Summarize(sm)
	require.NoError(b, err)
	m := New()
	xs, ys := Sequences(Encode("the rays of light are refracted by the prism and the colours appear"), 4)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.TrainStep(&xs[i%len(xs)], &ys[i%len(ys)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "samples/s")
	b.ReportMetric(float64(b.N*len(Input{}))/b.Elapsed().Seconds(), "tokens/s")
	b.ReportMetric(3*float64(sum.FLOPs)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkTrainBatch reports training samples/s, tokens/s and GFLOP/s
// (as BenchmarkTrainStep) through TrainBatch, 32 samples a call.
func BenchmarkTrainBatch(b *testing.B) {
	sm, err := spec.ParseFile("char_gpt.yaml")
	require.NoError(b, err)
	sum, err := gen.Summarize(sm)
	require.NoError(b, err)
	m := New()
	text, err := os.ReadFile("../../testdata/text/opticks.txt")
	require.NoError(b, err)
	xs, ys := Sequences(Encode(string(text[:20000])), 16)
	const batch = 32
	idx := make([]int, batch)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		for k := range idx {
			idx[k] = (i*batch + k) % len(xs)
		}
		m.TrainBatch(xs, ys, idx)
	}
	n := float64(b.N * batch)
	b.ReportMetric(n/b.Elapsed().Seconds(), "samples/s")
	b.ReportMetric(n*float64(len(Input{}))/b.Elapsed().Seconds(), "tokens/s")
	b.ReportMetric(3*float64(sum.FLOPs)*n/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkGenerate generates a window of Window tokens greedily from an
// empty cache, one token at a time: cached feeds each token once with Step;
// forward runs Forward on the whole window for every new token (the positions
// not generated yet hold zeros; causal attention ignores them) and reads the
// row of the new position. tokens/s is generated tokens per second.
func BenchmarkGenerate(b *testing.B) {
	m, _ := trained(b)
	argmax := func(logits []float32) int32 {
		best := 0
		for i, v := range logits {
			if v > logits[best] {
				best = i
			}
		}
		return int32(best)
	}
	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m.ResetCache()
			id := int32(1)
			for pos := range Window {
				out, err := m.Step(id, pos)
				if err != nil {
					b.Fatal(err)
				}
				id = argmax(out[:])
			}
		}
		b.ReportMetric(float64(b.N*Window)/b.Elapsed().Seconds(), "tokens/s")
	})
	b.Run("forward", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var x Input
			x[0] = 1
			for pos := range Window {
				out := m.Forward(&x)
				if pos+1 < Window {
					x[pos+1] = argmax(out[pos][:])
				}
			}
		}
		b.ReportMetric(float64(b.N*Window)/b.Elapsed().Seconds(), "tokens/s")
	})
}

// BenchmarkSample generates text with Sample (cached, restarting the cache
// from the last Window/2 characters whenever the window fills).
func BenchmarkSample(b *testing.B) {
	m, _ := trained(b)
	rng := runtime.NewRNG(1)
	b.ReportAllocs()
	for b.Loop() {
		Sample(m, "the rays of light ", 256, 0.7, rng)
	}
	b.ReportMetric(float64(b.N*256)/b.Elapsed().Seconds(), "chars/s")
}
