//go:build goexperiment.simd && amd64

package runtime

import (
	"math"
	"simd/archsimd"
)

// The archsimd build of the vector kernels (GOEXPERIMENT=simd on amd64); the
// pure-Go build is simd_generic.go, the kernels themselves are generated into
// simd_kernels_amd64.go. The path is chosen once at start-up from the CPU:
// Float32x16/Float64x8 with AVX-512, Float32x8/Float64x4 with AVX2+FMA, else
// the pure-Go loops of simd_scalar.go.
//
// Every exported function ends its SIMD path with archsimd.ClearAVXUpperBits
// (VZEROUPPER): Go compiles scalar float code to SSE instructions, which run
// several times slower while the upper halves of the vector registers are
// dirty (see PERF.md). The kernels call one another without it.

//go:generate go run simd_kernels_gen.go

const (
	simdGeneric = iota
	simdAVX2
	simdAVX512
)

// simdLevel is the path the exported kernels take; tests lower it to cover
// every path the CPU supports.
var simdLevel = simdDetect()

func simdDetect() int {
	switch {
	case archsimd.X86.AVX512():
		return simdAVX512
	case archsimd.X86.AVX2() && archsimd.X86.FMA():
		return simdAVX2
	}
	return simdGeneric
}

// SIMDLevel reports which path the vector kernels run: "avx512", "avx2" or
// "generic".
func SIMDLevel() string {
	switch simdLevel {
	case simdAVX512:
		return "avx512"
	case simdAVX2:
		return "avx2"
	}
	return "generic"
}

// Dot32 returns Σ x[i]*y[i] over len(x); y must be at least as long.
func Dot32(x, y []float32) float32 {
	switch simdLevel {
	case simdAVX512:
		s := dotF32x16(x, y)
		archsimd.ClearAVXUpperBits()
		return s
	case simdAVX2:
		s := dotF32x8(x, y)
		archsimd.ClearAVXUpperBits()
		return s
	}
	return scalarDot(x, y)
}

// Dot64 returns Σ x[i]*y[i] over len(x); y must be at least as long.
func Dot64(x, y []float64) float64 {
	switch simdLevel {
	case simdAVX512:
		s := dotF64x8(x, y)
		archsimd.ClearAVXUpperBits()
		return s
	case simdAVX2:
		s := dotF64x4(x, y)
		archsimd.ClearAVXUpperBits()
		return s
	}
	return scalarDot(x, y)
}

// scaleSq32 sets x[i] *= a over len(x) and returns Σ x[i]² of the scaled
// values (Fit's gradient averaging and finiteness check in one pass).
func scaleSq32(a float32, x []float32) float32 {
	switch simdLevel {
	case simdAVX512:
		s := scaleSqF32x16(a, x)
		archsimd.ClearAVXUpperBits()
		return s
	case simdAVX2:
		s := scaleSqF32x8(a, x)
		archsimd.ClearAVXUpperBits()
		return s
	}
	return scalarScaleSq(a, x)
}

// scaleSq64 sets x[i] *= a over len(x) and returns Σ x[i]² of the scaled values.
func scaleSq64(a float64, x []float64) float64 {
	switch simdLevel {
	case simdAVX512:
		s := scaleSqF64x8(a, x)
		archsimd.ClearAVXUpperBits()
		return s
	case simdAVX2:
		s := scaleSqF64x4(a, x)
		archsimd.ClearAVXUpperBits()
		return s
	}
	return scalarScaleSq(a, x)
}

// Axpy32 does y[i] += a*x[i] over len(x); y must be at least as long.
func Axpy32(a float32, x, y []float32) {
	switch simdLevel {
	case simdAVX512:
		axpyF32x16(a, x, y)
		archsimd.ClearAVXUpperBits()
	case simdAVX2:
		axpyF32x8(a, x, y)
		archsimd.ClearAVXUpperBits()
	default:
		scalarAxpy(a, x, y)
	}
}

// Axpy64 does y[i] += a*x[i] over len(x); y must be at least as long.
func Axpy64(a float64, x, y []float64) {
	switch simdLevel {
	case simdAVX512:
		axpyF64x8(a, x, y)
		archsimd.ClearAVXUpperBits()
	case simdAVX2:
		axpyF64x4(a, x, y)
		archsimd.ClearAVXUpperBits()
	default:
		scalarAxpy(a, x, y)
	}
}

// MatVec32 sets y[o] = b[o] + Σ_i w[o*cols+i]*x[i] for o < rows; w is row-major
// rows×cols and b may be nil. y must not overlap w, x or b.
func MatVec32(y, w, x, b []float32, rows, cols int) {
	switch simdLevel {
	case simdAVX512:
		matVecF32x16(y, w, x, b, rows, cols)
		archsimd.ClearAVXUpperBits()
	case simdAVX2:
		matVecF32x8(y, w, x, b, rows, cols)
		archsimd.ClearAVXUpperBits()
	default:
		scalarMatVec(y, w, x, b, rows, cols)
	}
}

// MatVec64 sets y[o] = b[o] + Σ_i w[o*cols+i]*x[i] for o < rows; w is row-major
// rows×cols and b may be nil. y must not overlap w, x or b.
func MatVec64(y, w, x, b []float64, rows, cols int) {
	switch simdLevel {
	case simdAVX512:
		matVecF64x8(y, w, x, b, rows, cols)
		archsimd.ClearAVXUpperBits()
	case simdAVX2:
		matVecF64x4(y, w, x, b, rows, cols)
		archsimd.ClearAVXUpperBits()
	default:
		scalarMatVec(y, w, x, b, rows, cols)
	}
}

// OuterAdd32 is the backward pass of MatVec32: for every o < rows whose
// g = dy[o] is not zero, gw[o*cols+i] += g*x[i] and, if dx != nil,
// dx[i] += g*w[o*cols+i]. Rows with dy[o] == 0 are not touched; w may be nil
// when dx is. Outputs must not overlap inputs.
func OuterAdd32(gw, dx, w, dy, x []float32, rows, cols int) {
	switch simdLevel {
	case simdAVX512:
		outerAddF32x16(gw, dx, w, dy, x, rows, cols)
		archsimd.ClearAVXUpperBits()
	case simdAVX2:
		outerAddF32x8(gw, dx, w, dy, x, rows, cols)
		archsimd.ClearAVXUpperBits()
	default:
		scalarOuterAdd(gw, dx, w, dy, x, rows, cols)
	}
}

// OuterAdd64 is the backward pass of MatVec64: for every o < rows whose
// g = dy[o] is not zero, gw[o*cols+i] += g*x[i] and, if dx != nil,
// dx[i] += g*w[o*cols+i]. Rows with dy[o] == 0 are not touched; w may be nil
// when dx is. Outputs must not overlap inputs.
func OuterAdd64(gw, dx, w, dy, x []float64, rows, cols int) {
	switch simdLevel {
	case simdAVX512:
		outerAddF64x8(gw, dx, w, dy, x, rows, cols)
		archsimd.ClearAVXUpperBits()
	case simdAVX2:
		outerAddF64x4(gw, dx, w, dy, x, rows, cols)
		archsimd.ClearAVXUpperBits()
	default:
		scalarOuterAdd(gw, dx, w, dy, x, rows, cols)
	}
}

// Horizontal sums. fold* halves a vector down to 128 bits; hsum* finishes one
// sum; rows4* finishes four (one per row of matVec) and stores them, plus bias,
// into y[o:o+4].

func foldF32x16(v archsimd.Float32x16) archsimd.Float32x4 { return foldF32x8(v.GetLo().Add(v.GetHi())) }
func foldF32x8(v archsimd.Float32x8) archsimd.Float32x4   { return v.GetLo().Add(v.GetHi()) }
func foldF64x8(v archsimd.Float64x8) archsimd.Float64x2   { return foldF64x4(v.GetLo().Add(v.GetHi())) }
func foldF64x4(v archsimd.Float64x4) archsimd.Float64x2   { return v.GetLo().Add(v.GetHi()) }

func hsumF32(q archsimd.Float32x4) float32 {
	q = q.AddPairs(q)
	return q.AddPairs(q).GetElem(0)
}

func hsumF64(q archsimd.Float64x2) float64 {
	return q.AddPairs(q).GetElem(0)
}

func rows4F32(y, b []float32, o int, q0, q1, q2, q3 archsimd.Float32x4) {
	s := q0.AddPairs(q1).AddPairs(q2.AddPairs(q3)) // [Σq0, Σq1, Σq2, Σq3]
	if b != nil {
		s = s.Add(archsimd.LoadFloat32x4Slice(b[o:]))
	}
	s.StoreSlice(y[o:])
}

func rows4F64(y, b []float64, o int, q0, q1, q2, q3 archsimd.Float64x2) {
	s01, s23 := q0.AddPairs(q1), q2.AddPairs(q3)
	if b != nil {
		s01 = s01.Add(archsimd.LoadFloat64x2Slice(b[o:]))
		s23 = s23.Add(archsimd.LoadFloat64x2Slice(b[o+2:]))
	}
	s01.StoreSlice(y[o:])
	s23.StoreSlice(y[o+2:])
}

// ClearSIMDState clears the upper halves of the vector registers
// (archsimd.ClearAVXUpperBits, VZEROUPPER); in the pure-Go build it does
// nothing. Go compiles scalar float code to SSE instructions, which ran 5×
// slower here while those halves are dirty, and in GOEXPERIMENT=simd binaries
// the scheduler's asynchronous preemption dirties them (it restores every
// 512-bit register) even in code that uses no SIMD. The kernels of this file
// clear on return; call ClearSIMDState before a long scalar float section that
// does not follow a kernel call, e.g. at the start of a training step. It
// costs about a nanosecond.
func ClearSIMDState() {
	if simdLevel != simdGeneric {
		archsimd.ClearAVXUpperBits()
	}
}

// AxpyRows32 does y[r*ys+i] += a*x[r*xs+i] for r < rows and i < n.
func AxpyRows32(a float32, x []float32, xs int, y []float32, ys, rows, n int) {
	simdCheckRows("AxpyRows32", "x", len(x), xs, rows, n)
	simdCheckRows("AxpyRows32", "y", len(y), ys, rows, n)
	for r := 0; r < rows; r++ {
		xr, yr := x[r*xs:r*xs+n], y[r*ys:r*ys+n]
		switch simdLevel {
		case simdAVX512:
			axpyF32x16(a, xr, yr)
		case simdAVX2:
			axpyF32x8(a, xr, yr)
		default:
			scalarAxpy(a, xr, yr)
		}
	}
	archsimd.ClearAVXUpperBits()
}

// AxpyRows64 does y[r*ys+i] += a*x[r*xs+i] for r < rows and i < n.
func AxpyRows64(a float64, x []float64, xs int, y []float64, ys, rows, n int) {
	simdCheckRows("AxpyRows64", "x", len(x), xs, rows, n)
	simdCheckRows("AxpyRows64", "y", len(y), ys, rows, n)
	for r := 0; r < rows; r++ {
		xr, yr := x[r*xs:r*xs+n], y[r*ys:r*ys+n]
		switch simdLevel {
		case simdAVX512:
			axpyF64x8(a, xr, yr)
		case simdAVX2:
			axpyF64x4(a, xr, yr)
		default:
			scalarAxpy(a, xr, yr)
		}
	}
	archsimd.ClearAVXUpperBits()
}

// DotRows32 returns Σ x[r*xs+i]*y[r*ys+i] over r < rows and i < n.
func DotRows32(x []float32, xs int, y []float32, ys, rows, n int) float32 {
	simdCheckRows("DotRows32", "x", len(x), xs, rows, n)
	simdCheckRows("DotRows32", "y", len(y), ys, rows, n)
	var s float32
	for r := 0; r < rows; r++ {
		xr, yr := x[r*xs:r*xs+n], y[r*ys:r*ys+n]
		switch simdLevel {
		case simdAVX512:
			s += dotF32x16(xr, yr)
		case simdAVX2:
			s += dotF32x8(xr, yr)
		default:
			s += scalarDot(xr, yr)
		}
	}
	archsimd.ClearAVXUpperBits()
	return s
}

// DotRows64 returns Σ x[r*xs+i]*y[r*ys+i] over r < rows and i < n.
func DotRows64(x []float64, xs int, y []float64, ys, rows, n int) float64 {
	simdCheckRows("DotRows64", "x", len(x), xs, rows, n)
	simdCheckRows("DotRows64", "y", len(y), ys, rows, n)
	var s float64
	for r := 0; r < rows; r++ {
		xr, yr := x[r*xs:r*xs+n], y[r*ys:r*ys+n]
		switch simdLevel {
		case simdAVX512:
			s += dotF64x8(xr, yr)
		case simdAVX2:
			s += dotF64x4(xr, yr)
		default:
			s += scalarDot(xr, yr)
		}
	}
	archsimd.ClearAVXUpperBits()
	return s
}

// ReluForward32 sets a[i] = max(z[i], 0) over len(z); a NaN stays NaN, as
// with Go's max and PyTorch's relu.
func ReluForward32(z, a []float32) {
	a = a[:len(z)]
	i := 0
	if simdLevel == simdAVX512 {
		zero := archsimd.BroadcastFloat32x16(0)
		for ; i+16 <= len(z); i += 16 {
			v := archsimd.LoadFloat32x16((*[16]float32)(z[i : i+16]))
			v.Masked(v.Greater(zero).Or(v.IsNaN())).Store((*[16]float32)(a[i : i+16]))
		}
		archsimd.ClearAVXUpperBits()
	}
	scalarReluForward(z[i:], a[i:])
}

// ReluForward64 sets a[i] = max(z[i], 0) over len(z); a NaN stays NaN.
func ReluForward64(z, a []float64) {
	a = a[:len(z)]
	i := 0
	if simdLevel == simdAVX512 {
		zero := archsimd.BroadcastFloat64x8(0)
		for ; i+8 <= len(z); i += 8 {
			v := archsimd.LoadFloat64x8((*[8]float64)(z[i : i+8]))
			v.Masked(v.Greater(zero).Or(v.IsNaN())).Store((*[8]float64)(a[i : i+8]))
		}
		archsimd.ClearAVXUpperBits()
	}
	scalarReluForward(z[i:], a[i:])
}

// ReluBackward32 zeroes d[i] wherever z[i] <= 0: the ReLU derivative applied
// in place (a NaN z[i] leaves d[i] as it is, like the generated inline code).
func ReluBackward32(z, d []float32) {
	d = d[:len(z)]
	i := 0
	if simdLevel == simdAVX512 {
		zero := archsimd.BroadcastFloat32x16(0)
		for ; i+16 <= len(z); i += 16 {
			v := archsimd.LoadFloat32x16((*[16]float32)(z[i : i+16]))
			g := archsimd.LoadFloat32x16((*[16]float32)(d[i : i+16]))
			g.Masked(v.Greater(zero).Or(v.IsNaN())).Store((*[16]float32)(d[i : i+16]))
		}
		archsimd.ClearAVXUpperBits()
	}
	scalarReluBackward(z[i:], d[i:])
}

// ReluBackward64 zeroes d[i] wherever z[i] <= 0.
func ReluBackward64(z, d []float64) {
	d = d[:len(z)]
	i := 0
	if simdLevel == simdAVX512 {
		zero := archsimd.BroadcastFloat64x8(0)
		for ; i+8 <= len(z); i += 8 {
			v := archsimd.LoadFloat64x8((*[8]float64)(z[i : i+8]))
			g := archsimd.LoadFloat64x8((*[8]float64)(d[i : i+8]))
			g.Masked(v.Greater(zero).Or(v.IsNaN())).Store((*[8]float64)(d[i : i+8]))
		}
		archsimd.ClearAVXUpperBits()
	}
	scalarReluBackward(z[i:], d[i:])
}

// ShiftSum32 sets y[i] = b + Σ_k w[k]·x[offs[k]+i] for i < n: one output row
// of a convolution, the sum of the kernel's taps over shifted input rows,
// accumulated in registers and stored once.
func ShiftSum32(y, x []float32, offs []int32, w []float32, n int, b float32) {
	shiftSumCheck("ShiftSum32", len(y), len(x), offs, len(w), n)
	if simdLevel != simdAVX512 {
		scalarShiftSum(y, x, offs, w, n, b)
		return
	}
	vb := archsimd.BroadcastFloat32x16(b)
	for i := 0; i < n; i += 16 {
		m := min(16, n-i)
		acc := vb
		for k, off := range offs {
			o := int(off) + i
			acc = archsimd.BroadcastFloat32x16(w[k]).MulAdd(archsimd.LoadFloat32x16SlicePart(x[o:o+m]), acc)
		}
		acc.StoreSlicePart(y[i : i+m])
	}
	archsimd.ClearAVXUpperBits()
}

// ShiftSum64 sets y[i] = b + Σ_k w[k]·x[offs[k]+i] for i < n.
func ShiftSum64(y, x []float64, offs []int32, w []float64, n int, b float64) {
	shiftSumCheck("ShiftSum64", len(y), len(x), offs, len(w), n)
	if simdLevel != simdAVX512 {
		scalarShiftSum(y, x, offs, w, n, b)
		return
	}
	vb := archsimd.BroadcastFloat64x8(b)
	for i := 0; i < n; i += 8 {
		m := min(8, n-i)
		acc := vb
		for k, off := range offs {
			o := int(off) + i
			acc = archsimd.BroadcastFloat64x8(w[k]).MulAdd(archsimd.LoadFloat64x8SlicePart(x[o:o+m]), acc)
		}
		acc.StoreSlicePart(y[i : i+m])
	}
	archsimd.ClearAVXUpperBits()
}

// adamUpdate32 is the float32 Adam update of optim.go with AVX-512: for every
// i, g = grads[i] + wd·p; m = b1·m + c1·g; v = b2·v + c2·g²;
// p -= step·m/(√v·invSqrtBC2 + eps). It returns false, doing nothing, when
// AVX-512 is not available; the caller then runs the scalar loop.
func adamUpdate32(params, grads, m, v []float32, b1, b2, c1, c2, wd, step, invSqrtBC2, eps float32) bool {
	if simdLevel != simdAVX512 {
		return false
	}
	n := len(params)
	grads, m, v = grads[:n], m[:n], v[:n]
	vb1, vb2 := archsimd.BroadcastFloat32x16(b1), archsimd.BroadcastFloat32x16(b2)
	vc1, vc2 := archsimd.BroadcastFloat32x16(c1), archsimd.BroadcastFloat32x16(c2)
	vwd, vstep := archsimd.BroadcastFloat32x16(wd), archsimd.BroadcastFloat32x16(step)
	vinv, veps := archsimd.BroadcastFloat32x16(invSqrtBC2), archsimd.BroadcastFloat32x16(eps)
	i := 0
	for ; i+16 <= n; i += 16 {
		p := archsimd.LoadFloat32x16((*[16]float32)(params[i : i+16]))
		g := vwd.MulAdd(p, archsimd.LoadFloat32x16((*[16]float32)(grads[i:i+16])))
		mi := vc1.MulAdd(g, vb1.Mul(archsimd.LoadFloat32x16((*[16]float32)(m[i:i+16]))))
		vi := vc2.MulAdd(g.Mul(g), vb2.Mul(archsimd.LoadFloat32x16((*[16]float32)(v[i:i+16]))))
		mi.Store((*[16]float32)(m[i : i+16]))
		vi.Store((*[16]float32)(v[i : i+16]))
		p.Sub(vstep.Mul(mi).Div(vi.Sqrt().MulAdd(vinv, veps))).Store((*[16]float32)(params[i : i+16]))
	}
	archsimd.ClearAVXUpperBits()
	for ; i < n; i++ {
		g := grads[i] + wd*params[i]
		mi := b1*m[i] + c1*g
		vi := b2*v[i] + c2*g*g
		m[i], v[i] = mi, vi
		params[i] -= step * mi / (float32(math.Sqrt(float64(vi)))*invSqrtBC2 + eps)
	}
	return true
}

// GemmNT32 sets c[i*n+j] = bias[j] + Σ_p a[i*k+p]*b[j*k+p] for i < m and
// j < n: C = A·Bᵀ + bias with A m×k and B n×k row-major, the whole-batch
// forward pass of a dense layer (A the inputs, B the weights). bias may be
// nil. c must not overlap a, b or bias.
func GemmNT32(c, a, b, bias []float32, m, n, k int) {
	switch simdLevel {
	case simdAVX512:
		gemmNTF32x16(c, a, b, bias, m, n, k)
		archsimd.ClearAVXUpperBits()
	case simdAVX2:
		gemmNTF32x8(c, a, b, bias, m, n, k)
		archsimd.ClearAVXUpperBits()
	default:
		scalarGemmNT(c, a, b, bias, m, n, k)
	}
}

// GemmNT64 is GemmNT32 for float64.
func GemmNT64(c, a, b, bias []float64, m, n, k int) {
	switch simdLevel {
	case simdAVX512:
		gemmNTF64x8(c, a, b, bias, m, n, k)
		archsimd.ClearAVXUpperBits()
	case simdAVX2:
		gemmNTF64x4(c, a, b, bias, m, n, k)
		archsimd.ClearAVXUpperBits()
	default:
		scalarGemmNT(c, a, b, bias, m, n, k)
	}
}

// GemmTN32 adds Aᵀ·B into c: c[i*n+j] += Σ_p a[p*m+i]*b[p*n+j] for i < m and
// j < n, with A k×m and B k×n row-major: the weight gradient dW += dZᵀ·X of
// a dense layer over a batch of k samples. c must not overlap a or b.
func GemmTN32(c, a, b []float32, m, n, k int) { gemmXN32(c, a, b, m, n, k, 1, m, true) }

// GemmTN64 is GemmTN32 for float64.
func GemmTN64(c, a, b []float64, m, n, k int) { gemmXN64(c, a, b, m, n, k, 1, m, true) }

// GemmNN32 sets c = A·B: c[i*n+j] = Σ_p a[i*k+p]*b[p*n+j] for i < m and
// j < n, with A m×k and B k×n row-major: the input gradient dX = dZ·W of a
// dense layer over a batch of m samples. c must not overlap a or b.
func GemmNN32(c, a, b []float32, m, n, k int) { gemmXN32(c, a, b, m, n, k, k, 1, false) }

// GemmNN64 is GemmNN32 for float64.
func GemmNN64(c, a, b []float64, m, n, k int) { gemmXN64(c, a, b, m, n, k, k, 1, false) }

func gemmXN32(c, a, b []float32, m, n, k, rs, cs int, acc bool) {
	switch simdLevel {
	case simdAVX512:
		gemmXNF32x16(c, a, b, m, n, k, rs, cs, acc)
		archsimd.ClearAVXUpperBits()
	case simdAVX2:
		gemmXNF32x8(c, a, b, m, n, k, rs, cs, acc)
		archsimd.ClearAVXUpperBits()
	default:
		scalarGemmXN(c, a, b, m, n, k, rs, cs, acc)
	}
}

func gemmXN64(c, a, b []float64, m, n, k, rs, cs int, acc bool) {
	switch simdLevel {
	case simdAVX512:
		gemmXNF64x8(c, a, b, m, n, k, rs, cs, acc)
		archsimd.ClearAVXUpperBits()
	case simdAVX2:
		gemmXNF64x4(c, a, b, m, n, k, rs, cs, acc)
		archsimd.ClearAVXUpperBits()
	default:
		scalarGemmXN(c, a, b, m, n, k, rs, cs, acc)
	}
}
