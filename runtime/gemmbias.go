package runtime

// GemmNNBias: the forward product of a convolution through im2col, with the
// bias folded in. On the SIMD paths the tile kernels start their
// accumulators from the row's bias, so neither a fill of c before the
// product nor a pass over c after it is needed; the pure-Go path fills the
// rows with the bias and accumulates into them.

// GemmNNBias32 sets c[i*n+j] = bias[i] + Σ_p a[i*k+p]*b[p*n+j] for i < m
// and j < n, with A m×k and B k×n row-major and one bias per row of c: the
// forward pass Z = W·cols + b of a convolution (W the filters [F][P], cols
// the im2col matrix [P][positions]). c must not overlap a, b or bias.
func GemmNNBias32(c, a, b, bias []float32, m, n, k int) {
	simdCheckGemmXN(len(c), len(a), len(b), m, n, k, k, 1)
	checkBias(len(bias), m, n)
	gemmNNBias32(c, a, b, bias, m, n, k)
}

// GemmNNBias64 is GemmNNBias32 for float64.
func GemmNNBias64(c, a, b, bias []float64, m, n, k int) {
	simdCheckGemmXN(len(c), len(a), len(b), m, n, k, k, 1)
	checkBias(len(bias), m, n)
	fillRows(c, bias, m, n)
	scalarGemmXN(c, a, b, m, n, k, k, 1, true)
}

// GemmNNBiasRelu32 is GemmNNBias32 followed by ReluForward32 on c, in one
// pass: c[i*n+j] = relu(bias[i] + Σ_p a[i*k+p]*b[p*n+j]) (the sum where it is
// > 0 or NaN, else +0), the ReLU applied by the tile kernels before they
// store: the forward pass of a convolution with a relu activation whose
// pre-activation is not kept (the backward pass tests the output, which is
// > 0 exactly where the pre-activation is).
func GemmNNBiasRelu32(c, a, b, bias []float32, m, n, k int) {
	simdCheckGemmXN(len(c), len(a), len(b), m, n, k, k, 1)
	checkBias(len(bias), m, n)
	gemmNNBiasRelu32(c, a, b, bias, m, n, k)
}

// GemmNNBiasRelu64 is GemmNNBiasRelu32 for float64.
func GemmNNBiasRelu64(c, a, b, bias []float64, m, n, k int) {
	GemmNNBias64(c, a, b, bias, m, n, k)
	scalarReluForward(c[:m*n], c[:m*n])
}

// checkBias panics unless GemmNNBias has a bias for each of the m rows.
func checkBias(nbias, m, n int) {
	if m > 0 && n > 0 && nbias < m {
		simdShort("GemmNNBias", "bias", nbias, m)
	}
}

// fillRows sets row i of the m×n matrix c to bias[i], by doubling copies
// (runtime memmove, vectorised) rather than one scalar store per element.
func fillRows[T simdFloat](c, bias []T, m, n int) {
	if n == 0 {
		return
	}
	for i := range m {
		row := c[i*n : i*n+n]
		row[0] = bias[i]
		for w := 1; w < n; w *= 2 {
			copy(row[w:], row[:w])
		}
	}
}
