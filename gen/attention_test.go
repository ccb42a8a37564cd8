package gen

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpgen/bpgen/spec"
	"github.com/stretchr/testify/require"
)

// attentionByHand are attention layers on T = 2 steps of D = 2 features with
// one head, identity projections (in_proj_weight = [I; I; I], so q = k = v =
// x, and out_proj.weight = I) and zero biases, so y = P·x with
// P = softmax(x·xᵀ/√2) row by row (scale 1/√(D/heads) = 1/√2).
//
// x = I: the scores are [[1/√2, 0], [0, 1/√2]], so a row of P is
// [σ(1/√2), 1 − σ(1/√2)] with σ(1/√2) = 1/(1 + e^(−0.70710678)) =
// 0.6697615493266569, and y = P. With causal, row 0 sees only step 0: P[0] =
// [1, 0]; row 1 is unchanged.
//
// x = 1000·I: the scores are 1e6/√2 on the diagonal and 0 off it; a softmax
// without the maximum subtracted overflows (e^707106 = +Inf, Inf/Inf = NaN);
// the stable one gives P = I and y = x exactly.
var attentionByHand = []struct {
	name, keys, x, y string
}{
	{"identity", "", "1, 0, 0, 1",
		"0.6697615493266569, 0.3302384506733431, 0.3302384506733431, 0.6697615493266569"},
	{"identity_causal", ", causal: true", "1, 0, 0, 1",
		"1, 0, 0.3302384506733431, 0.6697615493266569"},
	{"large", "", "1000, 0, 0, 1000", "1000, 0, 0, 1000"},
	{"large_causal", ", causal: true", "1000, 0, 0, 1000", "1000, 0, 0, 1000"},
}

// TestAttentionByHand generates the cases of attentionByHand as float32 and
// float64 packages and runs a test in a temporary module that sets the
// identity projections and compares Forward with the values worked out by
// hand, and checks that Forward, TrainStep and TrainBatch allocate nothing.
func TestAttentionByHand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a test program")
	}
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	dir := t.TempDir()
	var imports, tests strings.Builder
	for _, dtype := range []spec.DType{spec.Float32, spec.Float64} {
		for _, c := range attentionByHand {
			pkg := c.name + "_" + string(dtype)
			yaml := fmt.Sprintf("name: %s\ninput: [2, 2]\nlayers:\n  - {name: attn, type: attention, heads: 1%s}\nloss: mse\n", pkg, c.keys)
			m, err := spec.Parse(pkg+".yaml", []byte(yaml))
			require.NoError(t, err, pkg)
			src, err := Generate(m, Options{Package: pkg, DType: dtype})
			require.NoError(t, err, pkg)
			require.NoError(t, os.MkdirAll(filepath.Join(dir, pkg), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(dir, pkg, "model_gen.go"), src, 0o644))
			fmt.Fprintf(&imports, "\t%q\n", "check/"+pkg)
			fmt.Fprintf(&tests, `
func Test_%[1]s(t *testing.T) {
	m := %[1]s.New()
	clear(m.ParamSlice())
	for i := range 2 {
		for r := range 3 {
			m.Params.AttnInProjWeight[r*2+i][i] = 1
		}
		m.Params.AttnOutProjWeight[i][i] = 1
	}
	x := %[1]s.Input{{%[2]s}}
	got := m.Forward(&x)
	check(t, "forward", f64(unsafe.Slice(&got[0][0], 4)), []float64{%[3]s})
	var y %[1]s.Target
	xs, ys, idx := []%[1]s.Input{x, x}, []%[1]s.Target{y, y}, []int{0, 1}
	if n := testing.AllocsPerRun(10, func() {
		m.Forward(&x)
		m.TrainStep(&x, &y)
		m.TrainBatch(xs, ys, idx)
	}); n != 0 {
		t.Errorf("Forward, TrainStep and TrainBatch allocate %%v times", n)
	}
}
`, pkg, strings.Replace(c.x, ", 0, 0, ", ", 0}, {0, ", 1), c.y)
		}
	}
	src := fmt.Sprintf(`package check

import (
	"math"
	"testing"
	"unsafe"

%s)

// f64 converts v to float64.
func f64[T float32 | float64](v []T) []float64 {
	r := make([]float64, len(v))
	for i, x := range v {
		r[i] = float64(x)
	}
	return r
}

// check requires got to be finite and within 1e-6 of want, relative to
// max(1, |want|) (float32 rounding; float64 is far closer).
func check(t *testing.T, what string, got, want []float64) {
	t.Helper()
	for i := range want {
		if math.IsNaN(got[i]) || math.IsInf(got[i], 0) || math.Abs(got[i]-want[i]) > 1e-6*max(1, math.Abs(want[i])) {
			t.Errorf("%%s: element %%d is %%v, want %%v (all: %%v)", what, i, got[i], want[i], got)
		}
	}
}
%s`, imports.String(), tests.String())
	require.NoError(t, os.WriteFile(filepath.Join(dir, "check_test.go"), []byte(src), 0o644))
	writeModule(t, dir, root)
	cmd := exec.Command("go", "test", "-count=1", "-v", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Equal(t, 2*len(attentionByHand), strings.Count(string(out), "--- PASS"), "%s", out)
}

// TestAttentionSummary checks the FLOPs of an attention layer against the
// count worked out by hand, and that the memory of a Model holds the H·T²
// attention weights of every row of the chunk.
func TestAttentionSummary(t *testing.T) {
	parse := func(heads int) *Summary {
		m, err := spec.Parse("s.yaml", []byte(fmt.Sprintf(`name: s
input: [8, 16]
layers:
  - {name: attn, type: attention, heads: %d, causal: true}
loss: mse
`, heads)))
		require.NoError(t, err)
		s, err := Summarize(m)
		require.NoError(t, err)
		return s
	}
	s2, s4 := parse(2), parse(4)
	// T = 8, D = 16, causal: 36 pairs (t, j ≤ t).
	// in_proj 2·8·16·48 = 12288, out_proj 2·8·16·16 = 4096,
	// q·kᵀ and P·v 2·2·36·16 = 2304, softmax 5·36·heads, biases 4·8·16 = 512.
	require.Len(t, s2.Layers, 1)
	require.Equal(t, int64(12288+4096+2304+5*36*2+512), s2.Layers[0].FLOPs)
	require.Equal(t, int64(12288+4096+2304+5*36*4+512), s4.Layers[0].FLOPs)
	require.Equal(t, 4*16*16+4*16, s2.Params)
	// Two more heads: 2·8·8 more float32 attention weights in every row.
	require.Equal(t, s2.BatchChunk, s4.BatchChunk)
	require.Equal(t, int64(s2.BatchChunk)*2*8*8*4, s4.BufferBytes-s2.BufferBytes)
}
