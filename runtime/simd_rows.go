package runtime

// Strided forms of Axpy and Dot over several rows in one call, for the rows
// of a convolution: one call per weight instead of one per output row saves
// the per-call cost (≈8 ns) that dominates rows of a few dozen elements.

// simdCheckRows panics unless rows of n elements at stride s fit in a slice
// of length have.
func simdCheckRows(kernel, operand string, have, s, rows, n int) {
	if rows > 0 && n > 0 && (s < 0 || (rows-1)*s+n > have) {
		simdShort(kernel, operand, have, (rows-1)*s+n)
	}
}

func scalarAxpyRows[T simdFloat](a T, x []T, xs int, y []T, ys, rows, n int) {
	simdCheckRows("AxpyRows", "x", len(x), xs, rows, n)
	simdCheckRows("AxpyRows", "y", len(y), ys, rows, n)
	for r := 0; r < rows; r++ {
		scalarAxpy(a, x[r*xs:r*xs+n], y[r*ys:r*ys+n])
	}
}

func scalarDotRows[T simdFloat](x []T, xs int, y []T, ys, rows, n int) T {
	simdCheckRows("DotRows", "x", len(x), xs, rows, n)
	simdCheckRows("DotRows", "y", len(y), ys, rows, n)
	var s T
	for r := 0; r < rows; r++ {
		s += scalarDot(x[r*xs:r*xs+n], y[r*ys:r*ys+n])
	}
	return s
}
