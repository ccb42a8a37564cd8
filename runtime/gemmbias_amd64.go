//go:build !purego

package runtime

// gemmNNBias32 is GemmNNBias32 with the operands checked: the tile kernels
// start each row's accumulators from its bias (generic level: fill, then
// accumulate in Go).
func gemmNNBias32(c, a, b, bias []float32, m, n, k int) {
	gemmXN32(c, a, b, bias, m, n, k, k, 1, gemmBias)
}

// gemmNNBiasRelu32 is GemmNNBiasRelu32 with the operands checked.
func gemmNNBiasRelu32(c, a, b, bias []float32, m, n, k int) {
	gemmXN32(c, a, b, bias, m, n, k, k, 1, gemmBiasRelu)
}
