package gen

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/bpgen/bpgen/spec"
)

// FuzzGenerate feeds arbitrary YAML through the parser and, when the spec is
// accepted, through the generator: every accepted spec must yield gofmt'able
// Go source (Generate formats it) and nothing may panic. Compiling each
// output is left to the gradient-check tests; formatting catches malformed
// emission.
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
		if _, err := Generate(m, Options{}); err != nil {
			t.Fatalf("accepted spec does not generate: %v\n%s", err, data)
		}
	})
}
