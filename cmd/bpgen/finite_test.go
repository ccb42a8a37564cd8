package main

import (
	"bytes"
	"math"
	"testing"

	bprt "github.com/bpgen/bpgen/runtime"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckFinite(t *testing.T) {
	ts := []bprt.Tensor{
		{Name: "a", Shape: []int{2}, Offset: 0, Size: 2},
		{Name: "b", Shape: []int{2, 2}, Offset: 2, Size: 4},
	}
	file64 := func(vals ...float64) []byte {
		var buf bytes.Buffer
		require.NoError(t, bprt.WriteSafetensors(&buf, vals, ts, nil))
		return buf.Bytes()
	}
	file32 := func(vals ...float32) []byte {
		var buf bytes.Buffer
		require.NoError(t, bprt.WriteSafetensors(&buf, vals, ts, nil))
		return buf.Bytes()
	}
	inf, nan := math.Inf(1), math.NaN()
	for _, c := range []struct {
		name string
		data []byte
		want string // "" for no error
	}{
		{"finite float64", file64(1, -2, 1e300, -1e-300, 0, math.MaxFloat64), ""},
		{"finite float32", file32(1, -2, math.MaxFloat32, 0, 5, 6), ""},
		{"float64 +Inf", file64(1, 2, 3, 4, inf, nan), `tensor "b" holds +Inf at element 2`},
		{"float64 NaN first", file64(nan, 2, 3, 4, inf, nan), `tensor "a" holds NaN at element 0`},
		{"float32 -Inf", file32(1, float32(math.Inf(-1)), 3, 4, 5, 6), `tensor "a" holds -Inf at element 1`},
		{"float32 NaN last", file32(1, 2, 3, 4, 5, float32(nan)), `tensor "b" holds NaN at element 3`},
		{"not safetensors", []byte("junk"), "safetensors: file is 4 bytes, shorter than the 8-byte header length"},
	} {
		err := checkFinite(c.data)
		if c.want == "" {
			assert.NoError(t, err, c.name)
		} else {
			assert.EqualError(t, err, c.want, c.name)
		}
	}
}
