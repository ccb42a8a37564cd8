package onnx_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bpgen/bpgen/gen"
	"github.com/bpgen/bpgen/internal/mnist"
	"github.com/bpgen/bpgen/onnx"
	"github.com/bpgen/bpgen/spec"
)

const finetuneMain = `package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"finetune/model"

	"github.com/bpgen/bpgen/data"
)

func load(dir, images, labels string, limit int) ([]model.Input, []model.Target) {
	s, err := data.ReadIDX[float32](filepath.Join(dir, images), filepath.Join(dir, labels), data.Layout{Features: model.InputSize, Classes: model.OutputSize}, limit)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	xs := make([]model.Input, s.Len)
	for i := range xs {
		copy(xs[i][:], s.X[i*model.InputSize:])
	}
	return xs, s.Classes
}

func main() {
	dir := os.Args[1]
	train, trainY := load(dir, "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", 12000)
	test, testY := load(dir, "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", 0)
	m := model.New() // the imported weights, embedded
	lossBefore, before := m.Accuracy(test, testY)
	cfg := model.DefaultTrainConfig()
	cfg.Epochs = 1
	if _, err := m.Fit(train, trainY, cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lossAfter, after := m.Accuracy(test, testY)
	json.NewEncoder(os.Stdout).Encode(map[string]float64{"loss_before": lossBefore, "before": before, "loss_after": lossAfter, "after": after})
}
`

// TestFineTuneImported is issue 13's fine-tuning example: the MLP test
// model (testdata/onnx/mlp.onnx, fc1 784→128, ReLU, fc2 128→10, laid out as
// torch.onnx.export writes nn.Linear) is imported, its loss set to
// softmax_cross_entropy, generated with the imported weights embedded, and
// trained with Fit for one epoch on the first 12000 MNIST training images;
// the accuracy on the 10000 test images before and after is logged. The
// weights are the model's untrained ones, so "before" is chance.
func TestFineTuneImported(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on MNIST (-short)")
	}
	dir, err := mnist.Dir()
	require.NoError(t, err, "MNIST from the GoMNIST module")
	raw, err := os.ReadFile(filepath.Join(modelDir, "mlp.onnx"))
	require.NoError(t, err)
	pm, err := onnx.Read(raw)
	require.NoError(t, err)
	r, err := onnx.Import(pm, onnx.Options{Name: "model"})
	require.NoError(t, err)
	const mse = "loss: mse  # not in the ONNX file: choose the loss to train with\n"
	require.Contains(t, string(r.Spec), mse)
	src := strings.Replace(string(r.Spec), mse, "loss: softmax_cross_entropy\noptimizer: {type: adam, lr: 0.001}\ntrain: {batch: 32}\n", 1)
	sm, err := spec.Parse("mlp.yaml", []byte(src))
	require.NoError(t, err)
	var w strings.Builder
	require.NoError(t, onnx.WriteSafetensors(&w, r.Tensors, r.Counters, "", nil))
	weights, err := gen.CheckWeights(sm, "", []byte(w.String()))
	require.NoError(t, err)
	code, err := gen.Generate(sm, gen.Options{Source: "mlp.onnx", Weights: "model_gen.safetensors"})
	require.NoError(t, err)
	files := map[string][]byte{"model/model_gen.go": code, "model/model_gen.safetensors": weights, "main.go": []byte(finetuneMain)}
	out := goRun(t, t.TempDir(), "finetune", files, dir)
	var res map[string]float64
	require.NoError(t, json.Unmarshal(out, &res))
	t.Logf("imported mlp.onnx, test accuracy %.4f (loss %.4f) before, %.4f (loss %.4f) after one epoch of Fit on 12000 MNIST images",
		res["before"], res["loss_before"], res["after"], res["loss_after"])
	assert.Less(t, res["before"], 0.3, "the untrained imported model")
	assert.GreaterOrEqual(t, res["after"], 0.9)
	assert.Less(t, res["loss_after"], res["loss_before"])
}
