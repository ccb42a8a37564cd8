package runtime

import (
	"math"
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

// BenchmarkShiftSum: the 3×3 depthwise plane of kws_dscnn (25×5 padded to
// 27×7, N = 173 flat sums) and a stride-1 plane of vww_mobilenet (12×12
// padded to 14×14, N = 166; and 48×48 padded to 50×50, N = 2398); GFLOP/s of
// the sums computed (2 per tap and sum).
//
//	go test ./runtime -run '^$' -bench 'ShiftSum$' -count 5
func BenchmarkShiftSum(b *testing.B) {
	rng := NewRNG(9)
	x, y := make([]float32, 50*50), make([]float32, 2500)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	w := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}
	for _, c := range []struct {
		name  string
		wp, n int
	}{{"kws173", 7, 173}, {"vww166", 14, 166}, {"vww2398", 50, 2398}} {
		offs := []int32{0, 1, 2, int32(c.wp), int32(c.wp + 1), int32(c.wp + 2), int32(2 * c.wp), int32(2*c.wp + 1), int32(2*c.wp + 2)}
		for _, p := range simdPaths() {
			b.Run(p+"/"+c.name, func(b *testing.B) {
				defer setSIMDPath(setSIMDPath(p))
				for b.Loop() {
					ShiftSum32(y, x, offs, w, c.n, 0)
				}
				b.ReportMetric(2*9*float64(c.n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// fma32 is float32 a·b + c rounded once (the product of two float32 is exact
// in float64; the float64 sum is rounded twice, which differs from one
// rounding only at exact float32 midpoints, not met by these data).
func fma32(a, b, c float32) float32 { return float32(math.FMA(float64(a), float64(b), float64(c))) }

// TestShiftSumBlocks runs testShiftSumBlocks on every kernel path.
func TestShiftSumBlocks(t *testing.T) { forEachPath(t, testShiftSumBlocks) }

// testShiftSumBlocks: every length from 1 to past two blocks of the widest
// level (each last block of k vectors, masked or full), for ShiftSum32 and
// ShiftSumRows32: on the SIMD paths every sum is bit for bit the bias then
// one FMA per tap in tap order, whatever the blocking; nothing is written
// past a row.
func testShiftSumBlocks(t *testing.T) {
	rng := NewRNG(10)
	const maxN, xs, ys = 2*12*16 + 40, 2*12*16 + 60, 2*12*16 + 45
	offs := []int32{0, 1, 2, 17, 18, 19, 34, 35, 36}
	w := make([]float32, len(offs))
	for i := range w {
		w[i] = float32(rng.NormFloat64())
	}
	x := make([]float32, 3*xs+40)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	const b = 0.3
	want := func(r, i int) float32 {
		acc := float32(b)
		for k, off := range offs {
			acc = fma32(w[k], x[r*xs+int(off)+i], acc)
		}
		return acc
	}
	exact := SIMDLevel() != "generic"
	check := func(name string, n, r int, got []float32) {
		t.Helper()
		for i := range n {
			if exact {
				if got[i] != want(r, i) {
					t.Fatalf("%s n %d row %d i %d: %v, want %v", name, n, r, i, got[i], want(r, i))
				}
			} else if d := math.Abs(float64(got[i] - want(r, i))); d > 1e-5 {
				t.Fatalf("%s n %d row %d i %d: %v, want %v", name, n, r, i, got[i], want(r, i))
			}
		}
		if got[n] != -1 {
			t.Fatalf("%s n %d row %d: written past the row", name, n, r)
		}
	}
	y := make([]float32, 3*ys)
	for n := 1; n <= maxN; n++ {
		for i := range y {
			y[i] = -1
		}
		ShiftSum32(y, x, offs, w, n, b)
		check("ShiftSum32", n, 0, y)
		for i := range y {
			y[i] = -1
		}
		ShiftSumRows32(y, ys, x, xs, offs, w, 3, n, b)
		for r := range 3 {
			check("ShiftSumRows32", n, r, y[r*ys:])
		}
	}
}
