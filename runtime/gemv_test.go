package runtime

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestMatVecLengths checks MatVec32 (the gemv kernels on the assembly paths:
// blocks of 8 rows, then single rows; full vectors, then a masked tail) over
// every column count 0..100, row counts around the block of 8, and operands
// at odd offsets (unaligned vectors), then shapes of 8192 weights or more with
// rows of 128 columns or more (gemvRow: one row at a time, 8 vectors a step,
// then single vectors and a masked tail), against a float64 reference; y
// must be written only at y[:rows].
func TestMatVecLengths(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 8))
		type shape struct {
			cols int
			rows []int
		}
		var shapes []shape
		for cols := 0; cols <= 100; cols++ {
			shapes = append(shapes, shape{cols, []int{0, 1, 3, 7, 8, 9, 16, 17, 26}})
		}
		for _, cols := range []int{128, 129, 143, 144, 160, 175, 200, 255, 256, 784} {
			shapes = append(shapes, shape{cols, []int{64, 65, 71}})
		}
		for _, sh := range shapes {
			cols := sh.cols
			for _, rows := range sh.rows {
				for _, off := range []int{0, 1, 3} {
					w := randVec[float32](rng, off+rows*cols)[off:]
					x := randVec[float32](rng, off+cols)[off:]
					b := randVec[float32](rng, off+rows)[off:]
					y := randVec[float32](rng, off+rows+3)[off:]
					guard := append([]float32(nil), y[rows:]...)
					bias := off != 1 // off 1 runs without bias
					if !bias {
						b = nil
					}
					MatVec32(y, w, x, b, rows, cols)
					for o := range rows {
						var want, scale float64
						if bias {
							want, scale = float64(b[o]), math.Abs(float64(b[o]))
						}
						for i := range cols {
							p := float64(w[o*cols+i]) * float64(x[i])
							want += p
							scale += math.Abs(p)
						}
						if !near(y[o], float32(want), scale) {
							t.Fatalf("MatVec32 %d×%d offset %d bias %v: y[%d] = %v, want %v", rows, cols, off, bias, o, y[o], want)
						}
					}
					for i, g := range guard {
						if y[rows+i] != g {
							t.Fatalf("MatVec32 %d×%d offset %d wrote y[%d] past rows", rows, cols, off, rows+i)
						}
					}
				}
			}
		}
	})
}
