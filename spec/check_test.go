package spec

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// undecided returns a copy of m as a front end other than the YAML decoder
// would build it: every value set, nothing inferred (no In, Ins, Out, GoName
// or Tokens), chains without Inputs.
func undecided(m *Model) *Model {
	u := *m
	u.Tokens = false
	u.Nodes = nil
	for i, n := range m.Nodes {
		c := *n
		c.In, c.Ins, c.Out, c.GoName = nil, nil, nil, ""
		prev := "input"
		if i > 0 {
			prev = m.Nodes[i-1].Name
		}
		if slices.Equal(c.Inputs, []string{prev}) {
			c.Inputs = nil
		} else {
			c.Inputs = slices.Clone(c.Inputs)
		}
		u.Nodes = append(u.Nodes, &c)
	}
	return &u
}

// TestCheckMatchesParse checks that Check infers from every example spec's
// decoded values what Parse does.
func TestCheckMatchesParse(t *testing.T) {
	files, err := filepath.Glob("../testdata/*.yaml")
	require.NoError(t, err)
	more, err := filepath.Glob("../testdata/mlperf_tiny/*.yaml")
	require.NoError(t, err)
	files = append(files, more...)
	require.GreaterOrEqual(t, len(files), 20)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			m, err := ParseFile(f)
			require.NoError(t, err)
			u := undecided(m)
			require.NoError(t, u.Check())
			assert.Equal(t, m, u)
		})
	}
}

// TestCheckErrors checks the errors of models built in Go: the same texts
// as Parse's, at the node's position.
func TestCheckErrors(t *testing.T) {
	at := func(line int) Pos { return Pos{File: "m.onnx", Line: line, Col: 1} }
	model := func(input Shape, nodes ...*Node) *Model {
		for i, n := range nodes {
			n.Index = i
			if n.Name == "" {
				n.Name = "layers." + string(rune('0'+i))
			}
			n.Pos = at(i + 1)
		}
		return &Model{File: "m.onnx", Name: "m", DType: Float32, Input: input, Nodes: nodes,
			Loss: Loss{Kind: LossMSE, Pos: at(9)}, Init: Init{"pytorch", 1}}
	}
	conv := func(filters, groups int) *Node {
		return &Node{Kind: KindConv2D, Filters: filters, Groups: groups, Kernel: [2]int{3, 3},
			Stride: [2]int{1, 1}, Dilation: [2]int{1, 1}, Bias: true, Act: Act{Fn: ActLinear}}
	}
	tests := []struct {
		name string
		m    *Model
		want string
	}{
		{"groups", model(Shape{3, 8, 8}, conv(4, 2)),
			"m.onnx:1:1: layer 0 (conv2d): groups 2 must divide both the input channels 3 and filters 4"},
		{"kernel larger than the input", model(Shape{3, 2, 2}, conv(4, 1)),
			"m.onnx:1:1: layer 0 (conv2d): kernel 3x3 is larger than its input 2x2"},
		{"zero stride", model(Shape{3, 8, 8}, &Node{Kind: KindMaxPool2D, Kernel: [2]int{2, 2}, Dilation: [2]int{1, 1}}),
			"m.onnx:1:1: layer 0 (maxpool2d): stride: expected a positive integer of at most 16777216, got 0"},
		{"unknown input", model(Shape{4}, &Node{Kind: KindDense, Units: 2, Name: "fc1"},
			&Node{Kind: KindAdd, Inputs: []string{"fc1", "fc2"}}),
			"m.onnx:2:1: layer 1 (add): inputs: unknown layer \"fc2\"; expected input or the name of an earlier layer (did you mean \"fc1\"?)"},
		{"shapes", model(Shape{4}, &Node{Kind: KindDense, Units: 2, Name: "fc1"},
			&Node{Kind: KindAdd, Inputs: []string{"fc1", "input"}}),
			"m.onnx:2:1: layer 1 (add): inputs \"fc1\" [2] and \"input\" [4] have different shapes; add needs identical shapes"},
		{"unused", model(Shape{4}, &Node{Kind: KindDense, Units: 2, Name: "fc1"},
			&Node{Kind: KindDense, Units: 2, Inputs: []string{"input"}}),
			"m.onnx:1:1: layer 0 (dense): nothing reads the output of \"fc1\"; every layer but the last must be an input of a later one: remove it or list it in a later layer's inputs"},
		{"go names", model(Shape{4}, &Node{Kind: KindDense, Units: 2, Name: "fc_1"},
			&Node{Kind: KindDense, Units: 2, Name: "fc1"}),
			"m.onnx:2:1: layer 1 (dense): name \"fc1\" and layer 0's name \"fc_1\" both become the Go name Fc1; rename one"},
		{"loss", func() *Model {
			m := model(Shape{4}, &Node{Kind: KindDense, Units: 1})
			m.Loss.Kind = LossSoftmaxCE
			return m
		}(), "m.onnx:9:1: loss: softmax_cross_entropy expects at least 2 class logits, as a vector [C] or a sequence [T, C], but the model output is [1]"},
		{"bad name and kind", model(Shape{4}, &Node{Kind: "linear", Name: "a..b"}),
			"m.onnx:1:1: layer 0 (linear): name \"a..b\": expected parts of letters, digits and underscores joined by single dots, such as layer1.0.conv1\n" +
				"m.onnx:1:1: layer 0 (linear): unknown kind \"linear\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.m.Check()
			require.Error(t, err)
			var list ErrorList
			require.ErrorAs(t, err, &list)
			assert.Equal(t, tt.want, err.Error())
		})
	}
}

// TestCheckNeverPanics checks models with values no decoder would give.
func TestCheckNeverPanics(t *testing.T) {
	for _, m := range []*Model{
		{},
		{Name: "m", Input: Shape{4}, Nodes: []*Node{{Kind: KindConv1D}}},
		{Name: "m", Input: Shape{0, -1}, Nodes: []*Node{{Kind: KindAttention, Inputs: []string{"x", "x"}}}},
		{Name: "m", Input: Shape{2, 4}, Nodes: []*Node{{Kind: KindConcat, Axis: 7, Inputs: []string{"input", "input"}}}},
	} {
		assert.Error(t, m.Check())
	}
}
