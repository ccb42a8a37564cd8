package runtime

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBatchNormScales checks BatchNormScales32 on every path against the
// float64 definition, rounded as documented, for channel counts around the
// vector widths, unaligned operands, with and without affine parameters and
// the backward pass's inv and mean, and special values (zero, negative and
// infinite variances, NaN statistics).
func TestBatchNormScales(t *testing.T) { forEachPath(t, testBatchNormScales) }

func testBatchNormScales(t *testing.T) {
	rng := NewRNG(21)
	for n := 0; n <= 41; n++ {
		off := 1 + n%3
		in := func() []float32 { return elementwiseInput(rng, n, off, false) }
		gamma, beta, rmean, rvar := in(), in(), in(), in()
		for i := range rvar {
			rvar[i] = rvar[i] * rvar[i]
			switch i % 11 {
			case 3:
				rvar[i] = 0
			case 5:
				rvar[i] = -1e-4 // √ of a negative: NaN
			case 7:
				rvar[i] = float32(math.Inf(1))
			case 9:
				rmean[i] = float32(math.NaN())
			}
		}
		for _, affine := range []bool{true, false} {
			for _, stats := range []bool{true, false} {
				g, b := gamma, beta
				if !affine {
					g, b = nil, nil
				}
				outs := make([][]float32, 4)
				for i := range outs {
					outs[i] = make([]float32, n+1)
					outs[i][n] = 42
				}
				scale, shift, inv, mean := outs[0][:n], outs[1][:n], outs[2][:n], outs[3][:n]
				if !stats {
					inv, mean = nil, nil
				}
				BatchNormScales32(scale, shift, inv, mean, g, b, rmean, rvar, 1e-3)
				for c := range n {
					gc, bc := 1.0, 0.0
					if affine {
						gc, bc = float64(gamma[c]), float64(beta[c])
					}
					iv := 1 / math.Sqrt(float64(rvar[c])+1e-3)
					s := gc * iv
					ms := float64(rmean[c]) * s
					want := [4]float32{float32(s), float32(bc - ms), float32(iv), rmean[c]}
					for i := range 4 {
						if i >= 2 && !stats {
							continue
						}
						if !sameBits(want[i], outs[i][c]) {
							t.Fatalf("n %d affine %v stats %v: output %d channel %d = %v, want %v", n, affine, stats, i, c, outs[i][c], want[i])
						}
					}
				}
				for i, o := range outs {
					require.Equal(t, float32(42), o[n], "n %d: output %d written past the end", n, i)
					if i >= 2 && !stats {
						require.Equal(t, make([]float32, n), o[:n], "n %d: output %d written without stats", n, i)
					}
				}
			}
		}
	}
}

func TestBatchNormScales64(t *testing.T) {
	g, b, m, v := []float64{2, -1}, []float64{0.5, 3}, []float64{1, -2}, []float64{4, 0.25}
	scale, shift, inv, mean := make([]float64, 2), make([]float64, 2), make([]float64, 2), make([]float64, 2)
	BatchNormScales64(scale, shift, inv, mean, g, b, m, v, 0)
	// inv = 1/2 and 2: scale = γ·inv, shift = β − mean·scale
	assert.Equal(t, []float64{1, -2}, scale)
	assert.Equal(t, []float64{-0.5, -1}, shift)
	assert.Equal(t, []float64{0.5, 2}, inv)
	assert.Equal(t, m, mean)
	BatchNormScales64(scale, shift, nil, nil, nil, nil, m, v, 0)
	assert.Equal(t, []float64{0.5, 2}, scale)
	assert.Equal(t, []float64{-0.5, 4}, shift)
}

func TestBatchNormScalesChecks(t *testing.T) {
	s := make([]float32, 8)
	short := s[:7]
	assert.PanicsWithValue(t, "runtime.BatchNormScales32: inv and mean must be both nil or both set", func() { BatchNormScales32(s, s, s, nil, s, s, s, s, 0) })
	assert.PanicsWithValue(t, "runtime.BatchNormScales32: gamma and beta must be both nil or both set", func() { BatchNormScales32(s, s, nil, nil, nil, s, s, s, 0) })
	assert.Panics(t, func() { BatchNormScales32(s, s, nil, nil, s, s, s, short, 0) })
	assert.Panics(t, func() { BatchNormScales32(s, short, nil, nil, s, s, s, s, 0) })
	assert.Panics(t, func() { BatchNormScales32(s, s, short, s, s, s, s, s, 0) })
	assert.Panics(t, func() { BatchNormScales32(s, s, nil, nil, s, short, s, s, 0) })
	assert.NotPanics(t, func() { BatchNormScales32(s, s, nil, nil, nil, nil, s, s, 0) })
	assert.Zero(t, testing.AllocsPerRun(10, func() { BatchNormScales32(s, s, s, s, s, s, s, s, 1e-5) }))
}
