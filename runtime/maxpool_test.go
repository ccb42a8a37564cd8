package runtime

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// poolVec returns n values drawn from a few, so that windows hold ties, NaN,
// +0 and -0 often; with wide, uniform values in [-1, 1) instead.
func poolVec[T simdFloat](rng *rand.Rand, n int, wide bool) []T {
	nan := math.NaN()
	few := []float64{-1, 0, math.Copysign(0, -1), 1, 2, nan, math.Inf(-1), 2}
	v := make([]T, n)
	for i := range v {
		if wide {
			v[i] = T(rng.Float64()*2 - 1)
		} else {
			v[i] = T(few[rng.IntN(len(few))])
		}
	}
	return v
}

// same reports whether a and b have the same bits (any NaN equals any NaN).
func same[T simdFloat](a, b T) bool {
	if a != a || b != b {
		return a != a && b != b
	}
	return a == b && math.Signbit(float64(a)) == math.Signbit(float64(b))
}

// refMaxPool2 is MaxPool2Rows's definition written out: the window's
// maximum in the documented order, and the backward rule.
func refMaxPool2[T simdFloat](x []T, xs, xw, rows, n int, dy []T, ys int) (y, dx []T) {
	y = make([]T, (rows-1)*ys+n)
	dx = make([]T, len(x))
	s := func(a, b T) T {
		if a > b {
			return a
		}
		return b
	}
	for r := range rows {
		for i := range n {
			o := r*xs + 2*i
			pos := []int{o, o + 1, o + xw, o + xw + 1}
			if xw == 0 {
				pos = pos[:2]
			}
			v := s(s(x[o], x[o+xw]), s(x[o+1], x[o+xw+1]))
			y[r*ys+i] = v
			k := len(pos) - 1
			for j, p := range pos[:k] {
				if x[p] == v {
					k = j
					break
				}
			}
			for _, p := range pos {
				dx[p] = 0
			}
			dx[pos[k]] = dy[r*ys+i]
		}
	}
	return y, dx
}

func testMaxPool2[T simdFloat](t *testing.T, fwd func(y []T, ys int, x []T, xs, xw, rows, n int), back func(dx, x []T, xs, xw int, y, dy []T, ys, rows, n int)) {
	rng := rand.New(rand.NewPCG(14, 2))
	for n := 1; n <= 70; n++ {
		for _, rows := range []int{1, 2, 5} {
			for _, oneD := range []bool{false, true} {
				for _, wide := range []bool{false, true} {
					pad := n % 3 // row padding: odd strides and offsets
					xw := 2*n + pad
					xs := 2*xw + 1
					if oneD {
						xw, xs = 0, 2*n+pad
					}
					ys := n + pad
					x := poolVec[T](rng, (rows-1)*xs+xw+2*n+pad, wide)
					dy := poolVec[T](rng, (rows-1)*ys+n, true)
					wantY, wantDX := refMaxPool2(x, xs, xw, rows, n, dy, ys)
					y := poolVec[T](rng, len(wantY), true)
					for r := range rows { // the gaps between rows keep their values
						for i := n; i < ys && r*ys+i < len(y); i++ {
							wantY[r*ys+i] = y[r*ys+i]
						}
					}
					dx := make([]T, len(x))
					for i := range dx {
						dx[i] = 7 // left as it is outside the windows
					}
					for r := range rows {
						for i := range 2 * n {
							dx[r*xs+i], dx[r*xs+xw+i] = -7, -7
						}
					}
					for i := range wantDX {
						if dx[i] == 7 {
							wantDX[i] = 7
						}
					}
					fwd(y, ys, x, xs, xw, rows, n)
					for i := range y {
						if !same(y[i], wantY[i]) {
							t.Fatalf("n=%d rows=%d xw=%d wide=%v: y[%d] = %v, want %v", n, rows, xw, wide, i, y[i], wantY[i])
						}
					}
					back(dx, x, xs, xw, y, dy, ys, rows, n)
					for i := range dx {
						if !same(dx[i], wantDX[i]) {
							t.Fatalf("n=%d rows=%d xw=%d wide=%v: dx[%d] = %v, want %v (x %v)", n, rows, xw, wide, i, dx[i], wantDX[i], x)
						}
					}
				}
			}
		}
	}
}

func TestMaxPool2Rows32(t *testing.T) {
	forEachPath(t, func(t *testing.T) { testMaxPool2(t, MaxPool2Rows32, MaxPool2RowsBackward32) })
}

func TestMaxPool2Rows64(t *testing.T) { testMaxPool2(t, MaxPool2Rows64, MaxPool2RowsBackward64) }

func TestMaxPool2RowsShort(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func()
		msg  string
	}{
		{"x", func() { MaxPool2Rows32(make([]float32, 4), 2, make([]float32, 9), 8, 4, 2, 2) }, "runtime.MaxPool2Rows: len(x) = 9, need 16"},
		{"y", func() { MaxPool2Rows32(make([]float32, 3), 2, make([]float32, 16), 8, 4, 2, 2) }, "runtime.MaxPool2Rows: len(y) = 3, need 4"},
		{"dx", func() {
			MaxPool2RowsBackward32(make([]float32, 15), make([]float32, 16), 8, 4, make([]float32, 4), make([]float32, 4), 2, 2, 2)
		}, "runtime.MaxPool2RowsBackward: len(dx) = 15, need 16"},
		{"overlap", func() {
			MaxPool2RowsBackward64(make([]float64, 16), make([]float64, 16), 8, 3, make([]float64, 4), make([]float64, 4), 2, 2, 2)
		}, "runtime.MaxPool2RowsBackward: bad strides ys=2 xs=8 xw=3 for n=2"},
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

// BenchmarkMaxPool2Rows: LeNet-5's two pools ([6 28 28]→[6 14 14] and
// [16 10 10]→[16 5 5]), forward and backward, in GB/s of input read.
//
//	go test ./runtime -run '^$' -bench MaxPool2 -count 5
func BenchmarkMaxPool2Rows(b *testing.B) {
	rng := rand.New(rand.NewPCG(6, 6))
	for _, p := range simdPaths() {
		for _, s := range [][2]int{{6, 28}, {16, 10}} {
			c, w := s[0], s[1]
			x, dx := randVec[float32](rng, c*w*w), make([]float32, c*w*w)
			y, dy := make([]float32, c*w*w/4), randVec[float32](rng, c*w*w/4)
			rows, n := c*w/2, w/2
			b.Run(fmt.Sprintf("%s/%dx%dx%d", p, c, w, w), func(b *testing.B) {
				defer setSIMDPath(setSIMDPath(p))
				for b.Loop() {
					MaxPool2Rows32(y, n, x, 2*w, w, rows, n)
				}
				b.ReportMetric(float64(4*len(x))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
			})
			b.Run(fmt.Sprintf("%s/%dx%dx%d/backward", p, c, w, w), func(b *testing.B) {
				defer setSIMDPath(setSIMDPath(p))
				MaxPool2Rows32(y, n, x, 2*w, w, rows, n)
				for b.Loop() {
					MaxPool2RowsBackward32(dx, x, 2*w, w, y, dy, n, rows, n)
				}
				b.ReportMetric(float64(4*len(x))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
			})
		}
	}
}
