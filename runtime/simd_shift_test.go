package runtime

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestShiftSum runs testShiftSum on every kernel path.
func TestShiftSum(t *testing.T) { forEachPath(t, testShiftSum) }

func testShiftSum(t *testing.T) {
	rng := NewRNG(6)
	for _, n := range []int{1, 7, 8, 9, 16, 28, 33, 64, 65, 100, 129} {
		x64 := make([]float64, 3*n+40)
		for i := range x64 {
			x64[i] = rng.NormFloat64()
		}
		offs := []int32{0, 1, 2, int32(n + 2), int32(n + 3), int32(2*n + 9)}
		w64 := []float64{0.5, -1, 0.25, 2, -0.75, 1.5}
		want := make([]float64, n)
		for i := range want {
			want[i] = 0.3
			for k, off := range offs {
				want[i] += w64[k] * x64[int(off)+i]
			}
		}
		x32, w32 := make([]float32, len(x64)), make([]float32, len(w64))
		for i := range x64 {
			x32[i] = float32(x64[i])
		}
		for i := range w64 {
			w32[i] = float32(w64[i])
		}
		y32, y64 := make([]float32, n+5), make([]float64, n+5)
		ShiftSum32(y32, x32, offs, w32, n, 0.3)
		ShiftSum64(y64, x64, offs, w64, n, 0.3)
		for i := range want {
			assert.InDelta(t, want[i], float64(y32[i]), 1e-5, "n %d i %d", n, i)
			assert.InDelta(t, want[i], y64[i], 1e-12, "n %d i %d", n, i)
		}
		assert.Zero(t, y32[n], "nothing written past n")
	}
	assert.Panics(t, func() { ShiftSum32(make([]float32, 4), make([]float32, 10), []int32{8}, []float32{1}, 4, 0) })
	y, x := make([]float32, 28), make([]float32, 100)
	offs, w := []int32{0, 1, 2, 30, 31, 32, 60, 61, 62}, make([]float32, 9)
	assert.Zero(t, testing.AllocsPerRun(20, func() { ShiftSum32(y, x, offs, w, 28, 0) }))
}
