//go:build purego || !amd64

package runtime

// The pure-Go build of the vector kernels (`-tags purego`, or not amd64).
// simd_amd64.go holds the default amd64 build (Go assembly); both export the
// same functions, whose documentation is here.

// SIMDLevel reports which path the vector kernels run: "avx512", "avx2" or
// "generic". This build has no SIMD: always "generic".
func SIMDLevel() string { return "generic" }

// Dot32 returns Σ x[i]*y[i] over len(x); y must be at least as long.
func Dot32(x, y []float32) float32 { return scalarDot(x, y) }

// Dot64 returns Σ x[i]*y[i] over len(x); y must be at least as long.
func Dot64(x, y []float64) float64 { return scalarDot(x, y) }

// scaleSq32 sets x[i] *= a over len(x) and returns Σ x[i]² of the scaled
// values (Fit's gradient averaging and finiteness check in one pass).
func scaleSq32(a float32, x []float32) float32 { return scalarScaleSq(a, x) }

// scaleSq64 sets x[i] *= a over len(x) and returns Σ x[i]² of the scaled values.
func scaleSq64(a float64, x []float64) float64 { return scalarScaleSq(a, x) }

// Axpy32 does y[i] += a*x[i] over len(x); y must be at least as long.
func Axpy32(a float32, x, y []float32) { scalarAxpy(a, x, y) }

// Axpy64 does y[i] += a*x[i] over len(x); y must be at least as long.
func Axpy64(a float64, x, y []float64) { scalarAxpy(a, x, y) }

// MatVec32 sets y[o] = b[o] + Σ_i w[o*cols+i]*x[i] for o < rows; w is row-major
// rows×cols and b may be nil. y must not overlap w, x or b.
func MatVec32(y, w, x, b []float32, rows, cols int) { scalarMatVec(y, w, x, b, rows, cols) }

// MatVec64 sets y[o] = b[o] + Σ_i w[o*cols+i]*x[i] for o < rows; w is row-major
// rows×cols and b may be nil. y must not overlap w, x or b.
func MatVec64(y, w, x, b []float64, rows, cols int) { scalarMatVec(y, w, x, b, rows, cols) }

// OuterAdd32 is the backward pass of MatVec32: for every o < rows whose
// g = dy[o] is not zero, gw[o*cols+i] += g*x[i] and, if dx != nil,
// dx[i] += g*w[o*cols+i]. Rows with dy[o] == 0 are not touched; w may be nil
// when dx is. Outputs must not overlap inputs.
func OuterAdd32(gw, dx, w, dy, x []float32, rows, cols int) {
	scalarOuterAdd(gw, dx, w, dy, x, rows, cols)
}

// OuterAdd64 is the backward pass of MatVec64: for every o < rows whose
// g = dy[o] is not zero, gw[o*cols+i] += g*x[i] and, if dx != nil,
// dx[i] += g*w[o*cols+i]. Rows with dy[o] == 0 are not touched; w may be nil
// when dx is. Outputs must not overlap inputs.
func OuterAdd64(gw, dx, w, dy, x []float64, rows, cols int) {
	scalarOuterAdd(gw, dx, w, dy, x, rows, cols)
}

// ClearSIMDState clears the upper halves of the vector registers in the
// assembly build (see simd_amd64.go); in this build there are none to clear
// and it does nothing.
func ClearSIMDState() {}

// AxpyRows32 does y[r*ys+i] += a*x[r*xs+i] for r < rows and i < n.
func AxpyRows32(a float32, x []float32, xs int, y []float32, ys, rows, n int) {
	scalarAxpyRows(a, x, xs, y, ys, rows, n)
}

// AxpyRows64 does y[r*ys+i] += a*x[r*xs+i] for r < rows and i < n.
func AxpyRows64(a float64, x []float64, xs int, y []float64, ys, rows, n int) {
	scalarAxpyRows(a, x, xs, y, ys, rows, n)
}

// DotRows32 returns Σ x[r*xs+i]*y[r*ys+i] over r < rows and i < n.
func DotRows32(x []float32, xs int, y []float32, ys, rows, n int) float32 {
	return scalarDotRows(x, xs, y, ys, rows, n)
}

// DotRows64 returns Σ x[r*xs+i]*y[r*ys+i] over r < rows and i < n.
func DotRows64(x []float64, xs int, y []float64, ys, rows, n int) float64 {
	return scalarDotRows(x, xs, y, ys, rows, n)
}

// ReluForward32 sets a[i] = max(z[i], 0) over len(z); a NaN stays NaN, as
// with Go's max and PyTorch's relu.
func ReluForward32(z, a []float32) { scalarReluForward(z, a) }

// ReluForward64 sets a[i] = max(z[i], 0) over len(z); a NaN stays NaN.
func ReluForward64(z, a []float64) { scalarReluForward(z, a) }

// ReluBackward32 zeroes d[i] wherever z[i] is not positive: the ReLU
// derivative applied in place.
func ReluBackward32(z, d []float32) { scalarReluBackward(z, d) }

// ReluBackward64 zeroes d[i] wherever z[i] is not positive.
func ReluBackward64(z, d []float64) { scalarReluBackward(z, d) }

// ShiftSum32 sets y[i] = b + Σ_k w[k]·x[offs[k]+i] for i < n: one output row
// of a convolution, the sum of the kernel's taps over shifted input rows.
func ShiftSum32(y, x []float32, offs []int32, w []float32, n int, b float32) {
	shiftSumCheck("ShiftSum32", len(y), len(x), offs, len(w), n)
	scalarShiftSum(y, x, offs, w, n, b)
}

// ShiftSum64 sets y[i] = b + Σ_k w[k]·x[offs[k]+i] for i < n.
func ShiftSum64(y, x []float64, offs []int32, w []float64, n int, b float64) {
	shiftSumCheck("ShiftSum64", len(y), len(x), offs, len(w), n)
	scalarShiftSum(y, x, offs, w, n, b)
}

// The float32 optimizer kernels are the loops of optim_kernels.go.

func sgdUpdate32(params, grads []float32, lr, wd float32, decay bool) {
	sgdLoop(params, grads, lr, wd, decay)
}

func momentumUpdate32(params, grads, buf []float32, lr, wd, mu float32, nesterov bool) {
	momentumLoop(params, grads, buf, lr, wd, mu, nesterov)
}

func adamUpdate32(params, grads, m, v []float32, shrink, b1, b2, c1, c2, wd, step, inv, eps float32) {
	adamLoop(params, grads, m, v, shrink, b1, b2, c1, c2, wd, step, inv, eps)
}

func rmspropUpdate32(params, grads, v []float32, lr, wd, a, c, eps float32) {
	rmspropLoop(params, grads, v, lr, wd, a, c, eps)
}

// sumSqWide32 returns Σ float64(x[i])², summed in float64.
func sumSqWide32(x []float32) float64 { return sumSqWideLoop(x) }

// GemmNT32 sets c[i*n+j] = bias[j] + Σ_p a[i*k+p]*b[j*k+p] for i < m and
// j < n: C = A·Bᵀ + bias with A m×k and B n×k row-major, the whole-batch
// forward pass of a dense layer (A the inputs, B the weights). bias may be
// nil. c must not overlap a, b or bias.
func GemmNT32(c, a, b, bias []float32, m, n, k int) { scalarGemmNT(c, a, b, bias, m, n, k) }

// GemmNT64 is GemmNT32 for float64.
func GemmNT64(c, a, b, bias []float64, m, n, k int) { scalarGemmNT(c, a, b, bias, m, n, k) }

// GemmTN32 adds Aᵀ·B into c: c[i*n+j] += Σ_p a[p*m+i]*b[p*n+j] for i < m and
// j < n, with A k×m and B k×n row-major: the weight gradient dW += dZᵀ·X of
// a dense layer over a batch of k samples. c must not overlap a or b.
func GemmTN32(c, a, b []float32, m, n, k int) { scalarGemmXN(c, a, b, m, n, k, 1, m, true) }

// GemmTN64 is GemmTN32 for float64.
func GemmTN64(c, a, b []float64, m, n, k int) { scalarGemmXN(c, a, b, m, n, k, 1, m, true) }

// GemmTNSet32 sets c = Aᵀ·B: c[i*n+j] = Σ_p a[p*m+i]*b[p*n+j], GemmTN32 into
// a cleared c without the clear (the same sums): the columns gradient
// dcols = Wᵀ·dZ of a convolution's backward pass.
func GemmTNSet32(c, a, b []float32, m, n, k int) { scalarGemmXN(c, a, b, m, n, k, 1, m, false) }

// GemmTNSet64 is GemmTNSet32 for float64.
func GemmTNSet64(c, a, b []float64, m, n, k int) { scalarGemmXN(c, a, b, m, n, k, 1, m, false) }

// GemmNN32 sets c = A·B: c[i*n+j] = Σ_p a[i*k+p]*b[p*n+j] for i < m and
// j < n, with A m×k and B k×n row-major: the input gradient dX = dZ·W of a
// dense layer over a batch of m samples. c must not overlap a or b.
func GemmNN32(c, a, b []float32, m, n, k int) { scalarGemmXN(c, a, b, m, n, k, k, 1, false) }

// GemmNN64 is GemmNN32 for float64.
func GemmNN64(c, a, b []float64, m, n, k int) { scalarGemmXN(c, a, b, m, n, k, k, 1, false) }
