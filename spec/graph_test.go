package spec

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestValidResidual checks the residual block of DESIGN.md's Graphs section:
// Inputs, Ins, In and Out of every node, and the fields of the new kinds.
func TestValidResidual(t *testing.T) {
	m, err := Parse("m.yaml", []byte(`
name: m
input: [16, 28, 28]
layers:
  - {name: block.conv1, type: conv2d, filters: 16, kernel: 3, padding: same}
  - {name: block.bn1, type: batchnorm}
  - {type: relu}
  - {name: block.conv2, type: conv2d, filters: 16, kernel: 3, padding: same}
  - {name: block.bn2, type: batchnorm}
  - {name: block.add, type: add, inputs: [block.bn2, input]}
  - {type: relu}
loss: mse
`))
	require.NoError(t, err)
	img := Shape{16, 28, 28}
	one := []Shape{img}
	assert.Equal(t, []graphNode{
		{"block.conv1", "BlockConv1", KindConv2D, []string{"input"}, one, img, img},
		{"block.bn1", "BlockBn1", KindBatchNorm, []string{"block.conv1"}, one, img, img},
		{"layers.2", "Layers2", KindActivation, []string{"block.bn1"}, one, img, img},
		{"block.conv2", "BlockConv2", KindConv2D, []string{"layers.2"}, one, img, img},
		{"block.bn2", "BlockBn2", KindBatchNorm, []string{"block.conv2"}, one, img, img},
		{"block.add", "BlockAdd", KindAdd, []string{"block.bn2", "input"}, []Shape{img, img}, img, img},
		{"layers.6", "Layers6", KindActivation, []string{"block.add"}, one, img, img},
	}, graphNodesOf(m))
	bn := m.Nodes[1]
	assert.Equal(t, [3]any{1e-5, true, 0.1}, [3]any{bn.Eps, bn.Affine, bn.Momentum})
	assert.Equal(t, 1, m.Nodes[0].Groups)
}

// newNode is the part of a Node the tests of the new kinds compare.
type newNode struct {
	Kind            Kind
	Inputs          []string
	Ins             []Shape
	Out             Shape
	Filters, Groups int
	Kernel, Stride  [2]int
	Dilation        [2]int
	Pad             [4]int
	CountIncludePad bool
	Axis            int
	Eps             float64
	Affine          bool
	Momentum        float64
	Act             Act
}

// TestValidNewKinds checks each kind of the graph wave, one spec per case.
func TestValidNewKinds(t *testing.T) {
	one := [2]int{1, 1}
	linear := Act{Fn: ActLinear}
	tests := []struct {
		name   string
		input  string
		layers string
		want   []newNode
	}{
		{
			name:  "add and multiply",
			input: "[6]",
			layers: `
  - {name: a, type: dense, units: 6}
  - {name: b, type: sigmoid, inputs: [input]}
  - {name: s, type: add, inputs: [a, input, b]}
  - {type: multiply, inputs: [s, b]}
`,
			want: []newNode{
				{Kind: KindDense, Inputs: []string{"input"}, Ins: []Shape{{6}}, Out: Shape{6}, Act: linear},
				{Kind: KindActivation, Inputs: []string{"input"}, Ins: []Shape{{6}}, Out: Shape{6}, Act: Act{Fn: ActSigmoid}},
				{Kind: KindAdd, Inputs: []string{"a", "input", "b"}, Ins: []Shape{{6}, {6}, {6}}, Out: Shape{6}},
				{Kind: KindMultiply, Inputs: []string{"s", "b"}, Ins: []Shape{{6}, {6}}, Out: Shape{6}},
			},
		},
		{
			name:  "concat: channels of images by default, axis given negative",
			input: "[3, 4, 5]",
			layers: `
  - {name: a, type: conv2d, filters: 2, kernel: 1}
  - {name: ab, type: concat, inputs: [a, input]}
  - {name: c, type: conv2d, filters: 5, kernel: 1, inputs: [input]}
  - {type: concat, inputs: [ab, c], axis: -1}
`,
			want: []newNode{
				{Kind: KindConv2D, Inputs: []string{"input"}, Ins: []Shape{{3, 4, 5}}, Out: Shape{2, 4, 5}, Filters: 2, Groups: 1, Kernel: one, Stride: one, Dilation: one, Act: linear},
				{Kind: KindConcat, Inputs: []string{"a", "input"}, Ins: []Shape{{2, 4, 5}, {3, 4, 5}}, Out: Shape{5, 4, 5}},
				{Kind: KindConv2D, Inputs: []string{"input"}, Ins: []Shape{{3, 4, 5}}, Out: Shape{5, 4, 5}, Filters: 5, Groups: 1, Kernel: one, Stride: one, Dilation: one, Act: linear},
				{Kind: KindConcat, Inputs: []string{"ab", "c"}, Ins: []Shape{{5, 4, 5}, {5, 4, 5}}, Out: Shape{5, 4, 10}, Axis: 2},
			},
		},
		{
			name:  "concat: features of sequences and vectors, channels of signals",
			input: "[4, 3]",
			layers: `
  - {name: seq, type: dense, units: 2}
  - {name: feats, type: concat, inputs: [seq, input]}
  - {name: sig, type: conv1d, filters: 2, kernel: 1, inputs: [feats]}
  - {name: sig2, type: relu}
  - {name: chans, type: concat, inputs: [sig, sig2]}
  - {name: v, type: global_avgpool1d}
  - {name: v2, type: linear, inputs: [v]}
  - {type: concat, inputs: [v, v2]}
`,
			want: []newNode{
				{Kind: KindDense, Inputs: []string{"input"}, Ins: []Shape{{4, 3}}, Out: Shape{4, 2}, Act: linear},
				{Kind: KindConcat, Inputs: []string{"seq", "input"}, Ins: []Shape{{4, 2}, {4, 3}}, Out: Shape{4, 5}, Axis: 1},
				{Kind: KindConv1D, Inputs: []string{"feats"}, Ins: []Shape{{4, 5}}, Out: Shape{2, 5}, Filters: 2, Groups: 1, Kernel: one, Stride: one, Dilation: one, Act: linear},
				{Kind: KindActivation, Inputs: []string{"sig"}, Ins: []Shape{{2, 5}}, Out: Shape{2, 5}, Act: Act{Fn: ActReLU}},
				{Kind: KindConcat, Inputs: []string{"sig", "sig2"}, Ins: []Shape{{2, 5}, {2, 5}}, Out: Shape{4, 5}},
				{Kind: KindGlobalAvgPool1D, Inputs: []string{"chans"}, Ins: []Shape{{4, 5}}, Out: Shape{4}},
				{Kind: KindActivation, Inputs: []string{"v"}, Ins: []Shape{{4}}, Out: Shape{4}, Act: linear},
				{Kind: KindConcat, Inputs: []string{"v", "v2"}, Ins: []Shape{{4}, {4}}, Out: Shape{8}},
			},
		},
		{
			name:  "batchnorm over [C, H, W] and [F], layernorm over [F]",
			input: "[2, 3, 4]",
			layers: `
  - {type: batchnorm, momentum: 0, eps: 0.001, affine: false}
  - {type: flatten}
  - {type: batchnorm, momentum: 1}
  - {type: layernorm, eps: 1e-6, affine: false}
`,
			want: []newNode{
				{Kind: KindBatchNorm, Inputs: []string{"input"}, Ins: []Shape{{2, 3, 4}}, Out: Shape{2, 3, 4}, Eps: 0.001},
				{Kind: KindFlatten, Inputs: []string{"layers.0"}, Ins: []Shape{{2, 3, 4}}, Out: Shape{24}},
				{Kind: KindBatchNorm, Inputs: []string{"layers.1"}, Ins: []Shape{{24}}, Out: Shape{24}, Eps: 1e-5, Affine: true, Momentum: 1},
				{Kind: KindLayerNorm, Inputs: []string{"layers.2"}, Ins: []Shape{{24}}, Out: Shape{24}, Eps: 1e-6},
			},
		},
		{
			name:   "batchnorm over [C, L], layernorm over [T, F]",
			input:  "[5, 3]",
			layers: "  - {type: batchnorm}\n  - {type: layernorm}\n",
			want: []newNode{
				{Kind: KindBatchNorm, Inputs: []string{"input"}, Ins: []Shape{{5, 3}}, Out: Shape{5, 3}, Eps: 1e-5, Affine: true, Momentum: 0.1},
				{Kind: KindLayerNorm, Inputs: []string{"layers.0"}, Ins: []Shape{{5, 3}}, Out: Shape{5, 3}, Eps: 1e-5, Affine: true},
			},
		},
		{
			name:  "conv1d: same with an even kernel and dilation, groups, stride and int padding, relu6",
			input: "[4, 11]",
			layers: `
  - {type: conv1d, filters: 6, kernel: 4, dilation: 2, padding: same, groups: 2, bias: false, activation: relu6}
  - {type: conv1d, filters: 6, kernel: 3, stride: 2, padding: 1, groups: 6}
  - {type: conv1d, filters: 2, kernel: 2, padding: valid}
`,
			want: []newNode{
				// same: total = d(k−1) = 6, 3 left and 3 right.
				{Kind: KindConv1D, Inputs: []string{"input"}, Ins: []Shape{{4, 11}}, Out: Shape{6, 11}, Filters: 6, Groups: 2, Kernel: [2]int{4, 1}, Stride: one, Dilation: [2]int{2, 1}, Pad: [4]int{3, 3, 0, 0}, Act: Act{Fn: ActReLU6}},
				// (11 + 2 − 3)/2 + 1 = 6.
				{Kind: KindConv1D, Inputs: []string{"layers.0"}, Ins: []Shape{{6, 11}}, Out: Shape{6, 6}, Filters: 6, Groups: 6, Kernel: [2]int{3, 1}, Stride: [2]int{2, 1}, Dilation: one, Pad: [4]int{1, 1, 0, 0}, Act: linear},
				{Kind: KindConv1D, Inputs: []string{"layers.1"}, Ins: []Shape{{6, 6}}, Out: Shape{2, 5}, Filters: 2, Groups: 1, Kernel: [2]int{2, 1}, Stride: one, Dilation: one, Act: linear},
			},
		},
		{
			name:  "1-D pooling: stride defaults to size, padding, count_include_pad; avgpool2d's too",
			input: "[3, 10]",
			layers: `
  - {type: maxpool1d, size: 3}
  - {type: avgpool1d, size: 2, stride: 1, padding: 1, count_include_pad: false}
  - {type: avgpool1d, size: 2}
  - {type: global_avgpool1d}
`,
			want: []newNode{
				{Kind: KindMaxPool1D, Inputs: []string{"input"}, Ins: []Shape{{3, 10}}, Out: Shape{3, 3}, Kernel: [2]int{3, 1}, Stride: [2]int{3, 1}, Dilation: one},
				{Kind: KindAvgPool1D, Inputs: []string{"layers.0"}, Ins: []Shape{{3, 3}}, Out: Shape{3, 4}, Kernel: [2]int{2, 1}, Stride: one, Dilation: one, Pad: [4]int{1, 1, 0, 0}},
				{Kind: KindAvgPool1D, Inputs: []string{"layers.1"}, Ins: []Shape{{3, 4}}, Out: Shape{3, 2}, Kernel: [2]int{2, 1}, Stride: [2]int{2, 1}, Dilation: one, CountIncludePad: true},
				{Kind: KindGlobalAvgPool1D, Inputs: []string{"layers.2"}, Ins: []Shape{{3, 2}}, Out: Shape{3}},
			},
		},
		{
			name:  "depthwise conv2d and avgpool2d count_include_pad",
			input: "[4, 6, 6]",
			layers: `
  - {type: conv2d, filters: 8, kernel: 3, padding: same, groups: 4}
  - {type: avgpool2d, size: 2, padding: 1, count_include_pad: false}
  - {type: avgpool2d, size: 2}
`,
			want: []newNode{
				{Kind: KindConv2D, Inputs: []string{"input"}, Ins: []Shape{{4, 6, 6}}, Out: Shape{8, 6, 6}, Filters: 8, Groups: 4, Kernel: [2]int{3, 3}, Stride: one, Dilation: one, Pad: [4]int{1, 1, 1, 1}, Act: linear},
				{Kind: KindAvgPool2D, Inputs: []string{"layers.0"}, Ins: []Shape{{8, 6, 6}}, Out: Shape{8, 4, 4}, Kernel: [2]int{2, 2}, Stride: [2]int{2, 2}, Dilation: one, Pad: [4]int{1, 1, 1, 1}},
				{Kind: KindAvgPool2D, Inputs: []string{"layers.1"}, Ins: []Shape{{8, 4, 4}}, Out: Shape{8, 2, 2}, Kernel: [2]int{2, 2}, Stride: [2]int{2, 2}, Dilation: one, CountIncludePad: true},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse("m.yaml", []byte("name: m\ninput: "+tt.input+"\nlayers:\n"+tt.layers+"loss: mse\n"))
			require.NoError(t, err)
			var got []newNode
			for _, n := range m.Nodes {
				got = append(got, newNode{n.Kind, n.Inputs, n.Ins, n.Out, n.Filters, n.Groups, n.Kernel, n.Stride,
					n.Dilation, n.Pad, n.CountIncludePad, n.Axis, n.Eps, n.Affine, n.Momentum, n.Act})
				assert.Equal(t, n.Ins[0], n.In)
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestGraphExamples checks the example specs of the graph wave in ../testdata.
func TestGraphExamples(t *testing.T) {
	tests := []struct {
		file  string
		nodes []graphNode
	}{
		{"resnet_block", func() []graphNode {
			img := Shape{4, 8, 8}
			one := []Shape{img}
			return []graphNode{
				{"block.conv1", "BlockConv1", KindConv2D, []string{"input"}, one, img, img},
				{"block.bn1", "BlockBn1", KindBatchNorm, []string{"block.conv1"}, one, img, img},
				{"layers.2", "Layers2", KindActivation, []string{"block.bn1"}, one, img, img},
				{"block.conv2", "BlockConv2", KindConv2D, []string{"layers.2"}, one, img, img},
				{"block.bn2", "BlockBn2", KindBatchNorm, []string{"block.conv2"}, one, img, img},
				{"block.add", "BlockAdd", KindAdd, []string{"block.bn2", "input"}, []Shape{img, img}, img, img},
				{"layers.6", "Layers6", KindActivation, []string{"block.add"}, one, img, img},
				{"layers.7", "Layers7", KindGlobalAvgPool2D, []string{"layers.6"}, one, img, Shape{4}},
				{"fc", "Fc", KindDense, []string{"layers.7"}, []Shape{{4}}, Shape{4}, Shape{3}},
			}
		}()},
		{"mobile_block", []graphNode{
			{"block.0", "Block0", KindConv2D, []string{"input"}, []Shape{{8, 12, 12}}, Shape{8, 12, 12}, Shape{8, 12, 12}},
			{"block.1", "Block1", KindBatchNorm, []string{"block.0"}, []Shape{{8, 12, 12}}, Shape{8, 12, 12}, Shape{8, 12, 12}},
			{"block.2", "Block2", KindActivation, []string{"block.1"}, []Shape{{8, 12, 12}}, Shape{8, 12, 12}, Shape{8, 12, 12}},
			{"block.3", "Block3", KindConv2D, []string{"block.2"}, []Shape{{8, 12, 12}}, Shape{8, 12, 12}, Shape{16, 12, 12}},
			{"block.4", "Block4", KindBatchNorm, []string{"block.3"}, []Shape{{16, 12, 12}}, Shape{16, 12, 12}, Shape{16, 12, 12}},
			{"block.5", "Block5", KindActivation, []string{"block.4"}, []Shape{{16, 12, 12}}, Shape{16, 12, 12}, Shape{16, 12, 12}},
			{"layers.6", "Layers6", KindGlobalAvgPool2D, []string{"block.5"}, []Shape{{16, 12, 12}}, Shape{16, 12, 12}, Shape{16}},
			{"fc", "Fc", KindDense, []string{"layers.6"}, []Shape{{16}}, Shape{16}, Shape{10}},
		}},
		{"ecg_conv1d", []graphNode{
			{"layers.0", "Layers0", KindConv1D, []string{"input"}, []Shape{{1, 140}}, Shape{1, 140}, Shape{16, 140}},
			{"layers.1", "Layers1", KindMaxPool1D, []string{"layers.0"}, []Shape{{16, 140}}, Shape{16, 140}, Shape{16, 70}},
			{"layers.2", "Layers2", KindConv1D, []string{"layers.1"}, []Shape{{16, 70}}, Shape{16, 70}, Shape{32, 70}},
			{"layers.3", "Layers3", KindMaxPool1D, []string{"layers.2"}, []Shape{{32, 70}}, Shape{32, 70}, Shape{32, 35}},
			{"layers.4", "Layers4", KindConv1D, []string{"layers.3"}, []Shape{{32, 35}}, Shape{32, 35}, Shape{32, 35}},
			{"layers.5", "Layers5", KindConv1D, []string{"layers.4"}, []Shape{{32, 35}}, Shape{32, 35}, Shape{32, 35}},
			{"layers.6", "Layers6", KindGlobalAvgPool1D, []string{"layers.5"}, []Shape{{32, 35}}, Shape{32, 35}, Shape{32}},
			{"layers.7", "Layers7", KindDense, []string{"layers.6"}, []Shape{{32}}, Shape{32}, Shape{5}},
		}},
		{"mlp_block", []graphNode{
			{"ln", "Ln", KindLayerNorm, []string{"input"}, []Shape{{8, 16}}, Shape{8, 16}, Shape{8, 16}},
			{"mlp.fc", "MlpFc", KindDense, []string{"ln"}, []Shape{{8, 16}}, Shape{8, 16}, Shape{8, 32}},
			{"mlp.proj", "MlpProj", KindDense, []string{"mlp.fc"}, []Shape{{8, 32}}, Shape{8, 32}, Shape{8, 16}},
			{"residual", "Residual", KindAdd, []string{"mlp.proj", "input"}, []Shape{{8, 16}, {8, 16}}, Shape{8, 16}, Shape{8, 16}},
			{"ln_f", "LnF", KindLayerNorm, []string{"residual"}, []Shape{{8, 16}}, Shape{8, 16}, Shape{8, 16}},
			{"head", "Head", KindDense, []string{"ln_f"}, []Shape{{8, 16}}, Shape{8, 16}, Shape{8, 4}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			m, err := ParseFile("../testdata/" + tt.file + ".yaml")
			require.NoError(t, err)
			assert.Equal(t, tt.file, m.Name)
			assert.Equal(t, tt.nodes, graphNodesOf(m))
			assert.Equal(t, "softmax_cross_entropy", m.Loss.Kind)
		})
	}
	mobile, err := ParseFile("../testdata/mobile_block.yaml")
	require.NoError(t, err)
	assert.Equal(t, 8, mobile.Nodes[0].Groups, "depthwise")
	assert.Equal(t, Act{Fn: ActReLU6}, mobile.Nodes[5].Act)
	ecg, err := ParseFile("../testdata/ecg_conv1d.yaml")
	require.NoError(t, err)
	assert.Equal(t, [4]int{3, 3, 0, 0}, ecg.Nodes[0].Pad, "same, kernel 7")
	assert.Equal(t, [4]int{2, 2, 0, 0}, ecg.Nodes[4].Pad)
	assert.Equal(t, 32, ecg.Nodes[4].Groups, "depthwise")
}

// TestGraphErrorMessages checks single error texts of graph specs that do not
// fit a file well.
func TestGraphErrorMessages(t *testing.T) {
	spec := func(input, layers string) string {
		return "name: m\ninput: " + input + "\nlayers:\n" + layers + "loss: mse\n"
	}
	tests := []struct{ name, spec, want string }{
		{"layers.{i} past the end", spec("[4]", "  - {type: relu}\n  - {type: dense, units: 2, inputs: [layers.7]}\n"),
			`m.yaml:5:38: layer 1 (dense): inputs: unknown layer "layers.7"; expected input or the name of an earlier layer (did you mean "layers.0"?)`},
		{"layers.{i} of a later named layer is a forward reference", spec("[4]", "  - {type: relu, inputs: [layers.1]}\n  - {name: fc, type: dense, units: 2}\n"),
			`m.yaml:4:27: layer 0 (relu): inputs: "layers.1" is layer 1, which comes later; a layer may only read earlier layers or input`},
		{"typo of input", spec("[4]", "  - {type: relu}\n  - {type: add, inputs: [layers.0, inptu]}\n"),
			`m.yaml:5:36: layer 1 (add): inputs: unknown layer "inptu"; expected input or the name of an earlier layer (did you mean "input"?)`},
		{"reading a layer of unknown type: no cascade", spec("[4]", "  - {type: dens, units: 4}\n  - {type: relu, inputs: [layers.0]}\n  - {type: add, inputs: [layers.1, input]}\n"),
			`m.yaml:4:12: layer 0: unknown type "dens"; expected one of add, attention, avgpool1d, avgpool2d, batchnorm, concat, conv1d, conv2d, dense, dropout, elu, embedding, flatten, gelu, global_avgpool1d, global_avgpool2d, gru, layernorm, leaky_relu, linear, lstm, maxpool1d, maxpool2d, multiply, positional_embedding, relu, relu6, rnn, sigmoid, softmax, softplus, tanh (did you mean "dense"?)`},
		{"an unknown reference hides the unused check", spec("[4]", "  - {name: a, type: relu}\n  - {name: b, type: relu, inputs: [input]}\n  - {type: add, inputs: [b, c]}\n"),
			`m.yaml:6:29: layer 2 (add): inputs: unknown layer "c"; expected input or the name of an earlier layer (did you mean "b"?)`},
		{"sequences concat on features by default", spec("[3, 4]", "  - {name: a, type: dense, units: 2}\n  - {type: concat, inputs: [a, input]}\n  - {type: layernorm}\n  - {type: conv1d, filters: 2, kernel: 7}\n"),
			`m.yaml:7:40: layer 3 (conv1d): kernel 7 is larger than its input 6`},
		{"inputs of a merge on their own line", "name: m\ninput: [4]\nlayers:\n  - {name: a, type: relu}\n  - type: add\n    inputs:\n      - a\n      - b\nloss: mse\n",
			`m.yaml:8:9: layer 1 (add): inputs: unknown layer "b"; expected input or the name of an earlier layer (did you mean "a"?)`},
		{"conv2d weight counts channels per group", spec("[4096, 1, 1]", "  - {type: conv2d, filters: 131074, kernel: 1, groups: 2}\n"),
			`m.yaml:4:29: layer 0 (conv2d): weight has 268439552 parameters (131074 x 2048 x 1 x 1), more than the limit of 268435456`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse("m.yaml", []byte(tt.spec))
			require.Error(t, err)
			assert.Nil(t, m)
			assert.Equal(t, tt.want, err.Error())
		})
	}
}
