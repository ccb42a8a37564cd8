package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEmbeddedWeights runs the workflow: train in a downstream module, write
// the weights, generate an inference-only package that embeds them, build a
// program from it, move the binary where no weight file is, and check that it
// computes what the trained model computed.
func TestEmbeddedWeights(t *testing.T) {
	if testing.Short() {
		t.Skip("builds programs in a downstream module")
	}
	d := newDownstream(t)
	d.mustGo("generate", "./...")
	d.write("cmd/save/main.go", `package main

import (
	"fmt"
	"os"

	"example.com/digits"
)

func main() {
	m := digits.New()
	xs := []digits.Input{{2, 0, 0, 0}, {0, 2, 0, 0}, {0, 0, 2, -2}}
	ys := []digits.Target{0, 1, 2}
	cfg := digits.DefaultTrainConfig()
	cfg.Epochs = 30
	if _, err := m.Fit(xs, ys, cfg); err != nil {
		panic(err)
	}
	f, err := os.Create("trained.safetensors")
	if err != nil {
		panic(err)
	}
	if err := m.WriteSafetensors(f); err != nil {
		panic(err)
	}
	if err := f.Close(); err != nil {
		panic(err)
	}
	fmt.Printf("%.6f\n", *m.Forward(&digits.Input{0.5, -1, 0.25, 1}))
}
`)
	want := d.mustGo("run", "./cmd/save")
	// The directive is assembled so that go generate in this repository does not see it.
	d.write("embedded/doc.go", `// Package embedded is the trained classifier, forward only, weights embedded.
package embedded

//go:`+`generate go run github.com/bpgen/bpgen/cmd/bpgen generate -inference -weights ../trained.safetensors -pkg embedded -o model_gen.go ../model.yaml
`)
	d.mustGo("generate", "./embedded")
	src := string(d.read("embedded/model_gen.go"))
	assert.Contains(t, src, "//go:embed model_gen.safetensors\n")
	for _, absent := range []string{"Backward", "TrainStep", "Grads", "ZeroGrads", "Fit("} {
		assert.NotContains(t, src, absent, "inference-only package")
	}
	assert.FileExists(t, filepath.Join(d.dir, "embedded", "model_gen.safetensors"))
	d.write("cmd/classify/main.go", `package main

import (
	"fmt"

	"example.com/digits/embedded"
)

func main() {
	m := embedded.New()
	fmt.Printf("%.6f\n", *m.Forward(&embedded.Input{0.5, -1, 0.25, 1}))
}
`)
	d.mustGo("vet", "./...")
	bin := filepath.Join(t.TempDir(), "classify")
	d.mustGo("build", "-o", bin, "./cmd/classify")
	cmd := exec.Command(bin)
	cmd.Dir = t.TempDir() // no weight file here
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, want, string(out), "embedded model computes what the trained one did")
	assert.NotEqual(t, "[0.000000 0.000000 0.000000]\n", string(out))
}

// TestWeightsErrors checks that a weight file that does not fit the spec is
// rejected at generate time, naming the tensor and both shapes, and that no
// output is written.
func TestWeightsErrors(t *testing.T) {
	dir := t.TempDir()
	specPath := filepath.Join(dir, "m.yaml")
	require.NoError(t, os.WriteFile(specPath, []byte(goodSpec), 0o644))
	other := filepath.Join(dir, "other.yaml")
	require.NoError(t, os.WriteFile(other, []byte(strings.Replace(goodSpec, "units: 2", "units: 5", 1)), 0o644))
	// Weights of a 3→5 layer for a 3→2 model.
	code, _, stderr := runCmd("generate", "-o", filepath.Join(dir, "o_gen.go"), other)
	require.Equal(t, 0, code, stderr)
	wrong := filepath.Join(dir, "wrong.safetensors")
	writeInitialWeights(t, dir, filepath.Join(dir, "o_gen.go"), wrong)

	out := filepath.Join(dir, "m_gen.go")
	code, _, stderr = runCmd("generate", "-weights", wrong, "-o", out, specPath)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, `bpgen: `+wrong+`: safetensors: tensor "layers.0.weight": shape [5 3] in file, model expects [2 3]`)
	assert.NoFileExists(t, out)
	assert.NoFileExists(t, filepath.Join(dir, "m_gen.safetensors"))

	code, _, stderr = runCmd("generate", "-weights", filepath.Join(dir, "missing.safetensors"), "-o", out, specPath)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "missing.safetensors: no such file or directory")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "junk.safetensors"), []byte("junk"), 0o644))
	code, _, stderr = runCmd("generate", "-weights", filepath.Join(dir, "junk.safetensors"), "-o", out, specPath)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "junk.safetensors: safetensors: ")
	assert.NoFileExists(t, out)
}

// writeInitialWeights builds a throwaway program around a generated package
// that writes its freshly initialised weights to path.
func writeInitialWeights(t *testing.T, dir, genFile, path string) {
	t.Helper()
	mod := filepath.Join(dir, "wmod")
	require.NoError(t, os.MkdirAll(filepath.Join(mod, "tiny"), 0o755))
	src, err := os.ReadFile(genFile)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(mod, "tiny", "model_gen.go"), src, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(mod, "main.go"), []byte(`package main

import (
	"os"

	"w/tiny"
)

func main() {
	f, err := os.Create(os.Args[1])
	if err != nil {
		panic(err)
	}
	if err := tiny.New().WriteSafetensors(f); err != nil {
		panic(err)
	}
	if err := f.Close(); err != nil {
		panic(err)
	}
}
`), 0o644))
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(mod, "go.mod"), []byte("module w\n\ngo 1.26\n\nrequire github.com/bpgen/bpgen v0.0.0\n\nreplace github.com/bpgen/bpgen => "+root+"\n"), 0o644))
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(mod, "go.sum"), sum, 0o644))
	cmd := exec.Command("go", "run", ".", path)
	cmd.Dir = mod
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
}
