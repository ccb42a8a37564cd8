//go:build !purego

package runtime

import "unsafe"

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

// CopyRowsTable32 runs CopyRows32 for each of c channels and each entry of
// tab, four int32s (d, s, rows, n): dst[ch*dc+d+r*ds+i] =
// src[ch*sc+s+r*ss+i*step] for ch < c, r < rows and i < n. One call does a
// convolution's whole im2col (gen/convgemm.go): with step 1 one kernel call
// (copyRowsTab), with step 2 one gather call per entry and channel, after a
// single check of the whole table.
func CopyRowsTable32(dst []float32, ds, dc int, src []float32, ss, sc, step int, tab []int32, c int) {
	if step > 2 || simdLevel == simdGeneric {
		scalarCopyRowsTable(dst, ds, dc, src, ss, sc, step, tab, c)
		return
	}
	checkCopyRowsTable(len(dst), ds, dc, len(src), ss, sc, step, tab, c)
	if c == 0 || len(tab) == 0 {
		return
	}
	if step == 1 {
		if simdLevel == simdAVX512 {
			copyRowsTab512(unsafe.SliceData(dst), ds, dc, unsafe.SliceData(src), ss, sc, &tab[0], len(tab)/4, c)
		} else {
			copyRowsTab256(unsafe.SliceData(dst), ds, dc, unsafe.SliceData(src), ss, sc, &tab[0], len(tab)/4, c)
		}
		return
	}
	for ch := range c {
		for e := 0; e < len(tab); e += 4 {
			d, s, rows, n := int(tab[e]), int(tab[e+1]), int(tab[e+2]), int(tab[e+3])
			if rows == 0 || n == 0 {
				continue
			}
			if simdLevel == simdAVX512 {
				gatherEven512(&dst[ch*dc+d], ds, &src[ch*sc+s], ss, rows, n)
			} else {
				gatherEven256(&dst[ch*dc+d], ds, &src[ch*sc+s], ss, rows, n)
			}
		}
	}
}

// AddRowsTable32 is the transpose of CopyRowsTable32 (step 1) over the same
// table: for each entry (s, d, rows, n) of tab, dst[ch*dc+d+r*ds+i] +=
// src[ch*sc+s+r*ss+i] for ch < c, r < rows and i < n, each element
// receiving its terms in entry order. One call does a convolution's whole
// col2im (gen/convgemm.go; kernel addRowsTab).
func AddRowsTable32(dst []float32, ds, dc int, src []float32, ss, sc int, tab []int32, c int) {
	if simdLevel == simdGeneric {
		scalarAddRowsTable(dst, ds, dc, src, ss, sc, tab, c)
		return
	}
	checkAddRowsTable(len(dst), ds, dc, len(src), ss, sc, tab, c)
	if c == 0 || len(tab) == 0 {
		return
	}
	if simdLevel == simdAVX512 {
		addRowsTab512(unsafe.SliceData(dst), ds, dc, unsafe.SliceData(src), ss, sc, &tab[0], len(tab)/4, c)
	} else {
		addRowsTab256(unsafe.SliceData(dst), ds, dc, unsafe.SliceData(src), ss, sc, &tab[0], len(tab)/4, c)
	}
}
