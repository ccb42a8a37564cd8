package runtime

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ntScaleShiftShapes are (m, n, k) for GemmNTBiasScaleShift: rows around the
// tile rows (4 on avx512, 3 on avx2), columns around the tile columns and
// below one vector (the products it is for), k with and without a tail.
func ntScaleShiftShapes() [][3]int {
	var s [][3]int
	for _, m := range []int{1, 2, 3, 4, 5, 7, 8, 9, 12, 13} {
		for _, n := range []int{1, 2, 3, 4, 5, 7, 9, 12, 15, 17} {
			s = append(s, [3]int{m, n, 1 + (m*n)%37})
		}
	}
	return append(s, [3]int{256, 9, 256}, [3]int{256, 9, 128}, [3]int{16, 16, 16}, [3]int{5, 3, 0})
}

// testGemmNTScaleShift32: on the current path, GemmNTBiasScaleShift(Relu)32
// writes z within rounding of the float64 product and y bit for bit
// ScaleShiftRows32 (and ReluForward32) of that z, and nothing past them.
func testGemmNTScaleShift32(t *testing.T, relu, withBias bool) {
	rng := rand.New(rand.NewPCG(15, 16))
	for _, s := range ntScaleShiftShapes() {
		m, n, k := s[0], s[1], s[2]
		t.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(t *testing.T) {
			a, bt := randVec[float32](rng, m*k), randVec[float32](rng, n*k)
			scale, shift := randVec[float32](rng, m), randVec[float32](rng, m)
			var bias []float32
			if withBias {
				bias = randVec[float32](rng, m)
			}
			z, y := randVec[float32](rng, m*n+1), randVec[float32](rng, m*n+1)
			lastZ, lastY := z[m*n], y[m*n]
			f := GemmNTBiasScaleShift32
			if relu {
				f = GemmNTBiasScaleShiftRelu32
			}
			f(z[:m*n], y[:m*n], a, bt, bias, scale, shift, m, n, k)
			require.True(t, z[m*n] == lastZ && y[m*n] == lastY, "wrote past z or y")
			wy := make([]float32, m*n)
			ScaleShiftRows32(wy, z, scale, shift, m, n)
			if relu {
				ReluForward32(wy, wy)
			}
			for i := range m {
				for j := range n {
					want, sc := 0.0, 0.0
					if withBias {
						want, sc = float64(bias[i]), math.Abs(float64(bias[i]))
					}
					for p := range k {
						v := float64(a[i*k+p]) * float64(bt[j*k+p])
						want += v
						sc += math.Abs(v)
					}
					if !near(z[i*n+j], float32(want), sc) {
						t.Fatalf("z[%d][%d] = %v, want %v", i, j, z[i*n+j], want)
					}
					if math.Float32bits(y[i*n+j]) != math.Float32bits(wy[i*n+j]) {
						t.Fatalf("y[%d][%d] = %v, want %v (ScaleShiftRows32 of z)", i, j, y[i*n+j], wy[i*n+j])
					}
				}
			}
		})
	}
}

func TestGemmNTBiasScaleShift32(t *testing.T) {
	for _, relu := range []bool{false, true} {
		for _, bias := range []bool{true, false} {
			t.Run(fmt.Sprintf("relu=%v/bias=%v", relu, bias), func(t *testing.T) {
				forEachPath(t, func(t *testing.T) { testGemmNTScaleShift32(t, relu, bias) })
			})
		}
	}
}

// TestGemmNTBiasScaleShift64: the float64 twins sum each dot product in
// order, then add the bias, then scale, shift and ReLU.
func TestGemmNTBiasScaleShift64(t *testing.T) {
	a := []float64{1, 2, 3, -1, 0.5, 2} // 2×3
	bt := []float64{1, 0, 1, 2, 2, -1}  // Bᵀ 2×3: columns (1,0,1), (2,2,-1)
	z, y := make([]float64, 4), make([]float64, 4)
	GemmNTBiasScaleShiftRelu64(z, y, a, bt, []float64{0.5, -1}, []float64{2, 1}, []float64{0, -3}, 2, 2, 3)
	// row 0: 1+3+0.5 = 4.5, 2+4-3+0.5 = 3.5; row 1: -1+2-1 = 0, -2+1-2-1 = -4
	assert.Equal(t, []float64{4.5, 3.5, 0, -4}, z)
	assert.Equal(t, []float64{9, 7, 0, 0}, y) // 0·1-3 and -4-3 clipped
	GemmNTBiasScaleShift64(z, y, a, bt, nil, []float64{2, 1}, []float64{0, -3}, 2, 2, 3)
	assert.Equal(t, []float64{4, 3, 1, -3}, z)
	assert.Equal(t, []float64{8, 6, -2, -6}, y)
}

// TestGemmNTBiasScaleShiftReluNaN: a NaN sum stays NaN through the scale,
// shift and ReLU, a negative one becomes +0, on every path.
func TestGemmNTBiasScaleShiftReluNaN(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		const m, n, k = 5, 6, 3
		a, bt := make([]float32, m*k), make([]float32, n*k)
		scale, shift := make([]float32, m), make([]float32, m)
		for i := range scale {
			scale[i], shift[i] = 1, 0
		}
		a[0], bt[0] = float32(math.NaN()), 1 // z[0][0] NaN
		a[k], bt[k] = -1, 1                  // z[1][1] = -1
		z, y := make([]float32, m*n), make([]float32, m*n)
		GemmNTBiasScaleShiftRelu32(z, y, a, bt, nil, scale, shift, m, n, k)
		assert.True(t, math.IsNaN(float64(y[0])), "NaN lost")
		assert.Equal(t, float32(-1), z[n+1])
		assert.Equal(t, uint32(0), math.Float32bits(y[n+1]), "negative not +0")
	})
}

func TestGemmNTBiasScaleShiftChecks(t *testing.T) {
	s := make([]float32, 64)
	assert.Panics(t, func() { GemmNTBiasScaleShift32(s[:5], s, s, s, nil, s, s, 2, 3, 4) })
	assert.Panics(t, func() { GemmNTBiasScaleShift32(s, s, s, s[:11], nil, s, s, 2, 3, 4) })
	assert.Panics(t, func() { GemmNTBiasScaleShift32(s, s, s, s, s[:1], s, s, 2, 3, 4) })
	assert.Panics(t, func() { GemmNTBiasScaleShift32(s, s, s, s, nil, s, s[:1], 2, 3, 4) })
	z, y := make([]float32, 6), make([]float32, 6)
	assert.Zero(t, testing.AllocsPerRun(10, func() { GemmNTBiasScaleShiftRelu32(z, y, s, s, s, s, s, 2, 3, 4) }))
}

func TestTranspose(t *testing.T) {
	src := []float32{1, 2, 3, 4, 5, 6} // 2×3
	dst := make([]float32, 7)
	Transpose32(dst, src, 2, 3)
	assert.Equal(t, []float32{1, 4, 2, 5, 3, 6, 0}, dst)
	d64 := make([]float64, 6)
	Transpose64(d64, []float64{1, 2, 3, 4, 5, 6}, 3, 2)
	assert.Equal(t, []float64{1, 3, 5, 2, 4, 6}, d64)
	assert.Panics(t, func() { Transpose32(dst[:5], src, 2, 3) })
	assert.Panics(t, func() { Transpose32(dst, src[:5], 2, 3) })
	assert.Panics(t, func() { Transpose32(dst, src, -1, 3) })
}
