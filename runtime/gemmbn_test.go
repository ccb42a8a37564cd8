package runtime

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// scaleShiftShapes are (m, n, k) for GemmNNBiasScaleShift: every GEMM shape
// of the tests above plus rows that are not a multiple of the tile rows (4 on
// avx512, 3 on avx2) with columns that end in a partial vector.
func scaleShiftShapes() [][3]int {
	s := append(append(append([][3]int{}, gemmShapes...), convGemmShapes...), tinyConvGemmShapes...)
	for _, m := range []int{1, 2, 3, 5, 6, 7, 9, 10, 11} {
		for _, n := range []int{1, 7, 8, 9, 15, 16, 17, 47, 48, 49, 63, 64, 65, 100} {
			s = append(s, [3]int{m, n, 3 + m%4})
		}
	}
	return s
}

// testGemmScaleShift32: on the current path, GemmNNBiasScaleShift(Relu)32
// writes z and y bit for bit as GemmNNBias32 (GemmNN32 without a bias),
// ScaleShiftRows32 and ReluForward32 one after the other, and nothing past
// them; y is checked against a float64 reference too.
func testGemmScaleShift32(t *testing.T, relu, withBias bool) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, s := range scaleShiftShapes() {
		m, n, k := s[0], s[1], s[2]
		t.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(t *testing.T) {
			a, b := randVec[float32](rng, m*k), randVec[float32](rng, k*n)
			scale, shift := randVec[float32](rng, m), randVec[float32](rng, m)
			var bias []float32
			if withBias {
				bias = randVec[float32](rng, m)
			}
			z, y := randVec[float32](rng, m*n+1), randVec[float32](rng, m*n+1)
			lastZ, lastY := z[m*n], y[m*n]
			f := GemmNNBiasScaleShift32
			if relu {
				f = GemmNNBiasScaleShiftRelu32
			}
			f(z[:m*n], y[:m*n], a, b, bias, scale, shift, m, n, k)
			if z[m*n] != lastZ || y[m*n] != lastY {
				t.Fatal("wrote past z or y")
			}
			wz, wy := make([]float32, m*n), make([]float32, m*n)
			if withBias {
				GemmNNBias32(wz, a, b, bias, m, n, k)
			} else {
				GemmNN32(wz, a, b, m, n, k)
			}
			ScaleShiftRows32(wy, wz, scale, shift, m, n)
			if relu {
				ReluForward32(wy, wy)
			}
			for i := range m * n {
				if math.Float32bits(z[i]) != math.Float32bits(wz[i]) {
					t.Fatalf("z[%d] = %v, want %v (GemmNNBias32)", i, z[i], wz[i])
				}
				if math.Float32bits(y[i]) != math.Float32bits(wy[i]) {
					t.Fatalf("y[%d] = %v, want %v (ScaleShiftRows32, ReluForward32)", i, y[i], wy[i])
				}
			}
			for i := range m {
				for j := range n {
					want, sc := 0.0, 0.0
					if withBias {
						want, sc = float64(bias[i]), math.Abs(float64(bias[i]))
					}
					for p := range k {
						v := float64(a[i*k+p]) * float64(b[p*n+j])
						want += v
						sc += math.Abs(v)
					}
					want = want*float64(scale[i]) + float64(shift[i])
					sc = sc*math.Abs(float64(scale[i])) + math.Abs(float64(shift[i]))
					if relu {
						want = max(want, 0)
					}
					if !near(y[i*n+j], float32(want), sc) {
						t.Fatalf("y[%d][%d] = %v, want %v", i, j, y[i*n+j], want)
					}
				}
			}
		})
	}
}

func TestGemmNNBiasScaleShift32(t *testing.T) {
	for _, relu := range []bool{false, true} {
		for _, bias := range []bool{true, false} {
			t.Run(fmt.Sprintf("relu=%v/bias=%v", relu, bias), func(t *testing.T) {
				forEachPath(t, func(t *testing.T) { testGemmScaleShift32(t, relu, bias) })
			})
		}
	}
}

// TestGemmNNBiasScaleShift64: the float64 twins write what GemmNNBias64,
// the row-wise scale and shift and the ReLU write.
func TestGemmNNBiasScaleShift64(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, relu := range []bool{false, true} {
		for _, s := range scaleShiftShapes() {
			m, n, k := s[0], s[1], s[2]
			a, b, bias := randVec[float64](rng, m*k), randVec[float64](rng, k*n), randVec[float64](rng, m)
			scale, shift := randVec[float64](rng, m), randVec[float64](rng, m)
			z, y := make([]float64, m*n), make([]float64, m*n)
			f := GemmNNBiasScaleShift64
			if relu {
				f = GemmNNBiasScaleShiftRelu64
			}
			f(z, y, a, b, bias, scale, shift, m, n, k)
			wz := make([]float64, m*n)
			GemmNNBias64(wz, a, b, bias, m, n, k)
			for i := range m {
				for j := range n {
					w := float64(wz[i*n+j]*scale[i]) + shift[i] // the conversion rounds the product: no FMA (arm64 would fuse it)
					if relu {
						w = max(w, 0)
					}
					if z[i*n+j] != wz[i*n+j] || y[i*n+j] != w {
						t.Fatalf("%dx%dx%d relu=%v: z, y[%d][%d] = %v, %v, want %v, %v", m, n, k, relu, i, j, z[i*n+j], y[i*n+j], wz[i*n+j], w)
					}
				}
			}
		}
	}
}

// TestGemmNNBiasScaleShiftReluNaN: a NaN sum stays NaN in z and in y through
// the scale, shift and ReLU, as through ReluForward32, on every path; a
// negative one becomes +0.
func TestGemmNNBiasScaleShiftReluNaN(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		const m, n, k = 5, 37, 3
		a, b, bias := make([]float32, m*k), make([]float32, k*n), make([]float32, m)
		scale, shift := make([]float32, m), make([]float32, m)
		for i := range a {
			a[i] = 1
		}
		for i := range m {
			scale[i], shift[i] = 2, -0.5
		}
		for j := range n {
			b[j] = float32(j%3) - 1 // -1, 0, 1: y = -2.5, -0.5, 1.5
		}
		b[n+7] = float32(math.NaN())
		z, y := make([]float32, m*n), make([]float32, m*n)
		GemmNNBiasScaleShiftRelu32(z, y, a, b, bias, scale, shift, m, n, k)
		for i := range m {
			for j := range n {
				v := y[i*n+j]
				switch {
				case j == 7:
					if v == v || z[i*n+j] == z[i*n+j] {
						t.Fatalf("z, y[%d][%d] = %v, %v, want NaN", i, j, z[i*n+j], v)
					}
				case j%3 == 2:
					if v != 1.5 {
						t.Fatalf("y[%d][%d] = %v, want 1.5", i, j, v)
					}
				default:
					if v != 0 || math.Signbit(float64(v)) {
						t.Fatalf("y[%d][%d] = %v, want +0", i, j, v)
					}
				}
			}
		}
	})
}

func TestGemmNNBiasScaleShiftShort(t *testing.T) {
	f := func(ny, nbias, nscale, nshift int) func() {
		return func() {
			GemmNNBiasScaleShift32(make([]float32, 6), make([]float32, ny), make([]float32, 6), make([]float32, 9),
				make([]float32, nbias), make([]float32, nscale), make([]float32, nshift), 2, 3, 3)
		}
	}
	for _, tc := range []struct {
		name string
		f    func()
		msg  string
	}{
		{"y", f(5, 2, 2, 2), "runtime.GemmNNBiasScaleShift: len(y) = 5, need 6"},
		{"bias", f(6, 1, 2, 2), "runtime.GemmNNBiasScaleShift: len(bias) = 1, need 2"},
		{"scale", f(6, 2, 1, 2), "runtime.GemmNNBiasScaleShift: len(scale) = 1, need 2"},
		{"shift", f(6, 2, 2, 1), "runtime.GemmNNBiasScaleShift: len(shift) = 1, need 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != tc.msg {
					t.Fatalf("panic %v, want %q", r, tc.msg)
				}
			}()
			tc.f()
		})
	}
}

// BenchmarkConvGemmBN reports GFLOP/s (of the product) of
// GemmNNBiasScaleShiftRelu32 against GemmNNBias32, ScaleShiftRows32 and
// ReluForward32 one after the other (split), at the GEMM convolutions of
// kws_dscnn, vww_mobilenet and resnet8 that a batchnorm and a relu follow:
//
//	go test ./runtime -run '^$' -bench ConvGemmBN -count 5
func BenchmarkConvGemmBN(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 7))
	shapes := [][3]int{{64, 125, 40}, {64, 125, 64}, {8, 2304, 27}, {16, 2304, 8}, {32, 576, 32}, {128, 36, 128}, {16, 1024, 27}, {16, 1024, 144}, {64, 64, 576}}
	for _, p := range simdPaths() {
		for _, s := range shapes {
			m, n, k := s[0], s[1], s[2]
			z, y, a2 := randVec[float32](rng, m*n), randVec[float32](rng, m*n), randVec[float32](rng, m*n)
			a, bb, bias := randVec[float32](rng, m*k), randVec[float32](rng, k*n), randVec[float32](rng, m)
			scale, shift := randVec[float32](rng, m), randVec[float32](rng, m)
			b.Run(fmt.Sprintf("%s/fused/%dx%dx%d", p, m, n, k), func(b *testing.B) {
				defer setSIMDPath(setSIMDPath(p))
				for b.Loop() {
					GemmNNBiasScaleShiftRelu32(z, a2, a, bb, bias, scale, shift, m, n, k)
				}
				reportGFLOPs(b, 2*m*n*k)
			})
			b.Run(fmt.Sprintf("%s/split/%dx%dx%d", p, m, n, k), func(b *testing.B) {
				defer setSIMDPath(setSIMDPath(p))
				for b.Loop() {
					GemmNNBias32(z, a, bb, bias, m, n, k)
					ScaleShiftRows32(y, z, scale, shift, m, n)
					ReluForward32(y, a2)
				}
				reportGFLOPs(b, 2*m*n*k)
			})
		}
	}
}
