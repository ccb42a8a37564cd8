package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// checkSpec has one dense layer, so the first weight-gradient update of the
// generated backward pass belongs to layers.0.
const checkSpec = `name: checked
input: [6]
layers:
  - {type: dense, units: 4, activation: tanh}
  - {type: dropout, rate: 0.25}
loss: mse
`

func writeSpec(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	return path
}

// tableRow matches one row of a check report.
var tableRow = regexp.MustCompile(`(?m)^(\S+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(PASS|FAIL)$`)

func TestCheckPasses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	path := writeSpec(t, "model.yaml", checkSpec)
	code, stdout, stderr := runCmd("check", "-trials", "2", "-seed", "7", path)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	assert.Contains(t, stdout, "== checked trial 1\ntensor           size  checked  max abs err  rel err    result\n")
	assert.Contains(t, stdout, "== checked trial 2\n")
	assert.NotContains(t, stdout, "trial 3")
	rows := tableRow.FindAllStringSubmatch(stdout, -1)
	// weight, bias, input per trial, then weight and bias of the batch check
	// (its rows "input 0" … "input 3" have two words)
	require.Len(t, rows, 2*3+2, stdout)
	assert.Contains(t, stdout, "== checked batch of 4\n")
	for _, r := range rows {
		assert.Equal(t, "PASS", r[6], r[0])
		assert.Equal(t, r[2], r[3], "every element checked: %s", r[0])
	}
	assert.Equal(t, []string{"layers.0.weight", "layers.0.bias", "input"}, []string{rows[0][1], rows[1][1], rows[2][1]})
	assert.NotContains(t, stdout, "FAIL")
	assert.Empty(t, stderr)
}

func TestCheckMaxAndKeep(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	path := writeSpec(t, "model.yaml", checkSpec)
	code, stdout, stderr := runCmd("check", "-trials", "1", "-max", "5", "-keep", path)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	m := regexp.MustCompile(`^bpgen: kept the check module in (\S+)\n$`).FindStringSubmatch(stderr)
	require.NotNil(t, m, stderr)
	dir := m[1]
	defer os.RemoveAll(dir)
	assert.FileExists(t, filepath.Join(dir, "go.mod"))
	assert.FileExists(t, filepath.Join(dir, "main.go"))
	assert.FileExists(t, filepath.Join(dir, "model", "model_gen.go"))
	rows := tableRow.FindAllStringSubmatch(stdout, -1)
	require.Len(t, rows, 3+2, stdout)                                     // the trial, then the batch check's weight and bias
	assert.Equal(t, []string{"layers.0.weight", "24", "5"}, rows[0][1:4]) // 24 elements, 5 checked
	assert.Equal(t, []string{"layers.0.bias", "4", "4"}, rows[1][1:4])
}

// TestCheckCatchesWrongBackward corrupts one derivative of the generated code
// (dW gets 1.001 times its value) and requires check to name that tensor.
func TestCheckCatchesWrongBackward(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	const good, bad = "gw[0][0] += g0 * x[0]", "gw[0][0] += 1.001 * g0 * x[0]"
	found := false
	corrupt = func(src []byte) []byte {
		found = bytes.Contains(src, []byte(good))
		return bytes.Replace(src, []byte(good), []byte(bad), 1)
	}
	defer func() { corrupt = nil }()
	path := writeSpec(t, "model.yaml", checkSpec)
	code, stdout, stderr := runCmd("check", "-trials", "1", path)
	require.True(t, found, "the generated code contains %q", good)
	assert.Equal(t, 1, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	rows := tableRow.FindAllStringSubmatch(stdout, -1)
	// The trial's three rows, then the batch check's weight and bias: the
	// batched pass (GEMM kernels) has other code, which is not corrupted.
	require.Len(t, rows, 3+2, stdout)
	assert.Equal(t, []string{"layers.0.weight", "FAIL"}, []string{rows[0][1], rows[0][6]})
	assert.Equal(t, "PASS", rows[1][6], "bias")
	assert.Equal(t, "PASS", rows[2][6], "input")
	assert.Contains(t, stdout, "\nFAIL\n")
	assert.Equal(t, "bpgen: "+path+": gradient check failed for layers.0.weight\n", stderr)
}

func TestCheckErrors(t *testing.T) {
	bad := writeSpec(t, "bad.yaml", "name: bad\ninput: [3]\nlayers:\n  - {type: dense, units: -2}\nloss: mse\n")
	good := writeSpec(t, "good.yaml", checkSpec)
	for _, c := range []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"bad spec", []string{"check", bad}, 1, `^bpgen: ` + regexp.QuoteMeta(bad) + `:4:\d+: layer 0 \(dense\): units`},
		{"missing spec", []string{"check", bad + ".none"}, 1, `^bpgen: ` + regexp.QuoteMeta(bad+".none") + `: `},
		{"no spec", []string{"check"}, 2, `^usage: bpgen check`},
		{"zero trials", []string{"check", "-trials", "0", good}, 1, `^bpgen: -trials 0: expected at least 1\n$`},
		{"negative max", []string{"check", "-max", "-1", good}, 1, `^bpgen: -max -1: expected 0 \(all\) or more\n$`},
		{"negative noise", []string{"check", "-noise", "-0.1", good}, 1, `^bpgen: -noise -0.1: expected a value in \[0, 1\]\n$`},
		{"NaN noise", []string{"check", "-noise", "NaN", good}, 1, `^bpgen: -noise NaN: expected a value in \[0, 1\]\n$`},
		{"bad flag", []string{"check", "-x", good}, 2, `flag provided but not defined: -x`},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(c.args...)
			assert.Equal(t, c.code, code)
			assert.Empty(t, stdout)
			assert.Regexp(t, c.err, stderr)
		})
	}
}

// TestCheckOutsideModule runs check where no module requires bpgen.
func TestCheckOutsideModule(t *testing.T) {
	good := writeSpec(t, "good.yaml", checkSpec)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module elsewhere\n\ngo 1.26\n"), 0o644))
	t.Chdir(dir)
	t.Setenv("GOWORK", "off")
	t.Setenv("GOFLAGS", "-mod=mod")
	code, stdout, stderr := runCmd("check", good)
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.Regexp(t, `^bpgen: cannot locate the module github.com/bpgen/bpgen \(.+\): run bpgen check inside a module that requires github.com/bpgen/bpgen\n$`, stderr)
}
