package runtime

import (
	"fmt"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
)

// TestCopyPlanes runs testCopyPlanes on every kernel path.
func TestCopyPlanes(t *testing.T) { forEachPath(t, testCopyPlanes) }

// testCopyPlanes: rows of every length to past two vectors, with padding
// around the rows (as a convolution's padded planes) and without (a dense
// crop): every row copied, the padding zero, nothing written before the first
// row or after the last.
func testCopyPlanes(t *testing.T) {
	rng := NewRNG(11)
	for n := 1; n <= 40; n++ {
		for _, c := range []struct{ planes, rows, pl, pr, pt, pb int }{
			{1, 1, 0, 0, 0, 0}, {3, 4, 0, 0, 0, 0}, {3, 5, 1, 1, 1, 1}, {2, 3, 2, 1, 0, 1}, {4, 2, 0, 3, 2, 0},
		} {
			wp, hp := c.pl+n+c.pr, c.pt+c.rows+c.pb
			src := make([]float32, c.planes*c.rows*n+7)
			for i := range src {
				src[i] = float32(rng.NormFloat64())
			}
			const guard = 20
			dst := make([]float32, guard+c.planes*hp*wp+guard)
			for i := range dst {
				dst[i] = -1
			}
			for p := range c.planes { // the padding starts zero, as a padded plane
				for i := range hp * wp {
					dst[guard+p*hp*wp+i] = 0
				}
			}
			off := guard + c.pt*wp + c.pl
			CopyPlanes32(dst[off:], hp*wp, wp, src[7:], c.rows*n, n, c.planes, c.rows, n)
			name := fmt.Sprintf("n %d case %+v", n, c)
			for i := range dst {
				want := float32(-1)
				if j := i - guard; j >= 0 && j < c.planes*hp*wp {
					p, h, w := j/(hp*wp), j/wp%hp, j%wp
					want = 0
					if h >= c.pt && h < c.pt+c.rows && w >= c.pl && w < c.pl+n {
						want = src[7+(p*c.rows+h-c.pt)*n+w-c.pl]
					}
				}
				if dst[i] != want {
					t.Fatalf("%s: dst[%d] = %v, want %v", name, i, dst[i], want)
				}
			}
		}
	}
	assert.Panics(t, func() { CopyPlanes32(make([]float32, 9), 5, 5, make([]float32, 20), 5, 5, 2, 1, 5) })
	assert.Panics(t, func() { CopyPlanes32(make([]float32, 20), 10, 5, make([]float32, 9), 5, 5, 2, 1, 5) })
	assert.Panics(t, func() { CopyPlanes32(make([]float32, 20), 10, 4, make([]float32, 20), 5, 5, 2, 1, 5) })
	dst, src := make([]float32, 64*27*7), make([]float32, 64*25*5)
	assert.Zero(t, testing.AllocsPerRun(20, func() { CopyPlanes32(dst[8:], 27*7, 7, src, 25*5, 5, 64, 25, 5) }))
}

// BenchmarkCopyPlanes: kws_dscnn's padding copy (64 planes of 25 rows of 5
// into 27×7) and the crop of its flat sums (25 rows of 5 from stride 7), as
// one call against the generated Go loops; vww_mobilenet's 12×12 padding copy
// (256 planes, into 14×14). GB/s of the elements copied (read and written).
//
//	go test ./runtime -run '^$' -bench CopyPlanes -count 5
func BenchmarkCopyPlanes(b *testing.B) {
	dst, src := make([]float32, 256*14*14), make([]float32, 256*12*12)
	gbs := func(b *testing.B, n int) {
		b.ReportMetric(8*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
	}
	for _, p := range simdPaths() {
		b.Run(p+"/kwsPad", func(b *testing.B) {
			defer setSIMDPath(setSIMDPath(p))
			for b.Loop() {
				CopyPlanes32(dst[8:], 27*7, 7, src, 25*5, 5, 64, 25, 5)
			}
			gbs(b, 64*25*5)
		})
		b.Run(p+"/kwsCrop", func(b *testing.B) {
			defer setSIMDPath(setSIMDPath(p))
			for b.Loop() {
				CopyPlanes32(dst, 25*5, 5, src, 0, 7, 1, 25, 5)
			}
			gbs(b, 25*5)
		})
		b.Run(p+"/vwwPad", func(b *testing.B) {
			defer setSIMDPath(setSIMDPath(p))
			for b.Loop() {
				CopyPlanes32(dst[15:], 14*14, 14, src, 12*12, 12, 256, 12, 12)
			}
			gbs(b, 256*12*12)
		})
	}
	b.Run("goloop/kwsPad", func(b *testing.B) {
		xp, x := (*[64][27][7]float32)(unsafe.Pointer(&dst[0])), (*[64][25][5]float32)(unsafe.Pointer(&src[0]))
		for b.Loop() {
			for c := range x {
				for h := range x[c] {
					*(*[5]float32)(xp[c][h+1][1:]) = x[c][h]
				}
			}
		}
		gbs(b, 64*25*5)
	})
	b.Run("goloop/kwsCrop", func(b *testing.B) {
		zf, s := (*[25][5]float32)(unsafe.Pointer(&dst[0])), src[:173]
		for b.Loop() {
			for oh := range zf {
				zf[oh] = *(*[5]float32)(s[oh*7:])
			}
		}
		gbs(b, 25*5)
	})
}
