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
