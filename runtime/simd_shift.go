package runtime

// scalarShiftSum sets y[i] = b + Σ_k w[k]·x[offs[k]+i] for i < n.
func scalarShiftSum[T simdFloat](y, x []T, offs []int32, w []T, n int, b T) {
	y = y[:n]
	for i := range y {
		y[i] = b
	}
	for k, off := range offs {
		scalarAxpy(w[k], x[int(off):int(off)+n], y)
	}
}

// shiftSumCheck panics unless every shifted row and the output fit.
func shiftSumCheck(kernel string, ny, nx int, offs []int32, nw, n int) {
	if ny < n {
		simdShort(kernel, "y", ny, n)
	}
	if nw < len(offs) {
		simdShort(kernel, "w", nw, len(offs))
	}
	for _, off := range offs {
		if off < 0 || int(off)+n > nx {
			simdShort(kernel, "x", nx, int(off)+n)
		}
	}
}
