package runtime

import "math"

// The element-wise kernels of batchnorm, the graph merges and relu6: the
// pure-Go loops, which the generic path runs and the assembly mirrors
// rounding for rounding (a product is rounded before a sum is added, never
// fused), so every path gives the same bits.

// scalarScaleShiftRows sets y[r*n+i] = x[r*n+i]*s[r] + t[r].
func scalarScaleShiftRows[T simdFloat](y, x, s, t []T, rows, n int) {
	for r := range rows {
		sr, tr := s[r], t[r]
		yr := y[r*n:][:n]
		for i, v := range x[r*n:][:n] {
			yr[i] = T(v*sr) + tr // the conversion rounds the product: no FMA
		}
	}
}

// scaleShiftCheck panics unless the operands of ScaleShiftRows fit rows×n.
func scaleShiftCheck(kernel string, ny, nx, ns, nt, rows, n int) {
	if rows < 0 || n < 0 {
		panic("runtime." + kernel + ": negative rows or n")
	}
	switch {
	case nx < rows*n:
		simdShort(kernel, "x", nx, rows*n)
	case ny < rows*n:
		simdShort(kernel, "y", ny, rows*n)
	case ns < rows:
		simdShort(kernel, "s", ns, rows)
	case nt < rows:
		simdShort(kernel, "t", nt, rows)
	}
}

// scalarAdd sets y[i] = a[i] + b[i] over len(a).
func scalarAdd[T simdFloat](y, a, b []T) {
	y, b = y[:len(a)], b[:len(a)]
	for i, v := range a {
		y[i] = v + b[i]
	}
}

// scalarMul sets y[i] = a[i] * b[i] over len(a).
func scalarMul[T simdFloat](y, a, b []T) {
	y, b = y[:len(a)], b[:len(a)]
	for i, v := range a {
		y[i] = v * b[i]
	}
}

// binaryCheck panics unless y and b are as long as a.
func binaryCheck(kernel string, ny, na, nb int) {
	switch {
	case nb < na:
		simdShort(kernel, "b", nb, na)
	case ny < na:
		simdShort(kernel, "y", ny, na)
	}
}

// scalarRelu6Forward sets a[i] = min(max(z[i], 0), 6); a NaN stays NaN.
func scalarRelu6Forward[T simdFloat](z, a []T) {
	a = a[:len(z)]
	for i, v := range z {
		a[i] = min(max(v, 0), 6)
	}
}

// scalarRelu6Backward zeroes d[i] where z[i] <= 0 or z[i] >= 6.
func scalarRelu6Backward[T simdFloat](z, d []T) {
	d = d[:len(z)]
	for i, v := range z {
		if v <= 0 || v >= 6 {
			d[i] = 0
		}
	}
}

// sumWideLoop returns Σ float64(x[i]), summed in order.
func sumWideLoop[T simdFloat](x []T) float64 {
	var s float64
	for _, v := range x {
		s += float64(v)
	}
	return s
}

// sumSqDevWideLoop returns Σ (float64(x[i]) − mean)², summed in order.
func sumSqDevWideLoop[T simdFloat](x []T, mean float64) float64 {
	var s float64
	for _, v := range x {
		d := float64(v) - mean
		s += d * d
	}
	return s
}

// sumDotWideLoop returns Σ float64(a[i]) and Σ float64(a[i])·float64(b[i]), summed in order.
func sumDotWideLoop[T simdFloat](a, b []T) (sum, dot float64) {
	b = b[:len(a)]
	for i, v := range a {
		sum += float64(v)
		dot += float64(v) * float64(b[i])
	}
	return sum, dot
}

// scalarBatchNormScales is the loop of BatchNormScales32/64 over channels
// c0 ≤ c < len(scale).
func scalarBatchNormScales[T simdFloat](scale, shift, inv, mean, gamma, beta, runMean, runVar []T, eps float64, c0 int) {
	for c := c0; c < len(scale); c++ {
		g, b := 1.0, 0.0
		if gamma != nil {
			g, b = float64(gamma[c]), float64(beta[c])
		}
		mu := float64(runMean[c])
		iv := 1 / math.Sqrt(float64(runVar[c])+eps)
		if inv != nil {
			inv[c], mean[c] = T(iv), runMean[c]
		}
		s := g * iv
		scale[c], shift[c] = T(s), T(b-float64(mu*s)) // the conversion rounds the product: no FMA
	}
}

// batchNormScalesCheck panics unless every operand of BatchNormScales holds
// len(scale) channels (gamma and beta both or neither, inv and mean both or
// neither).
func batchNormScalesCheck(kernel string, n int, lens [7]int, nils [4]bool) {
	names := [7]string{"shift", "inv", "mean", "gamma", "beta", "runMean", "runVar"}
	if nils[0] != nils[1] {
		panic("runtime." + kernel + ": inv and mean must be both nil or both set")
	}
	if nils[2] != nils[3] {
		panic("runtime." + kernel + ": gamma and beta must be both nil or both set")
	}
	for i, l := range lens {
		if l < n && !(i >= 1 && i <= 4 && nils[i-1]) {
			simdShort(kernel, names[i], l, n)
		}
	}
}
