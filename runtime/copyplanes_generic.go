//go:build purego || !amd64

package runtime

// CopyPlanes32 does dst[p*dps+r*drs+i] = src[p*sps+r*srs+i] for p < planes,
// r < rows and i < n. (The vector kernels may also set elements of dst between
// the rows to zero.)
func CopyPlanes32(dst []float32, dps, drs int, src []float32, sps, srs, planes, rows, n int) {
	scalarCopyPlanes(dst, dps, drs, src, sps, srs, planes, rows, n)
}

// CopyPlanesScaleShift32 does, for p < planes, r < rows, i < n and
// v = src[p*sps+r*srs+i], z[p*dps+r*drs+i] = v (unless z is nil) and
// y[p*dps+r*drs+i] = v·scale[p] + shift[p], the product rounded first.
func CopyPlanesScaleShift32(z, y []float32, dps, drs int, src []float32, sps, srs, planes, rows, n int, scale, shift []float32) {
	scalarCopyPlanesBN(z, y, dps, drs, src, sps, srs, planes, rows, n, scale, shift, false)
}

// CopyPlanesScaleShiftRelu32 is CopyPlanesScaleShift32 with a ReLU on y
// (each value kept where > 0 or NaN, else +0).
func CopyPlanesScaleShiftRelu32(z, y []float32, dps, drs int, src []float32, sps, srs, planes, rows, n int, scale, shift []float32) {
	scalarCopyPlanesBN(z, y, dps, drs, src, sps, srs, planes, rows, n, scale, shift, true)
}
