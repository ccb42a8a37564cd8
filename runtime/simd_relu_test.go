package runtime

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestReluKernels runs testReluKernels on every kernel path.
func TestReluKernels(t *testing.T) { forEachPath(t, testReluKernels) }

func testReluKernels(t *testing.T) {
	rng := NewRNG(4)
	for _, n := range []int{0, 1, 15, 16, 17, 40, 6272} {
		z32, a32, d32 := make([]float32, n), make([]float32, n), make([]float32, n)
		z64, a64, d64 := make([]float64, n), make([]float64, n), make([]float64, n)
		for i := range z32 {
			z64[i] = rng.NormFloat64()
			if i%7 == 3 {
				z64[i] = 0 // the kink: derivative 0, as PyTorch
			}
			if i%11 == 5 {
				z64[i] = math.NaN()
			}
			z32[i] = float32(z64[i])
			d64[i] = rng.NormFloat64() + 2
			d32[i] = float32(d64[i])
		}
		wantD := append([]float64(nil), d64...)
		ReluForward32(z32, a32)
		ReluForward64(z64, a64)
		ReluBackward32(z32, d32)
		ReluBackward64(z64, d64)
		for i := range z64 {
			want := max(z64[i], 0) // Go's max: NaN stays NaN, as PyTorch's relu
			if z64[i] <= 0 {
				wantD[i] = 0 // a NaN keeps its gradient, like the generated inline code
			}
			if math.IsNaN(want) {
				assert.True(t, math.IsNaN(float64(a32[i])) && math.IsNaN(a64[i]), "n %d, i %d: NaN", n, i)
			} else {
				assert.Equal(t, float32(want), a32[i], "n %d, i %d", n, i)
				assert.Equal(t, want, a64[i], "n %d, i %d", n, i)
			}
			assert.Equal(t, float32(wantD[i]), d32[i], "n %d, i %d", n, i)
			assert.Equal(t, wantD[i], d64[i], "n %d, i %d", n, i)
		}
	}
	z, d := make([]float32, 100), make([]float32, 100)
	assert.Zero(t, testing.AllocsPerRun(20, func() { ReluForward32(z, d); ReluBackward32(z, d) }))
}
