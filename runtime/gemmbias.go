package runtime

import "fmt"

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

// GemmNNBiasScaleShift32 is the forward pass of a convolution through
// im2col and the inference-mode batchnorm after it in one pass over the
// output: z = bias + A·B as GemmNNBias32 writes it (bias nil: z = A·B as
// GemmNN32), and y[i*n+j] = z[i*n+j]*scale[i] + shift[i] (the product
// rounded, then the sum: ScaleShiftRows32 on z), with one scale and shift
// per row (the batchnorm's channel). Both are stored by the GEMM's tile
// kernels, so y costs no pass over z; z and y are bit for bit what
// GemmNNBias32 (GemmNN32) and ScaleShiftRows32 write. z is kept for the
// backward pass of the batchnorm, which reads it. z and y must not overlap
// each other, a, b, bias, scale or shift.
func GemmNNBiasScaleShift32(z, y, a, b, bias, scale, shift []float32, m, n, k int) {
	checkScaleShift(len(z), len(y), len(a), len(b), len(bias), bias != nil, len(scale), len(shift), m, n, k)
	gemmNNScaleShift32(z, y, a, b, bias, scale, shift, m, n, k, 0)
}

// GemmNNBiasScaleShiftRelu32 is GemmNNBiasScaleShift32 with a ReLU on y:
// y[i*n+j] = relu(z[i*n+j]*scale[i] + shift[i]) (kept where > 0 or NaN, else
// +0), bit for bit ReluForward32 after ScaleShiftRows32: a convolution,
// batchnorm in inference mode and a ReLU in one store, the batchnorm's
// output not written (the ReLU's backward pass tests y, which is > 0
// exactly where the batchnorm's output is).
func GemmNNBiasScaleShiftRelu32(z, y, a, b, bias, scale, shift []float32, m, n, k int) {
	checkScaleShift(len(z), len(y), len(a), len(b), len(bias), bias != nil, len(scale), len(shift), m, n, k)
	gemmNNScaleShift32(z, y, a, b, bias, scale, shift, m, n, k, gemmRelu)
}

// GemmNNBiasScaleShift64 is GemmNNBiasScaleShift32 for float64.
func GemmNNBiasScaleShift64(z, y, a, b, bias, scale, shift []float64, m, n, k int) {
	checkScaleShift(len(z), len(y), len(a), len(b), len(bias), bias != nil, len(scale), len(shift), m, n, k)
	scalarGemmNNScaleShift(z, y, a, b, bias, scale, shift, m, n, k, 0)
}

// GemmNNBiasScaleShiftRelu64 is GemmNNBiasScaleShiftRelu32 for float64.
func GemmNNBiasScaleShiftRelu64(z, y, a, b, bias, scale, shift []float64, m, n, k int) {
	checkScaleShift(len(z), len(y), len(a), len(b), len(bias), bias != nil, len(scale), len(shift), m, n, k)
	scalarGemmNNScaleShift(z, y, a, b, bias, scale, shift, m, n, k, gemmRelu)
}

// checkScaleShift panics unless the operands of GemmNNBiasScaleShift fit.
func checkScaleShift(nz, ny, na, nb, nbias int, bias bool, nscale, nshift, m, n, k int) {
	simdCheckGemmXN(nz, na, nb, m, n, k, k, 1)
	if m == 0 || n == 0 {
		return
	}
	switch {
	case ny < m*n:
		simdShort("GemmNNBiasScaleShift", "y", ny, m*n)
	case bias && nbias < m:
		simdShort("GemmNNBiasScaleShift", "bias", nbias, m)
	case nscale < m:
		simdShort("GemmNNBiasScaleShift", "scale", nscale, m)
	case nshift < m:
		simdShort("GemmNNBiasScaleShift", "shift", nshift, m)
	}
}

// scalarGemmNNScaleShift is the pure-Go GemmNNBiasScaleShift(Relu): the
// product (from the bias rows, or zero), then ScaleShiftRows and the ReLU
// (relu: gemmRelu) as their own loops.
func scalarGemmNNScaleShift[T simdFloat](z, y, a, b, bias, scale, shift []T, m, n, k, relu int) {
	if bias != nil {
		fillRows(z, bias, m, n)
	}
	scalarGemmXN(z, a, b, m, n, k, k, 1, bias != nil)
	gemmStore(z, y, scale, shift, m, n, gemmScaleShift|relu)
}

// gemmStore is the store of the pure-Go GEMMs by the mode bits of the tile
// kernels, after the product is in c: with gemmScaleShift, c2 = c·scale +
// shift row by row (ScaleShiftRows), and with gemmRelu the ReLU in place on
// the output stored last.
func gemmStore[T simdFloat](c, c2, scale, shift []T, m, n, mode int) {
	out := c[:m*n]
	if mode&gemmScaleShift != 0 {
		scalarScaleShiftRows(c2, c, scale, shift, m, n)
		out = c2[:m*n]
	}
	if mode&gemmRelu != 0 {
		scalarReluForward(out, out)
	}
}

// The modes of the gemmXN tile kernels, bits: the low two say where the
// accumulators start; gemmScaleShift stores the sums into c and also
// sum·scale[i] + shift[i] into c2 (a second output of the same shape);
// gemmRelu applies a ReLU (as ReluForward32: NaN kept, else max(., +0)) to
// what is stored last (c, or c2 with gemmScaleShift).
const (
	gemmZero       = 0 // zero: c = A·B
	gemmAcc        = 1 // c: c += A·B
	gemmBias       = 2 // bias[i] of row i: c = bias + A·B
	gemmStart      = 3 // the mask of the three above
	gemmRelu       = 4
	gemmScaleShift = 8
	// gemmBiasRelu: c = relu(bias + A·B).
	gemmBiasRelu = gemmBias | gemmRelu
)

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

// GemmNTBiasScaleShift32 is GemmNNBiasScaleShift32 with B given transposed,
// bt = Bᵀ (n×k row-major): z[i*n+j] = bias[i] + Σ_p a[i*k+p]*bt[j*k+p]
// (bias nil: none) and y[i*n+j] = z[i*n+j]*scale[i] + shift[i], the product
// rounded first. It is for products of few columns, such as a pointwise
// convolution over a few positions (n below a vector), where GemmNN's
// vectors along a row of B would be mostly empty: its tiles run whole
// vectors along k instead (the dot-product tiles of GemmNT32). z is summed
// in another order than GemmNNBias32's, so it differs from it in rounding;
// y is bit for bit ScaleShiftRows32 of z. z and y must not overlap each
// other or any operand.
func GemmNTBiasScaleShift32(z, y, a, bt, bias, scale, shift []float32, m, n, k int) {
	checkScaleShift(len(z), len(y), len(a), len(bt), len(bias), bias != nil, len(scale), len(shift), m, n, k)
	gemmNTScaleShift32(z, y, a, bt, bias, scale, shift, m, n, k, 0)
}

// GemmNTBiasScaleShiftRelu32 is GemmNTBiasScaleShift32 with a ReLU on y
// (each value kept where > 0 or NaN, else +0): y is bit for bit
// ReluForward32 after ScaleShiftRows32 of z.
func GemmNTBiasScaleShiftRelu32(z, y, a, bt, bias, scale, shift []float32, m, n, k int) {
	checkScaleShift(len(z), len(y), len(a), len(bt), len(bias), bias != nil, len(scale), len(shift), m, n, k)
	gemmNTScaleShift32(z, y, a, bt, bias, scale, shift, m, n, k, gemmRelu)
}

// GemmNTBiasScaleShift64 is GemmNTBiasScaleShift32 for float64.
func GemmNTBiasScaleShift64(z, y, a, bt, bias, scale, shift []float64, m, n, k int) {
	checkScaleShift(len(z), len(y), len(a), len(bt), len(bias), bias != nil, len(scale), len(shift), m, n, k)
	scalarGemmNTScaleShift(z, y, a, bt, bias, scale, shift, m, n, k, 0)
}

// GemmNTBiasScaleShiftRelu64 is GemmNTBiasScaleShiftRelu32 for float64.
func GemmNTBiasScaleShiftRelu64(z, y, a, bt, bias, scale, shift []float64, m, n, k int) {
	checkScaleShift(len(z), len(y), len(a), len(bt), len(bias), bias != nil, len(scale), len(shift), m, n, k)
	scalarGemmNTScaleShift(z, y, a, bt, bias, scale, shift, m, n, k, gemmRelu)
}

// scalarGemmNTScaleShift is the pure-Go GemmNTBiasScaleShift(Relu): each
// dot product summed in order, then the bias, then ScaleShiftRows and the
// ReLU (relu: gemmRelu) as their own loops.
func scalarGemmNTScaleShift[T simdFloat](z, y, a, bt, bias, scale, shift []T, m, n, k, relu int) {
	for i := range m {
		ai := a[i*k : i*k+k]
		for j := range n {
			var s T
			for p, v := range bt[j*k : j*k+k] {
				s += ai[p] * v
			}
			if bias != nil {
				s += bias[i]
			}
			z[i*n+j] = s
		}
	}
	gemmStore(z, y, scale, shift, m, n, gemmScaleShift|relu)
}

// Transpose32 sets dst[j*rows+i] = src[i*cols+j] for i < rows and j < cols:
// dst = srcᵀ, both row-major. They must not overlap.
func Transpose32(dst, src []float32, rows, cols int) { transpose(dst, src, rows, cols) }

// Transpose64 is Transpose32 for float64.
func Transpose64(dst, src []float64, rows, cols int) { transpose(dst, src, rows, cols) }

func transpose[T simdFloat](dst, src []T, rows, cols int) {
	if rows < 0 || cols < 0 {
		panic(fmt.Sprintf("runtime.Transpose: negative size %d×%d", rows, cols))
	}
	if len(src) < rows*cols {
		simdShort("Transpose", "src", len(src), rows*cols)
	}
	if len(dst) < rows*cols {
		simdShort("Transpose", "dst", len(dst), rows*cols)
	}
	if rows*cols == 0 {
		return
	}
	// Along the rows of dst (whole, contiguous), reading src with stride cols.
	src = src[:rows*cols]
	for j := range cols {
		d := dst[j*rows : j*rows+rows]
		for i := range d {
			d[i] = src[i*cols+j]
		}
	}
}
