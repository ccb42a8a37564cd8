package runtime

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The vector kernels against plain reference loops, on every path this build
// and CPU offer (simdPaths: avx512/avx2/generic in the archsimd build, generic
// only otherwise).

// simdLens covers empty, sub-vector, exact multiples and ragged tails of every
// vector width (4, 8, 16 lanes and the 2- and 4-vector unrolls), and 784.
var simdLens = []int{0, 1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 23, 24, 31, 32, 33, 47, 48, 63, 64, 65, 79, 80, 100, 127, 128, 129, 255, 784}

// simdShapes are (rows, cols) pairs for MatVec and OuterAdd: leftover rows
// after groups of four, and columns around every vector width.
var simdShapes = [][2]int{
	{0, 0}, {0, 5}, {3, 0}, {1, 1}, {1, 17}, {2, 3}, {3, 15}, {4, 16}, {4, 17}, {5, 1}, {5, 31},
	{6, 33}, {7, 8}, {8, 7}, {9, 64}, {10, 128}, {11, 47}, {13, 65}, {16, 100}, {32, 784}, {128, 784},
}

func randVec[T simdFloat](rng *rand.Rand, n int) []T {
	v := make([]T, n)
	for i := range v {
		v[i] = T(rng.Float64()*2 - 1)
	}
	return v
}

// tol is the relative tolerance of each element type: float32 1e-5, float64 1e-12.
func tol[T simdFloat]() float64 {
	var z T
	if _, ok := any(z).(float32); ok {
		return 1e-5
	}
	return 1e-12
}

// near reports whether got is within tol of want, relative to scale: the sum
// of the magnitudes of the terms (a sum that cancels is only as exact as its
// largest terms), and at least 1.
func near[T simdFloat](got, want T, scale float64) bool {
	return math.Abs(float64(got)-float64(want)) <= tol[T]()*max(scale, 1)
}

func forEachPath(t *testing.T, f func(t *testing.T)) {
	for _, p := range simdPaths() {
		t.Run(p, func(t *testing.T) {
			defer setSIMDPath(setSIMDPath(p))
			if got := SIMDLevel(); got != p {
				t.Fatalf("SIMDLevel() = %q on path %q", got, p)
			}
			f(t)
		})
	}
}

func TestSIMDLevel(t *testing.T) {
	l := SIMDLevel()
	if l != "avx512" && l != "avx2" && l != "generic" {
		t.Fatalf("SIMDLevel() = %q", l)
	}
	t.Logf("SIMDLevel() = %q; paths tested: %v", l, simdPaths())
	ClearSIMDState() // must be callable in every build and leave nothing behind
	if got := Dot32([]float32{1, 2, 3}, []float32{4, 5, 6}); got != 32 {
		t.Fatalf("Dot32 after ClearSIMDState = %v, want 32", got)
	}
}

func TestDot(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		testDot(t, Dot32)
		testDot(t, Dot64)
	})
}

func testDot[T simdFloat](t *testing.T, dot func(x, y []T) T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range simdLens {
		for rep := 0; rep < 3; rep++ {
			x := randVec[T](rng, n)
			y := randVec[T](rng, n+rep) // y may be longer than x
			var want, scale float64
			for i := range x {
				want += float64(x[i]) * float64(y[i])
				scale += math.Abs(float64(x[i]) * float64(y[i]))
			}
			if got := dot(x, y); !near(got, T(want), scale) {
				t.Errorf("%T Dot n=%d: got %v, want %v", x, n, got, want)
			}
		}
	}
}

func TestScaleSq(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		testScaleSq(t, scaleSq32)
		testScaleSq(t, scaleSq64)
	})
}

// testScaleSq checks the scaled values exactly (one multiplication each, as
// the loop g[i] *= a), the sum of squares to tolerance, that nothing past
// len(x) is written, and that a NaN or ±Inf anywhere, the masked tail
// included, makes the sum NaN or +Inf.
func testScaleSq[T simdFloat](t *testing.T, scaleSq func(a T, x []T) T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range simdLens {
		buf := randVec[T](rng, n+3)
		x := buf[:n]
		a := T(1 / float64(1+rng.IntN(64)))
		want := append([]T(nil), buf...)
		var sum float64
		for i := range x {
			want[i] *= a
			sum += float64(want[i]) * float64(want[i])
		}
		got := scaleSq(a, x)
		if !near(got, T(sum), sum) {
			t.Errorf("%T scaleSq n=%d: got %v, want %v", x, n, got, sum)
		}
		for i := range buf {
			if buf[i] != want[i] {
				t.Errorf("%T scaleSq n=%d: x[%d] = %v, want %v", x, n, i, buf[i], want[i])
				break
			}
		}
		for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
			for _, at := range []int{0, n / 2, n - 1} {
				if n == 0 {
					continue
				}
				x := randVec[T](rng, n)
				x[at] = T(bad)
				got := float64(scaleSq(a, x))
				if math.IsNaN(bad) && !math.IsNaN(got) || math.IsInf(bad, 0) && !math.IsInf(got, 1) {
					t.Errorf("%T scaleSq n=%d with %v at %d: got %v", x, n, bad, at, got)
				}
			}
		}
	}
}

func TestAxpy(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		testAxpy(t, Axpy32)
		testAxpy(t, Axpy64)
	})
}

func testAxpy[T simdFloat](t *testing.T, axpy func(a T, x, y []T)) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range simdLens {
		x := randVec[T](rng, n)
		y := randVec[T](rng, n+3) // elements past len(x) must stay as they are
		want := append([]T(nil), y...)
		a := T(rng.Float64()*4 - 2)
		for i := range x {
			want[i] += a * x[i]
		}
		y0 := append([]T(nil), y...)
		axpy(a, x, y)
		for i := range x {
			if !near(y[i], want[i], math.Abs(float64(a*x[i]))+math.Abs(float64(y0[i]))) {
				t.Errorf("%T Axpy n=%d: y[%d] = %v, want %v", x, n, i, y[i], want[i])
				break
			}
		}
		for i := n; i < len(y); i++ {
			if y[i] != want[i] {
				t.Errorf("%T Axpy n=%d wrote y[%d] past len(x)", x, n, i)
			}
		}
	}
}

func TestMatVec(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		testMatVec(t, MatVec32)
		testMatVec(t, MatVec64)
	})
}

func testMatVec[T simdFloat](t *testing.T, matVec func(y, w, x, b []T, rows, cols int)) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, sh := range simdShapes {
		rows, cols := sh[0], sh[1]
		for _, bias := range []bool{false, true} {
			w := randVec[T](rng, rows*cols)
			x := randVec[T](rng, cols)
			var b []T
			if bias {
				b = randVec[T](rng, rows)
			}
			y := randVec[T](rng, rows+2) // y[rows:] must stay as they are
			guard := append([]T(nil), y[rows:]...)
			matVec(y, w, x, b, rows, cols)
			for o := 0; o < rows; o++ {
				var want, scale float64
				if b != nil {
					want, scale = float64(b[o]), math.Abs(float64(b[o]))
				}
				for i := 0; i < cols; i++ {
					p := float64(w[o*cols+i]) * float64(x[i])
					want += p
					scale += math.Abs(p)
				}
				if !near(y[o], T(want), scale) {
					t.Errorf("%T MatVec %d×%d bias=%v: y[%d] = %v, want %v", x, rows, cols, bias, o, y[o], want)
					break
				}
			}
			for i, g := range guard {
				if y[rows+i] != g {
					t.Errorf("%T MatVec %d×%d wrote y[%d] past rows", x, rows, cols, rows+i)
				}
			}
		}
	}
}

func TestOuterAdd(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		testOuterAdd(t, OuterAdd32)
		testOuterAdd(t, OuterAdd64)
	})
}

func testOuterAdd[T simdFloat](t *testing.T, outerAdd func(gw, dx, w, dy, x []T, rows, cols int)) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, sh := range simdShapes {
		rows, cols := sh[0], sh[1]
		for _, withDX := range []bool{false, true} {
			for _, zeros := range []float64{0, 0.3, 0.7, 1} { // fraction of dy that is zero
				w := randVec[T](rng, rows*cols)
				x := randVec[T](rng, cols)
				dy := randVec[T](rng, rows)
				for o := range dy {
					if rng.Float64() < zeros {
						dy[o] = 0
					}
				}
				gw := randVec[T](rng, rows*cols)
				// A row with dy == 0 must be skipped, not multiplied by 0:
				// NaN there would turn into NaN if it were touched.
				for o, g := range dy {
					if g == 0 && cols > 0 {
						gw[o*cols] = T(math.NaN())
					}
				}
				wantGW := append([]T(nil), gw...)
				var dx, wantDX, scaleDX []T
				if withDX {
					dx = randVec[T](rng, cols)
					wantDX = append([]T(nil), dx...)
					scaleDX = make([]T, cols)
					for i := range dx {
						scaleDX[i] = T(math.Abs(float64(dx[i])))
					}
				}
				wIn := w
				if !withDX && rng.IntN(2) == 0 {
					wIn = nil // w may be nil without dx
				}
				for o, g := range dy {
					if g == 0 {
						continue
					}
					for i := 0; i < cols; i++ {
						wantGW[o*cols+i] += g * x[i]
						if withDX {
							wantDX[i] += g * w[o*cols+i]
							scaleDX[i] += T(math.Abs(float64(g * w[o*cols+i])))
						}
					}
				}
				outerAdd(gw, dx, wIn, dy, x, rows, cols)
				name := fmt.Sprintf("%T OuterAdd %d×%d dx=%v zeros=%v", x, rows, cols, withDX, zeros)
				for j := range gw {
					if math.IsNaN(float64(wantGW[j])) {
						if !math.IsNaN(float64(gw[j])) {
							t.Errorf("%s: gw[%d] = %v, want NaN (row with dy == 0 touched)", name, j, gw[j])
						}
						continue
					}
					if !near(gw[j], wantGW[j], math.Abs(float64(wantGW[j]))+2) {
						t.Errorf("%s: gw[%d] = %v, want %v", name, j, gw[j], wantGW[j])
						break
					}
				}
				for i := range dx {
					if !near(dx[i], wantDX[i], float64(scaleDX[i])) {
						t.Errorf("%s: dx[%d] = %v, want %v", name, i, dx[i], wantDX[i])
						break
					}
				}
			}
		}
	}
}

// TestSIMDShortOperands checks that an operand shorter than the sizes say
// panics instead of being read or written out of bounds.
func TestSIMDShortOperands(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		mustPanic := func(name string, f func()) {
			t.Helper()
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}
		v := make([]float32, 40)
		mustPanic("Dot32 short y", func() { Dot32(v[:33], v[:32]) })
		mustPanic("Axpy32 short y", func() { Axpy32(1, v[:17], v[:16]) })
		mustPanic("MatVec32 short w", func() { MatVec32(v[:2], v[:39], v[:20], nil, 2, 20) })
		mustPanic("MatVec32 short y", func() { MatVec32(v[:1], v[:40], v[:20], nil, 2, 20) })
		mustPanic("MatVec32 short b", func() { MatVec32(v[:2], v[:40], v[:20], v[:1], 2, 20) })
		mustPanic("OuterAdd32 short gw", func() { OuterAdd32(v[:39], nil, nil, v[:2], v[:20], 2, 20) })
		mustPanic("OuterAdd32 short dx", func() { OuterAdd32(v[:40], v[:19], v[:40], v[:2], v[:20], 2, 20) })
	})
}

func TestSIMDNoAllocs(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(9, 10))
		const rows, cols = 10, 131
		w32, x32, y32, b32 := randVec[float32](rng, rows*cols), randVec[float32](rng, cols), randVec[float32](rng, rows), randVec[float32](rng, rows)
		g32, dx32 := randVec[float32](rng, rows*cols), randVec[float32](rng, cols)
		w64, x64, y64, b64 := randVec[float64](rng, rows*cols), randVec[float64](rng, cols), randVec[float64](rng, rows), randVec[float64](rng, rows)
		g64, dx64 := randVec[float64](rng, rows*cols), randVec[float64](rng, cols)
		var s32 float32
		var s64 float64
		for name, f := range map[string]func(){
			"Dot32":      func() { s32 += Dot32(x32, dx32) },
			"Dot64":      func() { s64 += Dot64(x64, dx64) },
			"Axpy32":     func() { Axpy32(1e-3, x32, dx32) },
			"scaleSq32":  func() { s32 += scaleSq32(1, x32) },
			"scaleSq64":  func() { s64 += scaleSq64(1, x64) },
			"Axpy64":     func() { Axpy64(1e-3, x64, dx64) },
			"MatVec32":   func() { MatVec32(y32, w32, x32, b32, rows, cols) },
			"MatVec64":   func() { MatVec64(y64, w64, x64, b64, rows, cols) },
			"OuterAdd32": func() { OuterAdd32(g32, dx32, w32, y32, x32, rows, cols) },
			"OuterAdd64": func() { OuterAdd64(g64, dx64, w64, y64, x64, rows, cols) },
		} {
			if a := testing.AllocsPerRun(100, f); a != 0 {
				t.Errorf("%s: %v allocations per call", name, a)
			}
		}
	})
}

// TestOuterAddNaNRow checks the zero test of OuterAdd32 on every path: a row
// with dy = NaN is processed (its gradients become NaN), a row with dy = 0 is
// skipped even where x holds ±Inf (0·Inf would be NaN), over ragged widths.
func TestOuterAddNaNRow(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		for _, cols := range []int{1, 7, 16, 17, 33, 40} {
			x, w := make([]float32, cols), make([]float32, 3*cols)
			for i := range x {
				x[i], w[i] = 1, 1
			}
			x[cols-1] = float32(math.Inf(1))
			gw, dx := make([]float32, 3*cols), make([]float32, cols)
			dy := []float32{float32(math.NaN()), 0, 2}
			OuterAdd32(gw, dx, w, dy, x, 3, cols)
			for i := 0; i < cols; i++ {
				if !math.IsNaN(float64(gw[i])) {
					t.Fatalf("cols %d: gw[0][%d] = %v, want NaN (dy = NaN)", cols, i, gw[i])
				}
				if gw[cols+i] != 0 {
					t.Fatalf("cols %d: gw[1][%d] = %v, want 0 (dy = 0 must skip the row)", cols, i, gw[cols+i])
				}
				if want := 2 * x[i]; gw[2*cols+i] != want {
					t.Fatalf("cols %d: gw[2][%d] = %v, want %v", cols, i, gw[2*cols+i], want)
				}
			}
		}
	})
}
