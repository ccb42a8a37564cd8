package runtime

import "fmt"

// CopyPlanes: rows of planes copied between arrays of different row and
// plane strides in one call, for a layer's few-element rows: the padding copy
// of a convolution's input into its padded planes, the crops of the depthwise
// convolutions' flat planes (gen/conv2d.go, gen/dwconv.go).

// CopyPlanes64 does dst[p*dps+r*drs+i] = src[p*sps+r*srs+i] for p < planes,
// r < rows and i < n.
func CopyPlanes64(dst []float64, dps, drs int, src []float64, sps, srs, planes, rows, n int) {
	scalarCopyPlanes(dst, dps, drs, src, sps, srs, planes, rows, n)
}

// checkCopyPlanes panics unless the operands are long enough and the rows of
// dst follow one another (drs ≥ n, dps ≥ (rows-1)·drs + n), which the vector
// kernels' zeros between the rows need.
func checkCopyPlanes(kernel string, nd, dps, drs, ns, sps, srs, planes, rows, n int) {
	if planes <= 0 || rows <= 0 || n <= 0 {
		return
	}
	if drs < n || dps < (rows-1)*drs+n || sps < 0 || srs < 0 {
		panic(fmt.Sprintf("runtime.%s: bad strides dps=%d drs=%d sps=%d srs=%d for %d rows of %d", kernel, dps, drs, sps, srs, rows, n))
	}
	if need := (planes-1)*dps + (rows-1)*drs + n; need > nd {
		simdShort(kernel, "dst", nd, need)
	}
	if need := (planes-1)*sps + (rows-1)*srs + n; need > ns {
		simdShort(kernel, "src", ns, need)
	}
}

func scalarCopyPlanes[T simdFloat](dst []T, dps, drs int, src []T, sps, srs, planes, rows, n int) {
	checkCopyPlanes("CopyPlanes", len(dst), dps, drs, len(src), sps, srs, planes, rows, n)
	if planes <= 0 || rows <= 0 || n <= 0 {
		return
	}
	for p := range planes {
		for r := range rows {
			copy(dst[p*dps+r*drs:p*dps+r*drs+n], src[p*sps+r*srs:p*sps+r*srs+n])
		}
	}
}
