package runtime

import (
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
