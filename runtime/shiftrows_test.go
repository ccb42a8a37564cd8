package runtime

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestShiftSumRows runs testShiftSumRows on every kernel path.
func TestShiftSumRows(t *testing.T) { forEachPath(t, testShiftSumRows) }

// testShiftSumRows: each row is bit for bit ShiftSum32 on the same path, the
// float64 version within rounding of the sum, and y between the rows is
// left alone.
func testShiftSumRows(t *testing.T) {
	rng := NewRNG(7)
	for _, n := range []int{1, 5, 8, 15, 16, 17, 47, 64, 65, 100} {
		for _, rows := range []int{0, 1, 3} {
			xs, ys := 2*n+7, n+3
			offs := []int32{0, 1, 2, int32(xs + 1), int32(2*xs + 2)}
			w64 := []float64{0.5, -1, 0.25, 2, -0.75}
			x64 := make([]float64, rows*xs+2*xs+n+3)
			for i := range x64 {
				x64[i] = rng.NormFloat64()
			}
			x32, w32 := make([]float32, len(x64)), make([]float32, len(w64))
			for i := range x64 {
				x32[i] = float32(x64[i])
			}
			for i := range w64 {
				w32[i] = float32(w64[i])
			}
			y32, y64 := make([]float32, rows*ys+1), make([]float64, rows*ys+1)
			ShiftSumRows32(y32, ys, x32, xs, offs, w32, rows, n, 0.3)
			ShiftSumRows64(y64, ys, x64, xs, offs, w64, rows, n, 0.3)
			row := make([]float32, n)
			for r := range rows {
				ShiftSum32(row, x32[r*xs:], offs, w32, n, 0.3)
				for i := range n {
					want := 0.3
					for k, off := range offs {
						want += w64[k] * x64[r*xs+int(off)+i]
					}
					assert.Equal(t, row[i], y32[r*ys+i], "n %d row %d i %d", n, r, i)
					assert.InDelta(t, want, y64[r*ys+i], 1e-12, "n %d row %d i %d", n, r, i)
				}
				for i := n; i < ys; i++ {
					assert.Zero(t, y32[r*ys+i], "n %d: nothing written between rows", n)
				}
			}
			assert.Zero(t, y32[len(y32)-1], "nothing written past the last row")
		}
	}
	assert.Panics(t, func() { // the last row's shifted x runs past x
		ShiftSumRows32(make([]float32, 10), 5, make([]float32, 12), 5, []int32{0, 3}, []float32{1, 1}, 2, 5, 0)
	})
	assert.Panics(t, func() { // y too short for two rows
		ShiftSumRows32(make([]float32, 9), 5, make([]float32, 20), 5, []int32{0}, []float32{1}, 2, 5, 0)
	})
	y, x := make([]float32, 24*48), make([]float32, 49*49)
	offs, w := []int32{0, 1, 2, 49, 50, 51, 98, 99, 100}, make([]float32, 9)
	assert.Zero(t, testing.AllocsPerRun(20, func() { ShiftSumRows32(y, 48, x, 98, offs, w, 24, 47, 0) }))
}

// BenchmarkShiftSumRows: a stride-2 3×3 depthwise plane of vww_mobilenet (48×48
// input padded to 49×49, 24 output rows of 47 stride-1 sums) as rows, against
// ShiftSum32 over the whole flat plane (every row, 2301 sums); GFLOP/s of the
// sums computed (2 per tap and sum).
//
//	go test ./runtime -run '^$' -bench ShiftSumRows -count 5
func BenchmarkShiftSumRows(b *testing.B) {
	rng := NewRNG(8)
	x, y := make([]float32, 49*49), make([]float32, 2400)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	offs, w := []int32{0, 1, 2, 49, 50, 51, 98, 99, 100}, []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}
	for _, p := range simdPaths() {
		b.Run(fmt.Sprintf("%s/rows24x47", p), func(b *testing.B) {
			defer setSIMDPath(setSIMDPath(p))
			for b.Loop() {
				ShiftSumRows32(y, 48, x, 98, offs, w, 24, 47, 0)
			}
			b.ReportMetric(2*9*24*47*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(fmt.Sprintf("%s/flat2301", p), func(b *testing.B) {
			defer setSIMDPath(setSIMDPath(p))
			for b.Loop() {
				ShiftSum32(y, x, offs, w, 2301, 0)
			}
			b.ReportMetric(2*9*2301*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
