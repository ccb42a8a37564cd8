package generated

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var updateBCE = flag.Bool("update", false, "rewrite testdata/bce.golden")

var bceLine = regexp.MustCompile(`([A-Za-z0-9_]+_gen\.go):(\d+):\d+: Found Is(Slice)?InBounds`)

// TestBoundsChecks counts the bounds checks the compiler leaves in every
// generated file (go build -gcflags=-d=ssa/check_bce) and compares the counts
// with testdata/bce.golden, so a change to the emitters that brings checks
// back into hot loops shows up (go test ./generated -run BoundsChecks -update
// rewrites the file; review the diff). The checks that remain are inherent:
// indirect indices (max-pool gradients routed to the recorded argmax, token
// ids into an embedding table), windows clipped by padding, and runtime
// helpers over slices inlined into non-hot code (Argmax in Correct), and the
// per-sample indexing of the caller's slices in ForwardBatch and TrainBatch
// (xs[k], ys[k], idx[k]).
func TestBoundsChecks(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every generated package")
	}
	var files []string
	for _, pattern := range []string{"*/*_gen.go", "*/*/*_gen.go", "*/*/*/*_gen.go"} { // x/, x/f64/, mlperf_tiny/x/, mlperf_tiny/x/small64/
		more, err := filepath.Glob(pattern)
		require.NoError(t, err)
		files = append(files, more...)
	}
	sort.Strings(files)
	var got strings.Builder
	for _, f := range files {
		dir := filepath.Dir(f)
		pkg := "github.com/bpgen/bpgen/generated/" + filepath.ToSlash(dir)
		cmd := exec.Command("go", "build", "-gcflags="+pkg+"=-d=ssa/check_bce/debug=1", "./"+dir)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		n := 0
		for _, m := range bceLine.FindAllStringSubmatch(string(out), -1) {
			if m[1] == filepath.Base(f) {
				n++
			}
		}
		fmt.Fprintf(&got, "%s %d\n", filepath.ToSlash(f), n)
	}
	golden := filepath.Join("testdata", "bce.golden")
	if *updateBCE {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(golden, []byte(got.String()), 0o644))
		return
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err, "run go test ./generated -run BoundsChecks -update")
	assert.Equal(t, string(want), got.String(), "bounds checks per generated file changed")
}
