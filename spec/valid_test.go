package spec

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// node is the part of a Node the valid-spec tests compare.
type node struct {
	Name, GoName string
	Kind         Kind
	Inputs       []string
	In, Out      Shape
	Units        int
	Bias         bool
	Act          Act
	Rate         float64
}

func nodesOf(m *Model) []node {
	var ns []node
	for _, n := range m.Nodes {
		ns = append(ns, node{n.Name, n.GoName, n.Kind, n.Inputs, n.In, n.Out, n.Units, n.Bias, n.Act, n.Rate})
	}
	return ns
}

var defaultTrain = Train{Epochs: 10, Batch: 32, Shuffle: true, Seed: 1}

func TestValidNodes(t *testing.T) {
	tests := []struct {
		name  string
		spec  string
		input Shape
		nodes []node
	}{
		{
			name: "mlp with defaults",
			spec: `
name: m
input: [784]
layers:
  - {type: dense, units: 128, activation: relu}
  - {type: dropout, rate: 0.1}
  - {type: dense, units: 10, bias: false}
loss: softmax_cross_entropy
`,
			input: Shape{784},
			nodes: []node{
				{"layers.0", "Layers0", KindDense, []string{"input"}, Shape{784}, Shape{128}, 128, true, Act{Fn: ActReLU}, 0},
				{"layers.1", "Layers1", KindDropout, []string{"layers.0"}, Shape{128}, Shape{128}, 0, false, Act{}, 0.1},
				{"layers.2", "Layers2", KindDense, []string{"layers.1"}, Shape{128}, Shape{10}, 10, false, Act{Fn: ActLinear}, 0},
			},
		},
		{
			name: "image flattened, named layers, activation layers with alpha",
			spec: `
name: m
input: [1, 28, 28]
layers:
  - {type: leaky_relu, name: pre}
  - {type: flatten, name: flat}
  - {type: dense, units: 32, name: enc_out, activation: elu, alpha: 0.5}
  - {type: elu}
  - {type: leaky_relu, alpha: 0.2}
  - {type: dense, units: 3, name: fc1, activation: leaky_relu}
  - {type: softmax}
loss: mse
`,
			input: Shape{1, 28, 28},
			nodes: []node{
				{"pre", "Pre", KindActivation, []string{"input"}, Shape{1, 28, 28}, Shape{1, 28, 28}, 0, false, Act{ActLeakyReLU, 0.01}, 0},
				{"flat", "Flat", KindFlatten, []string{"pre"}, Shape{1, 28, 28}, Shape{784}, 0, false, Act{}, 0},
				{"enc_out", "EncOut", KindDense, []string{"flat"}, Shape{784}, Shape{32}, 32, true, Act{ActELU, 0.5}, 0},
				{"layers.3", "Layers3", KindActivation, []string{"enc_out"}, Shape{32}, Shape{32}, 0, false, Act{ActELU, 1}, 0},
				{"layers.4", "Layers4", KindActivation, []string{"layers.3"}, Shape{32}, Shape{32}, 0, false, Act{ActLeakyReLU, 0.2}, 0},
				{"fc1", "Fc1", KindDense, []string{"layers.4"}, Shape{32}, Shape{3}, 3, true, Act{ActLeakyReLU, 0.01}, 0},
				{"layers.6", "Layers6", KindActivation, []string{"fc1"}, Shape{3}, Shape{3}, 0, false, Act{Fn: ActSoftmax}, 0},
			},
		},
		{
			name: "every activation kind, sequence input",
			spec: `
name: m
input: [5, 3]
layers:
  - {type: relu}
  - {type: gelu}
  - {type: sigmoid}
  - {type: tanh}
  - {type: softplus}
  - {type: linear}
  - {type: dropout, rate: 0}
loss: mae
`,
			input: Shape{5, 3},
			nodes: []node{
				{"layers.0", "Layers0", KindActivation, []string{"input"}, Shape{5, 3}, Shape{5, 3}, 0, false, Act{Fn: ActReLU}, 0},
				{"layers.1", "Layers1", KindActivation, []string{"layers.0"}, Shape{5, 3}, Shape{5, 3}, 0, false, Act{Fn: ActGELU}, 0},
				{"layers.2", "Layers2", KindActivation, []string{"layers.1"}, Shape{5, 3}, Shape{5, 3}, 0, false, Act{Fn: ActSigmoid}, 0},
				{"layers.3", "Layers3", KindActivation, []string{"layers.2"}, Shape{5, 3}, Shape{5, 3}, 0, false, Act{Fn: ActTanh}, 0},
				{"layers.4", "Layers4", KindActivation, []string{"layers.3"}, Shape{5, 3}, Shape{5, 3}, 0, false, Act{Fn: ActSoftplus}, 0},
				{"layers.5", "Layers5", KindActivation, []string{"layers.4"}, Shape{5, 3}, Shape{5, 3}, 0, false, Act{Fn: ActLinear}, 0},
				{"layers.6", "Layers6", KindDropout, []string{"layers.5"}, Shape{5, 3}, Shape{5, 3}, 0, false, Act{}, 0},
			},
		},
		{
			name: "a user name may take the Go name of an absent default",
			spec: `
name: m
input: [4]
layers:
  - {type: dense, units: 2, name: layers_7}
  - {type: dense, units: 1, name: Layers0}
loss: mse
`,
			input: Shape{4},
			nodes: []node{
				{"layers_7", "Layers7", KindDense, []string{"input"}, Shape{4}, Shape{2}, 2, true, Act{Fn: ActLinear}, 0},
				{"Layers0", "Layers0", KindDense, []string{"layers_7"}, Shape{2}, Shape{1}, 1, true, Act{Fn: ActLinear}, 0},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse("m.yaml", []byte(tt.spec))
			require.NoError(t, err)
			assert.Equal(t, tt.input, m.Input)
			assert.Equal(t, tt.nodes, nodesOf(m))
			assert.Equal(t, tt.nodes[len(tt.nodes)-1].Out, m.Output())
			for i, n := range m.Nodes {
				assert.Equal(t, i, n.Index)
			}
		})
	}
}

func TestValidSettings(t *testing.T) {
	const layers = "input: [4]\nlayers:\n  - {type: dense, units: 2}\n"
	tests := []struct {
		name string
		spec string // after "name: m\n" + layers
		want Model  // File, Name, Input and Nodes are not compared
	}{
		{
			name: "defaults",
			spec: "loss: mse\n",
			want: Model{DType: Float32, Loss: Loss{Kind: "mse"}, Init: Init{"pytorch", 1},
				Optimizer: Optimizer{Type: "sgd", LR: 0.01}, Train: defaultTrain},
		},
		{
			name: "float64, huber default delta, init alias, momentum defaults",
			spec: "dtype: float64\nloss: huber\ninit: {scheme: glorot_uniform}\noptimizer: {type: momentum}\n",
			want: Model{DType: Float64, Loss: Loss{Kind: "huber", Delta: 1}, Init: Init{"xavier_uniform", 1},
				Optimizer: Optimizer{Type: "momentum", LR: 0.01, Momentum: 0.9}, Train: defaultTrain},
		},
		{
			name: "huber delta, kaiming alias with seed, nesterov",
			spec: "loss: {type: huber, delta: 2}\ninit: {scheme: kaiming_normal, seed: 0}\noptimizer: {type: nesterov, lr: 0.1, momentum: 0.5, weight_decay: 1e-4}\n",
			want: Model{DType: Float32, Loss: Loss{Kind: "huber", Delta: 2}, Init: Init{"he_normal", 0},
				Optimizer: Optimizer{Type: "nesterov", LR: 0.1, Momentum: 0.5, WeightDecay: 1e-4}, Train: defaultTrain},
		},
		{
			name: "loss as a mapping, glorot_normal, adam defaults",
			spec: "loss: {type: mae}\ninit: {scheme: glorot_normal}\noptimizer: {type: adam}\n",
			want: Model{DType: Float32, Loss: Loss{Kind: "mae"}, Init: Init{"xavier_normal", 1},
				Optimizer: Optimizer{Type: "adam", LR: 0.001, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}, Train: defaultTrain},
		},
		{
			name: "adamw defaults, kaiming_uniform",
			spec: "loss: mse\ninit: {scheme: kaiming_uniform}\noptimizer: {type: adamw, beta2: 0.98}\n",
			want: Model{DType: Float32, Loss: Loss{Kind: "mse"}, Init: Init{"he_uniform", 1},
				Optimizer: Optimizer{Type: "adamw", LR: 0.001, Beta1: 0.9, Beta2: 0.98, Eps: 1e-8, WeightDecay: 0.01}, Train: defaultTrain},
		},
		{
			name: "rmsprop defaults",
			spec: "loss: mse\noptimizer: {type: rmsprop, alpha: 0.9}\n",
			want: Model{DType: Float32, Loss: Loss{Kind: "mse"}, Init: Init{"pytorch", 1},
				Optimizer: Optimizer{Type: "rmsprop", LR: 0.001, Alpha: 0.9, Eps: 1e-8}, Train: defaultTrain},
		},
		{
			name: "adagrad defaults, sgd lr as an int",
			spec: "loss: mse\noptimizer: {type: adagrad, lr: 1}\n",
			want: Model{DType: Float32, Loss: Loss{Kind: "mse"}, Init: Init{"pytorch", 1},
				Optimizer: Optimizer{Type: "adagrad", LR: 1, Eps: 1e-10}, Train: defaultTrain},
		},
		{
			name: "train with step schedule and early stopping",
			spec: `loss: mse
train:
  epochs: 5
  batch: 8
  shuffle: false
  seed: 7
  validation_split: 0.2
  clip_norm: 1
  lr_schedule: {type: step, step_size: 2}
  early_stopping: {patience: 3}
`,
			want: Model{DType: Float32, Loss: Loss{Kind: "mse"}, Init: Init{"pytorch", 1},
				Optimizer: Optimizer{Type: "sgd", LR: 0.01},
				Train: Train{Epochs: 5, Batch: 8, Shuffle: false, Seed: 7, ValidationSplit: 0.2, ClipNorm: 1,
					Schedule: Schedule{Type: "step", StepSize: 2, Gamma: 0.1}, EarlyStopping: EarlyStopping{Patience: 3}}},
		},
		{
			name: "exponential schedule default gamma",
			spec: "loss: mse\ntrain: {lr_schedule: {type: exponential}, early_stopping: {patience: 1, min_delta: 0.01}}\n",
			want: Model{DType: Float32, Loss: Loss{Kind: "mse"}, Init: Init{"pytorch", 1},
				Optimizer: Optimizer{Type: "sgd", LR: 0.01},
				Train: Train{Epochs: 10, Batch: 32, Shuffle: true, Seed: 1,
					Schedule: Schedule{Type: "exponential", Gamma: 0.95}, EarlyStopping: EarlyStopping{Patience: 1, MinDelta: 0.01}}},
		},
		{
			name: "cosine schedule t_max defaults to epochs",
			spec: "loss: mse\ntrain: {epochs: 7, lr_schedule: {type: cosine, min_lr: 1e-5}}\n",
			want: Model{DType: Float32, Loss: Loss{Kind: "mse"}, Init: Init{"pytorch", 1},
				Optimizer: Optimizer{Type: "sgd", LR: 0.01},
				Train:     Train{Epochs: 7, Batch: 32, Shuffle: true, Seed: 1, Schedule: Schedule{Type: "cosine", TMax: 7, MinLR: 1e-5}}},
		},
		{
			name: "cosine schedule t_max given",
			spec: "loss: mse\ntrain: {lr_schedule: {type: cosine, t_max: 3}}\n",
			want: Model{DType: Float32, Loss: Loss{Kind: "mse"}, Init: Init{"pytorch", 1},
				Optimizer: Optimizer{Type: "sgd", LR: 0.01},
				Train:     Train{Epochs: 10, Batch: 32, Shuffle: true, Seed: 1, Schedule: Schedule{Type: "cosine", TMax: 3}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse("m.yaml", []byte("name: m\n"+layers+tt.spec))
			require.NoError(t, err)
			assert.Equal(t, "m.yaml", m.File)
			assert.Equal(t, "m", m.Name)
			assert.Equal(t, tt.want.DType, m.DType)
			assert.Equal(t, tt.want.Loss.Kind, m.Loss.Kind)
			assert.Equal(t, tt.want.Loss.Delta, m.Loss.Delta)
			assert.Equal(t, tt.want.Init, m.Init)
			assert.Equal(t, tt.want.Optimizer, m.Optimizer)
			assert.Equal(t, tt.want.Train, m.Train)
		})
	}
}

// TestValidLosses checks the losses against the model's final activation.
func TestValidLosses(t *testing.T) {
	tests := []struct{ name, layers, loss string }{
		{"bce after sigmoid", "  - {type: dense, units: 1, activation: sigmoid}\n", "binary_cross_entropy"},
		{"bce after dropout and sigmoid layer", "  - {type: dense, units: 1}\n  - {type: dropout, rate: 0.5}\n  - {type: sigmoid}\n", "binary_cross_entropy"},
		{"bce after sigmoid layer and dropout of rate 0", "  - {type: dense, units: 1}\n  - {type: sigmoid}\n  - {type: dropout, rate: 0}\n", "binary_cross_entropy"},
		{"bce with logits after sigmoid, dense and dropout", "  - {type: dense, units: 2, activation: sigmoid}\n  - {type: dense, units: 1}\n  - {type: dropout, rate: 0.5}\n", "binary_cross_entropy_with_logits"},
		{"bce with logits after linear", "  - {type: dense, units: 3}\n", "binary_cross_entropy_with_logits"},
		{"softmax ce on logits after relu", "  - {type: dense, units: 3, activation: relu}\n  - {type: flatten}\n", "softmax_cross_entropy"},
		{"mse after softmax", "  - {type: dense, units: 3, activation: softmax}\n", "mse"},
		{"bce with logits on the input itself", "  - {type: flatten}\n", "binary_cross_entropy_with_logits"},
		{"bce after conv sigmoid and pooling", "  - {type: conv2d, filters: 1, kernel: 1, activation: sigmoid}\n  - {type: maxpool2d, size: 2}\n  - {type: avgpool2d, size: 2}\n  - {type: global_avgpool2d}\n", "binary_cross_entropy"},
		{"softmax ce after a linear conv and global pooling", "  - {type: conv2d, filters: 3, kernel: 1}\n  - {type: global_avgpool2d}\n", "softmax_cross_entropy"},
		{"bce with logits after conv sigmoid then dense", "  - {type: conv2d, filters: 2, kernel: 3, activation: sigmoid}\n  - {type: flatten}\n  - {type: dense, units: 1}\n", "binary_cross_entropy_with_logits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			input := "[4]"
			if strings.Contains(tt.layers, "conv2d") {
				input = "[2, 4, 4]"
			}
			m, err := Parse("m.yaml", []byte("name: m\ninput: "+input+"\nlayers:\n"+tt.layers+"loss: "+tt.loss+"\n"))
			require.NoError(t, err)
			assert.Equal(t, tt.loss, m.Loss.Kind)
			assert.Equal(t, Pos{File: "m.yaml", Line: 4 + len(m.Nodes), Col: 7}, m.Loss.Pos)
		})
	}
}

// TestExamples checks the example specs in ../testdata.
func TestExamples(t *testing.T) {
	xor, err := ParseFile("../testdata/xor.yaml")
	require.NoError(t, err)
	assert.Equal(t, "xor", xor.Name)
	assert.Equal(t, Float64, xor.DType)
	assert.Equal(t, Shape{2}, xor.Input)
	assert.Equal(t, []node{
		{"layers.0", "Layers0", KindDense, []string{"input"}, Shape{2}, Shape{4}, 4, true, Act{Fn: ActTanh}, 0},
		{"layers.1", "Layers1", KindDense, []string{"layers.0"}, Shape{4}, Shape{1}, 1, true, Act{Fn: ActSigmoid}, 0},
	}, nodesOf(xor))
	assert.Equal(t, "mse", xor.Loss.Kind)
	assert.Equal(t, Init{"xavier_uniform", 1}, xor.Init)
	assert.Equal(t, 2000, xor.Train.Epochs)
	assert.Equal(t, 4, xor.Train.Batch)

	mnist, err := ParseFile("../testdata/mnist_mlp.yaml")
	require.NoError(t, err)
	assert.Equal(t, "mnist_mlp", mnist.Name)
	assert.Equal(t, Float32, mnist.DType)
	assert.Equal(t, []node{
		{"layers.0", "Layers0", KindDense, []string{"input"}, Shape{784}, Shape{128}, 128, true, Act{Fn: ActReLU}, 0},
		{"layers.1", "Layers1", KindDense, []string{"layers.0"}, Shape{128}, Shape{10}, 10, true, Act{Fn: ActLinear}, 0},
	}, nodesOf(mnist))
	assert.Equal(t, Loss{Kind: "softmax_cross_entropy", Pos: Pos{File: "../testdata/mnist_mlp.yaml", Line: 8, Col: 7}}, mnist.Loss)
	assert.Equal(t, Init{"he_uniform", 1}, mnist.Init)
	assert.Equal(t, Optimizer{Type: "adam", LR: 0.001, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}, mnist.Optimizer)
	assert.Equal(t, Train{Epochs: 5, Batch: 32, Shuffle: true, Seed: 1}, mnist.Train)

	adam := Optimizer{Type: "adam", LR: 0.001, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
	one, relu := [2]int{1, 1}, Act{Fn: ActReLU}
	cnn, err := ParseFile("../testdata/mnist_cnn.yaml")
	require.NoError(t, err)
	assert.Equal(t, "mnist_cnn", cnn.Name)
	assert.Equal(t, Float32, cnn.DType)
	assert.Equal(t, Shape{1, 28, 28}, cnn.Input)
	assert.Equal(t, []imageNode{
		{KindConv2D, Shape{1, 28, 28}, Shape{6, 28, 28}, 6, [2]int{5, 5}, one, one, [4]int{2, 2, 2, 2}, true, relu},
		{KindMaxPool2D, Shape{6, 28, 28}, Shape{6, 14, 14}, 0, [2]int{2, 2}, [2]int{2, 2}, one, [4]int{}, false, Act{}},
		{KindConv2D, Shape{6, 14, 14}, Shape{16, 10, 10}, 16, [2]int{5, 5}, one, one, [4]int{}, true, relu},
		{KindMaxPool2D, Shape{16, 10, 10}, Shape{16, 5, 5}, 0, [2]int{2, 2}, [2]int{2, 2}, one, [4]int{}, false, Act{}},
		{KindFlatten, Shape{16, 5, 5}, Shape{400}, 0, [2]int{}, [2]int{}, [2]int{}, [4]int{}, false, Act{}},
		{KindDense, Shape{400}, Shape{120}, 0, [2]int{}, [2]int{}, [2]int{}, [4]int{}, true, relu},
		{KindDense, Shape{120}, Shape{84}, 0, [2]int{}, [2]int{}, [2]int{}, [4]int{}, true, relu},
		{KindDense, Shape{84}, Shape{10}, 0, [2]int{}, [2]int{}, [2]int{}, [4]int{}, true, Act{Fn: ActLinear}},
	}, imageNodesOf(cnn))
	assert.Equal(t, "softmax_cross_entropy", cnn.Loss.Kind)
	assert.Equal(t, Init{"he_uniform", 1}, cnn.Init)
	assert.Equal(t, adam, cnn.Optimizer)
	assert.Equal(t, Train{Epochs: 4, Batch: 32, Shuffle: true, Seed: 1}, cnn.Train)

	small, err := ParseFile("../testdata/cnn_small.yaml")
	require.NoError(t, err)
	assert.Equal(t, "cnn_small", small.Name)
	assert.Equal(t, Float32, small.DType)
	assert.Equal(t, []imageNode{
		{KindConv2D, Shape{1, 28, 28}, Shape{8, 28, 28}, 8, [2]int{3, 3}, one, one, [4]int{1, 1, 1, 1}, true, relu},
		{KindMaxPool2D, Shape{8, 28, 28}, Shape{8, 14, 14}, 0, [2]int{2, 2}, [2]int{2, 2}, one, [4]int{}, false, Act{}},
		{KindFlatten, Shape{8, 14, 14}, Shape{1568}, 0, [2]int{}, [2]int{}, [2]int{}, [4]int{}, false, Act{}},
		{KindDense, Shape{1568}, Shape{10}, 0, [2]int{}, [2]int{}, [2]int{}, [4]int{}, true, Act{Fn: ActLinear}},
	}, imageNodesOf(small))
	assert.Equal(t, "softmax_cross_entropy", small.Loss.Kind)
	assert.Equal(t, Init{"he_uniform", 1}, small.Init)
	assert.Equal(t, adam, small.Optimizer)
	assert.Equal(t, Train{Epochs: 2, Batch: 32, Shuffle: true, Seed: 1}, small.Train)
}

// imageNode is the part of a Node the image-layer tests compare.
type imageNode struct {
	Kind     Kind
	In, Out  Shape
	Filters  int
	Kernel   [2]int
	Stride   [2]int
	Dilation [2]int
	Pad      [4]int
	Bias     bool
	Act      Act
}

func imageNodesOf(m *Model) []imageNode {
	var ns []imageNode
	for _, n := range m.Nodes {
		ns = append(ns, imageNode{n.Kind, n.In, n.Out, n.Filters, n.Kernel, n.Stride, n.Dilation, n.Pad, n.Bias, n.Act})
	}
	return ns
}

// TestValidImageLayers checks the shapes and paddings inferred for conv2d and
// the pooling layers, one spec per case.
func TestValidImageLayers(t *testing.T) {
	one, relu := [2]int{1, 1}, Act{Fn: ActReLU}
	linear := Act{Fn: ActLinear}
	tests := []struct {
		name   string
		input  string
		layers string
		want   []imageNode
	}{
		{
			name:  "LeNet-5",
			input: "[1, 28, 28]",
			layers: `
  - {type: conv2d, filters: 6, kernel: 5, padding: 2, activation: relu}
  - {type: maxpool2d, size: 2}
  - {type: conv2d, filters: 16, kernel: 5, activation: relu}
  - {type: maxpool2d, size: 2, stride: 2, padding: 0}
  - {type: flatten}
`,
			want: []imageNode{
				{KindConv2D, Shape{1, 28, 28}, Shape{6, 28, 28}, 6, [2]int{5, 5}, one, one, [4]int{2, 2, 2, 2}, true, relu},
				{KindMaxPool2D, Shape{6, 28, 28}, Shape{6, 14, 14}, 0, [2]int{2, 2}, [2]int{2, 2}, one, [4]int{}, false, Act{}},
				{KindConv2D, Shape{6, 14, 14}, Shape{16, 10, 10}, 16, [2]int{5, 5}, one, one, [4]int{}, true, relu},
				{KindMaxPool2D, Shape{16, 10, 10}, Shape{16, 5, 5}, 0, [2]int{2, 2}, [2]int{2, 2}, one, [4]int{}, false, Act{}},
				{KindFlatten, Shape{16, 5, 5}, Shape{400}, 0, [2]int{}, [2]int{}, [2]int{}, [4]int{}, false, Act{}},
			},
		},
		{
			name:   "same, even kernel, stride 1: the odd extra goes bottom and right",
			input:  "[1, 7, 7]",
			layers: "  - {type: conv2d, filters: 2, kernel: 4, padding: same}\n",
			want:   []imageNode{{KindConv2D, Shape{1, 7, 7}, Shape{2, 7, 7}, 2, [2]int{4, 4}, one, one, [4]int{1, 2, 1, 2}, true, linear}},
		},
		{
			name:   "same, odd kernel, stride 1",
			input:  "[3, 6, 6]",
			layers: "  - {type: conv2d, filters: 2, kernel: 5, padding: same, bias: false}\n",
			want:   []imageNode{{KindConv2D, Shape{3, 6, 6}, Shape{2, 6, 6}, 2, [2]int{5, 5}, one, one, [4]int{2, 2, 2, 2}, false, linear}},
		},
		{
			name:   "same, odd kernel, stride 2",
			input:  "[1, 7, 7]",
			layers: "  - {type: conv2d, filters: 2, kernel: 3, stride: 2, padding: same}\n",
			want:   []imageNode{{KindConv2D, Shape{1, 7, 7}, Shape{2, 4, 4}, 2, [2]int{3, 3}, [2]int{2, 2}, one, [4]int{1, 1, 1, 1}, true, linear}},
		},
		{
			name:   "same, even kernel, stride 2, no padding needed",
			input:  "[1, 8, 8]",
			layers: "  - {type: conv2d, filters: 2, kernel: 2, stride: 2, padding: same}\n",
			want:   []imageNode{{KindConv2D, Shape{1, 8, 8}, Shape{2, 4, 4}, 2, [2]int{2, 2}, [2]int{2, 2}, one, [4]int{}, true, linear}},
		},
		{
			name:   "same, even kernel, stride 2, odd total",
			input:  "[1, 7, 8]",
			layers: "  - {type: conv2d, filters: 2, kernel: 4, stride: 2, padding: same}\n",
			want:   []imageNode{{KindConv2D, Shape{1, 7, 8}, Shape{2, 4, 4}, 2, [2]int{4, 4}, [2]int{2, 2}, one, [4]int{1, 2, 1, 1}, true, linear}},
		},
		{
			name:   "same, non-square kernel, stride and input",
			input:  "[3, 7, 10]",
			layers: "  - {type: conv2d, filters: 4, kernel: [3, 4], stride: [2, 1], padding: same}\n",
			want:   []imageNode{{KindConv2D, Shape{3, 7, 10}, Shape{4, 4, 10}, 4, [2]int{3, 4}, [2]int{2, 1}, one, [4]int{1, 1, 1, 2}, true, linear}},
		},
		{
			name:   "dilation 2, valid",
			input:  "[2, 10, 10]",
			layers: "  - {type: conv2d, filters: 3, kernel: 3, dilation: 2}\n",
			want:   []imageNode{{KindConv2D, Shape{2, 10, 10}, Shape{3, 6, 6}, 3, [2]int{3, 3}, one, [2]int{2, 2}, [4]int{}, true, linear}},
		},
		{
			name:   "dilation 2, same",
			input:  "[2, 10, 10]",
			layers: "  - {type: conv2d, filters: 3, kernel: 3, dilation: 2, padding: same}\n",
			want:   []imageNode{{KindConv2D, Shape{2, 10, 10}, Shape{3, 10, 10}, 3, [2]int{3, 3}, one, [2]int{2, 2}, [4]int{2, 2, 2, 2}, true, linear}},
		},
		{
			name:   "non-square everything, explicit padding pair, leaky_relu",
			input:  "[3, 9, 12]",
			layers: "  - {type: conv2d, filters: 5, kernel: [3, 5], stride: [2, 3], dilation: [1, 2], padding: [1, 0], activation: leaky_relu, alpha: 0.2, name: c1}\n",
			// H: (9+2-3)/2+1 = 5; W: (12-9)/3+1 = 2.
			want: []imageNode{{KindConv2D, Shape{3, 9, 12}, Shape{5, 5, 2}, 5, [2]int{3, 5}, [2]int{2, 3}, [2]int{1, 2}, [4]int{1, 1, 0, 0}, true, Act{ActLeakyReLU, 0.2}}},
		},
		{
			name:   "kernel as large as the padded input",
			input:  "[1, 3, 4]",
			layers: "  - {type: conv2d, filters: 1, kernel: [5, 4], padding: [1, 0]}\n",
			want:   []imageNode{{KindConv2D, Shape{1, 3, 4}, Shape{1, 1, 1}, 1, [2]int{5, 4}, one, one, [4]int{1, 1, 0, 0}, true, linear}},
		},
		{
			name:  "overlapping pooling with padding, activation and dropout on images",
			input: "[4, 13, 13]",
			layers: `
  - {type: maxpool2d, size: 3, stride: 2}
  - {type: relu}
  - {type: maxpool2d, size: 3, stride: 2, padding: 1}
  - {type: dropout, rate: 0.5}
  - {type: avgpool2d, size: [3, 2], stride: [1, 2], padding: [1, 0]}
  - {type: softmax}
  - {type: global_avgpool2d}
`,
			want: []imageNode{
				{KindMaxPool2D, Shape{4, 13, 13}, Shape{4, 6, 6}, 0, [2]int{3, 3}, [2]int{2, 2}, one, [4]int{}, false, Act{}},
				{KindActivation, Shape{4, 6, 6}, Shape{4, 6, 6}, 0, [2]int{}, [2]int{}, [2]int{}, [4]int{}, false, relu},
				{KindMaxPool2D, Shape{4, 6, 6}, Shape{4, 3, 3}, 0, [2]int{3, 3}, [2]int{2, 2}, one, [4]int{1, 1, 1, 1}, false, Act{}},
				{KindDropout, Shape{4, 3, 3}, Shape{4, 3, 3}, 0, [2]int{}, [2]int{}, [2]int{}, [4]int{}, false, Act{}},
				{KindAvgPool2D, Shape{4, 3, 3}, Shape{4, 3, 1}, 0, [2]int{3, 2}, [2]int{1, 2}, one, [4]int{1, 1, 0, 0}, false, Act{}},
				{KindActivation, Shape{4, 3, 1}, Shape{4, 3, 1}, 0, [2]int{}, [2]int{}, [2]int{}, [4]int{}, false, Act{Fn: ActSoftmax}},
				{KindGlobalAvgPool2D, Shape{4, 3, 1}, Shape{4}, 0, [2]int{}, [2]int{}, [2]int{}, [4]int{}, false, Act{}},
			},
		},
		{
			name:   "pooling stride defaults to the size, floor division",
			input:  "[3, 5, 7]",
			layers: "  - {type: avgpool2d, size: [2, 3]}\n",
			want:   []imageNode{{KindAvgPool2D, Shape{3, 5, 7}, Shape{3, 2, 2}, 0, [2]int{2, 3}, [2]int{2, 3}, one, [4]int{}, false, Act{}}},
		},
		{
			name:   "global average pooling of a non-square image",
			input:  "[8, 5, 3]",
			layers: "  - {type: global_avgpool2d, name: gap}\n",
			want:   []imageNode{{KindGlobalAvgPool2D, Shape{8, 5, 3}, Shape{8}, 0, [2]int{}, [2]int{}, [2]int{}, [4]int{}, false, Act{}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse("m.yaml", []byte("name: m\ninput: "+tt.input+"\nlayers:\n"+tt.layers+"loss: mse\n"))
			require.NoError(t, err)
			assert.Equal(t, tt.want, imageNodesOf(m))
		})
	}
}

// graphNode is the part of a Node the graph tests compare.
type graphNode struct {
	Name, GoName string
	Kind         Kind
	Inputs       []string
	Ins          []Shape
	In, Out      Shape
}

func graphNodesOf(m *Model) []graphNode {
	var ns []graphNode
	for _, n := range m.Nodes {
		ns = append(ns, graphNode{n.Name, n.GoName, n.Kind, n.Inputs, n.Ins, n.In, n.Out})
	}
	return ns
}

// TestValidGraphs checks inputs:, references and PyTorch module paths as names.
func TestValidGraphs(t *testing.T) {
	tests := []struct {
		name  string
		spec  string
		nodes []graphNode
	}{
		{
			name: "nn.Sequential indices unquoted, explicit inputs by name and by layers.{i}",
			spec: `
name: m
input: [6]
layers:
  - {name: 0, type: dense, units: 4}
  - {name: 1, type: relu}
  - {type: dense, units: 4, inputs: [1]}
  - {name: features.3, type: dense, units: 2, inputs: [layers.2]}
  - {name: 1.0, type: dense, units: 3, inputs: [features.3]}
  - {name: head.fc, type: dense, units: 1, inputs: [1.0]}
loss: mse
`,
			nodes: []graphNode{
				{"0", "L0", KindDense, []string{"input"}, []Shape{{6}}, Shape{6}, Shape{4}},
				{"1", "L1", KindActivation, []string{"0"}, []Shape{{4}}, Shape{4}, Shape{4}},
				{"layers.2", "Layers2", KindDense, []string{"1"}, []Shape{{4}}, Shape{4}, Shape{4}},
				{"features.3", "Features3", KindDense, []string{"layers.2"}, []Shape{{4}}, Shape{4}, Shape{2}},
				{"1.0", "L1_0", KindDense, []string{"features.3"}, []Shape{{2}}, Shape{2}, Shape{3}},
				{"head.fc", "HeadFc", KindDense, []string{"1.0"}, []Shape{{3}}, Shape{3}, Shape{1}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse("m.yaml", []byte(tt.spec))
			require.NoError(t, err)
			assert.Equal(t, tt.nodes, graphNodesOf(m))
		})
	}
}
