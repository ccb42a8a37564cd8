package runtime

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAdamFloat32MatchesFloat64 runs adam and adamw on 101 parameters (whole
// vectors and a tail) in float32, which takes the vector kernel in the
// AVX-512 build, and in float64, and requires the same trajectory within
// float32 rounding.
func TestAdamFloat32MatchesFloat64(t *testing.T) {
	for _, typ := range []string{"adam", "adamw"} {
		cfg := OptimizerConfig{Type: typ, LR: 0.01, WeightDecay: 0.05}
		o32, err := NewOptimizer[float32](cfg, 101)
		require.NoError(t, err)
		o64, err := NewOptimizer[float64](cfg, 101)
		require.NoError(t, err)
		rng := NewRNG(8)
		p32, p64 := make([]float32, 101), make([]float64, 101)
		for i := range p64 {
			p64[i] = rng.NormFloat64()
			p32[i] = float32(p64[i])
		}
		g32, g64 := make([]float32, 101), make([]float64, 101)
		for step := 0; step < 5; step++ {
			for i := range g64 {
				g64[i] = rng.NormFloat64()
				g32[i] = float32(g64[i])
			}
			o32.Step(p32, g32)
			o64.Step(p64, g64)
		}
		for i := range p64 {
			assert.InDelta(t, p64[i], float64(p32[i]), 1e-5*(1+abs64(p64[i])), "%s param %d", typ, i)
		}
	}
}

// TestAdamKernel runs adamUpdate32 on every path against the scalar loop of
// optim.go (in float64), on ragged lengths, and checks that it writes nothing
// past n.
func TestAdamKernel(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		rng := NewRNG(12)
		for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100} {
			p, g, m, v := make([]float32, n+1), make([]float32, n+1), make([]float32, n+1), make([]float32, n+1)
			for i := range p {
				p[i], g[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
				m[i], v[i] = float32(rng.NormFloat64()*0.1), float32(rng.Float64()*0.1)
			}
			const b1, b2, c1, c2, wd, step, inv, eps = 0.9, 0.999, 0.1, 0.001, 0.01, 0.003, 1.5, 1e-8
			wantP, wantM, wantV := make([]float64, n), make([]float64, n), make([]float64, n)
			for i := range n {
				gi := float64(g[i]) + wd*float64(p[i])
				wantM[i] = b1*float64(m[i]) + c1*gi
				wantV[i] = b2*float64(v[i]) + c2*gi*gi
				wantP[i] = float64(p[i]) - step*wantM[i]/(math.Sqrt(wantV[i])*inv+eps)
			}
			last := [4]float32{p[n], g[n], m[n], v[n]}
			if !adamUpdate32(p[:n], g[:n], m[:n], v[:n], b1, b2, c1, c2, wd, step, inv, eps) {
				if SIMDLevel() != "generic" {
					t.Fatalf("adamUpdate32 returned false on path %s", SIMDLevel())
				}
				continue
			}
			for i := range n {
				assert.InDelta(t, wantM[i], float64(m[i]), 1e-6*(1+math.Abs(wantM[i])), "m n=%d i=%d", n, i)
				assert.InDelta(t, wantV[i], float64(v[i]), 1e-6*(1+math.Abs(wantV[i])), "v n=%d i=%d", n, i)
				assert.InDelta(t, wantP[i], float64(p[i]), 1e-5*(1+math.Abs(wantP[i])), "p n=%d i=%d", n, i)
			}
			assert.Equal(t, last, [4]float32{p[n], g[n], m[n], v[n]}, "wrote past n=%d", n)
		}
	})
}
