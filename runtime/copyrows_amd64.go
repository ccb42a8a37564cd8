//go:build !purego

package runtime

// CopyRows32 does dst[r*ds+i] = src[r*ss+i*step] for r < rows and i < n.
// step ≥ 1 is the convolution's stride along a row; steps 1 and 2 run the
// vector kernels (a copy, a gather of the even lanes), larger steps a scalar
// loop.
func CopyRows32(dst []float32, ds int, src []float32, ss, step, rows, n int) {
	if rows <= 0 || n <= 0 || step > 2 || simdLevel == simdGeneric {
		scalarCopyRows(dst, ds, src, ss, step, rows, n)
		return
	}
	checkCopyRows("CopyRows", len(dst), ds, len(src), ss, step, rows, n)
	switch {
	case step == 1 && simdLevel == simdAVX512:
		copyRows512(&dst[0], ds, &src[0], ss, rows, n)
	case step == 1:
		copyRows256(&dst[0], ds, &src[0], ss, rows, n)
	case simdLevel == simdAVX512:
		gatherEven512(&dst[0], ds, &src[0], ss, rows, n)
	default:
		gatherEven256(&dst[0], ds, &src[0], ss, rows, n)
	}
}
