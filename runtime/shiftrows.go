package runtime

import "fmt"

// ShiftSumRows: ShiftSum over rows of a plane, for the depthwise
// convolutions with a row stride (gen/dwconv.go), which compute only the
// output rows instead of the whole flat plane.

// ShiftSumRows64 sets y[r*ys+i] = b + Σ_k w[k]·x[r*xs+offs[k]+i] for r < rows
// and i < n.
func ShiftSumRows64(y []float64, ys int, x []float64, xs int, offs []int32, w []float64, rows, n int, b float64) {
	scalarShiftSumRows(y, ys, x, xs, offs, w, rows, n, b)
}

// shiftSumRowsCheck panics unless every row of y and every shifted row of x
// fits (as shiftSumCheck does for one row).
func shiftSumRowsCheck(kernel string, ny, ys, nx, xs int, offs []int32, nw, rows, n int) {
	if rows <= 0 || n <= 0 {
		return
	}
	if ys < 0 || xs < 0 {
		panic(fmt.Sprintf("runtime.%s: bad strides ys=%d xs=%d", kernel, ys, xs))
	}
	simdCheckRows(kernel, "y", ny, ys, rows, n)
	if nw < len(offs) {
		simdShort(kernel, "w", nw, len(offs))
	}
	last := (rows - 1) * xs
	for _, off := range offs {
		if off < 0 || last+int(off)+n > nx {
			simdShort(kernel, "x", nx, last+int(off)+n)
		}
	}
}

func scalarShiftSumRows[T simdFloat](y []T, ys int, x []T, xs int, offs []int32, w []T, rows, n int, b T) {
	shiftSumRowsCheck("ShiftSumRows", len(y), ys, len(x), xs, offs, len(w), rows, n)
	if rows <= 0 || n <= 0 {
		return
	}
	for r := range rows {
		scalarShiftSum(y[r*ys:], x[r*xs:], offs, w, n, b)
	}
}
