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

// CopyPlanesScaleShift: CopyPlanes with an inference-mode batchnorm on the
// way, for the depthwise convolutions a batchnorm follows (gen/dwconv.go):
// the crop of their flat sums into the output planes z and the batchnorm's
// output y (its ReLU's with Relu) in one pass, or the batchnorm alone over
// output planes already written (z nil, rows 1).

// CopyPlanesScaleShift64 does, for p < planes, r < rows, i < n and
// v = src[p*sps+r*srs+i], z[p*dps+r*drs+i] = v (unless z is nil) and
// y[p*dps+r*drs+i] = v·scale[p] + shift[p], the product rounded first.
func CopyPlanesScaleShift64(z, y []float64, dps, drs int, src []float64, sps, srs, planes, rows, n int, scale, shift []float64) {
	scalarCopyPlanesBN(z, y, dps, drs, src, sps, srs, planes, rows, n, scale, shift, false)
}

// CopyPlanesScaleShiftRelu64 is CopyPlanesScaleShift64 with a ReLU on y
// (each value kept where > 0 or NaN, else +0).
func CopyPlanesScaleShiftRelu64(z, y []float64, dps, drs int, src []float64, sps, srs, planes, rows, n int, scale, shift []float64) {
	scalarCopyPlanesBN(z, y, dps, drs, src, sps, srs, planes, rows, n, scale, shift, true)
}

// checkCopyPlanesBN is checkCopyPlanes of z (unless nil) and y, and scale
// and shift of planes values.
func checkCopyPlanesBN(nz int, zNil bool, ny, dps, drs, ns, sps, srs, planes, rows, n, nscale, nshift int) {
	const kernel = "CopyPlanesScaleShift"
	if !zNil {
		checkCopyPlanes(kernel, nz, dps, drs, ns, sps, srs, planes, rows, n)
	}
	checkCopyPlanes(kernel, ny, dps, drs, ns, sps, srs, planes, rows, n)
	if planes > 0 && rows > 0 && n > 0 {
		if nscale < planes {
			simdShort(kernel, "scale", nscale, planes)
		}
		if nshift < planes {
			simdShort(kernel, "shift", nshift, planes)
		}
	}
}

func scalarCopyPlanesBN[T simdFloat](z, y []T, dps, drs int, src []T, sps, srs, planes, rows, n int, scale, shift []T, relu bool) {
	checkCopyPlanesBN(len(z), z == nil, len(y), dps, drs, len(src), sps, srs, planes, rows, n, len(scale), len(shift))
	if planes <= 0 || rows <= 0 || n <= 0 {
		return
	}
	for p := range planes {
		s, t := scale[p], shift[p]
		for r := range rows {
			d, o := p*dps+r*drs, p*sps+r*srs
			if z != nil {
				copy(z[d:d+n], src[o:o+n])
			}
			yr := y[d : d+n]
			for i, v := range src[o : o+n] {
				// the product rounded before the shift is added (no FMA)
				v = T(v*s) + t
				if relu && v <= 0 {
					v = 0
				}
				yr[i] = v
			}
		}
	}
}
