package main

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSummary(t *testing.T) {
	code, stdout, stderr := runCmd("summary", "../../testdata/mnist_mlp.yaml")
	assert.Equal(t, 0, code, stderr)
	assert.Empty(t, stderr)
	assert.Equal(t, `Model: mnist_mlp (float32)
Layer (name)  Kind        Inputs    Output shape   Params    FLOPs
------------------------------------------------------------------
input         input                 [784]               0        0
layers.0      dense+relu  input     [128]         100,480  200,960
layers.1      dense       layers.0  [10]            1,290    2,570
------------------------------------------------------------------
Total params: 101,770 (397.5 KiB)
Forward FLOPs per sample: 203,530
Memory of a Model: 1.0 MiB: params 397.5 KiB, grads 397.5 KiB, buffers 246.5 KiB (32 samples per chunk)
`, stdout)
}

func TestSummaryErrors(t *testing.T) {
	bad := writeSpec(t, "bad.yaml", "name: bad\ninput: [3]\nlayers:\n  - {type: dense, units: -2}\nloss: mse\n")
	for _, c := range []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"bad spec", []string{"summary", bad}, 1, `^bpgen: ` + regexp.QuoteMeta(bad) + `:4:\d+: layer 0 \(dense\): units`},
		{"no spec", []string{"summary"}, 2, `^usage: bpgen summary SPEC.yaml\n$`},
		{"two specs", []string{"summary", bad, bad}, 2, `^usage: bpgen summary SPEC.yaml\n$`},
		{"bad flag", []string{"summary", "-x", bad}, 2, `flag provided but not defined: -x`},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(c.args...)
			assert.Equal(t, c.code, code)
			assert.Empty(t, stdout)
			assert.Regexp(t, c.err, stderr)
		})
	}
}
