package runtime

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func testCopyRows[T simdFloat](t *testing.T, f func(dst []T, ds int, src []T, ss, step, rows, n int)) {
	rng := rand.New(rand.NewPCG(11, 12))
	for n := 0; n <= 100; n++ {
		for _, step := range []int{1, 2, 3} {
			for _, rows := range []int{0, 1, 3} {
				off := n % 5 // odd offsets into both operands
				ds, ss := n+off, n*step+2*off+1
				src := randVec[T](rng, off+rows*ss+n*step+1)
				dst := randVec[T](rng, off+rows*ds+n+1)
				want := append([]T(nil), dst...)
				for r := range rows {
					for i := range n {
						want[off+r*ds+i] = src[off+r*ss+i*step]
					}
				}
				f(dst[off:], ds, src[off:], ss, step, rows, n)
				for i := range dst {
					if dst[i] != want[i] {
						t.Fatalf("n=%d step=%d rows=%d: dst[%d] = %v, want %v", n, step, rows, i, dst[i], want[i])
					}
				}
			}
		}
	}
}

func TestCopyRows32(t *testing.T) {
	forEachPath(t, func(t *testing.T) { testCopyRows(t, CopyRows32) })
}

func TestCopyRows64(t *testing.T) { testCopyRows(t, CopyRows64) }

func TestCopyRowsShort(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func()
		msg  string
	}{
		{"dst", func() { CopyRows32(make([]float32, 7), 4, make([]float32, 8), 4, 1, 2, 4) }, "runtime.CopyRows: len(dst) = 7, need 8"},
		{"src", func() { CopyRows32(make([]float32, 8), 4, make([]float32, 9), 5, 2, 2, 3) }, "runtime.CopyRows: len(src) = 9, need 10"},
		{"step", func() { CopyRows64(make([]float64, 8), 4, make([]float64, 8), 4, 0, 2, 4) }, "runtime.CopyRows: bad strides ds=4 ss=4 step=0"},
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

// BenchmarkCopyRows: one im2col patch row of resnet8's convolutions (OutH
// rows of OutW from a 34- or 18-wide padded plane), in GB/s copied.
//
//	go test ./runtime -run '^$' -bench CopyRows -count 5
func BenchmarkCopyRows(b *testing.B) {
	rng := rand.New(rand.NewPCG(6, 6))
	src, dst := randVec[float32](rng, 34*34*2), make([]float32, 32*32)
	for _, p := range simdPaths() {
		for _, s := range [][3]int{{32, 32, 1}, {16, 16, 1}, {8, 8, 1}, {16, 16, 2}} {
			rows, n, step := s[0], s[1], s[2]
			b.Run(fmt.Sprintf("%s/%dx%d/step%d", p, rows, n, step), func(b *testing.B) {
				defer setSIMDPath(setSIMDPath(p))
				for b.Loop() {
					CopyRows32(dst, n, src, 34*step, step, rows, n)
				}
				b.ReportMetric(float64(4*rows*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
			})
		}
	}
}
