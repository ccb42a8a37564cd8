package runtime

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// convShape is a stride-1 convolution for GemmConv: f filters over c
// channels of h×w (padded by p on every side), kernel kh×kw.
type convShape struct{ f, c, h, w, kh, kw, p int }

// gemmConvShapes: resnet8's three stride-1 3×3 shapes and its first conv,
// then rows that are not a multiple of the tile rows, widths that are not a
// multiple of 16 (the 8-lane kernels on avx512) or of 8 (the pure-Go loop), vector
// counts that leave a narrower last tile, a valid 5×5 (LeNet) and more
// vectors than one chunk of windows.
var gemmConvShapes = []convShape{
	{16, 16, 32, 32, 3, 3, 1}, {32, 32, 16, 16, 3, 3, 1}, {64, 64, 8, 8, 3, 3, 1}, {16, 3, 32, 32, 3, 3, 1},
	{1, 2, 16, 16, 3, 3, 1}, {5, 3, 8, 16, 3, 3, 1}, {7, 2, 3, 48, 3, 3, 1}, {6, 1, 5, 80, 3, 3, 1},
	{3, 2, 1, 8, 3, 3, 1}, {9, 2, 7, 24, 3, 3, 1}, {2, 3, 5, 5, 3, 3, 1}, {6, 1, 28, 28, 5, 5, 0},
	{4, 2, 7, 7, 1, 1, 0}, {5, 1, 70, 64, 3, 3, 1}, {3, 2, 16, 16, 3, 3, 0},
}

// convCase builds a GemmConv case: random filters, a random padded input
// (its border random too: the product reads what offs says), the offsets
// and the im2col matrix of the same B.
func convCase[T simdFloat](rng *rand.Rand, s convShape) (a, xp []T, offs []int32, cols []T, m, ho, wo, wp, k int) {
	hp, wp := s.h+2*s.p, s.w+2*s.p
	ho, wo = hp-s.kh+1, wp-s.kw+1
	m, k = s.f, s.c*s.kh*s.kw
	a, xp = randVec[T](rng, m*k), randVec[T](rng, s.c*hp*wp)
	offs = ConvOffsets(s.c, s.kh, s.kw, 1, 1, hp*wp, wp)
	n := ho * wo
	cols = make([]T, k*n)
	for p, o := range offs {
		for y := range ho {
			copy(cols[p*n+y*wo:p*n+y*wo+wo], xp[int(o)+y*wp:])
		}
	}
	return a, xp, offs, cols, m, ho, wo, wp, k
}

// testGemmConv32: on the current path, every GemmConv32 mode writes bit for
// bit what the GemmNN kernels of the same mode write from the im2col
// matrix, and nothing past its outputs; the products are checked against a
// float64 sum too.
func testGemmConv32(t *testing.T, relu, bn, withBias bool) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, s := range gemmConvShapes {
		t.Run(fmt.Sprintf("%v", s), func(t *testing.T) {
			a, xp, offs, cols, m, ho, wo, wp, k := convCase[float32](rng, s)
			n := ho * wo
			scale, shift := randVec[float32](rng, m), randVec[float32](rng, m)
			var bias []float32
			if withBias {
				bias = randVec[float32](rng, m)
			}
			z, y := randVec[float32](rng, m*n+1), randVec[float32](rng, m*n+1)
			lastZ, lastY := z[m*n], y[m*n]
			wz, wy := make([]float32, m*n), make([]float32, m*n)
			switch {
			case bn && relu:
				GemmConvBiasScaleShiftRelu32(z[:m*n], y[:m*n], a, xp, offs, bias, scale, shift, m, ho, wo, wp)
				GemmNNBiasScaleShiftRelu32(wz, wy, a, cols, bias, scale, shift, m, n, k)
			case bn:
				GemmConvBiasScaleShift32(z[:m*n], y[:m*n], a, xp, offs, bias, scale, shift, m, ho, wo, wp)
				GemmNNBiasScaleShift32(wz, wy, a, cols, bias, scale, shift, m, n, k)
			case relu:
				GemmConvBiasRelu32(z[:m*n], a, xp, offs, bias, m, ho, wo, wp)
				GemmNNBiasRelu32(wz, a, cols, bias, m, n, k)
			case withBias:
				GemmConvBias32(z[:m*n], a, xp, offs, bias, m, ho, wo, wp)
				GemmNNBias32(wz, a, cols, bias, m, n, k)
			default:
				GemmConvBias32(z[:m*n], a, xp, offs, nil, m, ho, wo, wp)
				GemmNN32(wz, a, cols, m, n, k)
			}
			if z[m*n] != lastZ || y[m*n] != lastY {
				t.Fatal("wrote past z or y")
			}
			// Widths that are not a multiple of 8 take the pure-Go loop (no
			// FMA) on the vector paths: close, not equal.
			exact := SIMDLevel() == "generic" || wo%8 == 0
			for i := range m * n {
				if exact && math.Float32bits(z[i]) != math.Float32bits(wz[i]) {
					t.Fatalf("z[%d] = %v, want %v (im2col)", i, z[i], wz[i])
				}
				if exact && bn && math.Float32bits(y[i]) != math.Float32bits(wy[i]) {
					t.Fatalf("y[%d] = %v, want %v (im2col)", i, y[i], wy[i])
				}
			}
			for i := range m {
				for j := range n {
					want, sc := 0.0, 0.0
					if withBias {
						want, sc = float64(bias[i]), math.Abs(float64(bias[i]))
					}
					for p := range k {
						v := float64(a[i*k+p]) * float64(cols[p*n+j])
						want += v
						sc += math.Abs(v)
					}
					got := z[i*n+j]
					if bn {
						want = want*float64(scale[i]) + float64(shift[i])
						sc = sc*math.Abs(float64(scale[i])) + math.Abs(float64(shift[i]))
						got = y[i*n+j]
					}
					if relu {
						want = max(want, 0)
					}
					if !near(got, float32(want), sc) {
						t.Fatalf("out[%d][%d] = %v, want %v", i, j, got, want)
					}
				}
			}
		})
	}
}

func TestGemmConv32(t *testing.T) {
	for _, bn := range []bool{false, true} {
		for _, relu := range []bool{false, true} {
			for _, bias := range []bool{true, false} {
				if relu && !bias && !bn {
					continue // GemmNNBiasRelu32 has a bias
				}
				t.Run(fmt.Sprintf("bn=%v/relu=%v/bias=%v", bn, relu, bias), func(t *testing.T) {
					forEachPath(t, func(t *testing.T) { testGemmConv32(t, relu, bn, bias) })
				})
			}
		}
	}
}

// TestGemmConv64: the float64 twins write what the GemmNN kernels of the
// same mode write from the im2col matrix.
func TestGemmConv64(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	for _, s := range gemmConvShapes {
		a, xp, offs, cols, m, ho, wo, wp, k := convCase[float64](rng, s)
		n := ho * wo
		bias, scale, shift := randVec[float64](rng, m), randVec[float64](rng, m), randVec[float64](rng, m)
		z, y, wz, wy := make([]float64, m*n), make([]float64, m*n), make([]float64, m*n), make([]float64, m*n)
		same := func(what string, got, want []float64) {
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%v %s[%d] = %v, want %v", s, what, i, got[i], want[i])
				}
			}
		}
		GemmConvBias64(z, a, xp, offs, bias, m, ho, wo, wp)
		GemmNNBias64(wz, a, cols, bias, m, n, k)
		same("bias", z, wz)
		GemmConvBiasRelu64(z, a, xp, offs, bias, m, ho, wo, wp)
		GemmNNBiasRelu64(wz, a, cols, bias, m, n, k)
		same("relu", z, wz)
		GemmConvBiasScaleShift64(z, y, a, xp, offs, bias, scale, shift, m, ho, wo, wp)
		GemmNNBiasScaleShift64(wz, wy, a, cols, bias, scale, shift, m, n, k)
		same("bn z", z, wz)
		same("bn y", y, wy)
		GemmConvBiasScaleShiftRelu64(z, y, a, xp, offs, nil, scale, shift, m, ho, wo, wp)
		GemmNNBiasScaleShiftRelu64(wz, wy, a, cols, nil, scale, shift, m, n, k)
		same("bn relu z", z, wz)
		same("bn relu y", y, wy)
	}
}

// TestGemmConvShortOperands: a window past the end of xp, a short output or
// a short scale panics before any kernel runs.
func TestGemmConvShortOperands(t *testing.T) {
	offs := ConvOffsets(2, 3, 3, 1, 1, 18*18, 18)
	a, xp, c := make([]float32, 4*18), make([]float32, 2*18*18), make([]float32, 4*256)
	mustPanic := func(name string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s: no panic", name)
			}
		}()
		f()
	}
	GemmConvBias32(c, a, xp, offs, nil, 4, 16, 16, 18)
	mustPanic("xp", func() { GemmConvBias32(c, a, xp[:len(xp)-1], offs, nil, 4, 16, 16, 18) })
	mustPanic("c", func() { GemmConvBias32(c[:len(c)-1], a, xp, offs, nil, 4, 16, 16, 18) })
	mustPanic("a", func() { GemmConvBias32(c, a[:len(a)-1], xp, offs, nil, 4, 16, 16, 18) })
	mustPanic("bias", func() { GemmConvBias32(c, a, xp, offs, make([]float32, 3), 4, 16, 16, 18) })
	mustPanic("scale", func() {
		GemmConvBiasScaleShift32(c, c, a, xp, offs, nil, make([]float32, 3), make([]float32, 4), 4, 16, 16, 18)
	})
	mustPanic("wp", func() { GemmConvBias32(c, a, xp, offs, nil, 4, 16, 16, 15) })
}

// BenchmarkGemmConv reports GFLOP/s of resnet8's three stride-1 3×3
// convolutions (16×(16·9)×32·32, 32×(32·9)×16·16, 64×(64·9)×8·8; with the
// batchnorm and ReLU in the store, as in inference mode) through im2col
// (the nine copies per channel, then GemmNNBiasScaleShiftRelu32) and
// through GemmConv (the padded copy, then GemmConvBiasScaleShiftRelu32).
func BenchmarkGemmConv(b *testing.B) {
	for _, s := range gemmConvShapes[:3] {
		rng := rand.New(rand.NewPCG(1, 2))
		a, xp, offs, cols, m, ho, wo, wp, k := convCase[float32](rng, s)
		n := ho * wo
		bias, scale, shift := randVec[float32](rng, m), randVec[float32](rng, m), randVec[float32](rng, m)
		x := randVec[float32](rng, s.c*s.h*s.w)
		z, y := make([]float32, m*n), make([]float32, m*n)
		flop := 2.0 * float64(m*n*k)
		report := func(b *testing.B) {
			b.ReportMetric(flop*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		}
		hp := s.h + 2*s.p
		name := fmt.Sprintf("%dx%dx%dx%d", m, k, s.h, s.w)
		b.Run(name+"/im2col", func(b *testing.B) {
			for b.Loop() {
				for c := range s.c {
					for ky := range 3 {
						for kx := range 3 {
							// the copies of the generated code: rows and columns inside the input
							y0, y1 := max(0, 1-ky), min(s.h, s.h+1-ky)
							x0, x1 := max(0, 1-kx), min(s.w, s.w+1-kx)
							CopyRows32(cols[(c*9+ky*3+kx)*n+y0*wo+x0:], wo, x[c*s.h*s.w+(y0+ky-1)*s.w+x0+kx-1:], s.w, 1, y1-y0, x1-x0)
						}
					}
				}
				GemmNNBiasScaleShiftRelu32(z, y, a, cols, bias, scale, shift, m, n, k)
			}
			report(b)
		})
		b.Run(name+"/implicit", func(b *testing.B) {
			for b.Loop() {
				CopyPlanes32(xp[wp+1:], hp*wp, wp, x, s.h*s.w, s.w, s.c, s.h, s.w)
				GemmConvBiasScaleShiftRelu32(z, y, a, xp, offs, bias, scale, shift, m, ho, wo, wp)
			}
			report(b)
		})
	}
}
