package runtime

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOptimizerKernels runs three float32 steps of every optimizer type,
// with and without weight decay, on ragged lengths (whole vectors of either
// width and tails), on every kernel path, and requires the parameters and
// state buffers to equal, bit for bit, those of the same steps on the
// generic path (the pure-Go loops of optim_kernels.go), with nothing
// written past the n elements the optimizer was made for.
func TestOptimizerKernels(t *testing.T) {
	type run struct{ params, state [][]float32 }
	steps := func(cfg OptimizerConfig, n int) run {
		rng := NewRNG(21)
		p, g := make([]float32, n+1), make([]float32, n+1)
		for i := range p {
			p[i] = float32(rng.NormFloat64())
		}
		p[n], g[n] = 7, 7
		opt, err := NewOptimizer[float32](cfg, n)
		require.NoError(t, err)
		var r run
		for range 3 {
			for i := range g[:n] {
				g[i] = float32(rng.NormFloat64() * 0.5)
			}
			opt.Step(p[:n], g[:n])
			require.Equal(t, [2]float32{7, 7}, [2]float32{p[n], g[n]}, "%+v n=%d: wrote past n", cfg, n)
			r.params = append(r.params, append([]float32(nil), p[:n]...))
			for _, name := range []string{"momentum_buffer", "exp_avg", "exp_avg_sq", "square_avg", "sum"} {
				if b, ok := opt.State().Buffers[name]; ok {
					r.state = append(r.state, append([]float32(nil), b...))
				}
			}
		}
		return r
	}
	for _, typ := range optimizerTypes {
		for _, wd := range []float64{0, 0.05} {
			cfg := OptimizerConfig{Type: typ, LR: 0.01, WeightDecay: wd}
			for _, n := range []int{0, 1, 3, 4, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100} {
				prev := setSIMDPath("generic")
				want := steps(cfg, n)
				setSIMDPath(prev)
				forEachPath(t, func(t *testing.T) {
					got := steps(cfg, n)
					for s := range want.params {
						assert.Equal(t, bitsOf(want.params[s]), bitsOf(got.params[s]), "%s wd=%v n=%d step %d: params", typ, wd, n, s)
					}
					assert.Equal(t, len(want.state), len(got.state))
					for s := range want.state {
						assert.Equal(t, bitsOf(want.state[s]), bitsOf(got.state[s]), "%s wd=%v n=%d: state buffer %d", typ, wd, n, s)
					}
				})
			}
		}
	}
}

// bitsOf returns the bit patterns of x, so that a failure shows the exact
// values (and NaN compares equal to itself).
func bitsOf(x []float32) []uint32 {
	b := make([]uint32, len(x))
	for i, v := range x {
		b[i] = math.Float32bits(v)
	}
	return b
}

// TestSumSqWide checks the float64 sum of squares of float32 values on
// every path against an in-order float64 sum: each square is exact in
// float64, so the paths differ only by the order of the additions (relative
// error below n·2⁻⁵³ for these positive terms; 1e-13 is checked).
func TestSumSqWide(t *testing.T) {
	rng := NewRNG(5)
	x := make([]float32, 1001)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * 1e3)
	}
	forEachPath(t, func(t *testing.T) {
		for _, n := range []int{0, 1, 3, 4, 5, 8, 9, 31, 32, 33, 63, 64, 65, 1001} {
			want := sumSqWideLoop(x[:n])
			assert.InDelta(t, want, sumSqWide(x[:n]), 1e-13*want, "n=%d", n)
		}
	})
}

// TestScaleGradsKernels runs Fit's gradient scaling (averaging over a
// batch, clipping) on every path against the generic path. The averaging
// multiplies every element by the same float32 as the scalar loop (bit for
// bit). With clipping, the float64 norms differ by the order of their
// additions, so the float32 scale, and each scaled element, may differ by
// one ULP; the test allows exactly that.
func TestScaleGradsKernels(t *testing.T) {
	rng := NewRNG(6)
	g0 := make([]float32, 777)
	for i := range g0 {
		g0[i] = float32(rng.NormFloat64())
	}
	for _, clip := range []float64{0, 0.5, 1e9} {
		want := append([]float32(nil), g0...)
		prev := setSIMDPath("generic")
		require.Equal(t, -1, scaleGrads(want, 32, clip))
		setSIMDPath(prev)
		forEachPath(t, func(t *testing.T) {
			got := append([]float32(nil), g0...)
			require.Equal(t, -1, scaleGrads(got, 32, clip))
			for i := range got {
				if clip == 0 {
					require.Equal(t, math.Float32bits(want[i]), math.Float32bits(got[i]), "clip=%v i=%d", clip, i)
					continue
				}
				ulp := math.Nextafter32(abs32(want[i]), float32(math.Inf(1))) - abs32(want[i])
				require.InDelta(t, want[i], got[i], float64(ulp), "clip=%v i=%d", clip, i)
			}
		})
	}
}

func abs32(v float32) float32 { return float32(math.Abs(float64(v))) }
