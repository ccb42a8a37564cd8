package runtime

import "fmt"

// GemmConv: the forward product of a stride-1 convolution without im2col
// (an implicit GEMM). With xp the zero-padded input [C][Hp][Wp] and offs
// the offset of each patch row p = (c·KH + kh)·KW + kw in it
// (c·Hp·Wp + kh·DH·Wp + kw·DW, ConvOffsets), the im2col matrix is
//
//	B(p, y·w + x) = xp[offs[p] + y·wp + x]   (y < h, x < w: the output grid, wp the padded row stride)
//
// and the tile kernels read its vectors straight from xp: one copy of the
// input (into its padded planes) instead of KH·KW copies into cols. The
// output is Z = W·B (+ bias) in the [F][h·w] layout of GemmNNBias, with the
// same modes (ReLU, batchnorm scale-shift into a second output), and bit for
// bit what GemmNNBias and its siblings write from the im2col matrix: the
// same products summed in the same order.
//
// On the vector paths each vector of a tile holds consecutive positions of
// one output row, so w must be a multiple of the vector width: of 16 for the
// avx512 kernels, of 8 for the avx2 ones (which the avx512 path takes for
// the other multiples of 8); other widths run the pure-Go loop.

// ConvOffsets returns the offsets of the patch rows of a stride-1
// convolution over c channels of a padded input with planes of plane
// elements and rows of wp: offs[(ci·kh + ky)·kw + kx] = ci·plane +
// ky·dh·wp + kx·dw.
func ConvOffsets(c, kh, kw, dh, dw, plane, wp int) []int32 {
	offs := make([]int32, 0, c*kh*kw)
	for ci := range c {
		for ky := range kh {
			for kx := range kw {
				offs = append(offs, int32(ci*plane+ky*dh*wp+kx*dw))
			}
		}
	}
	return offs
}

// GemmConvBias32 sets c[i·h·w + y·w + x] = bias[i] + Σ_p a[i·k+p]·xp[offs[p] +
// y·wp + x] for i < m, y < h, x < w, with k = len(offs): the forward pass of
// a stride-1 convolution (a the filters [F][P]) from its padded input (see
// above). bias may be nil (the sums start from zero). c must not overlap
// the other operands.
func GemmConvBias32(c, a, xp []float32, offs []int32, bias []float32, m, h, w, wp int) {
	checkGemmConv(len(c), -1, len(a), len(xp), offs, len(bias), bias != nil, -1, -1, m, h, w, wp)
	gemmConv32(c, nil, a, xp, offs, bias, nil, nil, m, h, w, wp, gemmConvStart(bias != nil))
}

// GemmConvBiasRelu32 is GemmConvBias32 with a ReLU on c in the same store,
// as GemmNNBiasRelu32.
func GemmConvBiasRelu32(c, a, xp []float32, offs []int32, bias []float32, m, h, w, wp int) {
	checkGemmConv(len(c), -1, len(a), len(xp), offs, len(bias), bias != nil, -1, -1, m, h, w, wp)
	gemmConv32(c, nil, a, xp, offs, bias, nil, nil, m, h, w, wp, gemmConvStart(bias != nil)|gemmRelu)
}

// GemmConvBiasScaleShift32 is GemmConvBias32 into z with the
// inference-mode batchnorm after it into y, as GemmNNBiasScaleShift32:
// y[i·h·w + j] = z[i·h·w + j]·scale[i] + shift[i].
func GemmConvBiasScaleShift32(z, y, a, xp []float32, offs []int32, bias, scale, shift []float32, m, h, w, wp int) {
	checkGemmConv(len(z), len(y), len(a), len(xp), offs, len(bias), bias != nil, len(scale), len(shift), m, h, w, wp)
	gemmConv32(z, y, a, xp, offs, bias, scale, shift, m, h, w, wp, gemmConvStart(bias != nil)|gemmScaleShift)
}

// GemmConvBiasScaleShiftRelu32 is GemmConvBiasScaleShift32 with a ReLU on
// y, as GemmNNBiasScaleShiftRelu32.
func GemmConvBiasScaleShiftRelu32(z, y, a, xp []float32, offs []int32, bias, scale, shift []float32, m, h, w, wp int) {
	checkGemmConv(len(z), len(y), len(a), len(xp), offs, len(bias), bias != nil, len(scale), len(shift), m, h, w, wp)
	gemmConv32(z, y, a, xp, offs, bias, scale, shift, m, h, w, wp, gemmConvStart(bias != nil)|gemmScaleShift|gemmRelu)
}

// GemmConvBias64 is GemmConvBias32 for float64.
func GemmConvBias64(c, a, xp []float64, offs []int32, bias []float64, m, h, w, wp int) {
	checkGemmConv(len(c), -1, len(a), len(xp), offs, len(bias), bias != nil, -1, -1, m, h, w, wp)
	scalarGemmConv(c, nil, a, xp, offs, bias, nil, nil, m, h, w, wp, gemmConvStart(bias != nil))
}

// GemmConvBiasRelu64 is GemmConvBiasRelu32 for float64.
func GemmConvBiasRelu64(c, a, xp []float64, offs []int32, bias []float64, m, h, w, wp int) {
	checkGemmConv(len(c), -1, len(a), len(xp), offs, len(bias), bias != nil, -1, -1, m, h, w, wp)
	scalarGemmConv(c, nil, a, xp, offs, bias, nil, nil, m, h, w, wp, gemmConvStart(bias != nil)|gemmRelu)
}

// GemmConvBiasScaleShift64 is GemmConvBiasScaleShift32 for float64.
func GemmConvBiasScaleShift64(z, y, a, xp []float64, offs []int32, bias, scale, shift []float64, m, h, w, wp int) {
	checkGemmConv(len(z), len(y), len(a), len(xp), offs, len(bias), bias != nil, len(scale), len(shift), m, h, w, wp)
	scalarGemmConv(z, y, a, xp, offs, bias, scale, shift, m, h, w, wp, gemmConvStart(bias != nil)|gemmScaleShift)
}

// GemmConvBiasScaleShiftRelu64 is GemmConvBiasScaleShiftRelu32 for float64.
func GemmConvBiasScaleShiftRelu64(z, y, a, xp []float64, offs []int32, bias, scale, shift []float64, m, h, w, wp int) {
	checkGemmConv(len(z), len(y), len(a), len(xp), offs, len(bias), bias != nil, len(scale), len(shift), m, h, w, wp)
	scalarGemmConv(z, y, a, xp, offs, bias, scale, shift, m, h, w, wp, gemmConvStart(bias != nil)|gemmScaleShift|gemmRelu)
}

// gemmConvStart is the start mode: from the bias or from zero.
func gemmConvStart(bias bool) int {
	if bias {
		return gemmBias
	}
	return gemmZero
}

// checkGemmConv panics unless the operands of GemmConv fit: c (and y, ny ≥
// 0) m·h·w, a m·k, every window of xp inside it, and m values of bias (if
// any), scale and shift (ns, nt ≥ 0).
//
//go:noinline
func checkGemmConv(nc, ny, na, nxp int, offs []int32, nbias int, bias bool, ns, nt int, m, h, w, wp int) {
	if m < 0 || h < 0 || w < 0 || wp < w {
		panic(fmt.Sprintf("runtime.GemmConv: bad sizes m=%d h=%d w=%d wp=%d", m, h, w, wp))
	}
	n, k := h*w, len(offs)
	if m == 0 || n == 0 {
		return
	}
	switch {
	case nc < m*n:
		simdShort("GemmConv", "c", nc, m*n)
	case ny >= 0 && ny < m*n:
		simdShort("GemmConv", "y", ny, m*n)
	case na < m*k:
		simdShort("GemmConv", "a", na, m*k)
	case bias && nbias < m:
		simdShort("GemmConv", "bias", nbias, m)
	case ns >= 0 && ns < m:
		simdShort("GemmConv", "scale", ns, m)
	case nt >= 0 && nt < m:
		simdShort("GemmConv", "shift", nt, m)
	}
	hi := 0
	for _, o := range offs {
		if o < 0 {
			panic(fmt.Sprintf("runtime.GemmConv: negative offset %d", o))
		}
		hi = max(hi, int(o))
	}
	if need := hi + (h-1)*wp + w; k > 0 && nxp < need {
		simdShort("GemmConv", "xp", nxp, need)
	}
}

// scalarGemmConv is the pure-Go GemmConv: each row of c from its bias (or
// zero), then a[i·k+p] times the window rows of patch row p added in, p by p
// (the order of scalarGemmXN over the im2col matrix), then gemmStore.
func scalarGemmConv[T simdFloat](c, c2, a, xp []T, offs []int32, bias, scale, shift []T, m, h, w, wp, mode int) {
	n, k := h*w, len(offs)
	if m == 0 || n == 0 {
		return
	}
	for i := range m {
		ci := c[i*n : i*n+n]
		if mode&gemmStart == gemmBias {
			fillRows(ci, bias[i:], 1, n)
		} else {
			clear(ci)
		}
		for p, o := range offs {
			ai := a[i*k+p]
			for y := range h {
				r := int(o) + y*wp
				scalarAxpy(ai, xp[r:r+w], ci[y*w:y*w+w])
			}
		}
	}
	gemmStore(c, c2, scale, shift, m, n, mode)
}
