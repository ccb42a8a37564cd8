// Command asmgen writes the amd64 assembly kernels of package runtime
// (runtime/kernels_amd64.s) and their Go declarations
// (runtime/kernels_amd64.go) with github.com/mmcloughlin/avo. It lives in its
// own module so that avo is not a dependency of the main module. Run it
// through `go generate ./runtime`; the output depends only on this program.
//
// Every kernel exists twice: with AVX-512 (zmm registers, 16 float32 lanes,
// k-mask tails; needs AVX512F, AVX512VL and BMI2) and with AVX2+FMA (ymm, 8
// lanes, VMASKMOVPS tails). Kernels take raw pointers and element counts: the
// Go wrappers in runtime/simd_amd64.go check every length first. Every kernel
// ends with VZEROUPPER.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// lvl is one instruction-set level.
type lvl struct {
	name string // function name suffix: "512" or "256"
	w    int    // float32 lanes per vector
	vb   int    // bytes per vector
	// gemm tiles: NT uses mr rows of A × nr rows of B (one accumulator per
	// pair); XN uses mr rows × nv vectors of columns.
	ntMR, ntNR int
	xnMR, xnNV int
	// xnTall[nv] is the rows of the tall XN tile of nv vectors (0: none),
	// for products of few columns (see gemmXNScale32): enough accumulators
	// to cover the FMA latency where mr×1 of the square tiles are too few.
	xnTall []int
}

var (
	avx512 = &lvl{name: "512", w: 16, vb: 64, ntMR: 4, ntNR: 4, xnMR: 4, xnNV: 4, xnTall: []int{0, 8}}
	avx2   = &lvl{name: "256", w: 8, vb: 32, ntMR: 3, ntNR: 3, xnMR: 3, xnNV: 3, xnTall: []int{0, 8, 4}}
)

var zregs = []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
	Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31}

// v returns vector register i at the level's width.
func (l *lvl) v(i int) Register {
	if l.w == 16 {
		return zregs[i]
	}
	return zregs[i].AsY()
}

// x returns the 128-bit view of vector register i.
func x(i int) Register { return zregs[i].AsX() }

// maskReg is the AVX2 lane-mask register of vector tails (VMASKMOVPS);
// AVX-512 uses K1. xMaskReg holds the AVX2 mask of partial xmm stores in
// gemmNT (AVX-512 uses K2).
const maskReg, xMaskReg = 15, 14

// shift is log2 of the lanes per vector.
func (l *lvl) shift() int {
	if l.w == 16 {
		return 4
	}
	return 3
}

// tailMask sets the tail mask to the low n%w lanes (n in elements): K1 with
// AVX-512, Y15 from maskTable with AVX2.
func (l *lvl) tailMask(n Register) {
	r := GP64()
	MOVQ(n, r)
	ANDQ(U32(l.w-1), r)
	l.laneMask(r)
}

// laneMask sets the tail mask to the low r lanes, 0 ≤ r ≤ w.
func (l *lvl) laneMask(r GPVirtual) {
	if l.w == 16 {
		ones := GP32()
		MOVL(U32(0xffff), ones)
		BZHIL(r.As32(), ones, ones)
		KMOVW(ones, K1)
		return
	}
	// maskTable holds 8 all-ones words then 8 zero words: loading 8 words
	// from word 8-r gives r leading all-ones lanes.
	t := GP64()
	MOVQ(U32(8), t)
	SUBQ(r, t)
	base := GP64()
	LEAQ(maskTable, base)
	VMOVUPS(Mem{Base: base, Index: t, Scale: 4}, l.v(maskReg))
}

// load loads a vector from m into register dst, only the tail lanes if masked
// (the others become zero).
func (l *lvl) load(m Mem, dst Register, masked bool) {
	switch {
	case !masked:
		VMOVUPS(m, dst)
	case l.w == 16:
		VMOVUPS_Z(m, K1, dst)
	default:
		VMASKMOVPS(m, l.v(maskReg), dst)
	}
}

// store stores register src to m, only the tail lanes if masked.
func (l *lvl) store(src Register, m Mem, masked bool) {
	switch {
	case !masked:
		VMOVUPS(src, m)
	case l.w == 16:
		VMOVUPS(src, K1, m)
	default:
		VMASKMOVPS(src, l.v(maskReg), m)
	}
}

var labelN int

func newLabel(s string) string {
	labelN++
	return fmt.Sprintf("%s%d", s, labelN)
}

// vloop emits a loop over n elements (n a register, in elements) with idx the
// byte offset of the current vector: blocks of u vectors, then single vectors,
// then, if n%w != 0, one masked vector (the caller has set the tail mask).
// body(j, masked) emits the work for vector j of the block at byte offset
// idx + j*vb. idx is zeroed first.
func (l *lvl) vloop(n, idx Register, u int, body func(j int, masked bool)) {
	limU, lim1, nb := GP64(), GP64(), GP64()
	MOVQ(n, limU)
	ANDQ(I32(-(u * l.w)), limU)
	SHLQ(U8(2), limU)
	l.vloopLimits(n, lim1, nb)
	l.vloopRegs(limU, lim1, nb, idx, u, body)
}

// vloopLimits sets lim1 = n rounded down to one vector and nb = n, both in
// bytes: vloopRegs's limits for u = 1.
func (l *lvl) vloopLimits(n, lim1, nb Register) {
	MOVQ(n, lim1)
	ANDQ(I32(-l.w), lim1)
	SHLQ(U8(2), lim1)
	MOVQ(n, nb)
	SHLQ(U8(2), nb)
}

// vloopRegs is vloop with the three limits (bytes) precomputed by the caller:
// limU = n rounded down to u vectors, lim1 = n rounded down to one vector,
// nb = n.
func (l *lvl) vloopRegs(limU, lim1, nb, idx Register, u int, body func(j int, masked bool)) {
	XORQ(idx, idx)
	loopU, loop1, done := newLabel("loopU"), newLabel("loop1"), newLabel("done")
	if u > 1 {
		Label(loopU)
		CMPQ(idx, limU)
		JAE(LabelRef(loop1))
		for j := 0; j < u; j++ {
			body(j, false)
		}
		ADDQ(U32(u*l.vb), idx)
		JMP(LabelRef(loopU))
	}
	Label(loop1)
	CMPQ(idx, lim1)
	tail := newLabel("tail")
	JAE(LabelRef(tail))
	body(0, false)
	ADDQ(U32(l.vb), idx)
	JMP(LabelRef(loop1))
	Label(tail)
	CMPQ(idx, nb)
	JAE(LabelRef(done))
	body(0, true)
	Label(done)
}

func at(base, idx Register, disp int) Mem {
	return Mem{Base: base, Index: idx, Scale: 1, Disp: disp}
}

// hsum leaves the sum of the lanes of vector register i in lane 0 of X(i);
// tmp is a scratch vector register index.
func (l *lvl) hsum(i, tmp int) {
	if l.w == 16 {
		VEXTRACTF64X4(U8(1), zregs[i], zregs[tmp].AsY())
		VADDPS(zregs[tmp].AsY(), zregs[i].AsY(), zregs[i].AsY())
	}
	VEXTRACTF128(U8(1), zregs[i].AsY(), x(tmp))
	VADDPS(x(tmp), x(i), x(i))
	VHADDPS(x(i), x(i), x(i))
	VHADDPS(x(i), x(i), x(i))
}

func (l *lvl) fn(name, sig string, doc ...string) {
	TEXT(name+l.name, NOSPLIT, sig)
	Pragma("noescape")
	Doc(doc...)
}

func param(name string) Mem {
	b, err := Param(name).Resolve()
	if err != nil {
		panic(err)
	}
	return b.Addr
}

// dotRows: Σ x[r*xs+i]*y[r*ys+i] over r < rows, i < n, in four vector
// accumulators reduced once at the end.
func (l *lvl) dotRows() {
	l.fn("dotRows", "func(x *float32, xs int, y *float32, ys int, rows int, n int) float32",
		"dotRows"+l.name+" returns Σ x[r*xs+i]*y[r*ys+i] over r < rows and i < n (rows ≥ 0, n ≥ 0).")
	px, py := Load(Param("x"), GP64()), Load(Param("y"), GP64())
	xs, ys := Load(Param("xs"), GP64()), Load(Param("ys"), GP64())
	rows, n := Load(Param("rows"), GP64()), Load(Param("n"), GP64())
	SHLQ(U8(2), xs)
	SHLQ(U8(2), ys)
	for j := 0; j < 4; j++ {
		VXORPS(l.v(j), l.v(j), l.v(j))
	}
	l.tailMask(n)
	limU, lim1, nb, idx := GP64(), GP64(), GP64(), GP64()
	MOVQ(n, limU)
	ANDQ(I32(-4*l.w), limU)
	SHLQ(U8(2), limU)
	MOVQ(n, lim1)
	ANDQ(I32(-l.w), lim1)
	SHLQ(U8(2), lim1)
	MOVQ(n, nb)
	SHLQ(U8(2), nb)
	// row emits one row at px, py: blocks of four vectors into accumulators
	// a1, 1, 2, 3, single vectors into a1, the masked tail into a2. Two
	// rows per iteration use different a1, a2, so short rows (one vector and
	// a tail, 28 floats) give four independent FMA chains.
	row := func(px, py Register, a1, a2 int) {
		l.vloopRegs(limU, lim1, nb, idx, 4, func(j int, masked bool) {
			if masked {
				l.load(at(px, idx, 0), l.v(4), true)
				l.load(at(py, idx, 0), l.v(5), true)
				VFMADD231PS(l.v(5), l.v(4), l.v(a2))
				return
			}
			a := j // block vector j (any accumulator would do: all are summed)
			if j == 0 {
				a = a1 // also the single vectors
			}
			VMOVUPS(at(px, idx, j*l.vb), l.v(4+j))
			VFMADD231PS(at(py, idx, j*l.vb), l.v(4+j), l.v(a))
		})
	}
	px2, py2 := GP64(), GP64()
	pairLoop, odd, end := newLabel("pairs"), newLabel("odd"), newLabel("end")
	Label(pairLoop)
	CMPQ(rows, U8(2))
	JB(LabelRef(odd))
	LEAQ(Mem{Base: px, Index: xs, Scale: 1}, px2)
	LEAQ(Mem{Base: py, Index: ys, Scale: 1}, py2)
	row(px, py, 0, 1)
	row(px2, py2, 2, 3)
	LEAQ(Mem{Base: px2, Index: xs, Scale: 1}, px)
	LEAQ(Mem{Base: py2, Index: ys, Scale: 1}, py)
	SUBQ(U8(2), rows)
	JMP(LabelRef(pairLoop))
	Label(odd)
	TESTQ(rows, rows)
	JZ(LabelRef(end))
	row(px, py, 0, 1)
	Label(end)
	VADDPS(l.v(1), l.v(0), l.v(0))
	VADDPS(l.v(3), l.v(2), l.v(2))
	VADDPS(l.v(2), l.v(0), l.v(0))
	l.hsum(0, 1)
	VZEROUPPER()
	Store(x(0), ReturnIndex(0))
	RET()
}

// axpyRows: y[r*ys+i] += a*x[r*xs+i].
func (l *lvl) axpyRows() {
	l.fn("axpyRows", "func(a float32, x *float32, xs int, y *float32, ys int, rows int, n int)",
		"axpyRows"+l.name+" does y[r*ys+i] += a*x[r*xs+i] for r < rows and i < n.")
	const va = 14
	VBROADCASTSS(param("a"), l.v(va))
	px, py := Load(Param("x"), GP64()), Load(Param("y"), GP64())
	xs, ys := Load(Param("xs"), GP64()), Load(Param("ys"), GP64())
	rows, n := Load(Param("rows"), GP64()), Load(Param("n"), GP64())
	SHLQ(U8(2), xs)
	SHLQ(U8(2), ys)
	l.tailMask(n)
	limU, lim1, nb, idx := GP64(), GP64(), GP64(), GP64()
	MOVQ(n, limU)
	ANDQ(I32(-4*l.w), limU)
	SHLQ(U8(2), limU)
	MOVQ(n, lim1)
	ANDQ(I32(-l.w), lim1)
	SHLQ(U8(2), lim1)
	MOVQ(n, nb)
	SHLQ(U8(2), nb)
	rowLoop, end := newLabel("rows"), newLabel("end")
	Label(rowLoop)
	TESTQ(rows, rows)
	JZ(LabelRef(end))
	l.vloopRegs(limU, lim1, nb, idx, 4, func(j int, masked bool) {
		if masked {
			l.load(at(px, idx, 0), l.v(4), true)
			l.load(at(py, idx, 0), l.v(0), true)
			VFMADD231PS(l.v(4), l.v(va), l.v(0))
			l.store(l.v(0), at(py, idx, 0), true)
			return
		}
		VMOVUPS(at(py, idx, j*l.vb), l.v(j))
		VFMADD231PS(at(px, idx, j*l.vb), l.v(va), l.v(j))
		VMOVUPS(l.v(j), at(py, idx, j*l.vb))
	})
	ADDQ(xs, px)
	ADDQ(ys, py)
	DECQ(rows)
	JMP(LabelRef(rowLoop))
	Label(end)
	VZEROUPPER()
	RET()
}

// scaleSq: x[i] *= a, returns Σ x[i]².
func (l *lvl) scaleSq() {
	l.fn("scaleSq", "func(a float32, x *float32, n int) float32",
		"scaleSq"+l.name+" sets x[i] *= a for i < n and returns Σ x[i]² of the scaled values.")
	const va = 14
	VBROADCASTSS(param("a"), l.v(va))
	px, n := Load(Param("x"), GP64()), Load(Param("n"), GP64())
	for j := 0; j < 4; j++ {
		VXORPS(l.v(j), l.v(j), l.v(j))
	}
	l.tailMask(n)
	idx := GP64()
	l.vloop(n, idx, 4, func(j int, masked bool) {
		t := l.v(4 + j)
		if masked {
			l.load(at(px, idx, 0), t, true)
			VMULPS(t, l.v(va), t)
			l.store(t, at(px, idx, 0), true)
		} else {
			VMULPS(at(px, idx, j*l.vb), l.v(va), t)
			VMOVUPS(t, at(px, idx, j*l.vb))
		}
		VFMADD231PS(t, t, l.v(j))
	})
	VADDPS(l.v(1), l.v(0), l.v(0))
	VADDPS(l.v(3), l.v(2), l.v(2))
	VADDPS(l.v(2), l.v(0), l.v(0))
	l.hsum(0, 1)
	VZEROUPPER()
	Store(x(0), ReturnIndex(0))
	RET()
}

// cmpPosOrNaN sets the lane mask of "z > 0 or z is NaN" (predicate 6,
// NLE_UQ: not z <= 0) for vector register z against the zero register: into
// K2 with AVX-512, into vector register m with AVX2.
func (l *lvl) cmpPosOrNaN(z, zero, m int) {
	if l.w == 16 {
		VCMPPS(U8(6), l.v(zero), l.v(z), K2)
	} else {
		VCMPPS(U8(6), l.v(zero), l.v(z), l.v(m))
	}
}

// keep zeroes the lanes of vector register d outside the mask of cmpPosOrNaN.
func (l *lvl) keep(d, m int) {
	if l.w == 16 {
		VMOVAPS_Z(l.v(d), K2, l.v(d))
	} else {
		VANDPS(l.v(m), l.v(d), l.v(d))
	}
}

func (l *lvl) relu() {
	l.fn("reluForward", "func(z *float32, a *float32, n int)",
		"reluForward"+l.name+" sets a[i] = z[i] where z[i] > 0 or is NaN, else +0, for i < n.")
	pz, pa, n := Load(Param("z"), GP64()), Load(Param("a"), GP64()), Load(Param("n"), GP64())
	const zero = 14
	VXORPS(l.v(zero), l.v(zero), l.v(zero))
	l.tailMask(n)
	idx := GP64()
	l.vloop(n, idx, 2, func(j int, masked bool) {
		t, m := 2*j, 2*j+1
		l.load(at(pz, idx, j*l.vb), l.v(t), masked)
		l.cmpPosOrNaN(t, zero, m)
		l.keep(t, m)
		l.store(l.v(t), at(pa, idx, j*l.vb), masked)
	})
	VZEROUPPER()
	RET()

	l.fn("reluBackward", "func(z *float32, d *float32, n int)",
		"reluBackward"+l.name+" zeroes d[i] where z[i] <= 0 (a NaN z[i] keeps d[i]) for i < n.")
	pz, pd, n := Load(Param("z"), GP64()), Load(Param("d"), GP64()), Load(Param("n"), GP64())
	VXORPS(l.v(zero), l.v(zero), l.v(zero))
	l.tailMask(n)
	idx = GP64()
	l.vloop(n, idx, 2, func(j int, masked bool) {
		t, m, d := 3*j, 3*j+1, 3*j+2
		l.load(at(pz, idx, j*l.vb), l.v(t), masked)
		l.cmpPosOrNaN(t, zero, m)
		l.load(at(pd, idx, j*l.vb), l.v(d), masked)
		l.keep(d, m)
		l.store(l.v(d), at(pd, idx, j*l.vb), masked)
	})
	VZEROUPPER()
	RET()
}

// The optimizer kernels below mirror the float32 scalar loops of
// runtime/optim_kernels.go operation for operation (a separate multiply and
// add wherever Go rounds twice, VSQRTPS for float32(math.Sqrt), VDIVPS), so
// that the vector and scalar paths agree bit for bit. Constants sit in
// vector registers 5..13; 0..4 are scratch (AVX2's tail mask is 15).

// optConsts broadcasts the float32 parameters names (at most 9) into vector
// registers 5, 6, ... and returns them.
func (l *lvl) optConsts(names ...string) []Register {
	regs := make([]Register, len(names))
	for i, nm := range names {
		regs[i] = l.v(5 + i)
		VBROADCASTSS(param(nm), regs[i])
	}
	return regs
}

// optLoop emits the loop over n = Param("n") elements of an optimizer kernel
// whose body(masked) works on the vector at byte offset idx. With flag != ""
// the int parameter flag selects between two copies of the loop:
// body(masked, false) when it is zero, body(masked, true) otherwise.
func (l *lvl) optLoop(idx Register, flag string, body func(masked, on bool)) {
	n := Load(Param("n"), GP64())
	l.tailMask(n)
	if flag == "" {
		l.vloop(n, idx, 1, func(_ int, masked bool) { body(masked, false) })
		VZEROUPPER()
		RET()
		return
	}
	f := Load(Param(flag), GP64())
	off := newLabel("off")
	TESTQ(f, f)
	JZ(LabelRef(off))
	l.vloop(n, idx, 1, func(_ int, masked bool) { body(masked, true) })
	VZEROUPPER()
	RET()
	Label(off)
	l.vloop(n, idx, 1, func(_ int, masked bool) { body(masked, false) })
	VZEROUPPER()
	RET()
}

// decay emits g = g + wd·p (two roundings, as Go computes it); t is scratch.
func decay(g, p, wd, t Register) {
	VMULPS(p, wd, t)
	VADDPS(t, g, g)
}

// sgd: p -= lr·g, or with decay != 0, g += wd·p first.
func (l *lvl) sgd() {
	l.fn("sgdUpdate", "func(params *float32, grads *float32, n int, lr float32, wd float32, decay int)",
		"sgdUpdate"+l.name+" does, for i < n: g = grads[i], plus wd·p if decay != 0; p -= lr·g, with p = params[i].")
	c := l.optConsts("lr", "wd")
	lr, wd := c[0], c[1]
	pp, pg := Load(Param("params"), GP64()), Load(Param("grads"), GP64())
	idx := GP64()
	l.optLoop(idx, "decay", func(masked, on bool) {
		p, g, t := l.v(0), l.v(1), l.v(2)
		l.load(at(pp, idx, 0), p, masked)
		l.load(at(pg, idx, 0), g, masked)
		if on {
			decay(g, p, wd, t)
		}
		VMULPS(g, lr, t)
		VSUBPS(t, p, p)
		l.store(p, at(pp, idx, 0), masked)
	})
}

// momentum: SGD with (Nesterov) momentum.
func (l *lvl) momentum() {
	l.fn("momentumUpdate", "func(params *float32, grads *float32, buf *float32, n int, lr float32, wd float32, mu float32, nesterov int)",
		"momentumUpdate"+l.name+" does, for i < n: g = grads[i] + wd·p; b = mu·buf[i] + g; buf[i] = b;",
		"p -= lr·(g + mu·b) if nesterov != 0, else p -= lr·b, with p = params[i].")
	c := l.optConsts("lr", "wd", "mu")
	lr, wd, mu := c[0], c[1], c[2]
	pp, pg, pb := Load(Param("params"), GP64()), Load(Param("grads"), GP64()), Load(Param("buf"), GP64())
	idx := GP64()
	l.optLoop(idx, "nesterov", func(masked, nesterov bool) {
		p, g, b, t := l.v(0), l.v(1), l.v(2), l.v(3)
		l.load(at(pp, idx, 0), p, masked)
		l.load(at(pg, idx, 0), g, masked)
		l.load(at(pb, idx, 0), b, masked)
		decay(g, p, wd, t)
		VMULPS(b, mu, b)
		VADDPS(g, b, b) // b = mu·b + g
		l.store(b, at(pb, idx, 0), masked)
		if nesterov {
			VMULPS(b, mu, t)
			VADDPS(t, g, g) // g + mu·b
			VMULPS(g, lr, t)
		} else {
			VMULPS(b, lr, t)
		}
		VSUBPS(t, p, p)
		l.store(p, at(pp, idx, 0), masked)
	})
}

// adam: Adam, and AdamW through shrink.
func (l *lvl) adam() {
	l.fn("adamUpdate", "func(params *float32, grads *float32, m *float32, v *float32, n int, shrink float32, b1 float32, b2 float32, c1 float32, c2 float32, wd float32, step float32, inv float32, eps float32)",
		"adamUpdate"+l.name+" does, for i < n: p = shrink·params[i]; g = grads[i] + wd·p; m = b1·m + c1·g;",
		"v = b2·v + c2·g·g; params[i] = p - step·m/(√v·inv + eps).")
	c := l.optConsts("shrink", "b1", "b2", "c1", "c2", "wd", "step", "inv", "eps")
	shrink, b1, b2, c1, c2, wd, step, inv, eps := c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]
	pp, pg := Load(Param("params"), GP64()), Load(Param("grads"), GP64())
	pm, pv := Load(Param("m"), GP64()), Load(Param("v"), GP64())
	idx := GP64()
	l.optLoop(idx, "", func(masked, _ bool) {
		p, g, mm, vv, t := l.v(0), l.v(1), l.v(2), l.v(3), l.v(4)
		l.load(at(pp, idx, 0), p, masked)
		l.load(at(pg, idx, 0), g, masked)
		l.load(at(pm, idx, 0), mm, masked)
		l.load(at(pv, idx, 0), vv, masked)
		VMULPS(shrink, p, p)
		decay(g, p, wd, t)
		VMULPS(b1, mm, mm)
		VMULPS(g, c1, t)
		VADDPS(t, mm, mm) // m = b1·m + c1·g
		VMULPS(g, c2, t)
		VMULPS(g, t, t)
		VMULPS(b2, vv, vv)
		VADDPS(t, vv, vv) // v = b2·v + (c2·g)·g
		l.store(mm, at(pm, idx, 0), masked)
		l.store(vv, at(pv, idx, 0), masked)
		VSQRTPS(vv, t)
		VMULPS(inv, t, t)
		VADDPS(eps, t, t) // √v·inv + eps
		VMULPS(mm, step, mm)
		VDIVPS(t, mm, mm) // step·m / (√v·inv + eps)
		VSUBPS(mm, p, p)
		l.store(p, at(pp, idx, 0), masked)
	})
}

// rmsprop: RMSprop, and Adagrad with a = c = 1.
func (l *lvl) rmsprop() {
	l.fn("rmspropUpdate", "func(params *float32, grads *float32, v *float32, n int, lr float32, wd float32, a float32, c float32, eps float32)",
		"rmspropUpdate"+l.name+" does, for i < n: g = grads[i] + wd·p; v = a·v + c·g·g; p -= lr·g/(√v + eps),",
		"with p = params[i] (Adagrad: a = c = 1).")
	c := l.optConsts("lr", "wd", "a", "c", "eps")
	lr, wd, ca, cc, eps := c[0], c[1], c[2], c[3], c[4]
	pp, pg, pv := Load(Param("params"), GP64()), Load(Param("grads"), GP64()), Load(Param("v"), GP64())
	idx := GP64()
	l.optLoop(idx, "", func(masked, _ bool) {
		p, g, vv, t, u := l.v(0), l.v(1), l.v(2), l.v(3), l.v(4)
		l.load(at(pp, idx, 0), p, masked)
		l.load(at(pg, idx, 0), g, masked)
		l.load(at(pv, idx, 0), vv, masked)
		decay(g, p, wd, t)
		VMULPS(g, cc, t)
		VMULPS(g, t, t)
		VMULPS(ca, vv, vv)
		VADDPS(t, vv, vv) // v = a·v + (c·g)·g
		l.store(vv, at(pv, idx, 0), masked)
		VSQRTPS(vv, u)
		VADDPS(eps, u, u)
		VMULPS(g, lr, t)
		VDIVPS(u, t, t) // lr·g / (√v + eps)
		VSUBPS(t, p, p)
		l.store(p, at(pp, idx, 0), masked)
	})
}

// sumSqWide: Σ x[i]² in float64 over the first n - n%(w/2) float32s, in four
// float64 vector accumulators (each square is exact in float64).
func (l *lvl) sumSqWide() {
	l.fn("sumSqWide", "func(x *float32, n int) float64",
		"sumSqWide"+l.name+" returns Σ float64(x[i])² over i < n - n%"+fmt.Sprint(l.w/2)+", summed in float64.")
	px, n := Load(Param("x"), GP64()), Load(Param("n"), GP64())
	for j := 0; j < 4; j++ {
		VXORPS(l.v(j), l.v(j), l.v(j))
	}
	l.wideLoop(n, func(j, off int) {
		VCVTPS2PD(at(px, wideIdx, off), l.v(4+j))
		VFMADD231PD(l.v(4+j), l.v(4+j), l.v(j))
	})
	l.hsumPD(0, 1)
	VZEROUPPER()
	Store(x(0), ReturnIndex(0))
	RET()
}

// outerAdd: for o < rows with g = dy[o] != 0 (NaN counts as non-zero):
// gw[o*cols+i] += g*x[i] and, in the DX form, dx[i] += g*w[o*cols+i].
func (l *lvl) outerAdd(withDX bool) {
	name, sig := "outerAdd", "func(gw *float32, dy *float32, x *float32, rows int, cols int)"
	doc := "outerAdd" + l.name + " does gw[o*cols+i] += dy[o]*x[i] for o < rows with dy[o] != 0 and i < cols."
	if withDX {
		name, sig = "outerAddDX", "func(gw *float32, dx *float32, w *float32, dy *float32, x *float32, rows int, cols int)"
		doc = "outerAddDX" + l.name + " does gw[o*cols+i] += g*x[i] and dx[i] += g*w[o*cols+i] with g = dy[o] for o < rows with dy[o] != 0 and i < cols."
	}
	l.fn(name, sig, doc)
	pgw, pdy, px := Load(Param("gw"), GP64()), Load(Param("dy"), GP64()), Load(Param("x"), GP64())
	var pdx, pw Register
	if withDX {
		pdx, pw = Load(Param("dx"), GP64()), Load(Param("w"), GP64())
	}
	rows, n := Load(Param("rows"), GP64()), Load(Param("cols"), GP64())
	rowBytes := GP64()
	MOVQ(n, rowBytes)
	SHLQ(U8(2), rowBytes)
	const vg, zero = 14, 13
	VXORPS(x(zero), x(zero), x(zero))
	l.tailMask(n)
	limU, lim1, idx := GP64(), GP64(), GP64()
	MOVQ(n, limU)
	ANDQ(I32(-2*l.w), limU)
	SHLQ(U8(2), limU)
	MOVQ(n, lim1)
	ANDQ(I32(-l.w), lim1)
	SHLQ(U8(2), lim1)
	rowLoop, next, do, end := newLabel("rows"), newLabel("next"), newLabel("do"), newLabel("end")
	Label(rowLoop)
	TESTQ(rows, rows)
	JZ(LabelRef(end))
	VMOVSS(Mem{Base: pdy}, x(vg))
	VUCOMISS(x(zero), x(vg))
	JNE(LabelRef(do))
	JP(LabelRef(do)) // unordered: g is NaN
	JMP(LabelRef(next))
	Label(do)
	VBROADCASTSS(x(vg), l.v(vg))
	l.vloopRegs(limU, lim1, rowBytes, idx, 2, func(j int, masked bool) {
		a, b := l.v(4*j), l.v(4*j+1)
		off := j * l.vb
		if masked {
			l.load(at(pgw, idx, 0), a, true)
			l.load(at(px, idx, 0), b, true)
			VFMADD231PS(b, l.v(vg), a)
			l.store(a, at(pgw, idx, 0), true)
			if withDX {
				c, d := l.v(2), l.v(3)
				l.load(at(pdx, idx, 0), c, true)
				l.load(at(pw, idx, 0), d, true)
				VFMADD231PS(d, l.v(vg), c)
				l.store(c, at(pdx, idx, 0), true)
			}
			return
		}
		VMOVUPS(at(pgw, idx, off), a)
		VFMADD231PS(at(px, idx, off), l.v(vg), a)
		VMOVUPS(a, at(pgw, idx, off))
		if withDX {
			VMOVUPS(at(pdx, idx, off), b)
			VFMADD231PS(at(pw, idx, off), l.v(vg), b)
			VMOVUPS(b, at(pdx, idx, off))
		}
	})
	Label(next)
	ADDQ(rowBytes, pgw)
	if withDX {
		ADDQ(rowBytes, pw)
	}
	ADDQ(U8(4), pdy)
	DECQ(rows)
	JMP(LabelRef(rowLoop))
	Label(end)
	VZEROUPPER()
	RET()
}

// gemmNT emits the mr×nr tile kernel of C = A·Bᵀ + bias: for nt tiles side by
// side, C[i*ldc + t*nr + j] = bias[t*nr+j] + Σ_p a[i*lda+p]*b[(t*nr+j)*ldb+p]
// for i < mr, j < nr. Each of the mr·nr dot products has its own vector
// accumulator over p (all k, masked tail), reduced once per tile.
//
// With rows set it emits gemmNTR instead, whose bias is one per row of C
// (C[i*ldc+col] = bias[i] + Σ_p …, with mode&2, else none) and whose store is
// gemmXN's epilogue on the reduced sums: mode&8 stores C and C2 = C·scale[i]
// + shift[i] (same ldc), mode&4 a ReLU on the last store: a pointwise
// convolution over few positions (B the input transposed) with the
// inference-mode batchnorm and ReLU after it.
func (l *lvl) gemmNT(mr, nr int, rows bool) {
	name := fmt.Sprintf("gemmNT%dx%d_", mr, nr)
	sig := "func(c *float32, ldc int, a *float32, lda int, b *float32, ldb int, bias *float32, k int, nt int, mt int)"
	doc := fmt.Sprintf("%s%s computes mt×nt tiles of %d×%d outputs of C = A·Bᵀ + bias (bias may be nil, mt ≥ 1); tile (s, t) covers rows s*%d.. and columns t*%d...", name, l.name, mr, nr, mr, nr)
	if rows {
		name = fmt.Sprintf("gemmNTR%dx%d_", mr, nr)
		sig = "func(c *float32, ldc int, a *float32, lda int, b *float32, ldb int, bias *float32, k int, nt int, mt int, mode int, c2 *float32, scale *float32, shift *float32)"
		doc = fmt.Sprintf("%s%s computes mt×nt tiles of %d×%d outputs of C = A·Bᵀ (+ bias[row] with mode&2; mt ≥ 1); mode&8: C2 = C·scale[row] + shift[row] too; mode&4: ReLU on the last store.", name, l.name, mr, nr)
	}
	TEXT(name+l.name, NOSPLIT, sig)
	Pragma("noescape")
	Doc(doc)
	acc := func(i, j int) int { return i*nr + j }
	breg := func(j int) int { return mr*nr + j } // B vectors after the accumulators
	areg := mr*nr + nr                           // the A vector
	tmp := areg + 1
	if l.w == 8 && tmp >= xMaskReg {
		panic("avx2 gemmNT tile too large")
	}
	l.tailMask(Load(Param("k"), GP64()))
	lda, ldb := Load(Param("lda"), GP64()), Load(Param("ldb"), GP64())
	SHLQ(U8(2), lda)
	SHLQ(U8(2), ldb)
	var lda3, ldb3 Register
	if mr > 3 {
		lda3 = GP64()
		LEAQ(Mem{Base: lda, Index: lda, Scale: 2}, lda3)
	}
	if nr > 3 {
		ldb3 = GP64()
		LEAQ(Mem{Base: ldb, Index: ldb, Scale: 2}, ldb3)
	}
	// rowMem addresses row r of a matrix at base with row stride ld (bytes).
	rowMem := func(base, ld, ld3 Register, r, disp int) Mem {
		switch r {
		case 0:
			return Mem{Base: base, Disp: disp}
		case 1, 2:
			return Mem{Base: base, Index: ld, Scale: uint8(r), Disp: disp}
		case 3:
			return Mem{Base: base, Index: ld3, Scale: 1, Disp: disp}
		}
		panic("row")
	}
	pc, pb, nt := GP64(), GP64(), GP64()
	var bias Register
	if !rows {
		bias = GP64()
	}
	pa, pbt, cnt := GP64(), GP64(), GP64()
	// The constant store mask of nr lanes: K2 with AVX-512; with AVX2 the
	// xmm mask is loaded from maskTable at each use.
	if l.w == 16 && nr < 4 {
		r := GP32()
		MOVL(U32(1<<nr-1), r)
		KMOVW(r, K2)
	}
	// Each block of mr rows starts from the arguments c and a, which the
	// block's end advances by mr rows (the argument slots are the callee's).
	rowBlock, tileLoop, end := newLabel("rowblock"), newLabel("tile"), newLabel("end")
	Label(rowBlock)
	Load(Param("c"), pc)
	Load(Param("b"), pb)
	if !rows {
		Load(Param("bias"), bias)
	}
	Load(Param("nt"), nt)
	Label(tileLoop)
	TESTQ(nt, nt)
	JZ(LabelRef(end))
	for i := 0; i < mr; i++ {
		for j := 0; j < nr; j++ {
			VXORPS(l.v(acc(i, j)), l.v(acc(i, j)), l.v(acc(i, j)))
		}
	}
	Load(Param("a"), pa)
	MOVQ(pb, pbt)
	Load(Param("k"), cnt)
	SHRQ(U8(l.shift()), cnt) // full vectors of k
	kLoop, kTail, kDone := newLabel("k"), newLabel("ktail"), newLabel("kdone")
	step := func(masked bool) {
		for j := 0; j < nr; j++ {
			l.load(rowMem(pbt, ldb, ldb3, j, 0), l.v(breg(j)), masked)
		}
		for i := 0; i < mr; i++ {
			l.load(rowMem(pa, lda, lda3, i, 0), l.v(areg), masked)
			for j := 0; j < nr; j++ {
				VFMADD231PS(l.v(breg(j)), l.v(areg), l.v(acc(i, j)))
			}
		}
	}
	Label(kLoop)
	TESTQ(cnt, cnt)
	JZ(LabelRef(kTail))
	step(false)
	ADDQ(U32(l.vb), pa)
	ADDQ(U32(l.vb), pbt)
	DECQ(cnt)
	JMP(LabelRef(kLoop))
	Label(kTail)
	TESTQ(U32(l.w-1), param("k"))
	JZ(LabelRef(kDone))
	step(true)
	Label(kDone)
	// Reduce: row i's nr accumulators become lanes 0..nr-1 of X(acc(i,0)).
	// Within each 128-bit lane, unpack-and-add the four accumulators a, b,
	// c, d (missing ones repeat present ones; only nr lanes are stored) down
	// to [Σa, Σb, Σc, Σd] of that lane, then add the 128-bit lanes. The
	// temporaries t are the B and A registers, free after the k loop.
	t := []int{mr * nr, mr*nr + 1, mr*nr + 2, mr*nr + 3}
	for i := 0; i < mr; i++ {
		var src [4]int
		for j := range src {
			src[j] = acc(i, min(j, nr-1))
		}
		if nr == 2 {
			src = [4]int{acc(i, 0), acc(i, 1), acc(i, 0), acc(i, 1)}
		}
		a := acc(i, 0)
		VUNPCKLPS(l.v(src[1]), l.v(src[0]), l.v(t[0])) // [a0 b0 a1 b1]
		VUNPCKHPS(l.v(src[1]), l.v(src[0]), l.v(t[1])) // [a2 b2 a3 b3]
		VUNPCKLPS(l.v(src[3]), l.v(src[2]), l.v(t[2])) // [c0 d0 c1 d1]
		VUNPCKHPS(l.v(src[3]), l.v(src[2]), l.v(t[3])) // [c2 d2 c3 d3]
		VADDPS(l.v(t[1]), l.v(t[0]), l.v(a))           // [a02 b02 a13 b13]
		VADDPS(l.v(t[3]), l.v(t[2]), l.v(t[2]))        // [c02 d02 c13 d13]
		VUNPCKLPD(l.v(t[2]), l.v(a), l.v(t[0]))        // [a02 b02 c02 d02]
		VUNPCKHPD(l.v(t[2]), l.v(a), l.v(t[1]))        // [a13 b13 c13 d13]
		VADDPS(l.v(t[1]), l.v(t[0]), l.v(a))
		if l.w == 16 {
			VEXTRACTF64X4(U8(1), zregs[a], zregs[t[0]].AsY())
			VADDPS(zregs[t[0]].AsY(), zregs[a].AsY(), zregs[a].AsY())
		}
		VEXTRACTF32X4orF128(l, a, t[0])
		VADDPS(x(t[0]), x(a), x(a))
	}
	if rows {
		l.gemmNTRowStore(mr, nr, acc, t, pc, pa, pbt)
	} else {
		l.gemmNTColStore(mr, nr, acc, tmp, pc, bias)
	}
	pr := GP64()
	ADDQ(U32(4*nr), pc)
	IMUL3Q(U32(nr), ldb, pr)
	ADDQ(pr, pb)
	DECQ(nt)
	JMP(LabelRef(tileLoop))
	Label(end)
	if rows {
		nextRowBlock(mr, lda, func() Register {
			ldc := Load(Param("ldc"), GP64())
			SHLQ(U8(2), ldc)
			return ldc
		}, pr, rowBlock)
		return
	}
	IMUL3Q(U32(mr), lda, pr)
	ADDQ(pr, param("a"))
	Load(Param("ldc"), pr)
	SHLQ(U8(2), pr)
	IMUL3Q(U32(mr), pr, pr)
	ADDQ(pr, param("c"))
	DECQ(param("mt"))
	JNZ(LabelRef(rowBlock))
	VZEROUPPER()
	RET()
}

// storeRowsX stores the reduced rows of a gemmNT tile (lanes 0..nr-1 of
// X(acc(i, 0))) at base, rows ldc bytes apart (pr a scratch register).
func (l *lvl) storeRowsX(mr, nr int, acc func(i, j int) int, base, ldc, pr Register) {
	MOVQ(base, pr)
	for i := 0; i < mr; i++ {
		if i > 0 {
			ADDQ(ldc, pr)
		}
		l.partial(nr, func(masked bool) {
			if masked {
				l.storeX(nr, x(acc(i, 0)), Mem{Base: pr})
			} else {
				VMOVUPS(x(acc(i, 0)), Mem{Base: pr})
			}
		})
	}
}

// gemmNTColStore is gemmNT's store: the column bias (one per column of the
// tile; the register bias advances by the tile), then the rows at pc.
func (l *lvl) gemmNTColStore(mr, nr int, acc func(i, j int) int, tmp int, pc, bias Register) {
	noBias := newLabel("nobias")
	TESTQ(bias, bias)
	JZ(LabelRef(noBias))
	l.partial(nr, func(masked bool) {
		if masked {
			l.loadX(nr, Mem{Base: bias}, x(tmp))
		} else {
			VMOVUPS(Mem{Base: bias}, x(tmp))
		}
		for i := 0; i < mr; i++ {
			VADDPS(x(tmp), x(acc(i, 0)), x(acc(i, 0)))
		}
	})
	ADDQ(U32(4*nr), bias)
	Label(noBias)
	ldc, pr := GP64(), GP64()
	Load(Param("ldc"), ldc)
	SHLQ(U8(2), ldc)
	l.storeRowsX(mr, nr, acc, pc, ldc, pr)
}

// gemmNTRowStore is gemmNTR's store (see gemmNT): the row bias, C at pc,
// then with mode&8 the batchnorm and with mode&4 the ReLU (as gemmEpilogue:
// kept where > 0 or NaN, else +0) into C2. The scratch vectors of row i are
// two of its accumulators after the reduction, or with fewer than three
// columns two of the reduction's temporaries t: all below 16, so the VEX
// compare writes a vector mask on both levels. pst and pp are free GP
// registers.
func (l *lvl) gemmNTRowStore(mr, nr int, acc func(i, j int) int, t []int, pc, pst, pp Register) {
	scratch := func(i int) (int, int) {
		if nr >= 3 {
			return acc(i, 1), acc(i, 2)
		}
		return t[0], t[1]
	}
	ldc, pr := GP64(), GP64()
	Load(Param("ldc"), ldc)
	SHLQ(U8(2), ldc)
	noBias, noBN, noRelu := newLabel("nobias"), newLabel("nobn"), newLabel("norelu")
	TESTQ(U32(2), param("mode")) // nextRowBlock advances even a nil bias
	JZ(LabelRef(noBias))
	Load(Param("bias"), pp)
	for i := 0; i < mr; i++ {
		s, _ := scratch(i)
		VBROADCASTSS(Mem{Base: pp, Disp: 4 * i}, x(s))
		VADDPS(x(s), x(acc(i, 0)), x(acc(i, 0)))
	}
	Label(noBias)
	MOVQ(pc, pst)
	TESTQ(U32(8), param("mode"))
	JZ(LabelRef(noBN))
	l.storeRowsX(mr, nr, acc, pc, ldc, pr)
	// The tile of C2: c and c2 advance together by rows, so it is pc − c + c2.
	MOVQ(param("c2"), pst)
	SUBQ(param("c"), pst)
	ADDQ(pc, pst)
	ps := pr
	Load(Param("scale"), ps)
	Load(Param("shift"), pp)
	for i := 0; i < mr; i++ {
		s, u := scratch(i)
		VBROADCASTSS(Mem{Base: ps, Disp: 4 * i}, x(s))
		VBROADCASTSS(Mem{Base: pp, Disp: 4 * i}, x(u))
		VMULPS(x(s), x(acc(i, 0)), x(acc(i, 0)))
		VADDPS(x(u), x(acc(i, 0)), x(acc(i, 0)))
	}
	Label(noBN)
	TESTQ(U32(4), param("mode"))
	JZ(LabelRef(noRelu))
	for i := 0; i < mr; i++ {
		zero, m := scratch(i)
		VXORPS(x(zero), x(zero), x(zero))
		VCMPPS(U8(6), x(zero), x(acc(i, 0)), x(m))
		VANDPS(x(m), x(acc(i, 0)), x(acc(i, 0)))
	}
	Label(noRelu)
	l.storeRowsX(mr, nr, acc, pst, ldc, pr)
}

// VEXTRACTF32X4orF128 puts the upper 128 bits of the ymm view of vector
// register r into X(tmp): VEXTRACTF128 (VEX) when both are among the first
// 16 registers, else VEXTRACTF32X4 (EVEX, AVX512VL).
func VEXTRACTF32X4orF128(l *lvl, r, tmp int) {
	if r < 16 && tmp < 16 {
		VEXTRACTF128(U8(1), zregs[r].AsY(), x(tmp))
		return
	}
	VEXTRACTF32X4(U8(1), zregs[r].AsY(), x(tmp))
}

// partial calls f(false) when all 4 lanes of an xmm are used, else f(true).
func (l *lvl) partial(nr int, f func(masked bool)) { f(nr < 4) }

// loadX loads the first nr (< 4) floats at m into xmm dst, zeroing the rest.
func (l *lvl) loadX(nr int, m Mem, dst Register) {
	if l.w == 16 {
		VMOVUPS_Z(m, K2, dst)
		return
	}
	VMOVUPS(maskTable.Offset(4*(8-nr)), x(xMaskReg))
	VMASKMOVPS(m, x(xMaskReg), dst)
}

// storeX stores the first nr (< 4) floats of xmm src to m.
func (l *lvl) storeX(nr int, src Register, m Mem) {
	if l.w == 16 {
		VMOVUPS(src, K2, m)
		return
	}
	VMOVUPS(maskTable.Offset(4*(8-nr)), x(xMaskReg))
	VMASKMOVPS(src, x(xMaskReg), m)
}

// gemmXN emits the mr×nv tile kernel of C (+)= A·B with A read at
// a[i*rs + p*cs] and B k×ldb row-major: for nt tiles of nv vectors side by
// side, C[i*ldc + col] (+)= Σ_p A(i,p)*b[p*ldb + col]; the last vector of
// every tile holds only `tail` columns (1..w). The mode is a set of bits.
// Its low two say where the accumulators start: 0 zero (C is overwritten),
// 1 C (the tile adds to C), 2 the row's bias (C[i*ldc+col] = bias[i] +
// Σ_p ..., bias advancing with the rows, so no pass over C has to fill it
// first). Bit 8 (see gemmEpilogue) stores the sums into C, then
// sum·scale[i] + shift[i] into C2 (same ldc): a convolution and the
// inference-mode batchnorm after it in one store. Bit 4 applies a ReLU
// (each value kept where > 0 or NaN, else +0, as reluForward) to what is
// stored last: C, or C2 with bit 8.
func (l *lvl) gemmXN(mr, nv int) {
	name := fmt.Sprintf("gemmXN%dx%d_", mr, nv)
	TEXT(name+l.name, NOSPLIT, "func(c *float32, ldc int, a *float32, rs int, cs int, b *float32, ldb int, bias *float32, k int, mode int, nt int, tail int, mt int, c2 *float32, scale *float32, shift *float32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s%s computes mt×nt tiles of %d rows × %d vectors of C (+)= A·B with A(i,p) = a[i*rs+p*cs] (mt ≥ 1); the last vector of each tile has tail columns; mode&3: 0 from zero, 1 adds to C, 2 starts row i from bias[i]; mode&8: C2 = C·scale[i] + shift[i] too; mode&4: ReLU on the last store.", name, l.name, mr, nv))
	accR := func(i, j int) int { return i*nv + j }
	breg := func(j int) int { return mr*nv + j }
	areg := mr*nv + nv
	if l.w == 8 && areg >= maskReg {
		panic("avx2 gemmXN tile too large")
	}
	tail := GP64()
	Load(Param("tail"), tail)
	l.laneMask(tail)
	rs, cs, ldb := Load(Param("rs"), GP64()), Load(Param("cs"), GP64()), Load(Param("ldb"), GP64())
	SHLQ(U8(2), rs)
	SHLQ(U8(2), cs)
	SHLQ(U8(2), ldb)
	// Rows 4…7 of a tall tile are read from a second pointer, pr + (i-4)·rs
	// with pr = pa + 4·rs during the k loop (pr is free there).
	aMem := aRows(mr, rs)
	pc, pb, nt := GP64(), GP64(), GP64()
	pa, pbp, cnt, pr, ldc := GP64(), GP64(), GP64(), GP64(), GP64()
	Load(Param("ldc"), ldc)
	SHLQ(U8(2), ldc)
	// Each block of mr rows starts from the arguments c and a, which the
	// block's end advances by mr rows (the argument slots are the callee's).
	rowBlock, tileLoop, end := newLabel("rowblock"), newLabel("tile"), newLabel("end")
	Label(rowBlock)
	Load(Param("c"), pc)
	Load(Param("b"), pb)
	Load(Param("nt"), nt)
	Label(tileLoop)
	TESTQ(nt, nt)
	JZ(LabelRef(end))
	l.tileStart(mr, nv, pc, pr, func() Register { return ldc })
	Load(Param("a"), pa)
	if mr > 4 {
		LEAQ(Mem{Base: pa, Index: rs, Scale: 4}, pr)
	}
	MOVQ(pb, pbp)
	Load(Param("k"), cnt)
	kLoop, kDone := newLabel("k"), newLabel("kdone")
	Label(kLoop)
	TESTQ(cnt, cnt)
	JZ(LabelRef(kDone))
	for j := 0; j < nv; j++ {
		l.load(Mem{Base: pbp, Disp: j * l.vb}, l.v(breg(j)), j == nv-1)
	}
	for i := 0; i < mr; i++ {
		if i < 4 {
			VBROADCASTSS(aMem(pa, i), l.v(areg))
		} else {
			VBROADCASTSS(aMem(pr, i-4), l.v(areg))
		}
		for j := 0; j < nv; j++ {
			VFMADD231PS(l.v(breg(j)), l.v(areg), l.v(accR(i, j)))
		}
	}
	if mr > 4 {
		ADDQ(cs, pr)
	}
	ADDQ(cs, pa)
	ADDQ(ldb, pbp)
	DECQ(cnt)
	JMP(LabelRef(kLoop))
	Label(kDone)
	// The B and A registers are free from here on.
	l.gemmEpilogue(mr, nv, accR, breg(0), pc, ldc, pr, pa, pbp, cnt)
	ADDQ(U32(nv*l.vb), pc)
	ADDQ(U32(nv*l.vb), pb)
	DECQ(nt)
	JMP(LabelRef(tileLoop))
	Label(end)
	nextRowBlock(mr, rs, func() Register { return ldc }, pr, rowBlock)
}

// nextRowBlock ends a row block of an mr-row GEMM tile kernel (gemmXN,
// gemmConv): a, c and c2 move down mr rows (rs and ldc, from ldc(), the row
// strides in bytes; pr a scratch register), bias, scale and shift mr values,
// and the kernel loops to rowBlock while row blocks (mt) are left, then
// returns.
func nextRowBlock(mr int, rs Register, ldc func() Register, pr Register, rowBlock string) {
	IMUL3Q(U32(mr), rs, pr)
	ADDQ(pr, param("a"))
	ld := ldc()
	IMUL3Q(U32(mr), ld, pr)
	ADDQ(pr, param("c"))
	ADDQ(pr, param("c2"))
	ADDQ(U8(4*mr), param("bias"))
	ADDQ(U8(4*mr), param("scale"))
	ADDQ(U8(4*mr), param("shift"))
	DECQ(param("mt"))
	JNZ(LabelRef(rowBlock))
	VZEROUPPER()
	RET()
}

// lastLaneMask sets the tail mask to the lanes of the last vector of n ≥ 1
// elements, (n-1)%w + 1 (all of them when w divides n).
func (l *lvl) lastLaneMask(n Register) {
	lanes := GP64()
	MOVQ(n, lanes)
	DECQ(lanes)
	ANDQ(U32(l.w-1), lanes)
	INCQ(lanes)
	l.laneMask(lanes)
}

// fmaPeak emits a register-only loop of independent FMAs, the benchmark of
// the core's float32 FMA peak: n iterations of acc FMAs on separate
// accumulators (enough to cover the FMA latency on both FMA ports).
func (l *lvl) fmaPeak(acc int) {
	l.fn("fmaPeak", "func(n int)", fmt.Sprintf("fmaPeak%s runs n iterations of %d independent %d-lane VFMADD231PS on registers only (%d flops each).", l.name, acc, l.w, 2*acc*l.w))
	n := Load(Param("n"), GP64())
	a, b := acc, acc+1
	for i := 0; i < acc; i++ {
		VXORPS(l.v(i), l.v(i), l.v(i))
	}
	// The multiplicands are 1.0 and 2⁻²⁰ (normal numbers: the sums stay
	// exact and far from overflow).
	one, small := GP32(), GP32()
	MOVL(U32(0x3f800000), one)
	MOVL(U32(0x35800000), small)
	if l.w == 16 {
		VPBROADCASTD(one, l.v(a))
		VPBROADCASTD(small, l.v(b))
	} else {
		VMOVD(one, x(a))
		VMOVD(small, x(b))
		VBROADCASTSS(x(a), l.v(a))
		VBROADCASTSS(x(b), l.v(b))
	}
	loop, end := newLabel("loop"), newLabel("end")
	Label(loop)
	TESTQ(n, n)
	JZ(LabelRef(end))
	for i := 0; i < acc; i++ {
		VFMADD231PS(l.v(a), l.v(b), l.v(i))
	}
	DECQ(n)
	JMP(LabelRef(loop))
	Label(end)
	VZEROUPPER()
	RET()
}

var maskTable Mem

func main() {
	ConstraintExpr("!purego")

	maskTable = GLOBL("maskTable", RODATA|NOPTR)
	for i := 0; i < 16; i++ {
		v := uint32(0)
		if i < 8 {
			v = 0xffffffff
		}
		DATA(4*i, U32(v))
	}
	depthwiseData()

	TEXT("vzeroupper", NOSPLIT, "func()")
	Doc("vzeroupper clears the upper bits of every vector register (VZEROUPPER).")
	VZEROUPPER()
	RET()

	avx512.fmaPeak(24)
	avx2.fmaPeak(12)
	for _, l := range []*lvl{avx512, avx2} {
		l.dotRows()
		l.axpyRows()
		l.scaleSq()
		l.relu()
		l.sgd()
		l.momentum()
		l.adam()
		l.rmsprop()
		l.sumSqWide()
		l.outerAdd(false)
		l.outerAdd(true)
		l.shiftSum()
		l.shiftSumRows()
		l.copyPlanes()
		l.copyPlanesBN()
		l.depthwise()
		l.gates()
		l.elementwise()
		l.im2colKernels()
		l.maxPoolKernels()
		for mr := 1; mr <= l.ntMR; mr++ {
			for nr := 1; nr <= l.ntNR; nr++ {
				l.gemmNT(mr, nr, false)
				l.gemmNT(mr, nr, true)
			}
		}
		for mr := 1; mr <= l.xnMR; mr++ {
			for nv := 1; nv <= l.xnNV; nv++ {
				l.gemmXN(mr, nv)
			}
		}
		for nv, mr := range l.xnTall {
			if mr > 0 {
				l.gemmXN(mr, nv)
			}
		}
		l.gemmConvKernels()
	}
	gemvAll()
	for _, l := range []*lvl{avx512, avx2} {
		l.copyRowsTab()
		l.addRowsTab()
	}
	Generate()
}

// tileStart emits the start of an mr×nv accumulator tile (gemmXN, gemmConv)
// by the low bits of the argument mode: from the mr×nv block of C at pc
// (mode&3 = 1, rows ldc() bytes apart; the last vector of a row masked), from
// the bias (2: one value a row) or from zero (0). pr is a scratch register.
func (l *lvl) tileStart(mr, nv int, pc, pr Register, ldc func() Register) {
	accR := func(i, j int) int { return i*nv + j } // as the tile kernels number them
	zeroInit, cInit, kStart := newLabel("zero"), newLabel("cinit"), newLabel("kstart")
	TESTQ(U32(1), param("mode"))
	JNZ(LabelRef(cInit))
	TESTQ(U32(2), param("mode"))
	JZ(LabelRef(zeroInit))
	Load(Param("bias"), pr)
	for i := 0; i < mr; i++ {
		VBROADCASTSS(Mem{Base: pr, Disp: 4 * i}, l.v(accR(i, 0)))
		for j := 1; j < nv; j++ {
			VMOVAPS(l.v(accR(i, 0)), l.v(accR(i, j)))
		}
	}
	JMP(LabelRef(kStart))
	Label(cInit)
	ld := ldc()
	MOVQ(pc, pr)
	for i := 0; i < mr; i++ {
		if i > 0 {
			ADDQ(ld, pr)
		}
		for j := 0; j < nv; j++ {
			l.load(Mem{Base: pr, Disp: j * l.vb}, l.v(accR(i, j)), j == nv-1)
		}
	}
	JMP(LabelRef(kStart))
	Label(zeroInit)
	for i := 0; i < mr; i++ {
		for j := 0; j < nv; j++ {
			VXORPS(l.v(accR(i, j)), l.v(accR(i, j)), l.v(accR(i, j)))
		}
	}
	Label(kStart)
}

// aRows returns the addressing of rows 0…3 of a tile's A block from a base
// pointer, rows rs bytes apart (rs·3 in a register of its own, set up here
// when the tile has more than three rows).
func aRows(mr int, rs Register) func(base Register, i int) Mem {
	var rs3 Register
	if mr > 3 {
		rs3 = GP64()
		LEAQ(Mem{Base: rs, Index: rs, Scale: 2}, rs3)
	}
	return func(base Register, i int) Mem {
		switch i {
		case 0:
			return Mem{Base: base}
		case 1, 2:
			return Mem{Base: base, Index: rs, Scale: uint8(i)}
		case 3:
			return Mem{Base: base, Index: rs3, Scale: 1}
		}
		panic("row")
	}
}
