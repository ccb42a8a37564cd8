//go:build !purego

package runtime

import "unsafe"

// ShiftSumRows32 sets y[r*ys+i] = b + Σ_k w[k]·x[r*xs+offs[k]+i] for r < rows
// and i < n: per row what ShiftSum32 computes, bit for bit.
func ShiftSumRows32(y []float32, ys int, x []float32, xs int, offs []int32, w []float32, rows, n int, b float32) {
	if rows <= 0 || n <= 0 || simdLevel == simdGeneric {
		scalarShiftSumRows(y, ys, x, xs, offs, w, rows, n, b)
		return
	}
	shiftSumRowsCheck("ShiftSumRows", len(y), ys, len(x), xs, offs, len(w), rows, n)
	if simdLevel == simdAVX512 {
		shiftSumRows512(&y[0], ys, ptr32(x, 0), xs, unsafe.SliceData(offs), ptr32(w, 0), len(offs), rows, n, b)
	} else {
		shiftSumRows256(&y[0], ys, ptr32(x, 0), xs, unsafe.SliceData(offs), ptr32(w, 0), len(offs), rows, n, b)
	}
}
