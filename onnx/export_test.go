package onnx_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bpgen/bpgen/onnx"
	"github.com/bpgen/bpgen/onnx/onnxtest"
	"github.com/bpgen/bpgen/spec"
)

// graphImage has the graph kinds on images: grouped conv2d with relu6,
// batchnorm, add, multiply, concat, layernorm, gelu, dropout.
func graphImage(t *testing.T) *spec.Model {
	return mustParse(t, "graph_image.yaml", `name: graph_image
input: [4, 6, 6]
layers:
  - {name: c1, type: conv2d, filters: 4, kernel: 3, padding: 1, groups: 2, activation: relu6}
  - {name: bn, type: batchnorm, eps: 0.001}
  - {name: res, type: add, inputs: [bn, input]}
  - {name: gate, type: multiply, inputs: [res, c1]}
  - {name: cat, type: concat, axis: 0, inputs: [gate, input]}
  - {type: global_avgpool2d}
  - {name: ln, type: layernorm}
  - {type: gelu}
  - {type: dropout, rate: 0.25}
  - {name: fc, type: dense, units: 3}
loss: mse
init: {seed: 3}
`)
}

// graph1D has conv1d (grouped), the 1-D pools and batchnorm on [C, L].
func graph1D(t *testing.T) *spec.Model {
	return mustParse(t, "graph_1d.yaml", `name: graph_1d
input: [3, 12]
layers:
  - {name: conv, type: conv1d, filters: 6, kernel: 3, padding: 1, groups: 3}
  - {type: maxpool1d, size: 2}
  - {type: avgpool1d, size: 3, stride: 1, padding: 1}
  - {name: bn, type: batchnorm}
  - {type: global_avgpool1d}
  - {type: relu6}
loss: mse
init: {seed: 4}
`)
}

func mustParse(t *testing.T, file, src string) *spec.Model {
	t.Helper()
	m, err := spec.Parse(file, []byte(src))
	require.NoError(t, err)
	return m
}

func TestExportGraphKinds(t *testing.T) {
	for _, m := range []*spec.Model{graphImage(t), graph1D(t)} {
		r := roundTrip(t, m)
		back, err := spec.Parse("imported.yaml", r.Spec)
		require.NoError(t, err, "%s", r.Spec)
		assert.Equal(t, networkOf(m), networkOf(back), "%s", r.Spec)
	}
	r := roundTrip(t, graphImage(t))
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

	r = roundTrip(t, graph1D(t))
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
	m := graph1D(t)
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
	m := graphImage(t)
	a, err := onnx.Export(m, onnx.RandomWeights(m))
	require.NoError(t, err)
	b, err := onnx.Export(m, onnx.RandomWeights(m))
	require.NoError(t, err)
	assert.Equal(t, onnxtest.Bytes(a), onnxtest.Bytes(b))
}
