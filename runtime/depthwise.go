package runtime

import "fmt"

// Depthwise convolutions at stride 1 whose output rows are as wide as their
// input rows (left + right padding = KW-1, e.g. padding: same), straight from
// the unpadded input planes: output i = oh·W + ow of a plane reads input
// i + offs[t] at tap t = kh·KW + kw, offs[t] = (kh-PT)·W + (kw-PL),
// wherever that input is inside the plane (row oh+kh-PT in [0, H), column
// ow+kw-PL in [0, W)); the padding contributes nothing. A table of lane
// masks, one per tap and vector of 16 outputs, says which: the vector
// kernels add each shifted input vector under its mask (AVX-512: merge-
// masked FMAs from memory, the lanes off the plane neither read nor added)
// instead of reading a zero-padded copy, so no padded copy of the input is
// made and no sums over padding columns are computed and cropped
// (gen/dwconv.go's flat planes):
//
//	s = bias; for t { if inside: s += w[t]·x[i + offs[t]] }
//
// the taps in weight order, as the flat planes' ShiftSum adds them (the
// vector kernels round each product into the sum, FMA, as ShiftSum32 does;
// the generic one does not, as its ShiftSum does not). The flat planes add
// w·0 where this skips a tap: the same sums but for a -0 bias with no tap
// inside, or a non-finite weight times a padding zero.

// DepthwiseTaps is the geometry of one such convolution: the tap offsets
// and lane masks. Build it once (NewDepthwiseTaps) and pass it to every
// call; it is read-only and may be shared between goroutines.
type DepthwiseTaps struct {
	in, n, nv int
	// phases: the planes of a stride-2 convolution (NewDepthwiseTaps2),
	// whose x holds four phase planes of each; 0 at stride 1
	phases int
	offs   []int32
	// masks[t*nv+v] has bit j set when output 16v+j (< n) reads an input
	// of its plane at tap t.
	masks []uint16
}

// NewDepthwiseTaps returns the taps of a KH×KW depthwise convolution at
// stride 1 over H×W input planes padded PT rows above, PB below and PL
// columns left (KW-1-PL right, so that the output rows are W wide): output
// planes of (H+PT+PB-KH+1)×W. It panics on a geometry outside that (a
// generated package passes constants).
func NewDepthwiseTaps(h, w, kh, kw, pt, pb, pl int) *DepthwiseTaps {
	oh := h + pt + pb - kh + 1
	if h < 1 || w < 1 || kh < 1 || kw < 1 || pt < 0 || pb < 0 || pl < 0 || pl > kw-1 || oh < 1 {
		panic(fmt.Sprintf("runtime.NewDepthwiseTaps: bad geometry h=%d w=%d kh=%d kw=%d pt=%d pb=%d pl=%d", h, w, kh, kw, pt, pb, pl))
	}
	d := &DepthwiseTaps{in: h * w, n: oh * w, nv: (oh*w + 15) / 16}
	d.offs = make([]int32, kh*kw)
	d.masks = make([]uint16, kh*kw*d.nv)
	for ky := range kh {
		for kx := range kw {
			t := ky*kw + kx
			d.offs[t] = int32((ky-pt)*w + kx - pl)
			for i := range d.n {
				r, c := i/w+ky-pt, i%w+kx-pl
				if r >= 0 && r < h && c >= 0 && c < w {
					d.masks[t*d.nv+i/16] |= 1 << (i % 16)
				}
			}
		}
	}
	return d
}

// NewDepthwiseTaps2 returns the taps of a KH×KW depthwise convolution at
// stride 2 over c planes of H×W (both even) padded PT rows above and PL
// columns left, with (H/2)×(W/2) output planes, that reads the input's four
// phase planes (Phases32: rows and columns of even and odd index apart,
// [2][2][c][H/2][W/2]) instead of the input: output (oh, ow) reads input
// (2·oh+kh-PT, 2·ow+kw-PL), which is phase ((kh-PT) mod 2, (kw-PL) mod 2) at
// (oh + ⌊(kh-PT)/2⌋, ow + ⌊(kw-PL)/2⌋): a flat offset from output i in
// planes of the output's width, as at stride 1. Calls with it take planes
// = c and x the phase planes (4·c·(H/2)·(W/2) values). It panics on a
// geometry outside that.
func NewDepthwiseTaps2(c, h, w, kh, kw, pt, pl int) *DepthwiseTaps {
	if c < 1 || h < 2 || w < 2 || h%2 != 0 || w%2 != 0 || kh < 1 || kw < 1 || pt < 0 || pl < 0 || pt > kh-1 || pl > kw-1 {
		panic(fmt.Sprintf("runtime.NewDepthwiseTaps2: bad geometry c=%d h=%d w=%d kh=%d kw=%d pt=%d pl=%d", c, h, w, kh, kw, pt, pl))
	}
	oh, ow := h/2, w/2
	d := &DepthwiseTaps{in: oh * ow, n: oh * ow, nv: (oh*ow + 15) / 16, phases: c}
	d.offs = make([]int32, kh*kw)
	d.masks = make([]uint16, kh*kw*d.nv)
	floor2 := func(v int) int { return (v - (v & 1)) / 2 } // ⌊v/2⌋ for negative v too
	for ky := range kh {
		for kx := range kw {
			t := ky*kw + kx
			a, b := (ky-pt)&1, (kx-pl)&1
			dy, dx := floor2(ky-pt), floor2(kx-pl)
			d.offs[t] = int32(((a*2+b)*c)*d.in + dy*ow + dx)
			for i := range d.n {
				r, col := i/ow+dy, i%ow+dx
				if r >= 0 && r < oh && col >= 0 && col < ow {
					d.masks[t*d.nv+i/16] |= 1 << (i % 16)
				}
			}
		}
	}
	return d
}

// Phases32 writes the four phase planes of c planes of H×W (both even) into
// dst, [2][2][c][H/2][W/2]: dst[a][b][p][r][j] = x[p][2r+a][2j+b], the input
// of a stride-2 depthwise convolution with NewDepthwiseTaps2. The vector
// kernels split each input row into its even and odd elements in one pass.
func Phases32(dst, x []float32, c, h, w int) {
	checkPhases(len(dst), len(x), c, h, w)
	if c*h*w == 0 {
		return
	}
	phases32(dst, x, c, h, w)
}

// Phases64 is Phases32 for float64.
func Phases64(dst, x []float64, c, h, w int) {
	checkPhases(len(dst), len(x), c, h, w)
	scalarPhases(dst, x, c, h, w)
}

// checkPhases panics unless c, h, w ≥ 0 with h and w even and dst and x
// hold c·h·w elements.
func checkPhases(nd, nx, c, h, w int) {
	switch {
	case c < 0 || h < 0 || w < 0 || h%2 != 0 || w%2 != 0:
		panic(fmt.Sprintf("runtime.Phases: %d planes of %d×%d: want even sizes", c, h, w))
	case nx < c*h*w:
		simdShort("Phases", "x", nx, c*h*w)
	case nd < c*h*w:
		simdShort("Phases", "dst", nd, c*h*w)
	}
}

// scalarPhases is Phases32/64 in Go.
func scalarPhases[T simdFloat](dst, x []T, c, h, w int) {
	q := c * h * w / 4
	for a := range 2 {
		for b := range 2 {
			d := dst[(a*2+b)*q:][:q]
			for p := range c * h / 2 {
				row := x[(2*p+a)*w:][:w]
				out := d[p*w/2:][:w/2]
				for j := range out {
					out[j] = row[2*j+b]
				}
			}
		}
	}
}

// Taps is the number of taps (KH·KW), the weights per plane.
func (d *DepthwiseTaps) Taps() int { return len(d.offs) }

// Depthwise64 sets z[p*n+i] to bias[p] plus the taps' w·x inside plane p
// (see DepthwiseTaps), for p < planes and i < n, with n the output and in
// the input plane size of d; bias may be nil (zero).
func Depthwise64(z, x []float64, d *DepthwiseTaps, w, bias []float64, planes int) {
	scalarDepthwise(z, nil, x, d, w, bias, nil, nil, planes, false)
}

// DepthwiseScaleShift64 is Depthwise64 with an inference-mode batchnorm:
// it also sets y[p*n+i] = z[p*n+i]·scale[p] + shift[p], the product rounded
// first (as CopyPlanesScaleShift64); z may be nil.
func DepthwiseScaleShift64(z, y, x []float64, d *DepthwiseTaps, w, bias, scale, shift []float64, planes int) {
	scalarDepthwise(z, y, x, d, w, bias, scale, shift, planes, false)
}

// DepthwiseScaleShiftRelu64 is DepthwiseScaleShift64 with a ReLU on y (each
// value kept where > 0 or NaN, else +0).
func DepthwiseScaleShiftRelu64(z, y, x []float64, d *DepthwiseTaps, w, bias, scale, shift []float64, planes int) {
	scalarDepthwise(z, y, x, d, w, bias, scale, shift, planes, true)
}

// checkDepthwise panics unless every operand is long enough for planes
// planes of d (z or y may be nil, not both; scale and shift are read only
// with y).
func checkDepthwise(nz int, zNil bool, ny int, yNil bool, nx int, d *DepthwiseTaps, nw, nbias int, biasNil bool, nscale, nshift, planes int) {
	const kernel = "Depthwise"
	if d == nil {
		panic("runtime.Depthwise: nil DepthwiseTaps")
	}
	if zNil && yNil {
		panic("runtime.Depthwise: z and y are both nil")
	}
	if planes <= 0 {
		return
	}
	if need := planes * d.n; !zNil && nz < need {
		simdShort(kernel, "z", nz, need)
	}
	if need := planes * d.n; !yNil && ny < need {
		simdShort(kernel, "y", ny, need)
	}
	if d.phases > 0 && planes != d.phases {
		panic(fmt.Sprintf("runtime.Depthwise: %d planes, the taps are for %d", planes, d.phases))
	}
	if need := max(planes, 4*d.phases) * d.in; nx < need {
		simdShort(kernel, "x", nx, need)
	}
	if need := planes * len(d.offs); nw < need {
		simdShort(kernel, "w", nw, need)
	}
	if !biasNil && nbias < planes {
		simdShort(kernel, "bias", nbias, planes)
	}
	if !yNil && nscale < planes {
		simdShort(kernel, "scale", nscale, planes)
	}
	if !yNil && nshift < planes {
		simdShort(kernel, "shift", nshift, planes)
	}
}

func scalarDepthwise[T simdFloat](z, y, x []T, d *DepthwiseTaps, w, bias, scale, shift []T, planes int, relu bool) {
	checkDepthwise(len(z), z == nil, len(y), y == nil, len(x), d, len(w), len(bias), bias == nil, len(scale), len(shift), planes)
	taps := len(d.offs)
	for p := range planes {
		xp, wp := x[p*d.in:], w[p*taps:(p+1)*taps] // (the taps of NewDepthwiseTaps2 reach the other phase planes)
		var b T
		if bias != nil {
			b = bias[p]
		}
		for i := range d.n {
			s := b
			for t, off := range d.offs {
				if d.masks[t*d.nv+i/16]>>(i%16)&1 != 0 {
					s += wp[t] * xp[i+int(off)]
				}
			}
			if z != nil {
				z[p*d.n+i] = s
			}
			if y != nil {
				// the product rounded before the shift is added (no FMA)
				v := T(s*scale[p]) + shift[p]
				if relu && v <= 0 {
					v = 0
				}
				y[p*d.n+i] = v
			}
		}
	}
}
