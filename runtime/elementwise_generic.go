//go:build purego || !amd64

package runtime

// The element-wise kernels in pure Go (`-tags purego`, or not amd64):
// the loops of simd_elementwise.go. elementwise_amd64.go is the assembly
// build of the same functions.

// ScaleShiftRows32 sets y[r*n+i] = x[r*n+i]*s[r] + t[r] for r < rows and
// i < n, the product rounded before the sum: batchnorm's y = γ x̂ + β over
// the rows of channels. y may be x; otherwise they must not overlap.
func ScaleShiftRows32(y, x, s, t []float32, rows, n int) {
	scaleShiftCheck("ScaleShiftRows32", len(y), len(x), len(s), len(t), rows, n)
	scalarScaleShiftRows(y, x, s, t, rows, n)
}

// ScaleShiftRows64 is ScaleShiftRows32 for float64.
func ScaleShiftRows64(y, x, s, t []float64, rows, n int) {
	scaleShiftCheck("ScaleShiftRows64", len(y), len(x), len(s), len(t), rows, n)
	scalarScaleShiftRows(y, x, s, t, rows, n)
}

// Add32 sets y[i] = a[i] + b[i] over len(a); b and y must be at least as
// long. y may be a or b.
func Add32(y, a, b []float32) {
	binaryCheck("Add32", len(y), len(a), len(b))
	scalarAdd(y, a, b)
}

// Add64 sets y[i] = a[i] + b[i] over len(a).
func Add64(y, a, b []float64) {
	binaryCheck("Add64", len(y), len(a), len(b))
	scalarAdd(y, a, b)
}

// Mul32 sets y[i] = a[i] * b[i] over len(a); b and y must be at least as
// long. y may be a or b.
func Mul32(y, a, b []float32) {
	binaryCheck("Mul32", len(y), len(a), len(b))
	scalarMul(y, a, b)
}

// Mul64 sets y[i] = a[i] * b[i] over len(a).
func Mul64(y, a, b []float64) {
	binaryCheck("Mul64", len(y), len(a), len(b))
	scalarMul(y, a, b)
}

// Relu6Forward32 sets a[i] = min(max(z[i], 0), 6) over len(z), as Go's min
// and max: a NaN stays NaN, -0 becomes +0.
func Relu6Forward32(z, a []float32) { scalarRelu6Forward(z, a) }

// Relu6Forward64 sets a[i] = min(max(z[i], 0), 6) over len(z).
func Relu6Forward64(z, a []float64) { scalarRelu6Forward(z, a) }

// Relu6Backward32 zeroes d[i] wherever z[i] <= 0 or z[i] >= 6: the relu6
// derivative applied in place (a NaN z[i] leaves d[i] as it is).
func Relu6Backward32(z, d []float32) { scalarRelu6Backward(z, d) }

// Relu6Backward64 zeroes d[i] wherever z[i] <= 0 or z[i] >= 6.
func Relu6Backward64(z, d []float64) { scalarRelu6Backward(z, d) }

// BatchNormScales32 sets batchnorm's inference-mode affine map per channel
// c < len(scale), in float64 and rounded to float32 at the end:
// inv = 1/√(runVar[c] + eps), s = gamma[c]·inv, scale[c] = s and
// shift[c] = beta[c] − runMean[c]·s (the product rounded before the
// difference, never fused). gamma and beta nil mean 1 and 0 (no affine
// parameters). With inv and mean non-nil it also sets inv[c] and
// mean[c] = runMean[c], which the inference-mode backward pass reads.
func BatchNormScales32(scale, shift, inv, mean, gamma, beta, runMean, runVar []float32, eps float64) {
	batchNormScalesCheck("BatchNormScales32", len(scale), [7]int{len(shift), len(inv), len(mean), len(gamma), len(beta), len(runMean), len(runVar)},
		[4]bool{inv == nil, mean == nil, gamma == nil, beta == nil})
	scalarBatchNormScales(scale, shift, inv, mean, gamma, beta, runMean, runVar, eps, 0)
}

// BatchNormScales64 is BatchNormScales32 for float64.
func BatchNormScales64(scale, shift, inv, mean, gamma, beta, runMean, runVar []float64, eps float64) {
	batchNormScalesCheck("BatchNormScales64", len(scale), [7]int{len(shift), len(inv), len(mean), len(gamma), len(beta), len(runMean), len(runVar)},
		[4]bool{inv == nil, mean == nil, gamma == nil, beta == nil})
	scalarBatchNormScales(scale, shift, inv, mean, gamma, beta, runMean, runVar, eps, 0)
}

// SumWide32 returns Σ float64(x[i]), summed in float64: batchnorm's batch
// mean. The assembly build sums in another order (each term is exact; the
// float64 sums round differently, by far less than float32's precision).
func SumWide32(x []float32) float64 { return sumWideLoop(x) }

// SumWide64 returns Σ x[i].
func SumWide64(x []float64) float64 { return sumWideLoop(x) }

// SumSqDevWide32 returns Σ (float64(x[i]) − mean)², summed in float64:
// batchnorm's batch variance times n (see SumWide32 on the order).
func SumSqDevWide32(x []float32, mean float64) float64 { return sumSqDevWideLoop(x, mean) }

// SumSqDevWide64 returns Σ (x[i] − mean)².
func SumSqDevWide64(x []float64, mean float64) float64 { return sumSqDevWideLoop(x, mean) }

// SumDotWide32 returns Σ float64(a[i]) and Σ float64(a[i])·float64(b[i])
// over len(a), summed in float64 (b must be at least as long): batchnorm's
// Σ dy and Σ dy·x̂ (see SumWide32 on the order).
func SumDotWide32(a, b []float32) (sum, dot float64) {
	binaryCheck("SumDotWide32", len(a), len(a), len(b))
	return sumDotWideLoop(a, b)
}

// SumDotWide64 returns Σ a[i] and Σ a[i]·b[i] over len(a).
func SumDotWide64(a, b []float64) (sum, dot float64) {
	binaryCheck("SumDotWide64", len(a), len(a), len(b))
	return sumDotWideLoop(a, b)
}
