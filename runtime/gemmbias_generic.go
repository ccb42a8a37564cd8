//go:build purego || !amd64

package runtime

// gemmNNBias32 is GemmNNBias32 with the operands checked: the rows of c
// start as the bias and A·B is added to them.
func gemmNNBias32(c, a, b, bias []float32, m, n, k int) {
	fillRows(c, bias, m, n)
	scalarGemmXN(c, a, b, m, n, k, k, 1, true)
}
