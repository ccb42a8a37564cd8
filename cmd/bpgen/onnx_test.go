package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bpgen/bpgen/onnx"
	pb "github.com/bpgen/bpgen/onnx/onnxpb"
	"github.com/bpgen/bpgen/onnx/onnxtest"
	"github.com/bpgen/bpgen/runtime"
)

func writeModel(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, data, 0o644))
	return p
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	require.NoError(t, err)
	var s []string
	for _, e := range es {
		s = append(s, e.Name())
	}
	return s
}

func TestImportWritesSpecAndWeights(t *testing.T) {
	dir := t.TempDir()
	model := writeModel(t, dir, "LeNet-5.onnx", onnxtest.Bytes(onnxtest.LeNet()))
	specPath, w := filepath.Join(dir, "lenet.yaml"), filepath.Join(dir, "lenet.safetensors")
	code, stdout, stderr := runCmd("import", "-o", specPath, "-weights", w, model)
	require.Equal(t, 0, code, stderr)
	assert.Empty(t, stdout)
	data, err := os.ReadFile(specPath)
	require.NoError(t, err)
	assert.Contains(t, string(data), "name: lenet_5\n")
	ts, err := os.ReadFile(w)
	require.NoError(t, err)
	tensors, err := onnx.ReadSafetensors(ts)
	require.NoError(t, err)
	assert.Len(t, tensors, 10)
	assert.Equal(t, "conv1.weight", tensors[0].Name)

	// export of the imported spec with its weights gives the same initializers
	out := filepath.Join(dir, "again.onnx")
	code, _, stderr = runCmd("export", "-o", out, "-weights", w, specPath)
	require.Equal(t, 0, code, stderr)
	again, err := os.ReadFile(out)
	require.NoError(t, err)
	pm, err := onnx.Read(again)
	require.NoError(t, err)
	assert.Equal(t, "conv1.weight", pm.Graph.Initializer[0].Name)
}

func TestImportErrorWritesNothing(t *testing.T) {
	dir := t.TempDir()
	model := writeModel(t, dir, "bad.onnx", []byte("not a model"))
	code, _, stderr := runCmd("import", model)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "bpgen: "+model+": onnx: ")
	assert.Equal(t, []string{"bad.onnx"}, dirNames(t, dir))

	code, _, stderr = runCmd("import", "-input-shape", "1,x", model)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, `-input-shape "1,x": expected positive sizes`)
}

func TestGenerateFromONNX(t *testing.T) {
	dir := t.TempDir()
	model := writeModel(t, dir, "mlp.onnx", onnxtest.Bytes(onnxtest.MLP()))
	out := filepath.Join(dir, "mlp_gen.go")
	code, _, stderr := runCmd("generate", "-o", out, model)
	require.Equal(t, 0, code, stderr)
	assert.ElementsMatch(t, []string{"mlp.onnx", "mlp_gen.go", "mlp_gen.safetensors"}, dirNames(t, dir))
	src, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Contains(t, string(src), "package mlp\n")
	assert.Contains(t, string(src), "//go:embed mlp_gen.safetensors")
}

func TestExportUsage(t *testing.T) {
	code, _, stderr := runCmd("export")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "usage: bpgen export")
	code, _, stderr = runCmd("import")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "usage: bpgen import")
}

func TestGenerateFromONNXFloat64(t *testing.T) {
	dir := t.TempDir()
	model := writeModel(t, dir, "gru.onnx", onnxtest.Bytes(onnxtest.GRUSeq()))
	out := filepath.Join(dir, "gru_gen.go")
	code, _, stderr := runCmd("generate", "-dtype", "float64", "-pkg", "gru64", "-o", out, model)
	require.Equal(t, 0, code, stderr)
	src, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Contains(t, string(src), "package gru64\n")
	assert.Contains(t, string(src), "float64")

	code, _, stderr = runCmd("generate", "-dtype", "float16", "-o", filepath.Join(dir, "x_gen.go"), model)
	assert.Equal(t, 1, code)
	assert.Equal(t, "bpgen: -dtype float16: expected float32 or float64\n", stderr)
}

func TestImportBatchNormWeights(t *testing.T) {
	// a model with batchnorm: the weight file holds the running statistics
	// and num_batches_tracked, and generate -weights takes it
	dir := t.TempDir()
	model := writeModel(t, dir, "res.onnx", onnxtest.Bytes(onnxtest.ResNetBlock()))
	specPath, w := filepath.Join(dir, "res.yaml"), filepath.Join(dir, "res.safetensors")
	code, _, stderr := runCmd("import", "-o", specPath, "-weights", w, model)
	require.Equal(t, 0, code, stderr)
	data, err := os.ReadFile(w)
	require.NoError(t, err)
	f, err := runtime.ParseSafetensors(data)
	require.NoError(t, err)
	var names []string
	for _, e := range f.Entries {
		names = append(names, e.Name+" "+e.DType)
	}
	assert.Contains(t, names, "block.bn1.running_mean F32")
	assert.Contains(t, names, "block.bn2.running_var F32")
	assert.Contains(t, names, "block.bn2.num_batches_tracked I64")

	out := filepath.Join(dir, "res_gen.go")
	code, _, stderr = runCmd("generate", "-weights", w, "-o", out, specPath)
	require.Equal(t, 0, code, stderr)
	assert.FileExists(t, filepath.Join(dir, "res_gen.safetensors"))
	// and so does generate MODEL.onnx, in one step
	code, _, stderr = runCmd("generate", "-o", filepath.Join(dir, "direct_gen.go"), model)
	require.Equal(t, 0, code, stderr)
	assert.FileExists(t, filepath.Join(dir, "direct_gen.safetensors"))

	// and export -weights writes the running statistics as the
	// BatchNormalization inputs
	again := filepath.Join(dir, "again.onnx")
	code, _, stderr = runCmd("export", "-o", again, "-weights", w, specPath)
	require.Equal(t, 0, code, stderr)
	raw, err := os.ReadFile(again)
	require.NoError(t, err)
	pm, err := onnx.Read(raw)
	require.NoError(t, err)
	var bn []string
	for _, n := range pm.Graph.Node {
		if n.OpType == "BatchNormalization" {
			bn = append(bn, n.Input[1:]...)
		}
	}
	assert.Equal(t, []string{"block.bn1.weight", "block.bn1.bias", "block.bn1.running_mean", "block.bn1.running_var",
		"block.bn2.weight", "block.bn2.bias", "block.bn2.running_mean", "block.bn2.running_var"}, bn)
}

func TestImportSpecCheckNamesTheNode(t *testing.T) {
	// modules fc_1 and fc1 both become the Go name Fc1: the spec's checks
	// reject the imported spec, import names the node and writes nothing
	b := onnxtest.New("g", 17, 1)
	x := b.Input("input", pb.TensorProto_FLOAT, "N", 4)
	h := b.Node("Gemm", "/fc_1/Gemm", []string{x, b.RandInit("fc_1.weight", 1, 4, 4)}, onnxtest.Int("transB", 1))
	b.Node("Gemm", "/fc1/Gemm", []string{h, b.RandInit("fc1.weight", 1, 2, 4)}, onnxtest.Int("transB", 1))
	b.G.Node[len(b.G.Node)-1].Output[0] = "output"
	b.Output("output", "N", 2)
	dir := t.TempDir()
	model := writeModel(t, dir, "clash.onnx", onnxtest.Bytes(b.Model()))
	code, _, stderr := runCmd("import", "-o", filepath.Join(dir, "clash.yaml"), "-weights", filepath.Join(dir, "clash.safetensors"), model)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, model+`: onnx: node "/fc1/Gemm": layer 1 (dense): name "fc1" and layer 0's name "fc_1" both become the Go name Fc1; rename one`)
	assert.Equal(t, []string{"clash.onnx"}, dirNames(t, dir))
}
