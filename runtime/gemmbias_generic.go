//go:build purego || !amd64

package runtime

// gemmNNBias32 is GemmNNBias32 with the operands checked: the rows of c
// start as the bias and A·B is added to them.
func gemmNNBias32(c, a, b, bias []float32, m, n, k int) {
	fillRows(c, bias, m, n)
	scalarGemmXN(c, a, b, m, n, k, k, 1, true)
}

// gemmNNBiasRelu32 is GemmNNBiasRelu32 with the operands checked: bias,
// product, then the ReLU in place.
func gemmNNBiasRelu32(c, a, b, bias []float32, m, n, k int) {
	gemmNNBias32(c, a, b, bias, m, n, k)
	scalarReluForward(c[:m*n], c[:m*n])
}

// gemmNNScaleShift32 is GemmNNBiasScaleShift(Relu)32 with the operands
// checked (relu: 0 or gemmRelu).
func gemmNNScaleShift32(z, y, a, b, bias, scale, shift []float32, m, n, k, relu int) {
	scalarGemmNNScaleShift(z, y, a, b, bias, scale, shift, m, n, k, relu)
}

// gemmNTScaleShift32 is GemmNTBiasScaleShift(Relu)32 with the operands
// checked (relu: 0 or gemmRelu).
func gemmNTScaleShift32(z, y, a, bt, bias, scale, shift []float32, m, n, k, relu int) {
	scalarGemmNTScaleShift(z, y, a, bt, bias, scale, shift, m, n, k, relu)
}
