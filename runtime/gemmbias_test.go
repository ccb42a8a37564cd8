package runtime

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// convGemmShapes are (m, n, k) of resnet8's convolutions through im2col
// (filters, output positions, patch): the first conv, the 3×3 convs of the
// three stacks and their 1×1 shortcuts.
var convGemmShapes = [][3]int{
	{16, 1024, 27}, {16, 1024, 144}, {32, 256, 144}, {32, 256, 288}, {32, 256, 16},
	{64, 64, 288}, {64, 64, 576}, {64, 64, 32},
}

func testGemmNNBias[T simdFloat](t *testing.T, f func(c, a, b, bias []T, m, n, k int), relu bool) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, s := range append(append(append([][3]int{}, gemmShapes...), convGemmShapes...), tinyConvGemmShapes...) {
		m, n, k := s[0], s[1], s[2]
		t.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(t *testing.T) {
			a, b, bias := randVec[T](rng, m*k), randVec[T](rng, k*n), randVec[T](rng, m)
			c := randVec[T](rng, m*n+1) // the old contents must not count; one past the end must stay
			last := c[m*n]
			f(c[:m*n], a, b, bias, m, n, k)
			for i := range m {
				for j := range n {
					want, scale := float64(bias[i]), math.Abs(float64(bias[i]))
					for p := range k {
						v := float64(a[i*k+p]) * float64(b[p*n+j])
						want += v
						scale += math.Abs(v)
					}
					if relu && !(want > 0) {
						// max(., +0), kept exact: a sum within rounding of 0
						// may come out either side.
						if c[i*n+j] != 0 && !near(c[i*n+j], T(want), scale) {
							t.Fatalf("c[%d][%d] = %v, want relu(%v)", i, j, c[i*n+j], want)
						}
						if c[i*n+j] == 0 && math.Signbit(float64(c[i*n+j])) {
							t.Fatalf("c[%d][%d] = -0, want +0", i, j)
						}
						continue
					}
					if !near(c[i*n+j], T(want), scale) {
						t.Fatalf("c[%d][%d] = %v, want %v", i, j, c[i*n+j], want)
					}
				}
			}
			if c[m*n] != last {
				t.Fatal("wrote past c")
			}
		})
	}
}

func TestGemmNNBias32(t *testing.T) {
	forEachPath(t, func(t *testing.T) { testGemmNNBias(t, GemmNNBias32, false) })
}

func TestGemmNNBias64(t *testing.T) { testGemmNNBias(t, GemmNNBias64, false) }

func TestGemmNNBiasRelu32(t *testing.T) {
	forEachPath(t, func(t *testing.T) { testGemmNNBias(t, GemmNNBiasRelu32, true) })
}

func TestGemmNNBiasRelu64(t *testing.T) { testGemmNNBias(t, GemmNNBiasRelu64, true) }

// TestGemmNNBiasReluNaN: a NaN sum stays NaN through the fused ReLU, as
// through ReluForward32, on every path.
func TestGemmNNBiasReluNaN(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		const m, n, k = 5, 37, 3
		a, b, bias := make([]float32, m*k), make([]float32, k*n), make([]float32, m)
		for i := range a {
			a[i] = 1
		}
		for j := range n {
			b[j] = float32(j%3) - 1 // -1, 0, 1
		}
		b[n+7] = float32(math.NaN())
		c := make([]float32, m*n)
		GemmNNBiasRelu32(c, a, b, bias, m, n, k)
		for i := range m {
			for j := range n {
				v := c[i*n+j]
				switch {
				case j == 7:
					if v == v {
						t.Fatalf("c[%d][%d] = %v, want NaN", i, j, v)
					}
				case j%3 == 2:
					if v != 1 {
						t.Fatalf("c[%d][%d] = %v, want 1", i, j, v)
					}
				default:
					if v != 0 || math.Signbit(float64(v)) {
						t.Fatalf("c[%d][%d] = %v, want +0", i, j, v)
					}
				}
			}
		}
	})
}

func TestGemmNNBiasShort(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func()
		msg  string
	}{
		{"bias", func() {
			GemmNNBias32(make([]float32, 6), make([]float32, 6), make([]float32, 9), make([]float32, 1), 2, 3, 3)
		}, "runtime.GemmNNBias: len(bias) = 1, need 2"},
		{"c", func() {
			GemmNNBias64(make([]float64, 5), make([]float64, 6), make([]float64, 9), make([]float64, 2), 2, 3, 3)
		}, "runtime.Gemm: len(c) = 5, need 6"},
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

// tinyConvGemmShapes are (m, n, k) of the GEMM convolutions of kws_dscnn (the
// first conv and the pointwise convs) and vww_mobilenet (the first conv and
// the pointwise convs of the blocks, in order).
var tinyConvGemmShapes = [][3]int{
	{64, 125, 40}, {64, 125, 64},
	{8, 2304, 27}, {16, 2304, 8}, {32, 576, 16}, {32, 576, 32}, {64, 144, 32}, {64, 144, 64},
	{128, 36, 64}, {128, 36, 128}, {256, 9, 128}, {256, 9, 256},
}

// BenchmarkConvGemm reports GFLOP/s of GemmNNBias32 at resnet8's convolution
// shapes (one sample: m filters, n output positions, k patch), of the GEMM
// of a whole chunk of 8 samples for the small-n shapes, and at the shapes of
// kws_dscnn and vww_mobilenet:
//
//	go test ./runtime -run '^$' -bench ConvGemm -count 5
func BenchmarkConvGemm(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, p := range simdPaths() {
		for _, s := range append(append(append([][3]int{}, convGemmShapes...), [3]int{64, 512, 576}, [3]int{32, 2048, 288}), tinyConvGemmShapes...) {
			m, n, k := s[0], s[1], s[2]
			c, a, bb, bias := randVec[float32](rng, m*n), randVec[float32](rng, m*k), randVec[float32](rng, k*n), randVec[float32](rng, m)
			b.Run(fmt.Sprintf("%s/%dx%dx%d", p, m, n, k), func(b *testing.B) {
				defer setSIMDPath(setSIMDPath(p))
				for b.Loop() {
					GemmNNBias32(c, a, bb, bias, m, n, k)
				}
				reportGFLOPs(b, 2*m*n*k)
			})
		}
	}
}

// BenchmarkConvGemmRelu reports GFLOP/s (of the product) of GemmNNBiasRelu32
// against GemmNNBias32 into z then ReluForward32 into a, at the convolution
// shapes of LeNet-5 (mnist_cnn), cnn_small and ecg_conv1d's first layer:
//
//	go test ./runtime -run '^$' -bench ConvGemmRelu -count 5
func BenchmarkConvGemmRelu(b *testing.B) {
	rng := rand.New(rand.NewPCG(6, 6))
	for _, p := range simdPaths() {
		for _, s := range [][3]int{{6, 784, 25}, {16, 100, 150}, {8, 784, 9}, {16, 140, 7}} {
			m, n, k := s[0], s[1], s[2]
			z, c, a, bb, bias := randVec[float32](rng, m*n), randVec[float32](rng, m*n), randVec[float32](rng, m*k), randVec[float32](rng, k*n), randVec[float32](rng, m)
			b.Run(fmt.Sprintf("%s/fused/%dx%dx%d", p, m, n, k), func(b *testing.B) {
				defer setSIMDPath(setSIMDPath(p))
				for b.Loop() {
					GemmNNBiasRelu32(c, a, bb, bias, m, n, k)
				}
				reportGFLOPs(b, 2*m*n*k)
			})
			b.Run(fmt.Sprintf("%s/split/%dx%dx%d", p, m, n, k), func(b *testing.B) {
				defer setSIMDPath(setSIMDPath(p))
				for b.Loop() {
					GemmNNBias32(z, a, bb, bias, m, n, k)
					ReluForward32(z, c)
				}
				reportGFLOPs(b, 2*m*n*k)
			})
		}
	}
}
