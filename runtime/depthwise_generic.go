//go:build purego || !amd64

package runtime

// Depthwise32 sets z[p*n+i] to bias[p] plus the taps' w·x inside plane p
// (see DepthwiseTaps), for p < planes and i < n, with n the output and in
// the input plane size of d; bias may be nil (zero).
func Depthwise32(z, x []float32, d *DepthwiseTaps, w, bias []float32, planes int) {
	scalarDepthwise(z, nil, x, d, w, bias, nil, nil, planes, false)
}

// DepthwiseScaleShift32 is Depthwise32 with an inference-mode batchnorm:
// it also sets y[p*n+i] = z[p*n+i]·scale[p] + shift[p], the product rounded
// first (as CopyPlanesScaleShift32); z may be nil.
func DepthwiseScaleShift32(z, y, x []float32, d *DepthwiseTaps, w, bias, scale, shift []float32, planes int) {
	scalarDepthwise(z, y, x, d, w, bias, scale, shift, planes, false)
}

// DepthwiseScaleShiftRelu32 is DepthwiseScaleShift32 with a ReLU on y (each
// value kept where > 0 or NaN, else +0).
func DepthwiseScaleShiftRelu32(z, y, x []float32, d *DepthwiseTaps, w, bias, scale, shift []float32, planes int) {
	scalarDepthwise(z, y, x, d, w, bias, scale, shift, planes, true)
}

// phases32 is Phases32 with the operands checked.
func phases32(dst, x []float32, c, h, w int) { scalarPhases(dst, x, c, h, w) }
