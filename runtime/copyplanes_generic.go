//go:build purego || !amd64

package runtime

// CopyPlanes32 does dst[p*dps+r*drs+i] = src[p*sps+r*srs+i] for p < planes,
// r < rows and i < n. (The vector kernels may also set elements of dst between
// the rows to zero.)
func CopyPlanes32(dst []float32, dps, drs int, src []float32, sps, srs, planes, rows, n int) {
	scalarCopyPlanes(dst, dps, drs, src, sps, srs, planes, rows, n)
}
