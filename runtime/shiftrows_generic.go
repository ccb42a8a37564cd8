//go:build purego || !amd64

package runtime

// ShiftSumRows32 sets y[r*ys+i] = b + Σ_k w[k]·x[r*xs+offs[k]+i] for r < rows
// and i < n.
func ShiftSumRows32(y []float32, ys int, x []float32, xs int, offs []int32, w []float32, rows, n int, b float32) {
	scalarShiftSumRows(y, ys, x, xs, offs, w, rows, n, b)
}
