package onnx_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bpgen/bpgen/gen"
	"github.com/bpgen/bpgen/onnx"
	pb "github.com/bpgen/bpgen/onnx/onnxpb"
	"github.com/bpgen/bpgen/onnx/onnxtest"
	"github.com/bpgen/bpgen/spec"
)

var update = flag.Bool("update", false, "rewrite the test models and inputs in testdata/onnx")

// modelDir holds the test models, their inputs and ONNX Runtime's outputs.
const modelDir = "../testdata/onnx"

// samples is the batch size of every test input.
const samples = 3

// tensorFile is an input or output: dims with the batch first, flat data.
type tensorFile struct {
	Runtime string    `json:"runtime,omitempty"`
	DType   string    `json:"dtype,omitempty"`
	Dims    []int     `json:"dims"`
	Data    []float64 `json:"data"`
}

// inputOf makes the fixed input of a test model: uniform in [-1, 1) (token
// ids uniform in [0, vocab)), seeded by the model's index.
func inputOf(i int, m onnxtest.Model) tensorFile {
	rng := rand.New(rand.NewPCG(uint64(i)+100, 7))
	f := tensorFile{DType: "float32", Dims: append([]int{samples}, m.Input...)}
	n := samples
	for _, d := range m.Input {
		n *= d
	}
	for range n {
		if m.Ids > 0 {
			f.Data = append(f.Data, float64(rng.IntN(m.Ids)))
		} else {
			f.Data = append(f.Data, float64(float32(rng.Float64()*2-1)))
		}
	}
	if m.Ids > 0 {
		f.DType = "int64"
	}
	return f
}

// TestModelFiles checks that the committed test models and inputs are the
// builders' output (go test ./onnx -run TestModelFiles -update rewrites
// them; then run scripts/onnx/reference.mjs for ONNX Runtime's outputs).
func TestModelFiles(t *testing.T) {
	for i, m := range allModels(t) {
		model := onnxtest.Bytes(m.Build())
		input, err := json.Marshal(inputOf(i, m))
		require.NoError(t, err)
		input = append(input, '\n')
		files := map[string][]byte{m.Name + ".onnx": model, m.Name + ".input.json": input}
		for name, data := range files {
			path := filepath.Join(modelDir, name)
			if *update {
				require.NoError(t, os.MkdirAll(modelDir, 0o755))
				require.NoError(t, os.WriteFile(path, data, 0o644))
				continue
			}
			got, err := os.ReadFile(path)
			require.NoError(t, err, "run go test ./onnx -run TestModelFiles -update")
			assert.True(t, bytes.Equal(got, data), "%s is stale: run go test ./onnx -run TestModelFiles -update, then node scripts/onnx/reference.mjs", path)
		}
	}
}

// allModels are the hand-built test models and, named exported_NAME, every
// example spec of testdata exported by Export with RandomWeights: ONNX
// Runtime's outputs for those check Export, and importing them back checks
// that the generated Go of the same network agrees.
func allModels(t *testing.T) []onnxtest.Model {
	t.Helper()
	models := slices.Clone(onnxtest.Models)
	files, err := filepath.Glob("../testdata/*.yaml")
	require.NoError(t, err)
	for _, f := range files {
		m, err := spec.ParseFile(f)
		require.NoError(t, err)
		ids := 0
		if m.Tokens {
			ids = m.Nodes[0].Vocab
		}
		models = append(models, onnxtest.Model{Name: "exported_" + m.Name, Input: m.Input, Ids: ids, Build: func() *pb.ModelProto {
			pm, err := onnx.Export(m, onnx.RandomWeights(m))
			require.NoError(t, err)
			return pm
		}})
	}
	for _, m := range []*spec.Model{graphImage(t), graph1D(t)} {
		models = append(models, onnxtest.Model{Name: "exported_" + m.Name, Input: m.Input, Build: func() *pb.ModelProto {
			pm, err := onnx.Export(m, onnx.RandomWeights(m))
			require.NoError(t, err)
			return pm
		}})
	}
	return models
}

// nest turns flat data into nested lists of dims (for JSON into Go arrays).
func nest(data []float64, dims []int, ints bool) any {
	if len(dims) == 0 {
		if ints {
			return int64(data[0])
		}
		return data[0]
	}
	step := len(data) / dims[0]
	out := make([]any, dims[0])
	for i := range out {
		out[i] = nest(data[i*step:(i+1)*step], dims[1:], ints)
	}
	return out
}

// flatten undoes nest.
func flatten(v any, out *[]float64) {
	switch v := v.(type) {
	case []any:
		for _, x := range v {
			flatten(x, out)
		}
	case float64:
		*out = append(*out, v)
	}
}

const runnerMain = `package main

import (
	"encoding/json"
	"fmt"
	"os"
%s)

// run returns the outputs of Forward, sample by sample, and of ForwardBatch.
func run[I, O any](forward func(*I) *O, batch func([]I, []O), data []byte) ([2][]O, error) {
	var xs []I
	if err := json.Unmarshal(data, &xs); err != nil {
		return [2][]O{}, err
	}
	ys := make([]O, len(xs))
	for i := range xs {
		ys[i] = *forward(&xs[i])
	}
	yb := make([]O, len(xs))
	batch(xs, yb)
	return [2][]O{ys, yb}, nil
}

func main() {
	outs := map[string]any{}
	for i := 1; i+1 < len(os.Args); i += 2 {
		data, err := os.ReadFile(os.Args[i+1])
		if err != nil {
			panic(err)
		}
		var out any
		switch os.Args[i] {
%s		}
		if err != nil {
			fmt.Fprintln(os.Stderr, os.Args[i], err)
			os.Exit(1)
		}
		outs[os.Args[i]] = out
	}
	json.NewEncoder(os.Stdout).Encode(outs)
}
`

// TestAgreesWithONNXRuntime imports every test model, generates its Go
// package with the imported weights embedded into a temporary module, runs
// Forward (sample by sample) and ForwardBatch on the committed input and
// compares each with ONNX Runtime's output
// (testdata/onnx/NAME.ort.json, written by scripts/onnx/reference.mjs): the
// largest difference must be at most 1e-5 of the largest output magnitude.
func TestAgreesWithONNXRuntime(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go program (-short)")
	}
	dir := t.TempDir()
	files := map[string][]byte{}
	var imports, cases strings.Builder
	var args []string
	refs := map[string]tensorFile{}
	for i, m := range allModels(t) {
		var ref tensorFile
		data, err := os.ReadFile(filepath.Join(modelDir, m.Name+".ort.json"))
		require.NoError(t, err, "run node scripts/onnx/reference.mjs")
		require.NoError(t, json.Unmarshal(data, &ref))
		refs[m.Name] = ref
		model, err := os.ReadFile(filepath.Join(modelDir, m.Name+".onnx"))
		require.NoError(t, err)
		pm, err := onnx.Read(model)
		require.NoError(t, err)
		r, err := onnx.Import(pm, onnx.Options{Name: fmt.Sprintf("m%d", i)})
		require.NoError(t, err, m.Name)
		sm, err := spec.Parse(m.Name+".yaml", r.Spec)
		require.NoError(t, err, "%s\n%s", m.Name, r.Spec)
		var w bytes.Buffer
		require.NoError(t, onnx.WriteSafetensors(&w, r.Tensors, r.Counters, "", nil))
		weights, err := gen.CheckWeights(sm, "", w.Bytes())
		require.NoError(t, err, m.Name)
		src, err := gen.Generate(sm, gen.Options{Source: m.Name + ".onnx", Weights: "model_gen.safetensors", Inference: true})
		require.NoError(t, err, m.Name)
		pkg := fmt.Sprintf("m%d", i)
		files[pkg+"/model_gen.go"] = src
		files[pkg+"/model_gen.safetensors"] = weights
		fmt.Fprintf(&imports, "\t%s \"ortcheck/%s\"\n", pkg, pkg)
		fmt.Fprintf(&cases, "\t\tcase %q:\n\t\t\tout, err = run(%s.New().Forward, %[2]s.New().ForwardBatch, data)\n", m.Name, pkg)

		in := inputOf(i, m)
		nested, err := json.Marshal(nest(in.Data, in.Dims, m.Ids > 0))
		require.NoError(t, err)
		inPath := filepath.Join(dir, m.Name+".json")
		require.NoError(t, os.WriteFile(inPath, nested, 0o644))
		args = append(args, m.Name, inPath)
	}
	files["main.go"] = fmt.Appendf(nil, runnerMain, imports.String(), cases.String())
	out := goRun(t, dir, "ortcheck", files, args...)
	var outs map[string]any
	require.NoError(t, json.Unmarshal(out, &outs))
	for _, m := range allModels(t) {
		t.Run(m.Name, func(t *testing.T) {
			ref := refs[m.Name]
			both, ok := outs[m.Name].([]any)
			require.True(t, ok && len(both) == 2, "the runner's output for %s", m.Name)
			for k, fn := range []string{"Forward", "ForwardBatch"} {
				var got []float64
				flatten(both[k], &got)
				require.Equal(t, len(ref.Data), len(got), "%s output size (ONNX Runtime dims %v)", fn, ref.Dims)
				var diff, scale float64
				for i, want := range ref.Data {
					diff = math.Max(diff, math.Abs(got[i]-want))
					scale = math.Max(scale, math.Abs(want))
				}
				t.Logf("%s %s: max |Go − ORT| = %.3g, max |ORT| = %.3g, relative %.3g (%s)", m.Name, fn, diff, scale, diff/scale, ref.Runtime)
				assert.LessOrEqual(t, diff, 1e-5*scale, "%s: max difference", fn)
				assert.Greater(t, scale, 0.0, "a zero output proves nothing")
			}
		})
	}
}

// TestImportGolden imports every committed test model and compares the spec
// with testdata/onnx/NAME.yaml (-update rewrites them).
func TestImportGolden(t *testing.T) {
	for _, m := range allModels(t) {
		t.Run(m.Name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(modelDir, m.Name+".onnx"))
			require.NoError(t, err)
			pm, err := onnx.Read(data)
			require.NoError(t, err)
			r, err := onnx.Import(pm, onnx.Options{Name: m.Name})
			require.NoError(t, err)
			path := filepath.Join(modelDir, m.Name+".yaml")
			if *update {
				require.NoError(t, os.WriteFile(path, r.Spec, 0o644))
				return
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, string(want), string(r.Spec))
		})
	}
}

// goRun writes files as the Go module mod (requiring this repository) into
// dir, builds it and runs the program with args; it returns its stdout.
func goRun(t *testing.T, dir, mod string, files map[string][]byte, args ...string) []byte {
	t.Helper()
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	files["go.mod"] = fmt.Appendf(nil, "module %s\n\ngo 1.26\n\nrequire github.com/bpgen/bpgen v0.0.0\n\nreplace github.com/bpgen/bpgen => %s\n", mod, root)
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	require.NoError(t, err)
	files["go.sum"] = sum
	src := filepath.Join(dir, "mod")
	for name, data := range files {
		p := filepath.Join(src, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, data, 0o644))
	}
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "runner"), ".")
	build.Dir = src
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	run := exec.Command(filepath.Join(dir, "runner"), args...)
	var stderr bytes.Buffer
	run.Stderr = &stderr
	out, err = run.Output()
	require.NoError(t, err, "%s", stderr.String())
	return out
}
