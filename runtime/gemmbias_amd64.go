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

// gemmNNScaleShift32 is GemmNNBiasScaleShift(Relu)32 with the operands
// checked (relu: 0 or gemmRelu).
func gemmNNScaleShift32(z, y, a, b, bias, scale, shift []float32, m, n, k, relu int) {
	start := gemmZero
	if bias != nil {
		start = gemmBias
	}
	gemmXNScale32(z, y, a, b, bias, scale, shift, m, n, k, k, 1, start|gemmScaleShift|relu)
}
