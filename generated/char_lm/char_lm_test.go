package char_lm

import (
	"os"
	"testing"

	"github.com/bpgen/bpgen/internal/seqbench"
	"github.com/bpgen/bpgen/runtime"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEncodeDecode(t *testing.T) {
	ids := Encode("Light, and Colours!\t")
	assert.Equal(t, "light, and colours!~", Decode(ids))
	assert.Equal(t, int32(Unknown), ids[len(ids)-1])
	assert.Less(t, Unknown, Layers0Vocab)
	xs, ys := Sequences(Encode("abcdefghijklmnopqrstuvwxyz0123456789"), 2)
	require.Len(t, xs, 2)
	assert.Equal(t, "abcdefghijklmnopqrstuvwxyz012345", Decode(xs[0][:]))
	assert.Equal(t, int(Encode("b")[0]), ys[0][0])
	assert.Equal(t, int(Encode("8")[0]), ys[1][31])
}

// TestLearnsText trains on the first 600 sequences of the text for two epochs
// and requires the loss to fall well below that of guessing uniformly among
// the characters used (ln 56 ≈ 4.03 nats per character).
func TestLearnsText(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a recurrent model")
	}
	text, err := os.ReadFile("../../testdata/text/opticks.txt")
	require.NoError(t, err)
	xs, ys := Sequences(Encode(string(text)), 16)
	xs, ys = xs[:600], ys[:600]
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
	assert.Less(t, after, 3.0)
}

// TestDescent checks the float32 model's plumbing cheaply: the
// float64 gradient check of embedding → gru → per-step dense lives in
// gen/gradcheck_test.go; here the loss must fall along the negative gradient.
func TestDescent(t *testing.T) {
	m := New()
	text := Encode("the rays of light are refracted by the prism and the colours appear")
	xs, ys := Sequences(text, 4)
	m.ZeroGrads()
	loss := m.TrainStep(&xs[0], &ys[0])
	p, g := m.ParamSlice(), m.GradSlice()
	for i := range p {
		p[i] -= 0.05 * g[i]
	}
	after, _ := m.Evaluate(&xs[0], &ys[0])
	assert.Less(t, after, loss)
}

// TestBadTokens: an id outside the vocabulary is an error for Fit and
// ValidInput, and a panic with that error for Forward, never a read outside
// the embedding table.
func TestBadTokens(t *testing.T) {
	m := New()
	var x Input
	x[5] = 64
	assert.EqualError(t, ValidInput(&x), "token 64 at step 5 is out of range [0, 64)")
	_, err := m.Fit([]Input{x}, []Target{{}}, DefaultTrainConfig())
	assert.EqualError(t, err, "sample 0: token 64 at step 5 is out of range [0, 64)")
	assert.PanicsWithError(t, "token 64 at step 5 is out of range [0, 64)", func() { m.Forward(&x) })
	x[5] = 3
	y := Target{}
	y[2] = 70
	_, err = m.Fit([]Input{x}, []Target{y}, DefaultTrainConfig())
	assert.EqualError(t, err, "sample 0: class 70 at step 2 is out of range [0, 64)")
}

// TestZeroAllocs checks that Forward, Backward and TrainStep allocate nothing.
func TestZeroAllocs(t *testing.T) {
	m := New()
	xs, ys := Sequences(Encode("the rays of light are refracted by the prism and the colours appear"), 4)
	var dy Output
	dy[31][3] = 1
	assert.Zero(t, testing.AllocsPerRun(5, func() { m.Forward(&xs[0]) }), "Forward")
	assert.Zero(t, testing.AllocsPerRun(5, func() { m.Backward(&dy) }), "Backward")
	assert.Zero(t, testing.AllocsPerRun(5, func() { m.TrainStep(&xs[0], &ys[0]) }), "TrainStep")
}

// benchText is a sample of the training text for the benchmarks and the
// batch tests: 64 sequences of 32 characters.
func benchText(tb testing.TB) ([]Input, []Target) {
	text, err := os.ReadFile("../../testdata/text/opticks.txt")
	require.NoError(tb, err)
	xs, ys := Sequences(Encode(string(text[:64*16+40])), 16)
	return xs[:64], ys[:64]
}

// TestTrainBatchMatchesTrainStep checks that TrainBatch over 75 sequences
// (two full chunks and a partial one, in a shuffled order) gives TrainStep's
// summed loss and gradients within float32 rounding, and that TrainBatch
// and ForwardBatch allocate nothing.
func TestTrainBatchMatchesTrainStep(t *testing.T) {
	text, err := os.ReadFile("../../testdata/text/opticks.txt")
	require.NoError(t, err)
	xs, ys := Sequences(Encode(string(text[:4000])), 16)
	n := 2*BatchChunk + 11
	xs, ys = xs[:n], ys[:n]
	idx := make([]int, n)
	for i := range idx {
		idx[i] = (i * 7) % n
	}
	a, b := New(), New()
	require.NoError(t, runtime.CompareTrainBatch[float32, Input, Target](a, b, Tensors, xs, ys, idx, 1e-4))
	assert.Zero(t, testing.AllocsPerRun(3, func() { b.TrainBatch(xs, ys, idx) }), "TrainBatch allocates")
	out := make([]Output, n)
	assert.Zero(t, testing.AllocsPerRun(3, func() { b.ForwardBatch(xs, out) }), "ForwardBatch allocates")
	for i := range 3 {
		assert.InDeltaSlice(t, b.Forward(&xs[i])[5][:], out[i][5][:], 1e-4, "ForwardBatch row %d", i)
	}
}

// BenchmarkTrainStep measures TrainStep (forward and backward of one
// sequence, no optimizer step) in samples/s and tokens (characters)/s.
func BenchmarkTrainStep(b *testing.B) {
	xs, ys := benchText(b)
	seqbench.TrainStep[Input, Target](b, New(), xs, ys, len(Input{}))
}

// BenchmarkTrainBatch is BenchmarkTrainStep through TrainBatch, 32
// sequences a call (the spec's batch).
func BenchmarkTrainBatch(b *testing.B) {
	xs, ys := benchText(b)
	seqbench.TrainBatch[Input, Target](b, New(), xs, ys, 32, len(Input{}))
}
