//go:build !purego

package runtime

// MaxPool2Rows32 does, for r < rows and i < n, with o = r*xs:
//
//	y[r*ys+i] = sel(sel(x[o+2i], x[o+xw+2i]), sel(x[o+2i+1], x[o+xw+2i+1]))
//
// with sel(a, b) = a > b ? a : b: max pooling over 2×2 windows with stride 2
// (xw = 0: over pairs), in the order of the vector kernels, so every path
// gives the same bits (see maxpool.go). It panics if an operand is too
// short.
func MaxPool2Rows32(y []float32, ys int, x []float32, xs, xw, rows, n int) {
	if rows <= 0 || n <= 0 || simdLevel == simdGeneric {
		scalarMaxPool2Rows(y, ys, x, xs, xw, rows, n)
		return
	}
	checkMaxPool2("MaxPool2Rows", len(y), 0, ys, len(x), -1, xs, xw, rows, n)
	if simdLevel == simdAVX512 {
		maxPool2512(&y[0], ys, &x[0], xs, xw, rows, n)
	} else {
		maxPool2256(&y[0], ys, &x[0], xs, xw, rows, n)
	}
}

// MaxPool2RowsBackward32 writes the input gradient of MaxPool2Rows32 into
// dx, laid out like x: for each window, dy[r*ys+i] at the first of its inputs
// in row-major order (top-left, top-right, bottom-left, bottom-right; with xw
// = 0 left, right) equal to y[r*ys+i], or at the last if none of the others
// is, and zero at the others. Elements of dx outside every window are left
// as they are. xw must be 0 or at least 2n (windows do not overlap). It
// panics if an operand is too short.
func MaxPool2RowsBackward32(dx, x []float32, xs, xw int, y, dy []float32, ys, rows, n int) {
	if rows <= 0 || n <= 0 || simdLevel == simdGeneric {
		scalarMaxPool2RowsBackward(dx, x, xs, xw, y, dy, ys, rows, n)
		return
	}
	checkMaxPool2("MaxPool2RowsBackward", len(y), len(dy), ys, len(x), len(dx), xs, xw, rows, n)
	if simdLevel == simdAVX512 {
		maxPool2Back512(&dx[0], &x[0], xs, xw, &y[0], &dy[0], ys, rows, n)
	} else {
		maxPool2Back256(&dx[0], &x[0], xs, xw, &y[0], &dy[0], ys, rows, n)
	}
}
