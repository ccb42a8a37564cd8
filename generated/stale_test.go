// Package generated holds the example packages generated from the specs in
// testdata/; this test fails when one of them is stale.
package generated

import (
	"bufio"
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpgen/bpgen/gen"
	"github.com/bpgen/bpgen/spec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const directive = "//go:generate go run ../../cmd/bpgen generate "

// TestNotStale regenerates every file named by a go:generate directive under
// generated/ in-process and compares it byte for byte with the checked-in file.
func TestNotStale(t *testing.T) {
	files, err := filepath.Glob("*/*.go")
	require.NoError(t, err)
	n := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		require.NoError(t, err)
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			line := sc.Text()
			if !strings.HasPrefix(line, directive) {
				continue
			}
			n++
			dir := filepath.Dir(file)
			out, opt, specPath := parseDirective(t, strings.Fields(strings.TrimPrefix(line, directive)))
			m, err := spec.ParseFile(filepath.Join(dir, specPath))
			require.NoError(t, err, line)
			want, err := gen.Generate(m, opt)
			require.NoError(t, err, line)
			got, err := os.ReadFile(filepath.Join(dir, out))
			require.NoError(t, err, "%s: run go generate ./...", file)
			assert.True(t, bytes.Equal(want, got), "stale generated file %s: run go generate ./...", filepath.Join(dir, out))
		}
	}
	assert.GreaterOrEqual(t, n, 3, "go:generate directives found")
}

// parseDirective reads the flags of a "bpgen generate" directive.
func parseDirective(t *testing.T, args []string) (out string, opt gen.Options, specPath string) {
	fs := flag.NewFlagSet("generate", flag.ContinueOnError)
	o := fs.String("o", "", "")
	pkg := fs.String("pkg", "", "")
	dtype := fs.String("dtype", "", "")
	require.NoError(t, fs.Parse(args))
	require.Equal(t, 1, fs.NArg(), "directive %v", args)
	return *o, gen.Options{Source: fs.Arg(0), Package: *pkg, DType: spec.DType(*dtype)}, fs.Arg(0)
}
