package gen

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/bpgen/bpgen/spec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var randTransformerN = flag.Int("randtransformer.n", 8, "TestRandomTransformers: number of random specs")

// randomTransformerSpec returns a random valid transformer spec for seed:
// token ids through embedding (or a float sequence), an optional positional
// embedding, 1 or 2 blocks of attention (random heads dividing D, causal,
// bias, dropout) and an MLP, each pre-norm or post-norm, with or without
// residual adds, then a per-step head (softmax cross-entropy) or a flattened
// regression head (mse). The layers of TestRandomArchitectures' random specs
// are not drawn here, so that their seeds keep their specs.
func randomTransformerSpec(seed uint64) string {
	r := rand.New(rand.NewPCG(seed, 0xa77e))
	chance := func(p float64) bool { return r.Float64() < p }
	steps := 2 + r.IntN(5)
	heads := []int{1, 2, 4}[r.IntN(3)]
	dim := heads * (1 + r.IntN(3))
	if dim < 3 {
		dim = 3 * heads // layernorm over fewer than 3 features is degenerate (see normable)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "name: rt%d\n", seed)
	tokens := chance(0.5)
	if tokens {
		fmt.Fprintf(&b, "input: [%d]\nlayers:\n  - {name: wte, type: embedding, vocab: 5, dim: %d}\n", steps, dim)
	} else {
		fmt.Fprintf(&b, "input: [%d, %d]\nlayers:\n", steps, dim)
	}
	last := "input"
	if tokens {
		last = "wte"
	}
	if chance(0.7) {
		fmt.Fprintf(&b, "  - {name: wpe, type: positional_embedding}\n")
		last = "wpe"
	}
	for i := range 1 + r.IntN(2) {
		pre := chance(0.7)
		residual := chance(0.7)
		keys := fmt.Sprintf("heads: %d", heads)
		if chance(0.6) {
			keys += ", causal: true"
		}
		if chance(0.3) {
			keys += ", bias: false"
		}
		if chance(0.25) {
			keys += ", dropout: 0.2"
		}
		src := last
		if pre {
			fmt.Fprintf(&b, "  - {name: h.%d.ln_1, type: layernorm}\n", i)
		}
		fmt.Fprintf(&b, "  - {name: h.%d.attn, type: attention, %s}\n", i, keys)
		last = fmt.Sprintf("h.%d.attn", i)
		if residual {
			fmt.Fprintf(&b, "  - {name: h.%d.res_1, type: add, inputs: [%s, %s]}\n", i, last, src)
			last = fmt.Sprintf("h.%d.res_1", i)
		}
		if !pre {
			fmt.Fprintf(&b, "  - {name: h.%d.ln_1, type: layernorm}\n", i)
			last = fmt.Sprintf("h.%d.ln_1", i)
		}
		if chance(0.6) {
			src = last
			act := []string{"gelu", "tanh", "softplus"}[r.IntN(3)]
			fmt.Fprintf(&b, "  - {name: h.%d.ln_2, type: layernorm}\n", i)
			fmt.Fprintf(&b, "  - {name: h.%d.fc, type: dense, units: %d, activation: %s}\n", i, 2*dim, act)
			fmt.Fprintf(&b, "  - {name: h.%d.proj, type: dense, units: %d}\n", i, dim)
			fmt.Fprintf(&b, "  - {name: h.%d.res_2, type: add, inputs: [h.%d.proj, %s]}\n", i, i, src)
			last = fmt.Sprintf("h.%d.res_2", i)
		}
	}
	if chance(0.5) {
		fmt.Fprintf(&b, "  - {name: head, type: dense, units: %d}\nloss: softmax_cross_entropy\n", 2+r.IntN(4))
	} else {
		fmt.Fprintf(&b, "  - {type: flatten}\n  - {name: head, type: dense, units: %d}\nloss: mse\n", 1+r.IntN(3))
	}
	return b.String()
}

// TestRandomTransformers generates -randtransformer.n random transformer
// specs (randomTransformerSpec) as float64 packages and checks, in one
// program, their gradients against central differences (relative error at
// most 1e-6 per tensor, the input included; parameters with noise so that no
// bias is exactly zero), without dropout, TrainBatch against TrainStep and,
// where the package has Step (token ids in, causal attention only, a
// per-step head), Step against Forward at every position of a window.
// A failure prints the specs.
func TestRandomTransformers(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	const trials = 2
	cm := newCheckModule(t)
	var names strings.Builder
	for seed := range uint64(*randTransformerN) {
		text := randomTransformerSpec(seed + 1)
		require.Equal(t, text, randomTransformerSpec(seed+1), "not deterministic")
		m, err := spec.Parse("rt.yaml", []byte(text))
		require.NoError(t, err, "seed %d:\n%s", seed+1, text)
		label := fmt.Sprintf("rt%d", seed+1)
		_, err = cm.add(label, m)
		require.NoError(t, err, "seed %d:\n%s", seed+1, text)
		fmt.Fprintf(&names, "seed %d:\n%s\n", seed+1, text)
	}
	opt := CheckOptions{ParamNoise: 0.05}
	out, err := cm.run(trials, 1, opt)
	t.Logf("%s", out)
	if err != nil && !strings.Contains(out, "\nFAIL\n") {
		require.NoError(t, err, "%s\n%s", out, names.String())
	}
	failed, _ := resolveFailures(t, cm, out, trials, 1, opt, &names)
	assert.Empty(t, failed, "the specs:\n%s", names.String())
	reports, _ := parseCheckOutput(out)
	stepped := 0
	for _, tg := range cm.targets {
		assert.Equal(t, trials, reports[tg.Model.Name], tg.Model.Name)
		if hasTrainBatch(tg.Model) {
			assert.Contains(t, out, "== "+tg.Model.Name+" TrainBatch against TrainStep: ok\n")
		}
		if HasStep(tg.Model) {
			assert.Contains(t, out, "== "+tg.Model.Name+" Step against Forward: ok\n")
			stepped++
		} else {
			assert.NotContains(t, out, "== "+tg.Model.Name+" Step against Forward")
		}
	}
	if *randTransformerN >= 8 {
		assert.GreaterOrEqual(t, stepped, 1, "random transformers with Step (token ids, causal attention, a per-step head)")
	}
}
