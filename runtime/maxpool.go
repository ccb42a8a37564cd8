package runtime

import "fmt"

// MaxPool2Rows and MaxPool2RowsBackward: max pooling over windows of 2×2
// with stride 2 (gen/pool.go), one output row of n windows per row r:
//
//	o = r*xs;  window i = x[o+2i], x[o+2i+1]          (top row)
//	                      x[o+xw+2i], x[o+xw+2i+1]    (bottom row)
//
// With xw = 0 the window is the pair x[o+2i], x[o+2i+1] (1-D pooling over a
// signal). The maximum is taken in a fixed order, the one of the vector
// kernels (VMAXPS(a, b) is sel(a, b)):
//
//	sel(a, b) = a > b ? a : b
//	y = sel(sel(top-left, bottom-left), sel(top-right, bottom-right))
//
// so NaN inputs give the same result on every path (sel returns its second
// operand when either is NaN, and -0 from sel(+0, -0)). y is always one of
// the window's inputs.
//
// The backward pass gives each window's gradient to the first of its inputs,
// in row-major order, that equals y, or to the last input if none of the
// others does (y is NaN): without NaN, the first maximum in row-major order,
// as PyTorch's MaxPool2d.

// MaxPool2Rows64 does, for r < rows and i < n, with o = r*xs:
//
//	y[r*ys+i] = sel(sel(x[o+2i], x[o+xw+2i]), sel(x[o+2i+1], x[o+xw+2i+1]))
//
// with sel(a, b) = a > b ? a : b, the order of MaxPool2Rows32's vector
// kernels. It panics if an operand is too short.
func MaxPool2Rows64(y []float64, ys int, x []float64, xs, xw, rows, n int) {
	scalarMaxPool2Rows(y, ys, x, xs, xw, rows, n)
}

// MaxPool2RowsBackward64 writes the input gradient of MaxPool2Rows64 into
// dx, laid out like x: for each window, dy[r*ys+i] at the first of its inputs
// in row-major order (top-left, top-right, bottom-left, bottom-right; with xw
// = 0 left, right) equal to y[r*ys+i], or at the last if none of the others
// is, and zero at the others. Elements of dx outside every window are left
// as they are. xw must be 0 or at least 2n (windows do not overlap). It
// panics if an operand is too short.
func MaxPool2RowsBackward64(dx, x []float64, xs, xw int, y, dy []float64, ys, rows, n int) {
	scalarMaxPool2RowsBackward(dx, x, xs, xw, y, dy, ys, rows, n)
}

// checkMaxPool2 panics unless the operands of MaxPool2Rows (and, with nd ≥ 0,
// of its backward pass) are long enough.
func checkMaxPool2(kernel string, ny, ndy, ys, nx, ndx, xs, xw, rows, n int) {
	if rows <= 0 || n <= 0 {
		return
	}
	if ys < 0 || xs < 0 || xw < 0 || ndx >= 0 && xw != 0 && xw < 2*n {
		panic(fmt.Sprintf("runtime.%s: bad strides ys=%d xs=%d xw=%d for n=%d", kernel, ys, xs, xw, n))
	}
	simdCheckRows(kernel, "y", ny, ys, rows, n)
	need := (rows-1)*xs + xw + 2*n
	if nx < need {
		simdShort(kernel, "x", nx, need)
	}
	if ndx >= 0 {
		simdCheckRows(kernel, "dy", ndy, ys, rows, n)
		if ndx < need {
			simdShort(kernel, "dx", ndx, need)
		}
	}
}

// sel is max(a, b) in VMAXPS's order: a > b ? a : b.
func sel[T simdFloat](a, b T) T {
	if a > b {
		return a
	}
	return b
}

func scalarMaxPool2Rows[T simdFloat](y []T, ys int, x []T, xs, xw, rows, n int) {
	checkMaxPool2("MaxPool2Rows", len(y), 0, ys, len(x), -1, xs, xw, rows, n)
	for r := 0; r < rows; r++ {
		yr := y[r*ys : r*ys+n]
		t := x[r*xs : r*xs+2*n]
		b := x[r*xs+xw : r*xs+xw+2*n]
		for i := range yr {
			yr[i] = sel(sel(t[2*i], b[2*i]), sel(t[2*i+1], b[2*i+1]))
		}
	}
}

func scalarMaxPool2RowsBackward[T simdFloat](dx, x []T, xs, xw int, y, dy []T, ys, rows, n int) {
	checkMaxPool2("MaxPool2RowsBackward", len(y), len(dy), ys, len(x), len(dx), xs, xw, rows, n)
	for r := 0; r < rows; r++ {
		yr, gr := y[r*ys:r*ys+n], dy[r*ys:r*ys+n]
		t, dt := x[r*xs:r*xs+2*n], dx[r*xs:r*xs+2*n]
		if xw == 0 {
			for i, v := range yr {
				g := gr[i]
				if t[2*i] == v {
					dt[2*i], dt[2*i+1] = g, 0
				} else {
					dt[2*i], dt[2*i+1] = 0, g
				}
			}
			continue
		}
		b, db := x[r*xs+xw:r*xs+xw+2*n], dx[r*xs+xw:r*xs+xw+2*n]
		for i, v := range yr {
			var d0, d1, d2, d3 T
			switch g := gr[i]; {
			case t[2*i] == v:
				d0 = g
			case t[2*i+1] == v:
				d1 = g
			case b[2*i] == v:
				d2 = g
			default:
				d3 = g
			}
			dt[2*i], dt[2*i+1], db[2*i], db[2*i+1] = d0, d1, d2, d3
		}
	}
}
