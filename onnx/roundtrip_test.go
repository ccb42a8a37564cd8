package onnx_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bpgen/bpgen/onnx"
	"github.com/bpgen/bpgen/onnx/onnxtest"
	"github.com/bpgen/bpgen/spec"
)

// network is what import(export(m)) must give back: the layers and shapes,
// not the training settings (ONNX has none).
type network struct {
	Name   string
	Input  spec.Shape
	Tokens bool
	Nodes  []spec.Node
}

func networkOf(m *spec.Model) network {
	n := network{Name: m.Name, Input: m.Input, Tokens: m.Tokens}
	for _, x := range m.Nodes {
		c := *x
		c.Pos = spec.Pos{}
		n.Nodes = append(n.Nodes, c)
	}
	return n
}

// roundTrip exports m with random weights, reads the bytes back, imports
// them and checks the network and the weights.
func roundTrip(t *testing.T, m *spec.Model) *onnx.Result {
	t.Helper()
	weights := onnx.RandomWeights(m)
	pm, err := onnx.Export(m, weights)
	require.NoError(t, err)
	read, err := onnx.Read(onnxtest.Bytes(pm))
	require.NoError(t, err)
	r, err := onnx.Import(read, onnx.Options{})
	require.NoError(t, err)
	require.Equal(t, len(weights), len(r.Tensors), "tensors")
	for i, w := range weights {
		assert.Equal(t, w.Name, r.Tensors[i].Name)
		assert.Equal(t, w.Shape, r.Tensors[i].Shape, w.Name)
		assert.Equal(t, w.Data, r.Tensors[i].Data, w.Name)
		assert.Equal(t, w.State, r.Tensors[i].State, w.Name)
	}
	// one num_batches_tracked per batchnorm, 0: an ONNX model has none
	var counters []onnx.Counter
	for _, n := range m.Nodes {
		if n.Kind == spec.KindBatchNorm {
			counters = append(counters, onnx.Counter{Name: n.Name + ".num_batches_tracked"})
		}
	}
	assert.Equal(t, counters, r.Counters)
	return r
}

func TestRoundTripExamples(t *testing.T) {
	files, err := filepath.Glob("../testdata/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	// The four MLPerf Tiny networks and their reduced copies too.
	mlperf, err := filepath.Glob("../testdata/mlperf_tiny/*.yaml")
	require.NoError(t, err)
	require.Len(t, mlperf, 8)
	files = append(files, mlperf...)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			m, err := spec.ParseFile(f)
			require.NoError(t, err)
			r := roundTrip(t, m)
			back, err := spec.Parse("imported.yaml", r.Spec)
			require.NoError(t, err, "%s", r.Spec)
			assert.Equal(t, networkOf(m), networkOf(back), "%s", r.Spec)
		})
	}
}
