package runtime

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// gemmShapes are (m, n, k) triples: leftover rows after tiles of four, columns
// around every vector width and its double, and the MNIST layer shapes.
var gemmShapes = [][3]int{
	{0, 0, 0}, {0, 5, 3}, {3, 0, 4}, {2, 3, 0}, {1, 1, 1}, {1, 17, 5}, {3, 15, 9}, {4, 4, 16},
	{4, 16, 17}, {5, 33, 7}, {7, 8, 31}, {8, 64, 1}, {9, 10, 128}, {4, 47, 33}, {6, 65, 12},
	{32, 128, 784}, {32, 10, 128}, {13, 784, 10},
}

func testGemm[T simdFloat](t *testing.T, gemmNT func(c, a, b, bias []T, m, n, k int), gemmTN, gemmNN func(c, a, b []T, m, n, k int)) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, s := range gemmShapes {
		m, n, k := s[0], s[1], s[2]
		for _, withBias := range []bool{false, true} {
			t.Run(fmt.Sprintf("NT_%dx%dx%d_bias%v", m, n, k, withBias), func(t *testing.T) {
				a, b := randVec[T](rng, m*k), randVec[T](rng, n*k)
				var bias []T
				if withBias {
					bias = randVec[T](rng, n)
				}
				c := randVec[T](rng, m*n+1) // one past the end: must stay
				last := c[m*n]
				gemmNT(c[:m*n], a, b, bias, m, n, k)
				for i := range m {
					for j := range n {
						want, scale := 0.0, 0.0
						if bias != nil {
							want, scale = float64(bias[j]), math.Abs(float64(bias[j]))
						}
						for p := range k {
							v := float64(a[i*k+p]) * float64(b[j*k+p])
							want += v
							scale += math.Abs(v)
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
		// TN: c (m×n) += aᵀ b with a k×m, b k×n; NN: c (m×n) = a b with a m×k, b k×n.
		for _, tn := range []bool{true, false} {
			t.Run(fmt.Sprintf("TN%v_%dx%dx%d", tn, m, n, k), func(t *testing.T) {
				a, b := randVec[T](rng, m*k), randVec[T](rng, k*n)
				for i := 0; i < len(a); i += 3 {
					a[i] = 0 // zero gradients, as from dead ReLU units
				}
				c := randVec[T](rng, m*n+1)
				c0 := append([]T(nil), c...)
				if tn {
					gemmTN(c[:m*n], a, b, m, n, k)
				} else {
					gemmNN(c[:m*n], a, b, m, n, k)
				}
				for i := range m {
					for j := range n {
						want, scale := 0.0, 0.0
						if tn {
							want, scale = float64(c0[i*n+j]), math.Abs(float64(c0[i*n+j]))
						}
						for p := range k {
							av := a[i*k+p]
							if tn {
								av = a[p*m+i]
							}
							v := float64(av) * float64(b[p*n+j])
							want += v
							scale += math.Abs(v)
						}
						if !near(c[i*n+j], T(want), scale) {
							t.Fatalf("c[%d][%d] = %v, want %v", i, j, c[i*n+j], want)
						}
					}
				}
				if c[m*n] != c0[m*n] {
					t.Fatal("wrote past c")
				}
			})
		}
	}
}

func TestGemm32(t *testing.T) {
	forEachPath(t, func(t *testing.T) { testGemm(t, GemmNT32, GemmTN32, GemmNN32) })
}
func TestGemm64(t *testing.T) {
	forEachPath(t, func(t *testing.T) { testGemm(t, GemmNT64, GemmTN64, GemmNN64) })
}

// testGemmTNSet checks that GemmTNSet gives what GemmTN gives into a cleared
// c, bit for bit (the convolution backward pass switched from one to the
// other), whatever c held, and writes nothing past m×n.
func testGemmTNSet[T simdFloat](t *testing.T, set, tn func(c, a, b []T, m, n, k int)) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, s := range gemmShapes {
		m, n, k := s[0], s[1], s[2]
		a, b := randVec[T](rng, m*k), randVec[T](rng, k*n)
		for i := 0; i < len(a); i += 3 {
			a[i] = 0
		}
		want := make([]T, m*n+1)
		want[m*n] = 7
		tn(want[:m*n], a, b, m, n, k)
		got := randVec[T](rng, m*n+1)
		got[m*n] = 7
		set(got[:m*n], a, b, m, n, k)
		for i := range want {
			if math.Float64bits(float64(got[i])) != math.Float64bits(float64(want[i])) {
				t.Fatalf("%dx%dx%d: c[%d] = %v, want %v", m, n, k, i, got[i], want[i])
			}
		}
	}
}

func TestGemmTNSet32(t *testing.T) {
	forEachPath(t, func(t *testing.T) { testGemmTNSet(t, GemmTNSet32, GemmTN32) })
}
func TestGemmTNSet64(t *testing.T) { testGemmTNSet(t, GemmTNSet64, GemmTN64) }

func TestGemmShortOperands(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func()
		msg  string
	}{
		{"NT c", func() { GemmNT32(make([]float32, 5), make([]float32, 6), make([]float32, 9), nil, 2, 3, 3) }, "runtime.GemmNT: len(c) = 5, need 6"},
		{"NT bias", func() {
			GemmNT32(make([]float32, 6), make([]float32, 6), make([]float32, 9), make([]float32, 2), 2, 3, 3)
		}, "runtime.GemmNT: len(bias) = 2, need 3"},
		{"TN a", func() { GemmTN32(make([]float32, 6), make([]float32, 5), make([]float32, 9), 2, 3, 3) }, "runtime.Gemm: len(a) = 5, need 6"},
		{"NN b", func() { GemmNN32(make([]float32, 6), make([]float32, 6), make([]float32, 8), 2, 3, 3) }, "runtime.Gemm: len(b) = 8, need 9"},
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

// BenchmarkGemm reports GFLOP/s of the whole-batch dense kernels at the MNIST
// hidden layer, batch 32 (784→128): forward C = X·Wᵀ, weight gradient
// dW += dZᵀ·X and input gradient dX = dZ·W (2·32·128·784 flop each).
func BenchmarkGemm(b *testing.B) {
	const m, n, k = 32, 128, 784
	rng := rand.New(rand.NewPCG(1, 2))
	x, w, bias := randVec[float32](rng, m*k), randVec[float32](rng, n*k), randVec[float32](rng, n)
	z, gw, dx := make([]float32, m*n), make([]float32, n*k), make([]float32, m*k)
	flop := 2.0 * m * n * k
	report := func(b *testing.B) {
		b.ReportMetric(flop*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	}
	b.Run("fwd", func(b *testing.B) {
		for b.Loop() {
			GemmNT32(z, x, w, bias, m, n, k)
		}
		report(b)
	})
	b.Run("dW", func(b *testing.B) {
		for b.Loop() {
			GemmTN32(gw, z, x, n, k, m)
		}
		report(b)
	})
	b.Run("dx", func(b *testing.B) {
		for b.Loop() {
			GemmNN32(dx, z, w, m, k, n)
		}
		report(b)
	})
}
