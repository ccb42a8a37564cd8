package spec

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// seqNode is the part of a Node the sequence-layer tests compare.
type seqNode struct {
	Kind            Kind
	In, Out         Shape
	Units           int
	ReturnSequences bool
	Bias            bool
	Act             Act
	Vocab, Dim      int
}

func seqNodesOf(m *Model) []seqNode {
	var ns []seqNode
	for _, n := range m.Nodes {
		ns = append(ns, seqNode{n.Kind, n.In, n.Out, n.Units, n.ReturnSequences, n.Bias, n.Act, n.Vocab, n.Dim})
	}
	return ns
}

// TestValidSequenceLayers checks the shapes inferred for the recurrent and
// embedding layers, and for the layers that take a sequence [T, F].
func TestValidSequenceLayers(t *testing.T) {
	tanh, relu, linear := Act{Fn: ActTanh}, Act{Fn: ActReLU}, Act{Fn: ActLinear}
	tests := []struct {
		name   string
		input  string
		layers string
		loss   string // default mse
		tokens bool
		want   []seqNode
	}{
		{
			name:   "lstm, last step",
			input:  "[20, 3]",
			layers: "  - {type: lstm, units: 32}\n  - {type: dense, units: 1}\n",
			want: []seqNode{
				{KindLSTM, Shape{20, 3}, Shape{32}, 32, false, true, Act{}, 0, 0},
				{KindDense, Shape{32}, Shape{1}, 1, false, true, linear, 0, 0},
			},
		},
		{
			name:   "lstm, every step, no bias",
			input:  "[20, 3]",
			layers: "  - {type: lstm, units: 32, return_sequences: true, bias: false, name: enc}\n",
			want:   []seqNode{{KindLSTM, Shape{20, 3}, Shape{20, 32}, 32, true, false, Act{}, 0, 0}},
		},
		{
			name:  "stacked gru then lstm, dropout between them",
			input: "[10, 8]",
			layers: `
  - {type: gru, units: 16, return_sequences: true}
  - {type: dropout, rate: 0.2}
  - {type: lstm, units: 4, return_sequences: false}
`,
			want: []seqNode{
				{KindGRU, Shape{10, 8}, Shape{10, 16}, 16, true, true, Act{}, 0, 0},
				{KindDropout, Shape{10, 16}, Shape{10, 16}, 0, false, false, Act{}, 0, 0},
				{KindLSTM, Shape{10, 16}, Shape{4}, 4, false, true, Act{}, 0, 0},
			},
		},
		{
			name:  "rnn relu and rnn with the default tanh",
			input: "[6, 2]",
			layers: `
  - {type: rnn, units: 5, activation: relu, return_sequences: true}
  - {type: rnn, units: 3}
`,
			want: []seqNode{
				{KindRNN, Shape{6, 2}, Shape{6, 5}, 5, true, true, relu, 0, 0},
				{KindRNN, Shape{6, 5}, Shape{3}, 3, false, true, tanh, 0, 0},
			},
		},
		{
			name:  "embedding, gru, dense per step",
			input: "[32]",
			layers: `
  - {type: embedding, vocab: 65, dim: 16}
  - {type: gru, units: 64, return_sequences: true}
  - {type: dense, units: 65}
`,
			loss:   "softmax_cross_entropy",
			tokens: true,
			want: []seqNode{
				{KindEmbedding, Shape{32}, Shape{32, 16}, 0, false, false, Act{}, 65, 16},
				{KindGRU, Shape{32, 16}, Shape{32, 64}, 64, true, true, Act{}, 0, 0},
				{KindDense, Shape{32, 64}, Shape{32, 65}, 65, false, true, linear, 0, 0},
			},
		},
		{
			name:  "dense and activations per step, softmax over the last dim",
			input: "[5, 3]",
			layers: `
  - {type: dense, units: 4, activation: relu}
  - {type: tanh}
  - {type: dense, units: 2, bias: false}
  - {type: softmax}
`,
			want: []seqNode{
				{KindDense, Shape{5, 3}, Shape{5, 4}, 4, false, true, relu, 0, 0},
				{KindActivation, Shape{5, 4}, Shape{5, 4}, 0, false, false, tanh, 0, 0},
				{KindDense, Shape{5, 4}, Shape{5, 2}, 2, false, false, linear, 0, 0},
				{KindActivation, Shape{5, 2}, Shape{5, 2}, 0, false, false, Act{Fn: ActSoftmax}, 0, 0},
			},
		},
		{
			name:   "flatten a sequence",
			input:  "[5, 3]",
			layers: "  - {type: gru, units: 2, return_sequences: true}\n  - {type: flatten}\n  - {type: dense, units: 1}\n",
			want: []seqNode{
				{KindGRU, Shape{5, 3}, Shape{5, 2}, 2, true, true, Act{}, 0, 0},
				{KindFlatten, Shape{5, 2}, Shape{10}, 0, false, false, Act{}, 0, 0},
				{KindDense, Shape{10}, Shape{1}, 1, false, true, linear, 0, 0},
			},
		},
		{
			name:   "embedding alone, flattened",
			input:  "[4]",
			layers: "  - {type: embedding, vocab: 3, dim: 2, name: emb}\n  - {type: flatten}\n",
			tokens: true,
			want: []seqNode{
				{KindEmbedding, Shape{4}, Shape{4, 2}, 0, false, false, Act{}, 3, 2},
				{KindFlatten, Shape{4, 2}, Shape{8}, 0, false, false, Act{}, 0, 0},
			},
		},
		{
			name:   "a vector input without an embedding stays a vector",
			input:  "[4]",
			layers: "  - {type: dense, units: 2}\n",
			want:   []seqNode{{KindDense, Shape{4}, Shape{2}, 2, false, true, linear, 0, 0}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loss := tt.loss
			if loss == "" {
				loss = "mse"
			}
			m, err := Parse("m.yaml", []byte("name: m\ninput: "+tt.input+"\nlayers:\n"+tt.layers+"loss: "+loss+"\n"))
			require.NoError(t, err)
			assert.Equal(t, tt.want, seqNodesOf(m))
			assert.Equal(t, tt.tokens, m.Tokens, "Tokens")
		})
	}
}

// TestLayerParams checks the parameter count of each layer kind against
// PyTorch's (sum(p.numel() for p in layer.parameters())).
func TestLayerParams(t *testing.T) {
	tests := []struct {
		name  string
		input Shape
		layer string
		want  int
	}{
		{"nn.RNN(3, 4)", Shape{5, 3}, "{type: rnn, units: 4}", 4*3 + 4*4 + 2*4},
		{"nn.RNN(3, 4, bias=False)", Shape{5, 3}, "{type: rnn, units: 4, bias: false, activation: relu}", 4*3 + 4*4},
		{"nn.LSTM(3, 4)", Shape{5, 3}, "{type: lstm, units: 4}", 144},
		{"nn.LSTM(3, 4, bias=False)", Shape{5, 3}, "{type: lstm, units: 4, bias: false, return_sequences: true}", 112},
		{"nn.GRU(3, 4)", Shape{5, 3}, "{type: gru, units: 4}", 108},
		{"nn.GRU(16, 128)", Shape{32, 16}, "{type: gru, units: 128}", 3*128*16 + 3*128*128 + 6*128},
		{"nn.Embedding(65, 16)", Shape{32}, "{type: embedding, vocab: 65, dim: 16}", 1040},
		{"nn.Linear(3, 4) on a sequence", Shape{5, 3}, "{type: dense, units: 4}", 16},
		{"nn.Linear(3, 4, bias=False) on a vector", Shape{3}, "{type: dense, units: 4, bias: false}", 12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var doc yaml.Node
			require.NoError(t, yaml.Unmarshal([]byte("["+tt.layer+"]"), &doc))
			c := &checker{file: "m.yaml"}
			ls, g := c.decodeLayers(doc.Content[0])
			c.checkLayers(ls, g, tt.input, Pos{})
			require.Empty(t, c.errs)
			require.Len(t, ls, 1)
			assert.Equal(t, tt.want, ls[0].params)
		})
	}
}

// TestSequenceErrorMessages checks single error texts of the sequence layers.
func TestSequenceErrorMessages(t *testing.T) {
	spec := func(input, layers, loss string) string {
		return "name: m\ninput: " + input + "\nlayers:\n" + layers + "loss: " + loss + "\n"
	}
	tests := []struct {
		name string
		spec string
		want string
	}{
		{"units 0", spec("[5, 3]", "  - {type: gru, units: 0}\n", "mse"),
			"m.yaml:4:24: layer 0 (gru): units: expected a positive integer, got 0"},
		{"units a string", spec("[5, 3]", "  - {type: lstm, units: \"8\"}\n", "mse"),
			`m.yaml:4:25: layer 0 (lstm): units: expected a positive integer, got "8"`},
		{"gru gate rows", spec("[5, 3]", "  - {type: gru, units: 6000000}\n", "mse"),
			"m.yaml:4:24: layer 0 (gru): units: 3 gates of 6000000 units are 18000000 rows, more than the limit of 16777216"},
		{"lstm gate rows at the limit, its weight_hh too large", spec("[1, 1]", "  - {type: lstm, units: 4194304, bias: false}\n", "mse"),
			"m.yaml:4:25: layer 0 (lstm): weight_hh has 70368744177664 parameters (16777216 x 4194304), more than the limit of 268435456"},
		{"rnn units limit", spec("[5, 3]", "  - {type: rnn, units: 16777217}\n", "mse"),
			"m.yaml:4:24: layer 0 (rnn): units: 16777217 is more than the limit of 16777216"},
		{"weight_ih too large", spec("[1, 16777216]", "  - {type: rnn, units: 17}\n", "mse"),
			"m.yaml:4:24: layer 0 (rnn): weight_ih has 285212672 parameters (17 x 16777216), more than the limit of 268435456"},
		{"rnn at the parameter limit", spec("[1, 1]", "  - {type: rnn, units: 16383, bias: false}\n", "mse"), ""},
		{"rnn biases over the parameter limit", spec("[1, 1]", "  - {type: rnn, units: 16383}\n", "mse"),
			"m.yaml:4:3: layers: the model has 268451838 parameters, more than the limit of 268435456"},
		{"rnn activation null", spec("[5, 3]", "  - {type: rnn, units: 2, activation: ~}\n", "mse"),
			"m.yaml:4:39: layer 0 (rnn): activation: expected tanh or relu, got null"},
		{"rnn alpha", spec("[5, 3]", "  - {type: rnn, units: 2, activation: relu, alpha: 0.1}\n", "mse"),
			`m.yaml:4:45: layer 0 (rnn): unknown key "alpha"; expected one of activation, bias, inputs, name, return_sequences, type, units`},
		{"upper-case type", spec("[5, 3]", "  - {type: LSTM, units: 2}\n", "mse"),
			`m.yaml:4:12: layer 0: unknown type "LSTM"; expected one of add, attention, avgpool1d, avgpool2d, batchnorm, concat, conv1d, conv2d, dense, dropout, elu, embedding, flatten, gelu, global_avgpool1d, global_avgpool2d, gru, layernorm, leaky_relu, linear, lstm, maxpool1d, maxpool2d, multiply, positional_embedding, relu, relu6, rnn, sigmoid, softmax, softplus, tanh (did you mean "lstm"?)`},
		{"embedding vocab 0", spec("[5]", "  - {type: embedding, vocab: 0, dim: 2}\n", "mse"),
			"m.yaml:4:30: layer 0 (embedding): vocab: expected a positive integer, got 0"},
		{"embedding dim a float", spec("[5]", "  - {type: embedding, vocab: 3, dim: 2.5}\n", "mse"),
			"m.yaml:4:38: layer 0 (embedding): dim: expected a positive integer, got 2.5"},
		{"embedding key typo", spec("[5]", "  - {type: embedding, vocab: 3, dims: 2}\n", "mse"),
			"m.yaml:4:5: layer 0 (embedding): missing key \"dim\"\nm.yaml:4:33: layer 0 (embedding): unknown key \"dims\"; expected one of dim, inputs, name, type, vocab (did you mean \"dim\"?)"},
		{"embedding on an image", spec("[1, 2, 2]", "  - {type: embedding, vocab: 3, dim: 2}\n", "mse"),
			"m.yaml:4:5: layer 0 (embedding): expects an input of token ids [T], got [1 2 2]"},
		{"embedding twice", spec("[5]", "  - {type: embedding, vocab: 3, dim: 2}\n  - {type: embedding, vocab: 3, dim: 2}\n", "mse"),
			"m.yaml:5:5: layer 1 (embedding): embedding must be the first layer; it reads the token ids of the input"},
		{"dense per step output too large", spec("[100000, 2]", "  - {type: dense, units: 1000}\n", "mse"),
			"m.yaml:4:5: layer 0 (dense): output [100000 1000] has 100000000 elements, more than the limit of 16777216"},
		{"recurrent on a 1-D input", spec("[32]", "  - {type: gru, units: 2}\n", "mse"),
			"m.yaml:4:5: layer 0 (gru): expects a sequence input [T, F], got [32]"},
		{"recurrent after its own last step", spec("[5, 3]", "  - {type: gru, units: 2}\n  - {type: lstm, units: 2}\n", "mse"),
			"m.yaml:5:5: layer 1 (lstm): expects a sequence input [T, F], got [2]"},
		{"softmax ce after an rnn relu then softmax", spec("[5, 3]", "  - {type: rnn, units: 2, activation: relu}\n  - {type: softmax}\n", "softmax_cross_entropy"),
			"m.yaml:6:7: loss: softmax_cross_entropy takes logits, but layer 1 ends in softmax; remove the softmax layer"},
		{"bce after rnn relu", spec("[5, 3]", "  - {type: rnn, units: 1, activation: relu}\n", "binary_cross_entropy"),
			"m.yaml:5:7: loss: binary_cross_entropy expects probabilities, but the model ends in relu; end with sigmoid or use binary_cross_entropy_with_logits"},
		{"bce after an embedding", spec("[5]", "  - {type: embedding, vocab: 3, dim: 1}\n", "binary_cross_entropy"),
			"m.yaml:5:7: loss: binary_cross_entropy expects probabilities, but the model ends in linear; end with sigmoid or use binary_cross_entropy_with_logits"},
		{"bce after gru and flatten", spec("[5, 3]", "  - {type: gru, units: 1, return_sequences: true}\n  - {type: flatten}\n", "binary_cross_entropy"),
			"m.yaml:6:7: loss: binary_cross_entropy expects probabilities, but the model ends in tanh; end with sigmoid or use binary_cross_entropy_with_logits"},
		{"no loss check after an invalid rnn activation", spec("[5, 3]", "  - {type: rnn, units: 1, activation: elu}\n", "binary_cross_entropy"),
			`m.yaml:4:39: layer 0 (rnn): activation: expected tanh or relu, got "elu" (did you mean "relu"?)`},
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

// TestValidSequenceLosses checks the losses against sequence outputs and the
// final nonlinearity of the recurrent layers.
func TestValidSequenceLosses(t *testing.T) {
	tests := []struct{ name, input, layers, loss string }{
		{"softmax ce after lstm", "[5, 3]", "  - {type: lstm, units: 4}\n", "softmax_cross_entropy"},
		{"softmax ce per step after gru", "[5, 3]", "  - {type: gru, units: 4, return_sequences: true}\n", "softmax_cross_entropy"},
		{"softmax ce per step after embedding", "[5]", "  - {type: embedding, vocab: 7, dim: 3}\n  - {type: dense, units: 7}\n", "softmax_cross_entropy"},
		{"softmax ce per step on a sequence input", "[5, 3]", "  - {type: dense, units: 2}\n", "softmax_cross_entropy"},
		{"bce after lstm then sigmoid", "[5, 3]", "  - {type: lstm, units: 1}\n  - {type: sigmoid}\n", "binary_cross_entropy"},
		{"bce per step after dense sigmoid", "[5, 3]", "  - {type: gru, units: 4, return_sequences: true}\n  - {type: dense, units: 1, activation: sigmoid}\n", "binary_cross_entropy"},
		{"bce with logits after lstm", "[5, 3]", "  - {type: lstm, units: 1}\n", "binary_cross_entropy_with_logits"},
		{"mse after rnn", "[5, 3]", "  - {type: rnn, units: 1}\n", "mse"},
		{"huber after embedding", "[5]", "  - {type: embedding, vocab: 7, dim: 3}\n", "huber"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse("m.yaml", []byte("name: m\ninput: "+tt.input+"\nlayers:\n"+tt.layers+"loss: "+tt.loss+"\n"))
			require.NoError(t, err)
			assert.Equal(t, tt.loss, m.Loss.Kind)
		})
	}
}

// TestSequenceExamples checks the sequence example specs in ../testdata.
func TestSequenceExamples(t *testing.T) {
	adam := func(lr float64) Optimizer {
		return Optimizer{Type: "adam", LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
	}
	linear := Act{Fn: ActLinear}
	tests := []struct {
		file      string
		dtype     DType
		input     Shape
		tokens    bool
		nodes     []seqNode
		loss      string
		optimizer Optimizer
		train     Train
	}{
		{"seq_sum_lstm", Float32, Shape{30, 2}, false, []seqNode{
			{KindLSTM, Shape{30, 2}, Shape{24}, 24, false, true, Act{}, 0, 0},
			{KindDense, Shape{24}, Shape{1}, 1, false, true, linear, 0, 0},
		}, "mse", adam(0.005), Train{Epochs: 20, Batch: 32, Shuffle: true, Seed: 1, ClipNorm: 1}},
		{"seq_sum_rnn", Float32, Shape{30, 2}, false, []seqNode{
			{KindRNN, Shape{30, 2}, Shape{24}, 24, false, true, Act{Fn: ActTanh}, 0, 0},
			{KindDense, Shape{24}, Shape{1}, 1, false, true, linear, 0, 0},
		}, "mse", adam(0.005), Train{Epochs: 20, Batch: 32, Shuffle: true, Seed: 1, ClipNorm: 1}},
		{"char_lm", Float32, Shape{32}, true, []seqNode{
			{KindEmbedding, Shape{32}, Shape{32, 16}, 0, false, false, Act{}, 64, 16},
			{KindGRU, Shape{32, 16}, Shape{32, 128}, 128, true, true, Act{}, 0, 0},
			{KindDense, Shape{32, 128}, Shape{32, 64}, 64, false, true, linear, 0, 0},
		}, "softmax_cross_entropy", adam(0.003), Train{Epochs: 10, Batch: 32, Shuffle: true, Seed: 1, ClipNorm: 1}},
		{"rnn_tiny", Float64, Shape{2, 3}, false, []seqNode{
			{KindRNN, Shape{2, 3}, Shape{2, 2}, 2, true, true, Act{Fn: ActTanh}, 0, 0},
		}, "mse", optimizerDefaults("sgd"), defaultTrain},
		{"lstm_tiny", Float64, Shape{2, 3}, false, []seqNode{
			{KindLSTM, Shape{2, 3}, Shape{2, 2}, 2, true, true, Act{}, 0, 0},
		}, "mse", optimizerDefaults("sgd"), defaultTrain},
		{"gru_tiny", Float64, Shape{2, 3}, false, []seqNode{
			{KindGRU, Shape{2, 3}, Shape{2, 2}, 2, true, true, Act{}, 0, 0},
		}, "mse", optimizerDefaults("sgd"), defaultTrain},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			m, err := ParseFile("../testdata/" + tt.file + ".yaml")
			require.NoError(t, err)
			assert.Equal(t, tt.file, m.Name)
			assert.Equal(t, tt.dtype, m.DType)
			assert.Equal(t, tt.input, m.Input)
			assert.Equal(t, tt.tokens, m.Tokens)
			assert.Equal(t, tt.nodes, seqNodesOf(m))
			assert.Equal(t, tt.loss, m.Loss.Kind)
			assert.Equal(t, Init{"pytorch", 1}, m.Init)
			assert.Equal(t, tt.optimizer, m.Optimizer)
			assert.Equal(t, tt.train, m.Train)
		})
	}
}
