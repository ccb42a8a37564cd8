package onnx_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bpgen/bpgen/onnx"
	"github.com/bpgen/bpgen/onnx/onnxtest"
	"github.com/bpgen/bpgen/spec"
)

// graphImage is a checked model built by hand with the kinds the spec
// parser does not take yet: grouped conv2d with relu6, batchnorm, add,
// multiply, concat, layernorm, gelu, dropout.
func graphImage() *spec.Model {
	one := [2]int{1, 1}
	nodes := []*spec.Node{
		{Name: "c1", Kind: spec.KindConv2D, Inputs: []string{"input"}, In: spec.Shape{4, 6, 6}, Out: spec.Shape{4, 6, 6}, Filters: 4, Kernel: [2]int{3, 3}, Stride: one, Dilation: one, Pad: [4]int{1, 1, 1, 1}, Groups: 2, Bias: true, Act: spec.Act{Fn: spec.ActReLU6}},
		{Name: "bn", Kind: spec.KindBatchNorm, Inputs: []string{"c1"}, In: spec.Shape{4, 6, 6}, Out: spec.Shape{4, 6, 6}, Eps: 1e-3, Momentum: 0.1, Affine: true},
		{Name: "res", Kind: spec.KindAdd, Inputs: []string{"bn", "input"}, In: spec.Shape{4, 6, 6}, Out: spec.Shape{4, 6, 6}},
		{Name: "gate", Kind: spec.KindMultiply, Inputs: []string{"res", "c1"}, In: spec.Shape{4, 6, 6}, Out: spec.Shape{4, 6, 6}},
		{Name: "cat", Kind: spec.KindConcat, Inputs: []string{"gate", "input"}, In: spec.Shape{4, 6, 6}, Out: spec.Shape{8, 6, 6}, Axis: 0},
		{Name: "layers.5", Kind: spec.KindGlobalAvgPool2D, Inputs: []string{"cat"}, In: spec.Shape{8, 6, 6}, Out: spec.Shape{8}},
		{Name: "ln", Kind: spec.KindLayerNorm, Inputs: []string{"layers.5"}, In: spec.Shape{8}, Out: spec.Shape{8}, Eps: 1e-5, Affine: true},
		{Name: "layers.7", Kind: spec.KindActivation, Inputs: []string{"ln"}, In: spec.Shape{8}, Out: spec.Shape{8}, Act: spec.Act{Fn: spec.ActGELU}},
		{Name: "layers.8", Kind: spec.KindDropout, Inputs: []string{"layers.7"}, In: spec.Shape{8}, Out: spec.Shape{8}, Rate: 0.25},
		{Name: "fc", Kind: spec.KindDense, Inputs: []string{"layers.8"}, In: spec.Shape{8}, Out: spec.Shape{3}, Units: 3, Bias: true},
	}
	for i, n := range nodes {
		n.Index = i
	}
	return &spec.Model{File: "graph_image.yaml", Name: "graph_image", DType: spec.Float32, Input: spec.Shape{4, 6, 6}, Nodes: nodes, Init: spec.Init{Seed: 3}}
}

// graph1D has conv1d (grouped), the 1-D pools and batchnorm on [C, L].
func graph1D() *spec.Model {
	nodes := []*spec.Node{
		{Name: "conv", Kind: spec.KindConv1D, Inputs: []string{"input"}, In: spec.Shape{3, 12}, Out: spec.Shape{6, 12}, Filters: 6, Kernel: [2]int{3, 1}, Stride: [2]int{1, 1}, Dilation: [2]int{1, 1}, Pad: [4]int{1, 1}, Groups: 3, Bias: true},
		{Name: "layers.1", Kind: spec.KindMaxPool1D, Inputs: []string{"conv"}, In: spec.Shape{6, 12}, Out: spec.Shape{6, 6}, Kernel: [2]int{2, 1}, Stride: [2]int{2, 1}, Dilation: [2]int{1, 1}},
		{Name: "layers.2", Kind: spec.KindAvgPool1D, Inputs: []string{"layers.1"}, In: spec.Shape{6, 6}, Out: spec.Shape{6, 6}, Kernel: [2]int{3, 1}, Stride: [2]int{1, 1}, Dilation: [2]int{1, 1}, Pad: [4]int{1, 1}, CountIncludePad: true},
		{Name: "bn", Kind: spec.KindBatchNorm, Inputs: []string{"layers.2"}, In: spec.Shape{6, 6}, Out: spec.Shape{6, 6}, Eps: 1e-5, Momentum: 0.1, Affine: true},
		{Name: "layers.4", Kind: spec.KindGlobalAvgPool1D, Inputs: []string{"bn"}, In: spec.Shape{6, 6}, Out: spec.Shape{6}},
		{Name: "layers.5", Kind: spec.KindActivation, Inputs: []string{"layers.4"}, In: spec.Shape{6}, Out: spec.Shape{6}, Act: spec.Act{Fn: spec.ActReLU6}},
	}
	for i, n := range nodes {
		n.Index = i
	}
	return &spec.Model{File: "graph_1d.yaml", Name: "graph_1d", DType: spec.Float32, Input: spec.Shape{3, 12}, Nodes: nodes, Init: spec.Init{Seed: 4}}
}

func TestExportGraphKinds(t *testing.T) {
	r := roundTrip(t, graphImage())
	assert.Equal(t, `# Imported from ONNX by bpgen import.
name: graph_image
dtype: float32
input: [4, 6, 6]
layers:
  - {name: "c1", type: conv2d, filters: 4, kernel: 3, padding: 1, groups: 2, activation: relu6}  # [4 6 6]
  - {name: "bn", type: batchnorm, eps: 0.001}  # [4 6 6]
  - {name: "res", type: add, inputs: ["bn", input]}  # [4 6 6]
  - {name: "gate", type: multiply, inputs: ["res", "c1"]}  # [4 6 6]
  - {name: "cat", type: concat, axis: 0, inputs: ["gate", input]}  # [8 6 6]
  - {type: global_avgpool2d}  # [8]
  - {name: "ln", type: layernorm}  # [8]
  - {type: gelu}  # [8]
  - {type: dropout, rate: 0.25}  # [8]
  - {name: "fc", type: dense, units: 3}  # [3]
loss: mse  # not in the ONNX file: choose the loss to train with
`, string(r.Spec))

	r = roundTrip(t, graph1D())
	assert.Equal(t, `# Imported from ONNX by bpgen import.
name: graph_1d
dtype: float32
input: [3, 12]
layers:
  - {name: "conv", type: conv1d, filters: 6, kernel: 3, padding: 1, groups: 3}  # [6 12]
  - {type: maxpool1d, size: 2}  # [6 6]
  - {type: avgpool1d, size: 3, stride: 1, padding: 1}  # [6 6]
  - {name: "bn", type: batchnorm}  # [6 6]
  - {type: global_avgpool1d}  # [6]
  - {type: relu6}  # [6]
loss: mse  # not in the ONNX file: choose the loss to train with
`, string(r.Spec))
}

func TestExportErrors(t *testing.T) {
	m := graph1D()
	w := onnx.RandomWeights(m)
	_, err := onnx.Export(m, w[1:])
	assert.EqualError(t, err, `onnx: export: the weights have no tensor "conv.weight" [6 1 3]`)
	w[0].Shape = []int{6, 3, 3}
	_, err = onnx.Export(m, w)
	assert.EqualError(t, err, `onnx: export: tensor "conv.weight" has shape [6 3 3] (18 values), the spec needs [6 1 3]`)
	_, err = onnx.Export(m, append(onnx.RandomWeights(m), onnx.RandomWeights(m)[0]))
	assert.EqualError(t, err, `onnx: export: tensor "conv.weight" is given twice`)
}

// TestExportDeterministic: the same model and weights give the same bytes
// (the exports of the examples and of graphImage and graph1D are among the
// models ONNX Runtime ran, see allModels).
func TestExportDeterministic(t *testing.T) {
	m := graphImage()
	a, err := onnx.Export(m, onnx.RandomWeights(m))
	require.NoError(t, err)
	b, err := onnx.Export(m, onnx.RandomWeights(m))
	require.NoError(t, err)
	assert.Equal(t, onnxtest.Bytes(a), onnxtest.Bytes(b))
}
