//go:build !purego

package runtime

import "unsafe"

// Depthwise32 sets z[p*n+i] to bias[p] plus the taps' w·x inside plane p
// (see DepthwiseTaps), for p < planes and i < n, with n the output and in
// the input plane size of d; bias may be nil (zero). The vector kernels sum
// two planes and up to eight vectors (AVX2: four) of each at a time, each
// shifted input vector added under its lane mask with an FMA.
func Depthwise32(z, x []float32, d *DepthwiseTaps, w, bias []float32, planes int) {
	depthwise32(z, nil, x, d, w, bias, nil, nil, planes, false)
}

// DepthwiseScaleShift32 is Depthwise32 with an inference-mode batchnorm:
// it also sets y[p*n+i] = z[p*n+i]·scale[p] + shift[p], the product rounded
// first (as CopyPlanesScaleShift32); z may be nil.
func DepthwiseScaleShift32(z, y, x []float32, d *DepthwiseTaps, w, bias, scale, shift []float32, planes int) {
	depthwise32(z, y, x, d, w, bias, scale, shift, planes, false)
}

// DepthwiseScaleShiftRelu32 is DepthwiseScaleShift32 with a ReLU on y (each
// value kept where > 0 or NaN, else +0).
func DepthwiseScaleShiftRelu32(z, y, x []float32, d *DepthwiseTaps, w, bias, scale, shift []float32, planes int) {
	depthwise32(z, y, x, d, w, bias, scale, shift, planes, true)
}

// depthwise32's mode bits for the kernels.
const (
	dwZ, dwY, dwRelu, dwBias = 1, 2, 4, 8
)

func depthwise32(z, y, x []float32, d *DepthwiseTaps, w, bias, scale, shift []float32, planes int, relu bool) {
	if planes <= 0 || simdLevel == simdGeneric {
		scalarDepthwise(z, y, x, d, w, bias, scale, shift, planes, relu)
		return
	}
	checkDepthwise(len(z), z == nil, len(y), y == nil, len(x), d, len(w), len(bias), bias == nil, len(scale), len(shift), planes)
	// the pointers the mode leaves out point at operands that are there
	// (the kernel advances them, never reads them)
	mode := 0
	pw := &w[0]
	pz, py, pb, ps, pt := pw, pw, pw, pw, pw
	if z != nil {
		mode |= dwZ
		pz, py = &z[0], &z[0]
	}
	if y != nil {
		mode |= dwY
		py, ps, pt = &y[0], &scale[0], &shift[0]
		if z == nil {
			pz = py
		}
		if relu {
			mode |= dwRelu
		}
	}
	if bias != nil {
		mode |= dwBias
		pb = &bias[0]
	}
	offs, masks := unsafe.SliceData(d.offs), unsafe.SliceData(d.masks)
	if simdLevel == simdAVX512 {
		depthwise512(pz, py, &x[0], offs, masks, pw, pb, ps, pt, planes, len(d.offs), d.n, d.in, d.nv, mode)
	} else {
		depthwise256(pz, py, &x[0], offs, masks, pw, pb, ps, pt, planes, len(d.offs), d.n, d.in, d.nv, mode)
	}
}

// phases32 is Phases32 with the operands checked: one pass of the vector
// kernel over the input rows (internal/asmgen: phaseSplit).
func phases32(dst, x []float32, c, h, w int) {
	switch simdLevel {
	case simdAVX512:
		phaseSplit512(&dst[0], c*h*w/4, &x[0], c*h/2, w)
	case simdAVX2:
		phaseSplit256(&dst[0], c*h*w/4, &x[0], c*h/2, w)
	default:
		scalarPhases(dst, x, c, h, w)
	}
}
