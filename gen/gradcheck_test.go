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
	{"conv_valid_stride1", `
input: [2, 6, 5]
layers:
  - {type: conv2d, filters: 3, kernel: 3, activation: relu}
  - {type: flatten}
  - {type: dense, units: 4}
loss: softmax_cross_entropy`},
	{"conv_same_stride2_nonsquare", `
input: [3, 7, 6]
layers:
  - {type: conv2d, filters: 2, kernel: [2, 3], stride: 2, padding: same, activation: tanh}
  - {type: flatten}
  - {type: dense, units: 3}
loss: mse`},
	{"conv_explicit_dilated_nobias", `
input: [2, 9, 8]
layers:
  - {type: conv2d, filters: 3, kernel: 3, stride: [1, 2], padding: [1, 2], dilation: 2, bias: false, activation: gelu}
  - {type: conv2d, filters: 2, kernel: [3, 2], dilation: [2, 1], padding: same, activation: sigmoid}
  - {type: flatten}
  - {type: dense, units: 2}
loss: mse`},
	{"conv_same_even_kernel", `
input: [1, 7, 7]
layers:
  - {type: conv2d, filters: 2, kernel: 4, padding: same, activation: elu}
  - {type: global_avgpool2d}
  - {type: dense, units: 3}
loss: softmax_cross_entropy`},
	{"maxpool_overlap_padded", `
input: [2, 7, 6]
layers:
  - {type: conv2d, filters: 3, kernel: 2, activation: tanh}
  - {type: maxpool2d, size: 3, stride: 2, padding: 1}
  - {type: maxpool2d, size: [2, 1]}
  - {type: flatten}
  - {type: dense, units: 3}
loss: softmax_cross_entropy`},
	{"avgpool_overlap_padded", `
input: [2, 8, 7]
layers:
  - {type: conv2d, filters: 2, kernel: 3, padding: 1, activation: softplus}
  - {type: avgpool2d, size: 3, stride: [2, 1], padding: 1}
  - {type: avgpool2d, size: 2}
  - {type: flatten}
  - {type: dense, units: 2, activation: sigmoid}
loss: binary_cross_entropy`},
	{"rnn_tanh_last", `
input: [6, 3]
layers: [{type: rnn, units: 5}, {type: dense, units: 2}]
loss: mse`},
	{"rnn_relu_seq_nobias", `
input: [4, 3]
layers: [{type: rnn, units: 4, activation: relu, return_sequences: true, bias: false}, {type: flatten}, {type: dense, units: 3}]
loss: softmax_cross_entropy`},
	{"lstm_seq_per_step_dense", `
input: [5, 2]
layers: [{type: lstm, units: 4, return_sequences: true}, {type: dense, units: 3, activation: tanh}]
loss: mse`},
	{"lstm_last_nobias", `
input: [7, 3]
layers: [{type: lstm, units: 3, bias: false}, {type: dense, units: 2}]
loss: softmax_cross_entropy`},
	{"gru_stacked", `
input: [5, 3]
layers:
  - {type: gru, units: 4, return_sequences: true}
  - {type: dropout, rate: 0.2}
  - {type: lstm, units: 3, return_sequences: true}
  - {type: gru, units: 3}
  - {type: dense, units: 2, activation: sigmoid}
loss: binary_cross_entropy`},
	{"embedding_gru_per_step_ce", `
input: [6]
layers:
  - {type: embedding, vocab: 9, dim: 4}
  - {type: gru, units: 5, return_sequences: true}
  - {type: dense, units: 9}
loss: softmax_cross_entropy`},
	{"embedding_lstm_many_to_one", `
input: [5]
layers:
  - {type: embedding, vocab: 7, dim: 3}
  - {type: lstm, units: 4}
  - {type: dense, units: 3}
loss: softmax_cross_entropy`},
	{"wide_rows_kernels", `
input: [2, 3, 20]
layers:
  - {type: conv2d, filters: 2, kernel: 3, padding: 1, activation: tanh}
  - {type: flatten}
  - {type: dense, units: 17, activation: gelu}
  - {type: dense, units: 3}
loss: softmax_cross_entropy`},
	{"recurrent_wide_kernels", `
input: [3, 17]
layers:
  - {type: rnn, units: 16, return_sequences: true}
  - {type: lstm, units: 16, return_sequences: true}
  - {type: gru, units: 16}
  - {type: dense, units: 2}
loss: mse`},
	{"lenet_like", `
input: [1, 12, 12]
layers:
  - {type: conv2d, filters: 4, kernel: 5, padding: 2, activation: relu}
  - {type: maxpool2d, size: 2}
  - {type: conv2d, filters: 6, kernel: 3, activation: relu}
  - {type: maxpool2d, size: 2}
  - {type: flatten}
  - {type: dense, units: 10, activation: relu}
  - {type: dropout, rate: 0.25}
  - {type: dense, units: 5}
loss: softmax_cross_entropy`},
}

// TestGradientsAllKinds generates every case into one temporary module that
// uses this repository through a replace directive, builds the program of
// CheckProgram for all of them, runs it, and requires every tensor of every
// case to pass.
func TestGradientsAllKinds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	const trials = 3
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	dir := t.TempDir()
	var targets []CheckTarget
	for i, c := range gradCases {
		pkg := fmt.Sprintf("c%d", i)
		m, err := spec.Parse(c.name+".yaml", []byte("name: "+c.name+"\ndtype: float64"+c.yaml))
		require.NoError(t, err, c.name)
		src, err := Generate(m, Options{Package: pkg})
		require.NoError(t, err, c.name)
		require.NoError(t, os.MkdirAll(filepath.Join(dir, pkg), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, pkg, "model_gen.go"), src, 0o644))
		targets = append(targets, CheckTarget{ImportPath: "check/" + pkg, Alias: pkg, Model: m})
	}
	mainSrc, err := CheckProgram(targets, trials, 1, CheckOptions{})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), mainSrc, 0o644))
	writeModule(t, dir, root)
	cmd := exec.Command("go", "run", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	require.NoError(t, err)
	assert.NotContains(t, string(out), "FAIL")
	assert.Equal(t, trials*len(gradCases), strings.Count(string(out), " trial "))
	batched := 0
	for i, c := range gradCases {
		assert.Contains(t, string(out), "== "+c.name+" trial 3\n", c.name)
		if p, err := newPlan(targets[i].Model, "p", ""); err == nil && p.batch() {
			assert.Contains(t, string(out), "== "+c.name+" TrainBatch against TrainStep: ok\n", c.name)
			batched++
		}
	}
	assert.GreaterOrEqual(t, batched, 10, "cases with whole-batch training")
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
