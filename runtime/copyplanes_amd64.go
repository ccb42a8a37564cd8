//go:build !purego

package runtime

// CopyPlanes32 does dst[p*dps+r*drs+i] = src[p*sps+r*srs+i] for p < planes,
// r < rows and i < n. The elements of dst between its rows (after a row's n,
// before the next row, up to the last row's end) may be set to zero: the
// callers' are zero padding.
func CopyPlanes32(dst []float32, dps, drs int, src []float32, sps, srs, planes, rows, n int) {
	if planes <= 0 || rows <= 0 || n <= 0 || simdLevel == simdGeneric {
		scalarCopyPlanes(dst, dps, drs, src, sps, srs, planes, rows, n)
		return
	}
	checkCopyPlanes("CopyPlanes", len(dst), dps, drs, len(src), sps, srs, planes, rows, n)
	// rows of up to 32 go as ymm (measured faster than zmm stores)
	if simdLevel == simdAVX512 && n > 32 {
		copyPlanes512(&dst[0], dps, drs, &src[0], sps, srs, planes, rows, n)
	} else {
		copyPlanes256(&dst[0], dps, drs, &src[0], sps, srs, planes, rows, n)
	}
}

// CopyPlanesScaleShift32 does, for p < planes, r < rows, i < n and
// v = src[p*sps+r*srs+i], z[p*dps+r*drs+i] = v (unless z is nil) and
// y[p*dps+r*drs+i] = v·scale[p] + shift[p], the product rounded first (as
// CopyPlanes32 and ScaleShiftRows32). Elements of z and y between their
// rows may be set to zero, as by CopyPlanes32.
func CopyPlanesScaleShift32(z, y []float32, dps, drs int, src []float32, sps, srs, planes, rows, n int, scale, shift []float32) {
	copyPlanesBN32(z, y, dps, drs, src, sps, srs, planes, rows, n, scale, shift, false)
}

// CopyPlanesScaleShiftRelu32 is CopyPlanesScaleShift32 with a ReLU on y
// (each value kept where > 0 or NaN, else +0, as ReluForward32).
func CopyPlanesScaleShiftRelu32(z, y []float32, dps, drs int, src []float32, sps, srs, planes, rows, n int, scale, shift []float32) {
	copyPlanesBN32(z, y, dps, drs, src, sps, srs, planes, rows, n, scale, shift, true)
}

func copyPlanesBN32(z, y []float32, dps, drs int, src []float32, sps, srs, planes, rows, n int, scale, shift []float32, relu bool) {
	if planes <= 0 || rows <= 0 || n <= 0 || simdLevel == simdGeneric {
		scalarCopyPlanesBN(z, y, dps, drs, src, sps, srs, planes, rows, n, scale, shift, relu)
		return
	}
	checkCopyPlanesBN(len(z), z == nil, len(y), dps, drs, len(src), sps, srs, planes, rows, n, len(scale), len(shift))
	// z is y's limit in the kernel when not stored
	mode, pz := 1, z
	if z == nil {
		mode, pz = 0, y
	}
	if relu {
		mode |= 4
	}
	// rows of up to 32 go as ymm (as CopyPlanes32)
	if simdLevel == simdAVX512 && n > 32 {
		copyPlanesBN512(&pz[0], &y[0], dps, drs, &src[0], sps, srs, planes, rows, n, &scale[0], &shift[0], mode)
	} else {
		copyPlanesBN256(&pz[0], &y[0], dps, drs, &src[0], sps, srs, planes, rows, n, &scale[0], &shift[0], mode)
	}
}
