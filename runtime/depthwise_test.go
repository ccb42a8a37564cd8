package runtime

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dwCase is a depthwise geometry: H×W planes, a KH×KW kernel, padding PT
// above, PB below and PL left (KW-1-PL right).
type dwCase struct{ h, w, kh, kw, pt, pb, pl int }

var dwCases = []dwCase{
	{25, 5, 3, 3, 1, 1, 1},  // kws_dscnn
	{48, 48, 3, 3, 1, 1, 1}, // vww_mobilenet's first
	{6, 6, 3, 3, 1, 1, 1}, {3, 3, 3, 3, 1, 1, 1}, {1, 1, 3, 3, 1, 1, 1},
	{7, 17, 5, 5, 2, 2, 2}, {6, 6, 3, 3, 0, 0, 1}, {9, 4, 1, 3, 0, 0, 0},
	{5, 20, 4, 2, 1, 2, 1}, {2, 33, 3, 1, 2, 2, 0}, {4, 16, 3, 3, 1, 1, 2},
}

// dwReference is the definition in float64: for each output, the bias and
// the taps whose input is inside the plane (zero padding), and the sum of
// the terms' magnitudes (for the tolerance).
func dwReference(c dwCase, x, w, bias []float32, planes int) (z, mag []float64) {
	oh := c.h + c.pt + c.pb - c.kh + 1
	z, mag = make([]float64, planes*oh*c.w), make([]float64, planes*oh*c.w)
	for p := range planes {
		for oy := range oh {
			for ox := range c.w {
				var s, m float64
				if bias != nil {
					s, m = float64(bias[p]), math.Abs(float64(bias[p]))
				}
				for ky := range c.kh {
					for kx := range c.kw {
						r, col := oy+ky-c.pt, ox+kx-c.pl
						if r < 0 || r >= c.h || col < 0 || col >= c.w {
							continue
						}
						t := float64(w[(p*c.kh+ky)*c.kw+kx]) * float64(x[(p*c.h+r)*c.w+col])
						s, m = s+t, m+math.Abs(t)
					}
				}
				z[(p*oh+oy)*c.w+ox], mag[(p*oh+oy)*c.w+ox] = s, m
			}
		}
	}
	return z, mag
}

// dwPadded is the flat-plane path of gen/dwconv.go: each plane copied into
// a zero-padded plane, ShiftSum32 over it, the outputs cropped out.
func dwPadded(c dwCase, x, w, bias []float32, planes int) []float32 {
	hp, wp := c.h+c.pt+c.pb, c.w+c.kw-1
	oh := hp - c.kh + 1
	taps := make([]int32, c.kh*c.kw)
	for ky := range c.kh {
		for kx := range c.kw {
			taps[ky*c.kw+kx] = int32(ky*wp + kx)
		}
	}
	nflat := (oh-1)*wp + c.w
	z := make([]float32, planes*oh*c.w)
	xp, s := make([]float32, hp*wp), make([]float32, nflat)
	for p := range planes {
		clear(xp)
		for r := range c.h {
			copy(xp[(r+c.pt)*wp+c.pl:], x[p*c.h*c.w+r*c.w:p*c.h*c.w+(r+1)*c.w])
		}
		ShiftSum32(s, xp, taps, w[p*len(taps):], nflat, bias[p])
		for r := range oh {
			copy(z[(p*oh+r)*c.w:], s[r*wp:r*wp+c.w])
		}
	}
	return z
}

// TestDepthwise runs testDepthwise on every kernel path.
func TestDepthwise(t *testing.T) { forEachPath(t, testDepthwise) }

// testDepthwise: every geometry of dwCases on 1 to 5 planes (pairs and a
// single one), with and without bias: z within 1e-6 of the float64
// definition (relative to the terms' magnitudes; NaN and ±Inf where it has
// them), and with z and y, y alone and the ReLU, the same z bit for bit and
// y bit for bit CopyPlanesScaleShift(Relu)32 of that z; nothing written
// outside.
func testDepthwise(t *testing.T) {
	rng := NewRNG(5)
	randn := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	const guard = 17
	out := func(n int) ([]float32, []float32) {
		buf := make([]float32, guard+n+guard)
		for i := range buf {
			buf[i] = -7
		}
		return buf, buf[guard : guard+n]
	}
	check := func(name string, buf, want []float32) {
		t.Helper()
		for i, v := range buf {
			w := float32(-7)
			if j := i - guard; j >= 0 && j < len(want) {
				w = want[j]
			}
			if math.Float32bits(v) != math.Float32bits(w) {
				t.Fatalf("%s[%d] = %v, want %v", name, i-guard, v, w)
			}
		}
	}
	for _, c := range dwCases {
		d := NewDepthwiseTaps(c.h, c.w, c.kh, c.kw, c.pt, c.pb, c.pl)
		assert.Equal(t, c.kh*c.kw, d.Taps())
		oh := c.h + c.pt + c.pb - c.kh + 1
		for planes := 1; planes <= 5; planes++ {
			n := planes * oh * c.w
			x := randn(planes * c.h * c.w)
			x[len(x)/3] = float32(math.NaN())
			x[len(x)/2] = float32(math.Copysign(0, -1))
			if len(x) > 8 {
				x[len(x)-2] = float32(math.Inf(1))
			}
			w, bias, scale, shift := randn(planes*c.kh*c.kw), randn(planes), randn(planes), randn(planes)
			for _, b := range [][]float32{bias, nil} {
				name := fmt.Sprintf("%+v planes %d bias %v", c, planes, b != nil)
				zBuf, z := out(n)
				Depthwise32(z, x, d, w, b, planes)
				check(name+": z", zBuf, z) // the guards
				ref, mag := dwReference(c, x, w, b, planes)
				for i, r := range ref {
					got := float64(z[i])
					switch {
					case math.IsNaN(r) || math.IsInf(r, 0):
						if math.IsNaN(r) != math.IsNaN(got) || (!math.IsNaN(r) && got != r) {
							t.Fatalf("%s: z[%d] = %v, want %v", name, i, got, r)
						}
					case math.Abs(got-r) > 1e-6*mag[i]+1e-30:
						t.Fatalf("%s: z[%d] = %v, want %v (Σ|terms| %v)", name, i, got, r, mag[i])
					}
				}
				if b != nil {
					// finite inputs, no -0 bias: the flat planes' sums bit for bit
					xf := append([]float32(nil), x...)
					for i, v := range xf {
						if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
							xf[i] = 1
						}
					}
					zf := make([]float32, n)
					Depthwise32(zf, xf, d, w, b, planes)
					for i, v := range dwPadded(c, xf, w, b, planes) {
						if math.Float32bits(zf[i]) != math.Float32bits(v) {
							t.Fatalf("%s: finite z[%d] = %v, the flat planes' %v", name, i, zf[i], v)
						}
					}
				}
				for _, relu := range []bool{false, true} {
					wantY := make([]float32, n)
					fy, f := CopyPlanesScaleShift32, DepthwiseScaleShift32
					if relu {
						fy, f = CopyPlanesScaleShiftRelu32, DepthwiseScaleShiftRelu32
					}
					fy(nil, wantY, oh*c.w, oh*c.w, z, oh*c.w, oh*c.w, planes, 1, oh*c.w, scale, shift)
					for _, withZ := range []bool{true, false} {
						zBuf2, z2 := out(n)
						yBuf, y := out(n)
						if !withZ {
							z2 = nil
						}
						f(z2, y, x, d, w, b, scale, shift, planes)
						check(fmt.Sprintf("%s relu %v z %v: y", name, relu, withZ), yBuf, wantY)
						if withZ {
							check(fmt.Sprintf("%s relu %v: z", name, relu), zBuf2, z)
						} else {
							_, untouched := out(n)
							check(fmt.Sprintf("%s relu %v z nil: z", name, relu), zBuf2, untouched)
						}
					}
				}
			}
		}
	}
	d := NewDepthwiseTaps(25, 5, 3, 3, 1, 1, 1)
	ok := make([]float32, 2*125)
	w := make([]float32, 18)
	assert.Panics(t, func() { Depthwise32(ok[:249], ok, d, w, nil, 2) })
	assert.Panics(t, func() { Depthwise32(ok, ok[:249], d, w, nil, 2) })
	assert.Panics(t, func() { Depthwise32(ok, ok, d, w[:17], nil, 2) })
	assert.Panics(t, func() { Depthwise32(ok, ok, d, w, w[:1], 2) })
	assert.Panics(t, func() { Depthwise32(nil, ok, d, w, nil, 2) })
	assert.Panics(t, func() { Depthwise32(ok, ok, nil, w, nil, 2) })
	assert.Panics(t, func() { DepthwiseScaleShift32(nil, ok, ok, d, w, nil, w[:1], w, 2) })
	assert.Panics(t, func() { DepthwiseScaleShiftRelu32(ok, ok[:100], ok, d, w, nil, w, w, 2) })
	assert.NotPanics(t, func() { Depthwise32(ok, ok, d, nil, nil, 0) })
	z, x, y := make([]float32, 64*125), make([]float32, 64*125), make([]float32, 64*125)
	w64 := make([]float32, 64*9)
	assert.Zero(t, testing.AllocsPerRun(20, func() { DepthwiseScaleShiftRelu32(z, y, x, d, w64, w64, w64, w64, 64) }))
}

// TestDepthwise64: the float64 functions (scalar on every build) against
// the float32 reference's definition in float64.
func TestDepthwise64(t *testing.T) {
	// 3×3 input, 3×3 kernel, padding 1: output (1, 1) sums the whole plane,
	// output (0, 0) the kernel's bottom-right 2×2 times the top-left inputs.
	d := NewDepthwiseTaps(3, 3, 3, 3, 1, 1, 1)
	x := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9}
	w := []float64{1, 1, 1, 1, 1, 1, 1, 1, 1}
	z, y := make([]float64, 9), make([]float64, 9)
	DepthwiseScaleShiftRelu64(z, y, x, d, w, []float64{0.5}, []float64{2}, []float64{-30}, 1)
	assert.Equal(t, []float64{12.5, 21.5, 16.5, 27.5, 45.5, 33.5, 24.5, 39.5, 28.5}, z)
	assert.Equal(t, []float64{0, 13, 3, 25, 61, 37, 19, 49, 27}, y)
	Depthwise64(z, x, d, w, nil, 1)
	assert.Equal(t, 45.0, z[4])
	assert.Panics(t, func() { NewDepthwiseTaps(3, 3, 3, 3, 1, 1, 3) })
	assert.Panics(t, func() { NewDepthwiseTaps(1, 3, 3, 3, 0, 0, 1) })
}

// BenchmarkDepthwise: the layers of kws_dscnn (64 planes 25×5) and
// vww_mobilenet (8 planes 48×48, 128 planes 6×6), 3×3 with batchnorm and
// ReLU, against the padded planes' path (pad copy, ShiftSum per plane,
// crop with the batchnorm) on the same shapes. GFLOP/s counts the taps'
// multiply-adds.
func BenchmarkDepthwise(b *testing.B) {
	for _, s := range []struct{ planes, h, w int }{{64, 25, 5}, {8, 48, 48}, {32, 24, 24}, {64, 12, 12}, {128, 6, 6}, {256, 3, 3}} {
		c := dwCase{s.h, s.w, 3, 3, 1, 1, 1}
		d := NewDepthwiseTaps(c.h, c.w, 3, 3, 1, 1, 1)
		n := s.planes * s.h * s.w
		x, z, y := make([]float32, n), make([]float32, n), make([]float32, n)
		w, sc := make([]float32, 9*s.planes), make([]float32, s.planes)
		for i := range x {
			x[i] = float32(i%7) - 3
		}
		flops := func(b *testing.B) {
			b.ReportMetric(float64(2*9*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		}
		b.Run(fmt.Sprintf("masked/%dx%dx%d", s.planes, s.h, s.w), func(b *testing.B) {
			for b.Loop() {
				DepthwiseScaleShiftRelu32(z, y, x, d, w, sc, sc, sc, s.planes)
			}
			flops(b)
		})
		hp, wp := s.h+2, s.w+2
		nflat := (s.h-1)*wp + s.w
		xp, fs := make([]float32, s.planes*hp*wp), make([]float32, s.planes*nflat)
		taps := []int32{0, 1, 2, int32(wp), int32(wp + 1), int32(wp + 2), int32(2 * wp), int32(2*wp + 1), int32(2*wp + 2)}
		b.Run(fmt.Sprintf("padded/%dx%dx%d", s.planes, s.h, s.w), func(b *testing.B) {
			for b.Loop() {
				CopyPlanes32(xp[wp+1:], hp*wp, wp, x, s.h*s.w, s.w, s.planes, s.h, s.w)
				for p := range s.planes {
					ShiftSum32(fs[p*nflat:], xp[p*hp*wp:], taps, w[9*p:], nflat, sc[p])
				}
				CopyPlanesScaleShiftRelu32(z, y, s.h*s.w, s.w, fs, nflat, wp, s.planes, s.h, s.w, sc, sc)
			}
			flops(b)
		})
	}
}

// TestDepthwise2 runs testDepthwise2 on every kernel path.
func TestDepthwise2(t *testing.T) { forEachPath(t, testDepthwise2) }

// testDepthwise2: stride 2 through the phase planes (Phases32,
// NewDepthwiseTaps2), against the definition in float64 with zero padding,
// on 1 to 5 planes of several even sizes, 3×3 and 1×3 kernels, padding 0
// or 1 above and left (TensorFlow's 'same' at stride 2 pads below and
// right, which the mask leaves out as it leaves out every input off the
// plane).
func testDepthwise2(t *testing.T) {
	rng := NewRNG(9)
	for _, c := range []struct{ h, w, kh, kw, pt, pl int }{
		{48, 48, 3, 3, 0, 0}, {6, 6, 3, 3, 0, 0}, {6, 6, 3, 3, 1, 1}, {2, 2, 3, 3, 1, 1}, {4, 10, 1, 3, 0, 1}, {12, 2, 3, 3, 1, 0},
	} {
		for planes := 1; planes <= 5; planes++ {
			d := NewDepthwiseTaps2(planes, c.h, c.w, c.kh, c.kw, c.pt, c.pl)
			oh, ow := c.h/2, c.w/2
			x := make([]float32, planes*c.h*c.w)
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			w := make([]float32, planes*c.kh*c.kw)
			bias, scale, shift := make([]float32, planes), make([]float32, planes), make([]float32, planes)
			for i := range w {
				w[i] = float32(rng.NormFloat64())
			}
			for i := range bias {
				bias[i], scale[i], shift[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64()), float32(rng.NormFloat64())
			}
			ph := make([]float32, len(x))
			Phases32(ph, x, planes, c.h, c.w)
			z, y := make([]float32, planes*oh*ow+5), make([]float32, planes*oh*ow)
			z[len(z)-1] = -7
			DepthwiseScaleShiftRelu32(z, y, ph, d, w, bias, scale, shift, planes)
			name := fmt.Sprintf("%+v planes %d", c, planes)
			require := func(ok bool, format string, args ...any) {
				if !ok {
					t.Fatalf(name+": "+format, args...)
				}
			}
			require(z[len(z)-1] == -7, "wrote past z")
			for p := range planes {
				for oy := range oh {
					for ox := range ow {
						s, m := float64(bias[p]), math.Abs(float64(bias[p]))
						for ky := range c.kh {
							for kx := range c.kw {
								r, col := 2*oy+ky-c.pt, 2*ox+kx-c.pl
								if r < 0 || r >= c.h || col < 0 || col >= c.w {
									continue
								}
								v := float64(w[(p*c.kh+ky)*c.kw+kx]) * float64(x[(p*c.h+r)*c.w+col])
								s, m = s+v, m+math.Abs(v)
							}
						}
						i := (p*oh+oy)*ow + ox
						require(math.Abs(float64(z[i])-s) <= 1e-6*m+1e-30, "z[%d] = %v, want %v", i, z[i], s)
						want := float32(z[i]*scale[p]) + shift[p]
						if want <= 0 {
							want = 0
						}
						require(math.Float32bits(y[i]) == math.Float32bits(want), "y[%d] = %v, want %v", i, y[i], want)
					}
				}
			}
		}
	}
	d := NewDepthwiseTaps2(2, 6, 6, 3, 3, 0, 0)
	ok := make([]float32, 2*36)
	w := make([]float32, 18)
	assert.Panics(t, func() { Depthwise32(ok[:17], ok, d, w, nil, 2) })
	assert.Panics(t, func() { Depthwise32(ok[:18], ok[:71], d, w, nil, 2) }) // the phase planes are 4·2·9
	assert.Panics(t, func() { Depthwise32(ok, ok, d, w, nil, 1) })           // the taps are for 2 planes
	assert.Panics(t, func() { NewDepthwiseTaps2(2, 5, 6, 3, 3, 0, 0) })
}

// TestPhases: Phases32 on every path writes each phase plane as defined,
// for row widths around the vector widths (whole vectors, masked tails of
// every length), from unaligned operands, and nothing past dst; Phases64
// and the size checks.
func TestPhases(t *testing.T) { forEachPath(t, testPhases) }

func testPhases(t *testing.T) {
	rng := NewRNG(31)
	for _, c := range []int{1, 3} {
		for _, h := range []int{2, 4, 6} {
			for w := 2; w <= 72; w += 2 {
				n := c * h * w
				x := elementwiseInput(rng, n, 1+w%3, true)
				buf := make([]float32, n+2)
				dst := buf[1 : n+1]
				buf[0], buf[n+1] = 7, 7
				Phases32(dst, x, c, h, w)
				q := n / 4
				for a := range 2 {
					for b := range 2 {
						for p := range c {
							for r := range h / 2 {
								for j := range w / 2 {
									got, want := dst[(a*2+b)*q+(p*h/2+r)*w/2+j], x[(p*h+2*r+a)*w+2*j+b]
									if !sameBits(got, want) {
										t.Fatalf("c %d h %d w %d: phase (%d,%d) plane %d [%d][%d] = %v, want %v", c, h, w, a, b, p, r, j, got, want)
									}
								}
							}
						}
					}
				}
				require.Equal(t, []float32{7, 7}, []float32{buf[0], buf[n+1]}, "c %d h %d w %d: wrote outside dst", c, h, w)
			}
		}
	}
	x := make([]float32, 8)
	assert.Zero(t, testing.AllocsPerRun(10, func() { Phases32(x, x[:], 2, 2, 2) }))
}

func TestPhasesChecks(t *testing.T) {
	x := make([]float32, 24)
	assert.Panics(t, func() { Phases32(x, x, 1, 3, 8) })
	assert.Panics(t, func() { Phases32(x, x, 1, 4, 5) })
	assert.Panics(t, func() { Phases32(x[:23], x, 1, 4, 6) })
	assert.Panics(t, func() { Phases32(x, x[:23], 1, 4, 6) })
	assert.NotPanics(t, func() { Phases32(nil, nil, 0, 4, 6) })
	d := make([]float64, 8)
	Phases64(d, []float64{0, 1, 2, 3, 4, 5, 6, 7}, 2, 2, 2)
	// plane 0 [[0 1] [2 3]], plane 1 [[4 5] [6 7]]: phase (a,b) holds x[p][a][b]
	assert.Equal(t, []float64{0, 4, 1, 5, 2, 6, 3, 7}, d)
}
