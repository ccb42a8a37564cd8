//go:build purego || !amd64

package runtime

// CopyRows32 does dst[r*ds+i] = src[r*ss+i*step] for r < rows and i < n.
// step ≥ 1 is the convolution's stride along a row.
func CopyRows32(dst []float32, ds int, src []float32, ss, step, rows, n int) {
	scalarCopyRows(dst, ds, src, ss, step, rows, n)
}
