package runtime

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// tallShapes are (m, n, k) with rows for the tall XN tiles (8 rows on either
// level) and columns that leave one to three vectors after the full tiles,
// and rows those tiles leave over.
func tallShapes() [][3]int {
	var s [][3]int
	for _, m := range []int{8, 9, 11, 12, 15, 16, 17, 23, 24, 33} {
		for _, n := range []int{1, 5, 8, 9, 16, 17, 24, 25, 36, 40, 48, 49, 63, 80, 112, 144} {
			s = append(s, [3]int{m, n, 1 + (m+n)%9})
		}
	}
	return append(s, [3]int{128, 36, 128}, [3]int{256, 9, 128}, [3]int{256, 9, 256}, [3]int{64, 144, 64})
}

// TestGemmTallTiles: on every path, the products that go through the tall
// tiles (GemmNN32, GemmNNBias32, GemmTN32 accumulating,
// GemmNNBiasScaleShiftRelu32) are bit for bit those of one row at a time
// (m = 1: the square tiles), as every tile adds the same products in the
// same order.
func TestGemmTallTiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, p := range simdPaths() {
		for _, s := range tallShapes() {
			m, n, k := s[0], s[1], s[2]
			t.Run(fmt.Sprintf("%s/%dx%dx%d", p, m, n, k), func(t *testing.T) {
				defer setSIMDPath(setSIMDPath(p))
				a, at, b := randVec[float32](rng, m*k), make([]float32, k*m), randVec[float32](rng, k*n)
				for i := range m {
					for q := range k {
						at[q*m+i] = a[i*k+q]
					}
				}
				bias, scale, shift := randVec[float32](rng, m), randVec[float32](rng, m), randVec[float32](rng, m)
				c0 := randVec[float32](rng, m*n)
				c, z, y := make([]float32, m*n+1), make([]float32, m*n+1), make([]float32, m*n+1)
				c[m*n], z[m*n], y[m*n] = 7, 7, 7
				rc, rz, ry := make([]float32, n), make([]float32, n), make([]float32, n)
				check := func(what string, got, want []float32, i int) {
					t.Helper()
					for j := range n {
						if math.Float32bits(got[i*n+j]) != math.Float32bits(want[j]) {
							t.Fatalf("%s: c[%d][%d] = %v, want %v (one row)", what, i, j, got[i*n+j], want[j])
						}
					}
				}
				GemmNN32(c[:m*n], a, b, m, n, k)
				for i := range m {
					GemmNN32(rc, a[i*k:], b, 1, n, k)
					check("GemmNN32", c, rc, i)
				}
				GemmNNBias32(c[:m*n], a, b, bias, m, n, k)
				for i := range m {
					GemmNNBias32(rc, a[i*k:], b, bias[i:i+1], 1, n, k)
					check("GemmNNBias32", c, rc, i)
				}
				copy(c, c0)
				GemmTN32(c[:m*n], at, b, m, n, k)
				for i := range m {
					col := make([]float32, k)
					for q := range k {
						col[q] = a[i*k+q]
					}
					copy(rc, c0[i*n:])
					GemmTN32(rc, col, b, 1, n, k)
					check("GemmTN32", c, rc, i)
				}
				GemmNNBiasScaleShiftRelu32(z[:m*n], y[:m*n], a, b, bias, scale, shift, m, n, k)
				for i := range m {
					GemmNNBiasScaleShiftRelu32(rz, ry, a[i*k:], b, bias[i:i+1], scale[i:i+1], shift[i:i+1], 1, n, k)
					check("ScaleShiftRelu z", z, rz, i)
					check("ScaleShiftRelu y", y, ry, i)
				}
				if c[m*n] != 7 || z[m*n] != 7 || y[m*n] != 7 {
					t.Fatal("wrote past the end")
				}
			})
		}
	}
}

// BenchmarkGemmSmallN reports GFLOP/s of GemmNNBiasScaleShiftRelu32 at the
// pointwise convolutions of vww_mobilenet's last layers (6×6 and 3×3 maps)
// and a 12×12 one, where the columns left after the full tiles go in the
// tall tiles:
//
//	go test ./runtime -run '^$' -bench GemmSmallN -count 5
func BenchmarkGemmSmallN(b *testing.B) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, p := range simdPaths() {
		for _, s := range [][3]int{{128, 36, 128}, {256, 36, 128}, {256, 9, 128}, {256, 9, 256}, {64, 144, 64}, {128, 144, 64}} {
			m, n, k := s[0], s[1], s[2]
			z, y := randVec[float32](rng, m*n), randVec[float32](rng, m*n)
			a, bb, bias := randVec[float32](rng, m*k), randVec[float32](rng, k*n), randVec[float32](rng, m)
			scale, shift := randVec[float32](rng, m), randVec[float32](rng, m)
			b.Run(fmt.Sprintf("%s/%dx%dx%d", p, m, n, k), func(b *testing.B) {
				defer setSIMDPath(setSIMDPath(p))
				for b.Loop() {
					GemmNNBiasScaleShiftRelu32(z, y, a, bb, bias, scale, shift, m, n, k)
				}
				reportGFLOPs(b, 2*m*n*k)
			})
		}
	}
}
