package runtime

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestCopyPlanesScaleShift runs testCopyPlanesScaleShift on every kernel path.
func TestCopyPlanesScaleShift(t *testing.T) { forEachPath(t, testCopyPlanesScaleShift) }

// testCopyPlanesScaleShift: as testCopyPlanes, rows of every length to past
// two vectors into padded planes and dense ones, with and without z, with
// and without the ReLU: z is the copy, y bit for bit CopyPlanes32,
// ScaleShiftRows32 and ReluForward32 one after the other (NaN, ±0 and
// negative values among the inputs), the padding zero in both, nothing
// written outside.
func testCopyPlanesScaleShift(t *testing.T) {
	rng := NewRNG(12)
	for n := 1; n <= 40; n++ {
		for _, c := range []struct{ planes, rows, pl, pr, pt, pb int }{
			{1, 1, 0, 0, 0, 0}, {3, 4, 0, 0, 0, 0}, {3, 5, 1, 1, 1, 1}, {2, 3, 2, 1, 0, 1}, {4, 2, 0, 3, 2, 0},
		} {
			for _, withZ := range []bool{true, false} {
				for _, relu := range []bool{true, false} {
					wp, hp := c.pl+n+c.pr, c.pt+c.rows+c.pb
					src := make([]float32, c.planes*c.rows*n+7)
					for i := range src {
						src[i] = float32(rng.NormFloat64())
					}
					src[7], src[len(src)-1] = float32(math.NaN()), float32(math.Copysign(0, -1))
					scale, shift := make([]float32, c.planes), make([]float32, c.planes)
					for p := range scale {
						scale[p], shift[p] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
					}
					const guard = 20
					newDst := func() []float32 {
						d := make([]float32, guard+c.planes*hp*wp+guard)
						for i := range d {
							d[i] = -1
						}
						for p := range c.planes {
							for i := range hp * wp {
								d[guard+p*hp*wp+i] = 0
							}
						}
						return d
					}
					z, y := newDst(), newDst()
					off := guard + c.pt*wp + c.pl
					zs := z[off:]
					if !withZ {
						zs = nil
					}
					f := CopyPlanesScaleShift32
					if relu {
						f = CopyPlanesScaleShiftRelu32
					}
					f(zs, y[off:], hp*wp, wp, src[7:], c.rows*n, n, c.planes, c.rows, n, scale, shift)
					// the reference: the planes' rows dense, then ScaleShiftRows32, ReluForward32
					dense := make([]float32, c.planes*c.rows*n)
					copy(dense, src[7:])
					ref := make([]float32, len(dense))
					ScaleShiftRows32(ref, dense, scale, shift, c.planes, c.rows*n)
					if relu {
						ReluForward32(ref, ref)
					}
					name := fmt.Sprintf("n %d case %+v z %v relu %v", n, c, withZ, relu)
					for i := range y {
						wantZ, wantY := float32(-1), float32(-1)
						if j := i - guard; j >= 0 && j < c.planes*hp*wp {
							p, h, w := j/(hp*wp), j/wp%hp, j%wp
							wantZ, wantY = 0, 0
							if h >= c.pt && h < c.pt+c.rows && w >= c.pl && w < c.pl+n {
								k := (p*c.rows+h-c.pt)*n + w - c.pl
								wantZ, wantY = dense[k], ref[k]
							}
						}
						if !withZ {
							wantZ = z[i] // untouched: checked below
						}
						if math.Float32bits(y[i]) != math.Float32bits(wantY) {
							t.Fatalf("%s: y[%d] = %v, want %v", name, i, y[i], wantY)
						}
						if math.Float32bits(z[i]) != math.Float32bits(wantZ) {
							t.Fatalf("%s: z[%d] = %v, want %v", name, i, z[i], wantZ)
						}
					}
					if !withZ {
						for i, v := range newDst() {
							if math.Float32bits(z[i]) != math.Float32bits(v) {
								t.Fatalf("%s: z[%d] = %v written (z nil)", name, i, z[i])
							}
						}
					}
				}
			}
		}
	}
	ok := make([]float32, 20)
	assert.Panics(t, func() {
		CopyPlanesScaleShift32(nil, make([]float32, 9), 5, 5, make([]float32, 20), 5, 5, 2, 1, 5, ok, ok)
	})
	assert.Panics(t, func() { CopyPlanesScaleShift32(make([]float32, 9), ok, 10, 5, ok, 10, 5, 2, 1, 5, ok, ok) })
	assert.Panics(t, func() { CopyPlanesScaleShift32(ok, ok, 10, 5, ok, 10, 5, 2, 1, 5, ok[:1], ok) })
	assert.Panics(t, func() { CopyPlanesScaleShiftRelu32(ok, ok, 10, 5, ok, 10, 5, 2, 1, 5, ok, ok[:1]) })
	z, y, s := make([]float32, 64*125), make([]float32, 64*125), make([]float32, 64*173)
	sc := make([]float32, 64)
	assert.Zero(t, testing.AllocsPerRun(20, func() { CopyPlanesScaleShiftRelu32(z, y, 125, 5, s, 173, 7, 64, 25, 5, sc, sc) }))
}

// TestCopyPlanesScaleShift64: the float64 functions (scalar on every build)
// against the definition.
func TestCopyPlanesScaleShift64(t *testing.T) {
	src := []float64{1, -2, 3, 9, 4, -5, 6, 9}
	z, y := make([]float64, 6), make([]float64, 6)
	CopyPlanesScaleShiftRelu64(z, y, 3, 3, src, 4, 4, 2, 1, 3, []float64{2, 3}, []float64{0.5, -1})
	assert.Equal(t, []float64{1, -2, 3, 4, -5, 6}, z)
	assert.Equal(t, []float64{2.5, 0, 6.5, 11, 0, 17}, y)
	CopyPlanesScaleShift64(nil, y, 3, 3, src, 4, 4, 2, 1, 3, []float64{2, 3}, []float64{0.5, -1})
	assert.Equal(t, []float64{2.5, -3.5, 6.5, 11, -16, 17}, y)
}

// BenchmarkCopyPlanesScaleShift: kws_dscnn's crop of its 64 flat sums
// (25 rows of 5 from stride 7, 173 apart) into z and the ReLU's output in
// one call, against CopyPlanes32, ScaleShiftRows32 and ReluForward32; and
// the batchnorm alone over vww_mobilenet's 24×24 planes (rows 1). GB/s of
// the elements read and written (z and y).
//
//	go test ./runtime -run '^$' -bench CopyPlanesScaleShift -count 5
func BenchmarkCopyPlanesScaleShift(b *testing.B) {
	z, y, s := make([]float32, 64*576), make([]float32, 64*576), make([]float32, 64*576)
	sc, sh := make([]float32, 64), make([]float32, 64)
	gbs := func(b *testing.B, n int) {
		b.ReportMetric(12*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
	}
	for _, p := range simdPaths() {
		b.Run(p+"/kwsCrop/fused", func(b *testing.B) {
			defer setSIMDPath(setSIMDPath(p))
			for b.Loop() {
				CopyPlanesScaleShiftRelu32(z, y, 125, 5, s, 173, 7, 64, 25, 5, sc, sh)
			}
			gbs(b, 64*125)
		})
		b.Run(p+"/kwsCrop/split", func(b *testing.B) {
			defer setSIMDPath(setSIMDPath(p))
			for b.Loop() {
				CopyPlanes32(z, 125, 5, s, 173, 7, 64, 25, 5)
				ScaleShiftRows32(y, z, sc, sh, 64, 125)
				ReluForward32(y, y)
			}
			gbs(b, 64*125)
		})
		b.Run(p+"/vww24/fused", func(b *testing.B) {
			defer setSIMDPath(setSIMDPath(p))
			for b.Loop() {
				CopyPlanesScaleShiftRelu32(nil, y, 576, 576, z, 576, 576, 64, 1, 576, sc, sh)
			}
			gbs(b, 64*576)
		})
		b.Run(p+"/vww24/split", func(b *testing.B) {
			defer setSIMDPath(setSIMDPath(p))
			for b.Loop() {
				ScaleShiftRows32(s, z, sc, sh, 64, 576)
				ReluForward32(s, y)
			}
			gbs(b, 64*576)
		})
	}
}
