package runtime

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestRowsKernels runs testRowsKernels on every kernel path.
func TestRowsKernels(t *testing.T) { forEachPath(t, testRowsKernels) }

func testRowsKernels(t *testing.T) {
	rng := NewRNG(9)
	for _, c := range []struct{ xs, ys, rows, n int }{{7, 5, 3, 5}, {30, 28, 28, 28}, {17, 16, 1, 16}, {4, 4, 0, 3}, {9, 3, 4, 1}, {40, 33, 5, 33}, {64, 64, 2, 64}, {100, 70, 3, 67}, {150, 129, 2, 129}, {8, 8, 9, 8}, {80, 79, 2, 79}, {10, 14, 10, 10}, {10, 14, 7, 10}, {5, 6, 11, 5}, {28, 30, 5, 28}} {
		x := make([]float32, (c.rows+1)*c.xs+c.n)
		y := make([]float32, (c.rows+1)*c.ys+c.n)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		for i := range y {
			y[i] = float32(rng.NormFloat64())
		}
		x64, y64 := make([]float64, len(x)), make([]float64, len(y))
		for i := range x {
			x64[i] = float64(x[i])
		}
		for i := range y {
			y64[i] = float64(y[i])
		}
		var want float64
		for r := 0; r < c.rows; r++ {
			for i := 0; i < c.n; i++ {
				want += x64[r*c.xs+i] * y64[r*c.ys+i]
			}
		}
		assert.InDelta(t, want, float64(DotRows32(x, c.xs, y, c.ys, c.rows, c.n)), 1e-4*(1+abs64(want)), "DotRows32 %+v", c)
		assert.InDelta(t, want, DotRows64(x64, c.xs, y64, c.ys, c.rows, c.n), 1e-12*(1+abs64(want)), "DotRows64 %+v", c)
		wantY := append([]float64(nil), y64...)
		for r := 0; r < c.rows; r++ {
			for i := 0; i < c.n; i++ {
				wantY[r*c.ys+i] += 0.5 * x64[r*c.xs+i]
			}
		}
		AxpyRows32(0.5, x, c.xs, y, c.ys, c.rows, c.n)
		AxpyRows64(0.5, x64, c.xs, y64, c.ys, c.rows, c.n)
		for i := range wantY {
			assert.InDelta(t, wantY[i], float64(y[i]), 1e-5*(1+abs64(wantY[i])), "AxpyRows32 %+v at %d", c, i)
			assert.InDelta(t, wantY[i], y64[i], 1e-13*(1+abs64(wantY[i])), "AxpyRows64 %+v at %d", c, i)
		}
	}
	assert.Panics(t, func() { AxpyRows32(1, make([]float32, 10), 5, make([]float32, 100), 5, 3, 5) })
	assert.Panics(t, func() { DotRows64(make([]float64, 100), 5, make([]float64, 12), 5, 3, 5) })
	x, y := make([]float32, 200), make([]float32, 200)
	assert.Zero(t, testing.AllocsPerRun(20, func() { AxpyRows32(1, x, 30, y, 28, 6, 28); DotRows32(x, 30, y, 28, 6, 28) }))
}

func abs64(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}
