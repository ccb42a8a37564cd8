package gen

import (
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/bpgen/bpgen/spec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gradCaseFilter narrows TestGradientsAllKinds to the cases whose names
// match it: go test ./gen -run TestGradientsAllKinds -gradcases attention
var gradCaseFilter = flag.String("gradcases", "", "check only the gradCases whose names match this regexp")

// gradCases cover every layer kind and option: each is generated as a float64
// package, compiled into one program and checked against central differences
// (relative error ≤ 1e-6 per tensor, the input included) on random inputs.
var gradCases = []struct{ name, yaml string }{
	// batchnorm: the batched check of the check program takes the statistics
	// over a batch of 4; the per-sample trials see a batch of one.
	{"batchnorm_vector", `
input: [6]
layers:
  - {type: dense, units: 5}
  - {name: bn, type: batchnorm}
  - {type: tanh}
  - {type: dense, units: 3}
loss: softmax_cross_entropy
train: {batch: 8}`},
	{"batchnorm_signal_noaffine", `
input: [3, 7]
layers:
  - {type: batchnorm, affine: false, momentum: 0.3, eps: 0.001}
  - {type: flatten}
  - {type: dense, units: 2}
loss: mse`},
	{"batchnorm_image", `
input: [2, 5, 5]
layers:
  - {type: conv2d, filters: 3, kernel: 3, bias: false}
  - {type: batchnorm}
  - {type: relu}
  - {type: conv2d, filters: 2, kernel: 3, padding: same}
  - {type: batchnorm, eps: 0.01}
  - {type: global_avgpool2d}
loss: mse`},
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
	{"maxpool2_odd_sizes", `
input: [2, 8, 10]
layers:
  - {type: conv2d, filters: 3, kernel: 2, activation: tanh}  # [3 7 9]: the last row and column lie in no window
  - {type: maxpool2d, size: 2}
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
	{"avgpool_exclude_pad", `
input: [2, 7, 6]
layers:
  - {type: conv2d, filters: 2, kernel: 2, activation: tanh}
  - {type: avgpool2d, size: 3, stride: 2, padding: 1, count_include_pad: false}
  - {type: avgpool2d, size: [2, 3], stride: 1, padding: [1, 0], count_include_pad: false}
  - {type: flatten}
  - {type: dense, units: 3}
loss: softmax_cross_entropy`},
	{"conv2d_groups", `
input: [4, 6, 5]
layers:
  - {type: conv2d, filters: 6, kernel: 3, padding: 1, groups: 2, activation: tanh}
  - {type: conv2d, filters: 4, kernel: [2, 3], stride: 2, groups: 2, bias: false}
  - {type: flatten}
  - {type: dense, units: 3}
loss: softmax_cross_entropy`},
	{"conv2d_depthwise", `
input: [3, 6, 20]
layers:
  - {type: conv2d, filters: 3, kernel: 3, padding: same, groups: 3, activation: softplus}
  - {type: conv2d, filters: 6, kernel: 3, stride: [1, 2], groups: 3, dilation: [1, 2], activation: tanh}
  - {type: conv2d, filters: 2, kernel: 1}
  - {type: global_avgpool2d}
  - {type: dense, units: 2}
loss: mse`},
	{"conv2d_grouped_strided", `
input: [4, 7, 9]
layers:
  - {type: conv2d, filters: 2, kernel: 3, stride: 2, padding: same, groups: 2, activation: tanh}
  - {type: conv2d, filters: 2, kernel: 2, stride: [2, 1], padding: 1, dilation: [1, 2], groups: 2}
  - {type: flatten}
  - {type: dense, units: 3}
loss: softmax_cross_entropy`},
	{"conv1d_valid", `
input: [3, 11]
layers:
  - {type: conv1d, filters: 4, kernel: 3, activation: tanh}
  - {type: flatten}
  - {type: dense, units: 3}
loss: softmax_cross_entropy`},
	{"conv1d_same_dilated", `
input: [2, 12]
layers:
  - {type: conv1d, filters: 3, kernel: 4, padding: same, activation: gelu}
  - {type: conv1d, filters: 2, kernel: 3, dilation: 2, padding: same, activation: sigmoid}
  - {type: flatten}
  - {type: dense, units: 2}
loss: mse`},
	{"conv1d_int_pad_stride2_nobias", `
input: [2, 13]
layers:
  - {type: conv1d, filters: 3, kernel: 3, stride: 2, padding: 2, bias: false, activation: elu}
  - {type: conv1d, filters: 2, kernel: 2, stride: 2, dilation: 2}
  - {type: flatten}
  - {type: dense, units: 2, activation: sigmoid}
loss: binary_cross_entropy`},
	{"conv1d_groups", `
input: [4, 10]
layers:
  - {type: conv1d, filters: 6, kernel: 3, padding: 1, groups: 2, activation: tanh}
  - {type: conv1d, filters: 4, kernel: 2, groups: 2, stride: 2}
  - {type: flatten}
  - {type: dense, units: 3}
loss: softmax_cross_entropy`},
	{"conv1d_depthwise", `
input: [3, 20]
layers:
  - {type: conv1d, filters: 3, kernel: 5, padding: 2, groups: 3, activation: softplus}
  - {type: conv1d, filters: 6, kernel: 3, groups: 3, dilation: 2, activation: tanh}
  - {type: conv1d, filters: 6, kernel: 3, stride: 2, padding: 1, groups: 6, bias: false}
  - {type: flatten}
  - {type: dense, units: 2}
loss: mse`},
	{"conv1d_wide_rows", `
input: [2, 40]
layers:
  - {type: conv1d, filters: 4, kernel: 5, padding: same, groups: 2, activation: tanh}
  - {type: conv1d, filters: 2, kernel: 3, activation: gelu}
  - {type: global_avgpool1d}
  - {type: dense, units: 2}
loss: mse`},
	{"pool1d", `
input: [2, 15]
layers:
  - {type: conv1d, filters: 3, kernel: 2, activation: tanh}
  - {type: maxpool1d, size: 3, stride: 2, padding: 1}
  - {type: maxpool1d, size: 2}
  - {type: flatten}
  - {type: dense, units: 3}
loss: softmax_cross_entropy`},
	{"avgpool1d_include_and_exclude_pad", `
input: [2, 16]
layers:
  - {type: conv1d, filters: 2, kernel: 3, activation: softplus}
  - {type: avgpool1d, size: 3, stride: 2, padding: 1}
  - {type: avgpool1d, size: 3, stride: 1, padding: 1, count_include_pad: false}
  - {type: avgpool1d, size: 2}
  - {type: global_avgpool1d}
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
	{"gru_seq_nobias", `
input: [5, 3]
layers: [{type: gru, units: 4, return_sequences: true, bias: false}, {type: dense, units: 2}]
loss: mse`},
	{"recurrent_stacked_last", `
input: [4, 2]
layers:
  - {type: rnn, units: 3, activation: relu, return_sequences: true}
  - {type: gru, units: 4, return_sequences: true}
  - {type: lstm, units: 3, return_sequences: true}
  - {type: rnn, units: 2}
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
	{"add_residual_from_input", `
input: [6]
layers:
  - {name: fc1, type: dense, units: 6, activation: tanh}
  - {name: res, type: add, inputs: [fc1, input]}
  - {type: dense, units: 3}
loss: mse`},
	{"add_three_inputs", `
input: [5]
layers:
  - {name: a, type: dense, units: 4, activation: softplus}
  - {name: b, type: dense, units: 4, activation: sigmoid, inputs: [input]}
  - {name: c, type: dense, units: 4, inputs: [input]}
  - {name: sum, type: add, inputs: [a, b, c]}
  - {type: dense, units: 2}
loss: softmax_cross_entropy`},
	{"multiply_gating", `
input: [6]
layers:
  - {name: gate, type: dense, units: 5, activation: sigmoid}
  - {name: value, type: dense, units: 5, activation: tanh, inputs: [input]}
  - {name: gated, type: multiply, inputs: [gate, value]}
  - {type: dense, units: 3}
loss: mse`},
	{"multiply_three_with_zeros", `
input: [4]
layers:
  - {name: a, type: dense, units: 4, activation: tanh}
  - {name: pos, type: relu, inputs: [input]}
  - {name: b, type: dense, units: 4, inputs: [input]}
  - {name: prod, type: multiply, inputs: [a, pos, b]}
  - {name: prod2, type: multiply, inputs: [prod, input, a]}
  - {type: dense, units: 2}
loss: mse
init: {scheme: he_normal, seed: 3}`},
	{"concat_vector", `
input: [4]
layers:
  - {name: a, type: dense, units: 3, activation: tanh}
  - {name: b, type: dense, units: 2, activation: relu6, inputs: [input]}
  - {name: cat, type: concat, inputs: [a, input, b]}
  - {type: dense, units: 3}
loss: softmax_cross_entropy`},
	{"concat_sequence_both_axes", `
input: [3, 4]
layers:
  - {name: a, type: dense, units: 4, activation: tanh}
  - {name: steps, type: concat, inputs: [a, input], axis: 0}
  - {name: b, type: dense, units: 3, activation: sigmoid}
  - {name: feats, type: concat, inputs: [b, steps], axis: -1}
  - {type: flatten}
  - {type: dense, units: 2}
loss: mse`},
	{"concat_image_every_axis", `
input: [2, 4, 3]
layers:
  - {name: c1, type: conv2d, filters: 3, kernel: 3, padding: same, activation: tanh}
  - {name: channels, type: concat, inputs: [c1, input]}
  - {name: c2, type: conv2d, filters: 5, kernel: [2, 1], activation: softplus, inputs: [input]}
  - {name: rows, type: concat, inputs: [c2, channels], axis: 1}
  - {name: c4, type: conv2d, filters: 5, kernel: [1, 2]}
  - {name: cols, type: concat, inputs: [c4, rows], axis: -1}
  - {type: flatten}
  - {type: dense, units: 3}
loss: softmax_cross_entropy`},
	{"concat_signal_both_axes", `
input: [2, 9]
layers:
  - {name: c0, type: conv1d, filters: 2, kernel: 1}
  - {name: c1, type: conv1d, filters: 3, kernel: 3, padding: same, activation: tanh, inputs: [input]}
  - {name: channels, type: concat, inputs: [c1, c0]}
  - {name: c2, type: conv1d, filters: 5, kernel: 2, activation: relu6, inputs: [input]}
  - {name: length, type: concat, inputs: [channels, c2], axis: 1}
  - {name: c3, type: conv1d, filters: 5, kernel: 3, padding: same, activation: gelu}
  - {name: res, type: add, inputs: [c3, length]}
  - {type: flatten}
  - {type: dense, units: 3}
loss: softmax_cross_entropy`},
	{"relu6_layer_and_activation", `
input: [10]
layers:
  - {type: dense, units: 12, activation: relu6}
  - {type: dense, units: 8}
  - {type: relu6}
  - {type: dense, units: 3}
loss: mse
init: {scheme: he_uniform, seed: 4}`},
	{"layernorm_vector", `
input: [7]
layers:
  - {type: layernorm}
  - {type: dense, units: 6, activation: gelu}
  - {type: layernorm, eps: 0.001}
  - {type: dense, units: 3}
loss: softmax_cross_entropy`},
	{"layernorm_vector_no_affine", `
input: [6]
layers:
  - {type: dense, units: 5}
  - {type: layernorm, affine: false}
  - {type: dense, units: 2}
loss: mse`},
	{"layernorm_sequence", `
input: [4, 5]
layers:
  - {type: layernorm}
  - {type: dense, units: 3, activation: tanh}
  - {type: layernorm, affine: false}
  - {type: gru, units: 3}
  - {type: dense, units: 2}
loss: mse`},
	{"fan_out_three", `
input: [5]
layers:
  - {name: h, type: dense, units: 4, activation: tanh}
  - {name: a, type: dense, units: 3, inputs: [h]}
  - {name: b, type: dense, units: 3, activation: relu6, inputs: [h]}
  - {name: c, type: layernorm, inputs: [h]}
  - {name: d, type: dense, units: 3, activation: sigmoid}
  - {name: sum, type: add, inputs: [a, b, d]}
loss: mse`},
	{"transformer_mlp_block", `
input: [3, 6]
layers:
  - {name: norm, type: layernorm}
  - {name: fc1, type: dense, units: 12, activation: gelu}
  - {name: fc2, type: dense, units: 6}
  - {name: residual, type: add, inputs: [fc2, input]}
  - {name: norm2, type: layernorm, inputs: [residual]}
  - {type: flatten}
  - {type: dense, units: 2}
loss: softmax_cross_entropy`},
	// attention: PyTorch's nn.MultiheadAttention as self-attention; with
	// causal, row t of the weights reads steps ≤ t only.
	{"attention_1head", `
input: [4, 6]
layers:
  - {name: attn, type: attention, heads: 1}
  - {type: flatten}
  - {type: dense, units: 3}
loss: softmax_cross_entropy`},
	{"attention_2heads_causal_per_step_ce", `
input: [5, 8]
layers:
  - {name: attn, type: attention, heads: 2, causal: true}
  - {type: dense, units: 4}
loss: softmax_cross_entropy`},
	{"attention_4heads_causal_nobias", `
input: [6, 8]
layers:
  - {type: dense, units: 8, activation: tanh}
  - {name: attn, type: attention, heads: 4, causal: true, bias: false}
  - {type: flatten}
  - {type: dense, units: 2}
loss: mse`},
	{"attention_2heads_nobias", `
input: [3, 4]
layers:
  - {name: attn, type: attention, heads: 2, bias: false}
  - {type: dense, units: 3}
loss: softmax_cross_entropy`},
	{"attention_4heads_wide", `
input: [7, 16]
layers:
  - {name: attn, type: attention, heads: 4}
  - {type: flatten}
  - {type: dense, units: 3}
loss: mse`},
	// dropout on the attention weights: the check program fixes the masks.
	{"attention_dropout_causal", `
input: [5, 6]
layers:
  - {name: attn, type: attention, heads: 2, causal: true, dropout: 0.3}
  - {type: dense, units: 3}
loss: softmax_cross_entropy`},
	{"attention_dropout_1head", `
input: [4, 4]
layers:
  - {name: attn, type: attention, heads: 1, dropout: 0.5}
  - {type: flatten}
  - {type: dense, units: 2}
loss: mse`},
	{"positional_embedding", `
input: [4, 5]
layers:
  - {name: pos, type: positional_embedding}
  - {type: dense, units: 3, activation: tanh}
loss: mse`},
	// A pre-norm transformer block (GPT-2's order) with a per-step
	// classification head: x + attn(ln1(x)), then h + mlp(ln2(h)).
	{"transformer_block_causal", `
input: [5, 8]
layers:
  - {name: pos, type: positional_embedding}
  - {name: ln1, type: layernorm}
  - {name: attn, type: attention, heads: 2, causal: true}
  - {name: res1, type: add, inputs: [attn, pos]}
  - {name: ln2, type: layernorm}
  - {name: fc, type: dense, units: 16, activation: gelu}
  - {name: proj, type: dense, units: 8}
  - {name: res2, type: add, inputs: [proj, res1]}
  - {name: head, type: dense, units: 6}
loss: softmax_cross_entropy`},
	{"transformer_block_tokens", `
input: [6]
layers:
  - {name: wte, type: embedding, vocab: 7, dim: 8}
  - {name: wpe, type: positional_embedding}
  - {name: ln1, type: layernorm}
  - {name: attn, type: attention, heads: 4, causal: true, dropout: 0.1}
  - {name: res1, type: add, inputs: [attn, wpe]}
  - {name: ln2, type: layernorm}
  - {name: fc, type: dense, units: 16, activation: gelu}
  - {name: proj, type: dense, units: 8}
  - {name: res2, type: add, inputs: [proj, res1]}
  - {name: lnf, type: layernorm}
  - {name: head, type: dense, units: 7}
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
	cm := newCheckModule(t)
	cases := gradCases
	if *gradCaseFilter != "" {
		re, err := regexp.Compile(*gradCaseFilter)
		require.NoError(t, err)
		cases = nil
		for _, c := range gradCases {
			if re.MatchString(c.name) {
				cases = append(cases, c)
			}
		}
		require.NotEmpty(t, cases, "no case matches -gradcases %s", *gradCaseFilter)
	}
	for _, c := range cases {
		m, err := spec.Parse(c.name+".yaml", []byte("name: "+c.name+"\ndtype: float64"+c.yaml))
		require.NoError(t, err, c.name)
		_, err = cm.add(c.name, m)
		require.NoError(t, err, c.name)
	}
	out, err := cm.run(trials, 1, CheckOptions{})
	t.Logf("%s", out)
	if err != nil && !strings.Contains(out, "\nFAIL\n") {
		require.NoError(t, err)
	}
	reports, _ := parseCheckOutput(out)
	var names strings.Builder
	for i, c := range cases {
		fmt.Fprintf(&names, "c%d: %s\n", i, c.name)
	}
	failed, _ := resolveFailures(t, cm, out, trials, 1, CheckOptions{}, &names)
	assert.Empty(t, failed)
	assert.Equal(t, trials*len(cases), strings.Count(out, " trial "))
	batched := 0
	for i, c := range cases {
		assert.Equal(t, trials, reports[c.name], c.name)
		assert.Contains(t, out, "== "+c.name+" trial 3\n", c.name)
		if hasTrainBatch(cm.targets[i].Model) {
			assert.Contains(t, out, "== "+c.name+" TrainBatch against TrainStep: ok\n", c.name)
			batched++
		}
	}
	if *gradCaseFilter == "" {
		assert.GreaterOrEqual(t, batched, 10, "cases with whole-batch training")
	}
}

// checkModule is a temporary module "check" that uses this repository
// through a replace directive; it holds generated float64 packages
// check/c0, check/c1, … and the check program of CheckProgram for them.
type checkModule struct {
	dir     string
	targets []CheckTarget
}

func newCheckModule(t *testing.T) *checkModule {
	t.Helper()
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	cm := &checkModule{dir: t.TempDir()}
	writeModule(t, cm.dir, root)
	return cm
}

// add generates m as the float64 package c<N> (N: the number of packages
// added before), writes it into the module and adds it to the checked
// targets, labelled label in the program's reports. It returns the source.
func (cm *checkModule) add(label string, m *spec.Model) ([]byte, error) {
	pkg := fmt.Sprintf("c%d", len(cm.targets))
	src, err := Generate(m, Options{Package: pkg, DType: spec.Float64})
	if err != nil {
		return src, err
	}
	if err := os.MkdirAll(filepath.Join(cm.dir, pkg), 0o755); err != nil {
		return src, err
	}
	if err := os.WriteFile(filepath.Join(cm.dir, pkg, "model_gen.go"), src, 0o644); err != nil {
		return src, err
	}
	labelled := *m
	labelled.Name = label
	cm.targets = append(cm.targets, CheckTarget{ImportPath: "check/" + pkg, Alias: pkg, Model: &labelled})
	return src, nil
}

// writeFile writes a file into the module's main package, beside main.go.
func (cm *checkModule) writeFile(name string, src []byte) error {
	return os.WriteFile(filepath.Join(cm.dir, name), src, 0o644)
}

// run writes main.go, the check program of every target (CheckProgram with
// trials, seed and opt), and runs the main package with go run. It returns
// the combined output and the error of go run (the build's or the exit
// status: 1 if a tensor failed).
func (cm *checkModule) run(trials int, seed uint64, opt CheckOptions) (string, error) {
	mainSrc, err := CheckProgram(cm.targets, trials, seed, opt)
	if err != nil {
		return "", err
	}
	if err := cm.writeFile("main.go", mainSrc); err != nil {
		return "", err
	}
	cmd := exec.Command("go", "run", ".")
	cmd.Dir = cm.dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// parseCheckOutput reads the output of a check program: the number of trial
// reports ("== LABEL trial K" and its table) per label, and the failing
// tensors, as "LABEL trial K: TENSOR", with their largest absolute error.
func parseCheckOutput(out string) (reports map[string]int, failed map[string]float64) {
	reports, failed = map[string]int{}, map[string]float64{}
	label, trial := "", ""
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, "== "); ok {
			label = ""
			if i := strings.LastIndex(rest, " trial "); i > 0 {
				label, trial = rest[:i], rest[i+1:]
				reports[label]++
			} else if i := strings.LastIndex(rest, " batch of "); i > 0 {
				label, trial = rest[:i], "batch" // the batched check (CheckGradientsBatch)
			}
			continue
		}
		if line == "" {
			label = ""
		}
		f := strings.Fields(line)
		if label == "" || len(f) < 6 || f[len(f)-1] != "FAIL" || f[0] == "total:" {
			continue
		}
		// tensor (one or two words: "input 3"), size, checked, max abs err, rel err, FAIL
		abs, err := strconv.ParseFloat(f[len(f)-3], 64)
		if err != nil {
			abs = math.Inf(1)
		}
		failed[label+" "+trial+": "+strings.Join(f[:len(f)-5], " ")] = abs
	}
	return reports, failed
}

// checkReports returns the trial reports of label in the output of a check
// program, for messages.
func checkReports(out, label string) string {
	var b strings.Builder
	in := false
	for _, line := range strings.SplitAfter(out, "\n") {
		if rest, ok := strings.CutPrefix(line, "== "); ok {
			in = strings.HasPrefix(rest, label+" trial ")
		}
		if in {
			b.WriteString(line)
		}
	}
	return b.String()
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

// resolveFailures returns the failing tensors of a check program's output
// (label and trial → max abs error) that fail for a reason other than the
// limits of finite differences, and the outputs of the reruns by step.
//
// A correct gradient can still fail the check in two ways: a central
// difference of step 1e-5 straddles a kink (ReLU at 0, a max-pooling
// switch, mae at its target) the inputs happen to come within 1e-5 of,
// or a tensor's gradient is so small (below about 1e-5) that the
// rounding error of the loss divided by the step, about 1e-11 for a loss
// of order 1, is more than 1e-6 of it. Check the failing tensors again at
// the same inputs with steps of 1e-6 (10 times fewer kinks straddled),
// 1e-4 and 1e-3 (10 and 100 times less rounding error; the truncation
// error grows as the step squared). A tensor passes if with some step
// its relative error is at most 1e-6: a numeric estimate agreeing with
// the analytic gradient to 1e-6, which a wrong one does not. Failing
// that, it passes as "below resolution" if with some step h every
// element agrees within 1e-15/h, 10 times the rounding error: finite
// differences cannot tell a gradient error smaller than that.
func resolveFailures(t *testing.T, cm *checkModule, out string, trials int, first uint64, opt CheckOptions, packages fmt.Stringer) (map[string]float64, map[float64]string) {
	t.Helper()
	_, failed := parseCheckOutput(out)
	retries := map[float64]string{}
	belowResolution := func(abs, eps float64) bool { return abs <= 1e-15/eps }
	unresolved := map[string]bool{} // failed with every step so far, not below resolution
	for key, abs := range failed {
		unresolved[key] = !belowResolution(abs, 1e-5)
	}
	for _, eps := range []float64{1e-6, 1e-4, 1e-3} {
		if len(failed) == 0 {
			break
		}
		o := opt
		o.Eps = eps
		again, err := cm.run(trials, first, o)
		if err != nil && !strings.Contains(again, "\nFAIL\n") {
			t.Fatalf("check program with step %g: %v\n%s\nthe packages:\n%s", eps, err, again, packages)
		}
		retries[eps] = again
		_, failedAgain := parseCheckOutput(again)
		for _, key := range sortedKeys(failed) {
			abs, stillFails := failedAgain[key]
			switch {
			case !stillFails:
				t.Logf("%s failed with step 1e-5, passed with step %g", key, eps)
				delete(failed, key)
				delete(unresolved, key)
			case unresolved[key] && belowResolution(abs, eps):
				unresolved[key] = false
			}
		}
	}
	for _, key := range sortedKeys(failed) {
		if !unresolved[key] {
			t.Logf("%s: relative error above 1e-6 with every step, but the absolute error is below the resolution of finite differences with some step", key)
			delete(failed, key)
		}
	}
	return failed, retries
}
