package spec

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the expected errors in ../testdata/invalid/*.err")

// TestInvalid parses every ../testdata/invalid/NAME.yaml and compares the
// error text with NAME.err exactly. go test ./spec -update rewrites the .err files.
func TestInvalid(t *testing.T) {
	specs, err := filepath.Glob("../testdata/invalid/*.yaml")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(specs), 25, "invalid specs")
	for _, path := range specs {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			m, err := Parse(filepath.Base(path), data)
			require.Error(t, err, "spec parsed without error")
			assert.Nil(t, m)
			var list ErrorList
			require.True(t, errors.As(err, &list), "error is %T, not an ErrorList", err)
			assert.True(t, slices.IsSortedFunc(list, func(a, b *Error) int {
				if a.Pos.Line != b.Pos.Line {
					return a.Pos.Line - b.Pos.Line
				}
				return a.Pos.Col - b.Pos.Col
			}), "errors not sorted")
			for _, e := range list {
				assert.NotContains(t, e.Msg, "internal error")
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(path, ".yaml") + ".err"
			if *update {
				require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
				return
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test ./spec -update to create it")
			assert.Equal(t, string(want), got)
		})
	}
}

// TestInvalidHasSpec checks that no .err file has lost its spec.
func TestInvalidHasSpec(t *testing.T) {
	errs, err := filepath.Glob("../testdata/invalid/*.err")
	require.NoError(t, err)
	for _, path := range errs {
		_, err := os.Stat(strings.TrimSuffix(path, ".err") + ".yaml")
		assert.NoError(t, err, "%s has no spec", path)
	}
}

// TestErrorMessages checks single error texts for inputs that do not fit a file well.
func TestErrorMessages(t *testing.T) {
	base := "name: m\ninput: [4]\nlayers:\n  - {type: dense, units: 1}\nloss: mse\n"
	convBase := "name: m\ninput: [2, 8, 8]\nlayers:\n  - {type: conv2d, filters: 2, kernel: 3}\nloss: mse\n"
	tests := []struct {
		name string
		spec string
		want string
	}{
		{"null document", "~\n", "m.yaml:1:1: empty spec: expected a mapping with keys name, input, layers, loss"},
		{"document marker only", "---\n", "m.yaml:1:1: empty spec: expected a mapping with keys name, input, layers, loss"},
		{"scalar root", "hello\n", `m.yaml:1:1: expected a mapping with keys name, input, layers, loss, got "hello"`},
		{"syntax error on line 1", "name: a: b\n", "m.yaml:1:1: mapping values are not allowed in this context"},
		{"tab indentation", "name: m\n\tinput: [4]\n", "m.yaml:2:1: found a tab character that violates indentation"},
		{"empty second document", base + "---\n", "m.yaml:6:1: a spec is a single YAML document, but a second one starts here; remove it"},
		{"document end marker is fine", base + "...\n", ""},
		{"parser error line", "name: m\ninput: [4\nlayers: []\n", "m.yaml:2:1: did not find expected ',' or ']'"},
		{"parser error past line 1", "a:\n  b: 1\n c: 2\n", "m.yaml:3:1: did not find expected key"},
		{"transposition suggestion", strings.Replace(base, "units: 1", "units: 1, activation: rleu", 1), `m.yaml:4:41: layer 0 (dense): activation: unknown activation "rleu"; expected one of elu, gelu, leaky_relu, linear, relu, relu6, sigmoid, softmax, softplus, tanh (did you mean "relu"?)`},
		{"loss not a name", strings.Replace(base, "loss: mse", "loss: 3", 1), "m.yaml:5:7: loss: expected a loss name such as mse or a mapping such as {type: huber, delta: 1.0}, got 3"},
		{"loss mapping without type", strings.Replace(base, "loss: mse", "loss: {delta: 1}", 1), "m.yaml:5:7: loss: missing key \"type\""},
		{"init not a mapping", base + "init: he_uniform\n", `m.yaml:6:7: init: expected a mapping such as {scheme: he_uniform, seed: 1}, got "he_uniform"`},
		{"train not a mapping", base + "train: []\n", "m.yaml:6:8: train: expected a mapping such as {epochs: 5, batch: 32}, got an empty list"},
		{"schedule not a mapping", base + "train: {lr_schedule: step}\n", `m.yaml:6:22: train: lr_schedule: expected a mapping such as {type: step, step_size: 2, gamma: 0.5}, got "step"`},
		{"early stopping not a mapping", base + "train: {early_stopping: {}}\n", "m.yaml:6:25: train.early_stopping: missing key \"patience\""},
		{"early stopping a number", base + "train: {early_stopping: 3}\n", "m.yaml:6:25: train: early_stopping: expected a mapping such as {patience: 2, min_delta: 0.001}, got 3"},
		{"layers a mapping", "name: m\ninput: [4]\nlayers: {type: dense}\nloss: mse\n", "m.yaml:3:9: layers: expected a non-empty list of layers such as [{type: dense, units: 10}], got a mapping"},
		{"optimizer type not a string", base + "optimizer: {type: [adam], beta1: 0.5}\n", "m.yaml:6:19: optimizer: type: expected a string, got a list"},
		{"schedule type missing", base + "train: {lr_schedule: {gamma: 0.5}}\n", "m.yaml:6:22: train.lr_schedule: missing key \"type\""},
		{"tagged value with a newline", strings.Replace(base, "units: 1", `units: !!int "1\n2"`, 1), `m.yaml:4:26: layer 0 (dense): units: expected a positive integer, got "1\n2"`},
		{"tag with a newline", "!%0A", `m.yaml:1:1: expected a mapping with keys name, input, layers, loss, got "!\n" ""`},
		{"null value", strings.Replace(base, "units: 1", "units: ~", 1), "m.yaml:4:26: layer 0 (dense): units: expected a positive integer, got null"},
		{"hex int is an int", strings.Replace(base, "units: 1", "units: 0x10", 1), ""},
		{"float lr from int", base + "optimizer: {lr: 1}\n", ""},
		{"non-string key", "name: m\n[a]: 1\n", "m.yaml:1:1: missing key \"input\"\nm.yaml:1:1: missing key \"layers\"\nm.yaml:1:1: missing key \"loss\"\nm.yaml:2:1: keys must be strings, got a list"},
		{"custom tag", strings.Replace(base, "units: 1", "units: !big 1", 1), `m.yaml:4:26: layer 0 (dense): units: expected a positive integer, got !big "1"`},
		{"uint64 overflow", strings.Replace(base, "units: 1", "units: 99999999999999999999", 1), "m.yaml:4:26: layer 0 (dense): units: expected a positive integer, got 99999999999999999999"},
		{"long string", "name: " + strings.Repeat("x", 50) + "-\n" + base[8:], `m.yaml:1:7: name: expected a Go identifier such as mnist_mlp, got "` + strings.Repeat("x", 40) + `..."`},
		{"blank package", strings.Replace(base, "name: m", "name: _", 1), "m.yaml:1:7: name: the blank identifier _ cannot name a package; choose another package name"},
		{"package main", strings.Replace(base, "name: m", "name: main", 1), "m.yaml:1:7: name: a package named main cannot be imported; choose another package name"},
		{"seed at uint64 max", base + "init: {seed: 18446744073709551615}\n", ""},
		{"case-insensitive suggestion", strings.Replace(base, "dense", "DENSE", 1), `m.yaml:4:12: layer 0: unknown type "DENSE"; expected one of add, attention, avgpool1d, avgpool2d, batchnorm, concat, conv1d, conv2d, dense, dropout, elu, embedding, flatten, gelu, global_avgpool1d, global_avgpool2d, gru, layernorm, leaky_relu, linear, lstm, maxpool1d, maxpool2d, multiply, positional_embedding, relu, relu6, rnn, sigmoid, softmax, softplus, tanh (did you mean "dense"?)`},
		{"conv kernel in a block mapping", "name: m\ninput: [1, 4, 4]\nlayers:\n  - type: conv2d\n    filters: 2\n    kernel: [3, 3, 3]\nloss: mse\n", "m.yaml:6:13: layer 0 (conv2d): kernel: expected a positive integer or a list of 2 positive integers, got [3, 3, 3]"},
		{"long list described in short", strings.Replace(convBase, "kernel: 3", "kernel: [1, 2, 3, 4, 5, 6, 7, 8, 9]", 1), "m.yaml:4:40: layer 0 (conv2d): kernel: expected a positive integer or a list of 2 positive integers, got a list"},
		{"list of mappings described in short", strings.Replace(convBase, "kernel: 3", "kernel: [{a: 1}]", 1), "m.yaml:4:40: layer 0 (conv2d): kernel: expected a positive integer or a list of 2 positive integers, got a list"},
		{"padding null", strings.Replace(convBase, "kernel: 3", "kernel: 3, padding: ~", 1), "m.yaml:4:52: layer 0 (conv2d): padding: expected valid, same, a non-negative integer or a list of 2, got null"},
		{"kernel pair too large", strings.Replace(convBase, "kernel: 3", "kernel: [3, 99999999]", 1), "m.yaml:4:44: layer 0 (conv2d): kernel[1]: 99999999 is more than the limit of 16777216"},
		{"dilation pair in the message", strings.Replace(convBase, "kernel: 3", "kernel: 3, dilation: [4, 1]", 1), "m.yaml:4:40: layer 0 (conv2d): kernel 3x3 (dilated 9x3) is larger than its input 8x8"},
		{"same padding fits any kernel", strings.Replace(convBase, "kernel: 3", "kernel: 3, dilation: [4, 1], padding: same", 1), ""},
		{"valid padding", strings.Replace(convBase, "kernel: 3", "kernel: 3, padding: valid", 1), ""},
		{"conv softmax then flatten", "name: m\ninput: [1, 3, 3]\nlayers:\n  - {type: conv2d, filters: 4, kernel: 3, activation: softmax}\n  - {type: flatten}\nloss: softmax_cross_entropy\n", "m.yaml:6:7: loss: softmax_cross_entropy takes logits, but layer 0 ends in softmax; remove its softmax activation"},
		{"bce with logits after conv sigmoid and pooling", "name: m\ninput: [1, 4, 4]\nlayers:\n  - {type: conv2d, filters: 1, kernel: 3, activation: sigmoid}\n  - {type: maxpool2d, size: 2}\n  - {type: flatten}\nloss: binary_cross_entropy_with_logits\n", "m.yaml:7:7: loss: binary_cross_entropy_with_logits takes logits, but layer 0 ends in sigmoid; remove the sigmoid or use binary_cross_entropy"},
		{"key in block mapping", "name: m\ninput: [4]\nlayers:\n  - type: dense\n    unit: 3\nloss: mse\n", "m.yaml:4:5: layer 0 (dense): missing key \"units\"\nm.yaml:5:5: layer 0 (dense): unknown key \"unit\"; expected one of activation, alpha, bias, inputs, name, type, units (did you mean \"units\"?)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse("m.yaml", []byte(tt.spec))
			if tt.want == "" {
				require.NoError(t, err)
				require.NotNil(t, m)
				return
			}
			require.Error(t, err)
			assert.Nil(t, m)
			assert.Equal(t, tt.want, err.Error())
		})
	}
}

func TestParseFile(t *testing.T) {
	m, err := ParseFile("../testdata/xor.yaml")
	require.NoError(t, err)
	assert.Equal(t, "../testdata/xor.yaml", m.File)
	assert.Equal(t, Pos{File: "../testdata/xor.yaml", Line: 9, Col: 5}, m.Nodes[0].Pos)

	_, err = ParseFile("../testdata/no-such-spec.yaml")
	require.Error(t, err)
	assert.Equal(t, "../testdata/no-such-spec.yaml: no such file or directory", err.Error())
	var list ErrorList
	assert.True(t, errors.As(err, &list))

	_, err = ParseFile("../testdata/invalid/bad_dtype.yaml")
	assert.Equal(t, `../testdata/invalid/bad_dtype.yaml:2:8: dtype: expected float32 or float64, got "float16"`, err.Error())
}

func TestGoName(t *testing.T) {
	tests := []struct{ name, want string }{
		{"layers.0", "Layers0"},
		{"fc1", "Fc1"},
		{"enc_out", "EncOut"},
		{"fc_1", "Fc1"},
		{"Enc__Out_", "EncOut"},
		{"layers.12", "Layers12"},
		{"x", "X"},
		{"_1", "L1"},
		{"", ""},
		{"__", ""},
		{"0", "L0"},
		{"0.conv", "L0Conv"},
		{"features.3", "Features3"},
		{"features.1.0", "Features1_0"},
		{"features.10", "Features10"},
		{"layer1.0.conv1", "Layer1_0Conv1"},
		{"h.0.attn", "H0Attn"},
		{"1.0", "L1_0"},
		{"block.bn2", "BlockBn2"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, GoName(tt.name), "GoName(%q)", tt.name)
	}
}

func TestErrorFormat(t *testing.T) {
	list := ErrorList{
		{Pos: Pos{File: "a.yaml", Line: 3, Col: 1}, Msg: "third"},
		{Pos: Pos{File: "a.yaml", Line: 1, Col: 9}, Msg: "second"},
		{Pos: Pos{File: "a.yaml", Line: 1, Col: 2}, Msg: "first"},
	}
	list.Sort()
	assert.Equal(t, "a.yaml:1:2: first\na.yaml:1:9: second\na.yaml:3:1: third", list.Error())
	assert.Equal(t, "a.yaml: gone", (&Error{Pos: Pos{File: "a.yaml"}, Msg: "gone"}).Error())
	var e *Error
	require.True(t, errors.As(error(list), &e))
	assert.Equal(t, "first", e.Msg)
}

// TestHostileInputs checks that inputs built to exhaust memory or time fail fast.
func TestHostileInputs(t *testing.T) {
	// A billion laughs: 9 levels of 9 aliases, never expanded.
	bomb := "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		bomb += n + ": &" + n + " [" + strings.Repeat("*"+prev+", ", 8) + "*" + prev + "]\n"
		prev = n
	}
	tests := []struct{ name, spec, first string }{
		{"alias bomb", bomb, "f.yaml:1:4: anchor &a: anchors and aliases are not supported; write the value out in full"},
		{"deep lists", "name: " + strings.Repeat("[", 100000), "f.yaml:1:1: exceeded max depth of 10000"},
		{"deep mappings", strings.Repeat("{a: ", 20000), "f.yaml:1:1: exceeded max depth of 10000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(tt.spec))
			require.Error(t, err)
			first, _, _ := strings.Cut(err.Error(), "\n")
			assert.Equal(t, tt.first, first)
		})
	}
}
