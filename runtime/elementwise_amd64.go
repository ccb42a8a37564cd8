//go:build !purego

package runtime

// The element-wise kernels on amd64: assembly on the avx512 and avx2 paths
// (internal/asmgen/elementwise.go), the loops of simd_elementwise.go on the
// generic path and for float64. elementwise_generic.go documents the same
// functions for the other builds.

// ScaleShiftRows32 sets y[r*n+i] = x[r*n+i]*s[r] + t[r] for r < rows and
// i < n, the product rounded before the sum: batchnorm's y = γ x̂ + β over
// the rows of channels. y may be x; otherwise they must not overlap.
func ScaleShiftRows32(y, x, s, t []float32, rows, n int) {
	scaleShiftCheck("ScaleShiftRows32", len(y), len(x), len(s), len(t), rows, n)
	switch {
	case rows == 0 || n == 0:
	case simdLevel == simdAVX512:
		scaleShiftRows512(&y[0], &x[0], &s[0], &t[0], rows, n)
	case simdLevel == simdAVX2:
		scaleShiftRows256(&y[0], &x[0], &s[0], &t[0], rows, n)
	default:
		scalarScaleShiftRows(y, x, s, t, rows, n)
	}
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
	switch {
	case len(a) == 0:
	case simdLevel == simdAVX512:
		add512(&y[0], &a[0], &b[0], len(a))
	case simdLevel == simdAVX2:
		add256(&y[0], &a[0], &b[0], len(a))
	default:
		scalarAdd(y, a, b)
	}
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
	switch {
	case len(a) == 0:
	case simdLevel == simdAVX512:
		mul512(&y[0], &a[0], &b[0], len(a))
	case simdLevel == simdAVX2:
		mul256(&y[0], &a[0], &b[0], len(a))
	default:
		scalarMul(y, a, b)
	}
}

// Mul64 sets y[i] = a[i] * b[i] over len(a).
func Mul64(y, a, b []float64) {
	binaryCheck("Mul64", len(y), len(a), len(b))
	scalarMul(y, a, b)
}

// Relu6Forward32 sets a[i] = min(max(z[i], 0), 6) over len(z), as Go's min
// and max: a NaN stays NaN, -0 becomes +0.
func Relu6Forward32(z, a []float32) {
	a = a[:len(z)]
	switch {
	case len(z) == 0:
	case simdLevel == simdAVX512:
		relu6Forward512(&z[0], &a[0], len(z))
	case simdLevel == simdAVX2:
		relu6Forward256(&z[0], &a[0], len(z))
	default:
		scalarRelu6Forward(z, a)
	}
}

// Relu6Forward64 sets a[i] = min(max(z[i], 0), 6) over len(z).
func Relu6Forward64(z, a []float64) { scalarRelu6Forward(z, a) }

// Relu6Backward32 zeroes d[i] wherever z[i] <= 0 or z[i] >= 6: the relu6
// derivative applied in place (a NaN z[i] leaves d[i] as it is).
func Relu6Backward32(z, d []float32) {
	d = d[:len(z)]
	switch {
	case len(z) == 0:
	case simdLevel == simdAVX512:
		relu6Backward512(&z[0], &d[0], len(z))
	case simdLevel == simdAVX2:
		relu6Backward256(&z[0], &d[0], len(z))
	default:
		scalarRelu6Backward(z, d)
	}
}

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
	n := len(scale)
	batchNormScalesCheck("BatchNormScales32", n, [7]int{len(shift), len(inv), len(mean), len(gamma), len(beta), len(runMean), len(runVar)},
		[4]bool{inv == nil, mean == nil, gamma == nil, beta == nil})
	k := 0
	if gamma != nil {
		k = wideSplit(n)
	}
	if k > 0 {
		var pi, pm *float32
		if inv != nil {
			pi, pm = &inv[0], &mean[0]
		}
		if simdLevel == simdAVX512 {
			bnAffine512(&scale[0], &shift[0], pi, pm, &gamma[0], &beta[0], &runMean[0], &runVar[0], k, eps)
		} else {
			bnAffine256(&scale[0], &shift[0], pi, pm, &gamma[0], &beta[0], &runMean[0], &runVar[0], k, eps)
		}
	}
	scalarBatchNormScales(scale, shift, inv, mean, gamma, beta, runMean, runVar, eps, k)
}

// BatchNormScales64 is BatchNormScales32 for float64.
func BatchNormScales64(scale, shift, inv, mean, gamma, beta, runMean, runVar []float64, eps float64) {
	batchNormScalesCheck("BatchNormScales64", len(scale), [7]int{len(shift), len(inv), len(mean), len(gamma), len(beta), len(runMean), len(runVar)},
		[4]bool{inv == nil, mean == nil, gamma == nil, beta == nil})
	scalarBatchNormScales(scale, shift, inv, mean, gamma, beta, runMean, runVar, eps, 0)
}

// wideSplit returns how many leading elements of an n-element operand the
// widening kernels of the current path cover (a multiple of their float64
// lanes), 0 on the generic path.
func wideSplit(n int) int {
	switch simdLevel {
	case simdAVX512:
		return n - n%8
	case simdAVX2:
		return n - n%4
	}
	return 0
}

// SumWide32 returns Σ float64(x[i]), summed in float64: batchnorm's batch
// mean. The vector paths sum in another order than a loop (each term is
// exact; the float64 sums round differently, by far less than float32's
// precision).
func SumWide32(x []float32) float64 {
	var s float64
	if k := wideSplit(len(x)); k > 0 {
		if simdLevel == simdAVX512 {
			s = sumWide512(&x[0], k)
		} else {
			s = sumWide256(&x[0], k)
		}
		x = x[k:]
	}
	return s + sumWideLoop(x)
}

// SumWide64 returns Σ x[i].
func SumWide64(x []float64) float64 { return sumWideLoop(x) }

// SumSqDevWide32 returns Σ (float64(x[i]) − mean)², summed in float64:
// batchnorm's batch variance times n. Summed in another order on the vector
// paths (see SumWide32).
func SumSqDevWide32(x []float32, mean float64) float64 {
	var s float64
	if k := wideSplit(len(x)); k > 0 {
		if simdLevel == simdAVX512 {
			s = sumSqDevWide512(&x[0], k, mean)
		} else {
			s = sumSqDevWide256(&x[0], k, mean)
		}
		x = x[k:]
	}
	return s + sumSqDevWideLoop(x, mean)
}

// SumSqDevWide64 returns Σ (x[i] − mean)².
func SumSqDevWide64(x []float64, mean float64) float64 { return sumSqDevWideLoop(x, mean) }

// SumDotWide32 returns Σ float64(a[i]) and Σ float64(a[i])·float64(b[i])
// over len(a), summed in float64 (b must be at least as long): batchnorm's
// Σ dy and Σ dy·x̂. Summed in another order on the vector paths (see
// SumWide32).
func SumDotWide32(a, b []float32) (sum, dot float64) {
	binaryCheck("SumDotWide32", len(a), len(a), len(b))
	if k := wideSplit(len(a)); k > 0 {
		if simdLevel == simdAVX512 {
			sum, dot = sumDotWide512(&a[0], &b[0], k)
		} else {
			sum, dot = sumDotWide256(&a[0], &b[0], k)
		}
		a, b = a[k:], b[k:]
	}
	s, d := sumDotWideLoop(a, b)
	return sum + s, dot + d
}

// SumDotWide64 returns Σ a[i] and Σ a[i]·b[i] over len(a).
func SumDotWide64(a, b []float64) (sum, dot float64) {
	binaryCheck("SumDotWide64", len(a), len(a), len(b))
	return sumDotWideLoop(a, b)
}
