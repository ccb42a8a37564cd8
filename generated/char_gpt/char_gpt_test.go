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

// BenchmarkSample generates text one character at a time, each character
// running the whole 32-step window again (no key/value cache yet).
func BenchmarkSample(b *testing.B) {
	m := New()
	rng := runtime.NewRNG(1)
	b.ReportAllocs()
	for b.Loop() {
		Sample(m, "the rays of light ", 16, 0.7, rng)
	}
	b.ReportMetric(float64(b.N*16)/b.Elapsed().Seconds(), "chars/s")
}
