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

// extremeIn is the input of the activation cases: one very large, one very
// negative and one zero pre-activation.
const extremeIn = "1e4, -1e4, 0"

// extremeActs are activation layers fed extremeIn directly, with the expected
// output and the input gradient for dy = [1, 2, 3], worked out by hand.
var extremeActs = []struct {
	name, layer, forward, backward string
}{
	{"relu", "{type: relu}", "1e4, 0, 0", "1, 0, 0"},
	{"relu6", "{type: relu6}", "6, 0, 0", "0, 0, 0"}, // saturated above 6: no gradient
	{"leaky_relu", "{type: leaky_relu, alpha: 0.01}", "1e4, -100, 0", "1, 0.02, 0.03"},
	{"elu", "{type: elu}", "1e4, -1, 0", "1, 0, 3"},                             // da/dz = a + α below 0
	{"gelu", "{type: gelu}", "1e4, 0, 0", "1, 0, 1.5"},                          // Φ(z) + z φ(z)
	{"sigmoid", "{type: sigmoid}", "1, 0, 0.5", "0, 0, 0.75"},                   // a(1 − a)
	{"tanh", "{type: tanh}", "1, -1, 0", "0, 0, 3"},                             // 1 − a²
	{"softplus", "{type: softplus}", "1e4, 0, 0.6931471805599453", "1, 0, 1.5"}, // sigmoid(z)
	{"softmax", "{type: softmax}", "1, 0, 0", "0, 0, 0"},                        // a ⊙ (dy − ⟨dy, a⟩)
}

// extremeLosses are a dense layer with identity weights and zero biases (so
// its pre-activations are the input) with an activation and a loss: the loss
// of one TrainStep and the gradient of [weight (row-major), bias], by hand.
var extremeLosses = []struct {
	name, yaml, x, y, loss, grads string
}{
	// logits [1e4, -1e4, 0], class 1: loss 2e4, dz = softmax − onehot = [1, −1, 0].
	{"logits_sce", "layers: [{type: dense, units: 3}]\nloss: softmax_cross_entropy",
		extremeIn, "1", "2e4", "1e4, -1e4, 0, -1e4, 1e4, 0, 0, 0, 0, 1, -1, 0"},
	// max(z,0) − zt + log1p(e^−|z|) = [1e4, 1e4, ln 2]; dz = (σ(z) − t)/3 = [1/3, −1/3, −1/6].
	{"logits_bce", "layers: [{type: dense, units: 3}]\nloss: binary_cross_entropy_with_logits",
		extremeIn, "0, 1, 1", "(2e4 + math.Ln2) / 3",
		"1e4 / 3, -1e4 / 3, 0, -1e4 / 3, 1e4 / 3, 0, -1e4 / 6, 1e4 / 6, 0, 1.0 / 3, -1.0 / 3, -1.0 / 6"},
	// p = σ(z) = [1, 0, 0.5]: the log terms are clamped at −100; dL/dp is
	// about ±1e12/3 where p is 0 or 1, but σ' = 0 there, so dz = [0, 0, −1/6].
	{"sigmoid_bce", "layers: [{type: dense, units: 3, activation: sigmoid}]\nloss: binary_cross_entropy",
		extremeIn, "0, 1, 1", "(200 + math.Ln2) / 3", "0, 0, 0, 0, 0, 0, -1e4 / 6, 1e4 / 6, 0, 0, 0, -1.0 / 6"},
	// z = [1e4, 1e4, −1e4]: a = [½, ½, 0]; against [1, 0, 0] the loss is 1/6,
	// dL/da = [−⅓, ⅓, 0], ⟨dL/da, a⟩ = 0, dz = [−1/6, 1/6, 0].
	{"softmax_mse", "layers: [{type: dense, units: 3, activation: softmax}]\nloss: mse",
		"1e4, 1e4, -1e4", "1, 0, 0", "1.0 / 6",
		"-1e4 / 6, -1e4 / 6, 1e4 / 6, 1e4 / 6, 1e4 / 6, -1e4 / 6, 0, 0, 0, -1.0 / 6, 1.0 / 6, 0"},
}

// TestExtremePreActivations generates float32 and float64 packages whose
// activations and losses see pre-activations of ±1e4 (every activation as a
// layer; softmax and sigmoid also as the activation of dense; the three
// losses on logits or probabilities), and runs a test in a temporary module
// that checks the forward values, the input gradients, the losses and the
// parameter gradients against values worked out by hand: finite, and
// correct to rounding.
func TestExtremePreActivations(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a test program")
	}
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	dir := t.TempDir()
	var imports, tests strings.Builder
	gen := func(name, yaml string, dtype spec.DType) string {
		pkg := name + "_" + string(dtype)
		m, err := spec.Parse(name+".yaml", []byte("name: "+name+"\ninput: [3]\n"+yaml+"\n"))
		require.NoError(t, err, name)
		src, err := Generate(m, Options{Package: pkg, DType: dtype})
		require.NoError(t, err, name)
		require.NoError(t, os.MkdirAll(filepath.Join(dir, pkg), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, pkg, "model_gen.go"), src, 0o644))
		fmt.Fprintf(&imports, "\t%q\n", "check/"+pkg)
		return pkg
	}
	for _, dtype := range []spec.DType{spec.Float32, spec.Float64} {
		for _, c := range extremeActs {
			pkg := gen(c.name, "layers: ["+c.layer+"]\nloss: mse", dtype)
			fmt.Fprintf(&tests, `
func Test_%[1]s(t *testing.T) {
	m := %[1]s.New()
	x := %[1]s.Input{%[2]s}
	out := m.Forward(&x)
	check(t, "forward", f64(out[:]), []float64{%[3]s})
	dy := %[1]s.Output{1, 2, 3}
	dx := m.Backward(&dy)
	check(t, "input gradient", f64(dx[:]), []float64{%[4]s})
}
`, pkg, extremeIn, c.forward, c.backward)
		}
		for _, c := range extremeLosses {
			pkg := gen(c.name, c.yaml, dtype)
			target := "%[1]s.Target{%[3]s}"
			if !strings.Contains(c.y, ",") {
				target = "%[1]s.Target(%[3]s)"
			}
			fmt.Fprintf(&tests, `
func Test_%[1]s(t *testing.T) {
	m := %[1]s.New()
	clear(m.ParamSlice())
	for i := range 3 {
		m.Params.Layers0Weight[i][i] = 1
	}
	x := %[1]s.Input{%[2]s}
	y := `+target+`
	m.ZeroGrads()
	loss := m.TrainStep(&x, &y)
	check(t, "loss", []float64{loss}, []float64{%[4]s})
	check(t, "gradient", f64(m.GradSlice()), []float64{%[5]s})
}
`, pkg, c.x, c.y, c.loss, c.grads)
		}
	}
	src := fmt.Sprintf(`package check

import (
	"math"
	"testing"

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
	if len(got) != len(want) {
		t.Fatalf("%%s: %%d values, want %%d", what, len(got), len(want))
	}
	for i := range got {
		if math.IsNaN(got[i]) || math.IsInf(got[i], 0) || math.Abs(got[i]-want[i]) > 1e-6*max(1, math.Abs(want[i])) {
			t.Errorf("%%s: element %%d is %%v, want %%v (all: %%v)", what, i, got[i], want[i], got)
		}
	}
}
%s`, imports.String(), tests.String())
	require.NoError(t, os.WriteFile(filepath.Join(dir, "check_test.go"), []byte(src), 0o644))
	writeModule(t, dir, root)
	cmd := exec.Command("go", "test", "-count=1", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
}
