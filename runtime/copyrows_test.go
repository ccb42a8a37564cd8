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

func testCopyRowsTable[T simdFloat](t *testing.T, f func(dst []T, ds, dc int, src []T, ss, sc, step int, tab []int32, c int)) {
	rng := rand.New(rand.NewPCG(13, 14))
	for trial := range 400 {
		step := 1 + trial%3
		c := trial % 4
		ne := rng.IntN(6)
		var tab []int32
		ds, ss := 1+rng.IntN(40), 1+rng.IntN(90)
		whole := trial%5 == 0 // rows whole in dst and src: one run
		if whole {
			ss = ds
		}
		maxD, maxS := 0, 0
		for range ne {
			d, s, rows, n := rng.IntN(50), rng.IntN(50), rng.IntN(5), rng.IntN(40)
			if n > ds || whole {
				n = ds
			}
			tab = append(tab, int32(d), int32(s), int32(rows), int32(n))
			if rows > 0 && n > 0 {
				maxD = max(maxD, d+(rows-1)*ds+n)
				maxS = max(maxS, s+(rows-1)*ss+(n-1)*step+1)
			}
		}
		dc, sc := maxD+rng.IntN(3), maxS+rng.IntN(3)
		dst := randVec[T](rng, max(1, c)*dc+rng.IntN(2))
		src := randVec[T](rng, max(1, c)*sc+rng.IntN(2))
		want := append([]T(nil), dst...)
		for ch := range c {
			for e := 0; e < len(tab); e += 4 {
				d, s, rows, n := int(tab[e]), int(tab[e+1]), int(tab[e+2]), int(tab[e+3])
				for r := range rows {
					for i := range n {
						want[ch*dc+d+r*ds+i] = src[ch*sc+s+r*ss+i*step]
					}
				}
			}
		}
		f(dst, ds, dc, src, ss, sc, step, tab, c)
		for i := range dst {
			if dst[i] != want[i] {
				t.Fatalf("trial %d (c=%d step=%d tab=%v): dst[%d] = %v, want %v", trial, c, step, tab, i, dst[i], want[i])
			}
		}
	}
}

func TestCopyRowsTable32(t *testing.T) {
	forEachPath(t, func(t *testing.T) { testCopyRowsTable(t, CopyRowsTable32) })
}

func TestCopyRowsTable64(t *testing.T) { testCopyRowsTable(t, CopyRowsTable64) }

func TestCopyRowsTableBad(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func()
		msg  string
	}{
		{"dst", func() {
			CopyRowsTable32(make([]float32, 17), 4, 10, make([]float32, 40), 4, 20, 1, []int32{0, 0, 2, 4, 2, 3, 1, 4}, 2)
		}, "runtime.CopyRowsTable: len(dst) = 17, need 18"},
		{"src", func() {
			CopyRowsTable32(make([]float32, 20), 4, 10, make([]float32, 30), 5, 20, 2, []int32{0, 0, 2, 4}, 2)
		}, "runtime.CopyRowsTable: len(src) = 30, need 32"},
		{"entry", func() {
			CopyRowsTable64(make([]float64, 20), 4, 10, make([]float64, 40), 4, 20, 1, []int32{0, -1, 2, 4}, 2)
		}, "runtime.CopyRowsTable: bad entry 0: [0 -1 2 4]"},
		{"tab", func() {
			CopyRowsTable32(make([]float32, 20), 4, 10, make([]float32, 40), 4, 20, 1, []int32{0, 0, 2}, 2)
		}, "runtime.CopyRowsTable: len(tab) = 3, not a multiple of 4"},
		{"step", func() {
			CopyRowsTable32(make([]float32, 20), 4, 10, make([]float32, 40), 4, 20, 0, nil, 2)
		}, "runtime.CopyRowsTable: bad sizes c=2 step=0 ds=4 dc=10 ss=4 sc=20"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forEachPath(t, func(t *testing.T) {
				defer func() {
					if r := recover(); r != tc.msg {
						t.Fatalf("panic %v, want %q", r, tc.msg)
					}
				}()
				tc.f()
			})
		})
	}
}

// BenchmarkCopyRowsTable: resnet_mnist's layer1 im2col (16 channels of
// 14×14, 3×3 kernel, padding 1) as one table call and as the 144
// CopyRows32 calls it replaced, and its col2im (AddRowsTable32 against 144
// AxpyRows32 calls), in GB/s copied or added.
//
//	go test ./runtime -run '^$' -bench CopyRowsTable -count 5
func BenchmarkCopyRowsTable(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 7))
	src, dst := randVec[float32](rng, 16*196), make([]float32, 16*1764)
	tab := []int32{15, 0, 13, 13, 210, 0, 13, 14, 406, 1, 13, 13, 589, 0, 14, 13, 784, 0, 14, 14, 980, 1, 14, 13, 1177, 14, 13, 13, 1372, 14, 13, 14, 1568, 15, 13, 13}
	bytes := 0
	for e := 0; e < len(tab); e += 4 {
		bytes += 16 * 4 * int(tab[e+2]*tab[e+3])
	}
	for _, p := range simdPaths() {
		b.Run(p+"/table", func(b *testing.B) {
			defer setSIMDPath(setSIMDPath(p))
			for b.Loop() {
				CopyRowsTable32(dst, 14, 1764, src, 14, 196, 1, tab, 16)
			}
			b.ReportMetric(float64(bytes)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
		b.Run(p+"/calls", func(b *testing.B) {
			defer setSIMDPath(setSIMDPath(p))
			for b.Loop() {
				for c := range 16 {
					for e := 0; e < len(tab); e += 4 {
						CopyRows32(dst[c*1764+int(tab[e]):], 14, src[c*196+int(tab[e+1]):], 14, 1, int(tab[e+2]), int(tab[e+3]))
					}
				}
			}
			b.ReportMetric(float64(bytes)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
		// col2im, the transpose: AddRowsTable32 against the AxpyRows32
		// calls (offsets outside, channels inside) it replaced.
		b.Run(p+"/add-table", func(b *testing.B) {
			defer setSIMDPath(setSIMDPath(p))
			for b.Loop() {
				AddRowsTable32(src, 14, 196, dst, 14, 1764, tab, 16)
			}
			b.ReportMetric(float64(bytes)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
		b.Run(p+"/add-calls", func(b *testing.B) {
			defer setSIMDPath(setSIMDPath(p))
			for b.Loop() {
				for e := 0; e < len(tab); e += 4 {
					for c := range 16 {
						AxpyRows32(1, dst[c*1764+int(tab[e]):], 14, src[c*196+int(tab[e+1]):], 14, int(tab[e+2]), int(tab[e+3]))
					}
				}
			}
			b.ReportMetric(float64(bytes)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
	}
}

func testAddRowsTable[T simdFloat](t *testing.T, f func(dst []T, ds, dc int, src []T, ss, sc int, tab []int32, c int)) {
	rng := rand.New(rand.NewPCG(15, 16))
	for trial := range 400 {
		c := trial % 4
		ne := rng.IntN(6)
		var tab []int32
		ds, ss := 1+rng.IntN(40), 1+rng.IntN(90)
		maxD, maxS := 0, 0
		for range ne {
			s, d, rows, n := rng.IntN(50), rng.IntN(50), rng.IntN(5), rng.IntN(40)
			n = min(n, ds, ss) // rows of an entry do not overlap (col2im)
			tab = append(tab, int32(s), int32(d), int32(rows), int32(n))
			if rows > 0 && n > 0 {
				maxD = max(maxD, d+(rows-1)*ds+n)
				maxS = max(maxS, s+(rows-1)*ss+n)
			}
		}
		dc, sc := maxD+rng.IntN(3), maxS+rng.IntN(3)
		dst := randVec[T](rng, max(1, c)*dc+rng.IntN(2))
		src := randVec[T](rng, max(1, c)*sc+rng.IntN(2))
		want := append([]T(nil), dst...)
		for e := 0; e < len(tab); e += 4 {
			s, d, rows, n := int(tab[e]), int(tab[e+1]), int(tab[e+2]), int(tab[e+3])
			for ch := range c {
				for r := range rows {
					for i := range n {
						want[ch*dc+d+r*ds+i] += src[ch*sc+s+r*ss+i]
					}
				}
			}
		}
		f(dst, ds, dc, src, ss, sc, tab, c)
		for i := range dst {
			if dst[i] != want[i] {
				t.Fatalf("trial %d (c=%d tab=%v): dst[%d] = %v, want %v", trial, c, tab, i, dst[i], want[i])
			}
		}
	}
}

func TestAddRowsTable32(t *testing.T) {
	forEachPath(t, func(t *testing.T) { testAddRowsTable(t, AddRowsTable32) })
}

func TestAddRowsTable64(t *testing.T) { testAddRowsTable(t, AddRowsTable64) }

func TestAddRowsTableBad(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func()
		msg  string
	}{
		{"dst", func() {
			AddRowsTable32(make([]float32, 17), 4, 10, make([]float32, 40), 4, 20, []int32{0, 0, 2, 4}, 2)
		}, "runtime.AddRowsTable: len(dst) = 17, need 18"},
		{"src", func() {
			AddRowsTable32(make([]float32, 20), 4, 10, make([]float32, 27), 5, 20, []int32{0, 0, 2, 3}, 2)
		}, "runtime.AddRowsTable: len(src) = 27, need 28"},
		{"entry", func() {
			AddRowsTable64(make([]float64, 20), 4, 10, make([]float64, 40), 4, 20, []int32{0, 0, -2, 4}, 2)
		}, "runtime.AddRowsTable: bad entry 0: [0 0 -2 4]"},
		{"tab", func() {
			AddRowsTable32(make([]float32, 20), 4, 10, make([]float32, 40), 4, 20, []int32{0}, 2)
		}, "runtime.AddRowsTable: len(tab) = 1, not a multiple of 4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forEachPath(t, func(t *testing.T) {
				defer func() {
					if r := recover(); r != tc.msg {
						t.Fatalf("panic %v, want %q", r, tc.msg)
					}
				}()
				tc.f()
			})
		})
	}
}
