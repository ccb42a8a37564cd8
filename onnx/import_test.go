package onnx_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bpgen/bpgen/onnx"
	pb "github.com/bpgen/bpgen/onnx/onnxpb"
	"github.com/bpgen/bpgen/onnx/onnxtest"
)

func importModel(t *testing.T, build func() *pb.ModelProto) *onnx.Result {
	t.Helper()
	m, err := onnx.Read(onnxtest.Bytes(build()))
	require.NoError(t, err)
	r, err := onnx.Import(m, onnx.Options{Name: "m"})
	require.NoError(t, err)
	return r
}

func names(r *onnx.Result) []string {
	var s []string
	for _, t := range r.Tensors {
		s = append(s, t.Name)
	}
	return s
}

func TestImportMLP(t *testing.T) {
	r := importModel(t, onnxtest.MLP)
	assert.Equal(t, `# Imported from ONNX by bpgen import.
name: m
dtype: float32
input: [784]
layers:
  - {name: "fc1", type: dense, units: 128}  # [128]
  - {type: relu}  # [128]
  - {name: "fc2", type: dense, units: 10}  # [10]
loss: mse  # not in the ONNX file: choose the loss to train with
`, string(r.Spec))
	assert.Equal(t, []string{"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"}, names(r))
	assert.Equal(t, []int{128, 784}, r.Tensors[0].Shape)
}

func TestImportLeNet(t *testing.T) {
	r := importModel(t, onnxtest.LeNet)
	assert.Equal(t, `# Imported from ONNX by bpgen import.
name: m
dtype: float32
input: [1, 28, 28]
layers:
  - {name: "conv1", type: conv2d, filters: 6, kernel: 5, padding: 2}  # [6 28 28]
  - {type: relu}  # [6 28 28]
  - {type: maxpool2d, size: 2}  # [6 14 14]
  - {name: "conv2", type: conv2d, filters: 16, kernel: 5}  # [16 10 10]
  - {type: relu}  # [16 10 10]
  - {type: maxpool2d, size: 2}  # [16 5 5]
  - {type: flatten}  # [400]
  - {name: "fc1", type: dense, units: 120}  # [120]
  - {type: relu}  # [120]
  - {name: "fc2", type: dense, units: 84}  # [84]
  - {type: relu}  # [84]
  - {name: "fc3", type: dense, units: 10}  # [10]
loss: mse  # not in the ONNX file: choose the loss to train with
`, string(r.Spec))
}

func TestImportRecurrent(t *testing.T) {
	r := importModel(t, onnxtest.LSTMClassifier)
	assert.Contains(t, string(r.Spec), `
  - {name: "lstm", type: lstm, units: 16}  # [16]
  - {name: "fc", type: dense, units: 4}  # [4]
`)
	assert.Equal(t, []string{"lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0", "lstm.bias_hh_l0", "fc.weight", "fc.bias"}, names(r))

	r = importModel(t, onnxtest.GRUSeq)
	assert.Contains(t, string(r.Spec), `
  - {name: "gru", type: gru, units: 8, return_sequences: true}  # [10 8]
  - {name: "head", type: dense, units: 3}  # [10 3]
`)
	r = importModel(t, onnxtest.EmbedGRU)
	assert.Contains(t, string(r.Spec), `input: [16]
layers:
  - {name: "emb", type: embedding, vocab: 50, dim: 12}  # [16 12]
  - {name: "gru", type: gru, units: 10}  # [10]
  - {name: "fc", type: dense, units: 5}  # [5]
`)
}
