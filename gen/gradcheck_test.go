package gen

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpgen/bpgen/spec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gradCases cover every layer kind and option: each is generated as a float64
// package, compiled into one program and checked against central differences
// (relative error ≤ 1e-6 per tensor, the input included) on random inputs.
var gradCases = []struct{ name, yaml string }{
	{"dense_linear_mse", `
input: [5]
layers: [{type: dense, units: 3}]
loss: mse`},
	{"dense_nobias_mae", `
input: [9]
layers: [{type: dense, units: 4, bias: false, activation: tanh}, {type: dense, units: 2}]
loss: mae`},
	{"dense_relu_huber", `
input: [17]
layers: [{type: dense, units: 11, activation: relu}, {type: dense, units: 3}]
loss: {type: huber, delta: 0.5}
init: {scheme: he_normal, seed: 3}`},
	{"dense_acts", `
input: [8]
layers:
  - {type: dense, units: 8, activation: leaky_relu, alpha: 0.2}
  - {type: dense, units: 8, activation: elu, alpha: 0.7}
  - {type: dense, units: 8, activation: gelu}
  - {type: dense, units: 8, activation: softplus}
  - {type: dense, units: 8, activation: sigmoid}
  - {type: dense, units: 4, activation: softmax}
loss: mse`},
	{"act_layers", `
input: [12]
layers:
  - {type: relu}
  - {type: dense, units: 10}
  - {type: leaky_relu}
  - {type: dense, units: 10}
  - {type: elu}
  - {type: dense, units: 10}
  - {type: gelu}
  - {type: tanh}
  - {type: softplus}
  - {type: linear}
  - {type: dense, units: 6}
  - {type: softmax}
loss: mse`},
	{"softmax_ce", `
input: [20]
layers: [{type: dense, units: 16, activation: relu}, {type: dense, units: 10}]
loss: softmax_cross_entropy
init: {scheme: xavier_uniform, seed: 5}`},
	{"bce", `
input: [6]
layers: [{type: dense, units: 5, activation: tanh}, {type: dense, units: 3, activation: sigmoid}]
loss: binary_cross_entropy`},
	{"bce_logits", `
input: [6]
layers: [{type: dense, units: 5, activation: gelu}, {type: dense, units: 3}]
loss: binary_cross_entropy_with_logits
init: {scheme: xavier_normal, seed: 2}`},
	{"dropout_training", `
input: [10]
layers:
  - {type: dropout, rate: 0.3}
  - {type: dense, units: 12, activation: tanh}
  - {type: dropout, rate: 0.5}
  - {type: dense, units: 4}
loss: softmax_cross_entropy`},
	{"flatten_image", `
input: [2, 3, 4]
layers:
  - {type: sigmoid}
  - {type: flatten}
  - {type: dense, units: 7, activation: relu}
  - {type: dense, units: 2, activation: sigmoid}
loss: binary_cross_entropy`},
	{"softmax_image_rows", `
input: [3, 5]
layers: [{type: softmax}, {type: flatten}, {type: dense, units: 2}]
loss: mse`},
}

// TestGradientsAllKinds generates every case into one temporary module that
// uses this repository through a replace directive, runs it, and requires
// every tensor of every case to pass.
func TestGradientsAllKinds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	dir := t.TempDir()
	var imports, checks strings.Builder
	for i, c := range gradCases {
		pkg := fmt.Sprintf("c%d", i)
		m, err := spec.Parse(c.name+".yaml", []byte("name: "+c.name+"\ndtype: float64"+c.yaml))
		require.NoError(t, err, c.name)
		src, err := Generate(m, Options{Package: pkg})
		require.NoError(t, err, c.name)
		require.NoError(t, os.MkdirAll(filepath.Join(dir, pkg), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, pkg, "model_gen.go"), src, 0o644))
		fmt.Fprintf(&imports, "\t%q\n", "check/"+pkg)
		target := "fill(y[:], rng, false)"
		if m.Loss.Kind == "softmax_cross_entropy" {
			target = fmt.Sprintf("y = %s.Target(rng.Intn(%s.OutputSize))", pkg, pkg)
		} else if strings.HasPrefix(m.Loss.Kind, "binary") {
			target = "fill(y[:], rng, true)"
		}
		fmt.Fprintf(&checks, `	{
		m := %[1]s.New()
		m.SetTraining(true)
		rng := runtime.NewRNG(%[3]d)
		for trial := 0; trial < 3; trial++ {
			var x %[1]s.Input
			var y %[1]s.Target
			fill(unsafe.Slice((*float64)(unsafe.Pointer(&x)), %[1]s.InputSize), rng, false)
			%[4]s
			rep := m.CheckGradients(&x, &y, runtime.CheckOptions{Seed: uint64(trial)})
			fmt.Printf("== %[2]s trial %%d\n%%s\n", trial, rep)
			if !rep.Pass {
				failed = true
			}
		}
	}
`, pkg, c.name, i+1, target)
	}
	mainSrc := `package main

import (
	"fmt"
	"os"
	"unsafe"

	"github.com/bpgen/bpgen/runtime"
` + imports.String() + `)

// fill writes normal values (or uniform values in (0,1) for probabilities).
func fill(v []float64, rng *runtime.RNG, prob bool) {
	for i := range v {
		if prob {
			v[i] = 0.05 + 0.9*rng.Float64()
		} else {
			v[i] = rng.NormFloat64()
		}
	}
}

func main() {
	failed := false
` + checks.String() + `	if failed {
		fmt.Println("FAILED")
		os.Exit(1)
	}
}
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(mainSrc), 0o644))
	writeModule(t, dir, root)
	cmd := exec.Command("go", "run", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	require.NoError(t, err)
	assert.NotContains(t, string(out), "FAIL")
	assert.Equal(t, 3*len(gradCases), strings.Count(string(out), "== "))
}

// writeModule writes a go.mod naming module "check" that uses the bpgen
// module at root, and copies root's go.sum.
func writeModule(t *testing.T, dir, root string) {
	t.Helper()
	mod := fmt.Sprintf("module check\n\ngo 1.26\n\nrequire github.com/bpgen/bpgen v0.0.0\n\nreplace github.com/bpgen/bpgen => %s\n", root)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte(mod), 0o644))
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644))
}
