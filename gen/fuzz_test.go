package gen

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/bpgen/bpgen/spec"
)

// FuzzGenerate feeds arbitrary YAML through the parser and, when the spec is
// accepted, through the generator: every accepted spec must yield Go source
// that parses and type-checks (go/types, with the runtime package and the
// standard library imported from source once per process), and nothing may
// panic. Each accepted spec is generated twice: the full package, and the
// inference-only one in the other element type. Compiling and running the
// code is left to the gradient-check tests.
//
// Besides the seed corpus in testdata/fuzz/FuzzGenerate (valid specs of
// every family), the example specs and the gradient-check cases seed it.
func FuzzGenerate(f *testing.F) {
	paths, _ := filepath.Glob("../testdata/*.yaml")
	for _, p := range paths {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	for _, c := range gradCases {
		f.Add([]byte("name: " + c.name + c.yaml))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := spec.Parse("fuzz.yaml", data)
		if err != nil {
			return
		}
		if m.Input.Size() > 1<<12 || len(m.Nodes) > 64 {
			return // keep each run fast; sizes do not change the emitted shape of the code
		}
		// The dtype of the full package alternates with the input's length,
		// the inference-only package takes the other one.
		full, other := spec.Float32, spec.Float64
		if len(data)%2 == 1 {
			full, other = other, full
		}
		for _, opt := range []Options{{DType: full}, {DType: other, Inference: true}} {
			src, err := Generate(m, opt)
			if err != nil {
				t.Fatalf("accepted spec does not generate (%+v): %v\n%s", opt, err, data)
			}
			if err := typeCheck("model_gen.go", src); err != nil {
				t.Fatalf("generated code (%+v) does not compile: %v\nspec:\n%s", opt, err, data)
			}
		}
	})
}
