package runtime

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestAsmNotStale runs the assembly generator (internal/asmgen, its own
// module) into a temporary directory and compares its output with the
// committed kernels_amd64.s and kernels_amd64.go, all but the first line,
// which names the output paths of the command. It needs the go command and
// the avo module (module cache or proxy); -short skips it. CI's
// `go generate ./... && git status` check covers the same ground.
func TestAsmNotStale(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go run ../internal/asmgen")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	dir := t.TempDir()
	cmd := exec.Command(gobin, "run", ".", "-pkg", "runtime",
		"-out", filepath.Join(dir, "kernels_amd64.s"), "-stubs", filepath.Join(dir, "kernels_amd64.go"))
	cmd.Dir = filepath.Join("..", "internal", "asmgen")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run ../internal/asmgen: %v\n%s", err, out)
	}
	for _, name := range []string{"kernels_amd64.s", "kernels_amd64.go"} {
		want, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		_, w, _ := bytes.Cut(want, []byte("\n"))
		h, g, _ := bytes.Cut(got, []byte("\n"))
		if !bytes.Contains(h, []byte("Code generated")) || !bytes.Contains(h, []byte("DO NOT EDIT")) {
			t.Errorf("%s: first line %q is not a generated-code header", name, h)
		}
		if !bytes.Equal(w, g) {
			t.Errorf("%s is stale: run go generate ./runtime", name)
		}
	}
}
