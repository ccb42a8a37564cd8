//go:build purego || !amd64

package runtime

// CopyRows32 does dst[r*ds+i] = src[r*ss+i*step] for r < rows and i < n.
// step ≥ 1 is the convolution's stride along a row.
func CopyRows32(dst []float32, ds int, src []float32, ss, step, rows, n int) {
	scalarCopyRows(dst, ds, src, ss, step, rows, n)
}

// CopyRowsTable32 runs CopyRows32 for each of c channels and each entry of
// tab, four int32s (d, s, rows, n): dst[ch*dc+d+r*ds+i] =
// src[ch*sc+s+r*ss+i*step] for ch < c, r < rows and i < n. One call does a
// convolution's whole im2col (gen/convgemm.go).
func CopyRowsTable32(dst []float32, ds, dc int, src []float32, ss, sc, step int, tab []int32, c int) {
	scalarCopyRowsTable(dst, ds, dc, src, ss, sc, step, tab, c)
}

// AddRowsTable32 is the transpose of CopyRowsTable32 (step 1) over the same
// table: for each entry (s, d, rows, n) of tab, dst[ch*dc+d+r*ds+i] +=
// src[ch*sc+s+r*ss+i] for ch < c, r < rows and i < n, each element
// receiving its terms in entry order. One call does a convolution's whole
// col2im (gen/convgemm.go).
func AddRowsTable32(dst []float32, ds, dc int, src []float32, ss, sc int, tab []int32, c int) {
	scalarAddRowsTable(dst, ds, dc, src, ss, sc, tab, c)
}
