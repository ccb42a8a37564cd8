// Package generated holds the example packages generated from the specs in
// testdata/ (and, in mlperf_tiny/, from testdata/mlperf_tiny/); this test
// fails when one of them is stale.
package generated

import (
	"bufio"
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bpgen/bpgen/gen"
	"github.com/bpgen/bpgen/spec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// directive matches a go:generate line that runs bpgen generate from a
// package directory at any depth below generated/ (../../cmd/bpgen,
// ../../../cmd/bpgen).
var directive = regexp.MustCompile(`^//go:generate go run (?:\.\./)+cmd/bpgen generate (.*)$`)

// TestNotStale regenerates every file named by a go:generate directive under
// generated/ in-process and compares it byte for byte with the checked-in file.
func TestNotStale(t *testing.T) {
	files, err := filepath.Glob("*/*.go")
	require.NoError(t, err)
	deeper, err := filepath.Glob("*/*/*.go") // mlperf_tiny/<name>/generate.go
	require.NoError(t, err)
	files = append(files, deeper...)
	n := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		require.NoError(t, err)
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			line := sc.Text()
			d := directive.FindStringSubmatch(line)
			if d == nil {
				continue
			}
			n++
			dir := filepath.Dir(file)
			out, opt, specPath := parseDirective(t, strings.Fields(d[1]))
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
