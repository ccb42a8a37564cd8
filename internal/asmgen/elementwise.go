package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The element-wise kernels of the generated layers: batchnorm's per-channel
// scale and shift, the graph merges' sums and products, relu6. Each rounds
// exactly where the pure-Go loops of runtime/simd_elementwise.go round (a
// separate multiply and add, never an FMA), so both paths give the same bits.

// elementwise emits every kernel of this file at level l.
func (l *lvl) elementwise() {
	l.scaleShiftRows()
	l.binary("add", "y[i] = a[i] + b[i]", func(b Op, a, dst Register) { VADDPS(b, a, dst) })
	l.binary("mul", "y[i] = a[i] * b[i]", func(b Op, a, dst Register) { VMULPS(b, a, dst) })
	l.relu6()
	l.bnStats()
	l.bnAffine()
}

// rowLimits returns the three byte limits of vloopRegs for rows of n
// elements in blocks of u vectors.
func (l *lvl) rowLimits(n Register, u int) (limU, lim1, nb Register) {
	limU, lim1, nb = GP64(), GP64(), GP64()
	MOVQ(n, limU)
	ANDQ(I32(-(u * l.w)), limU)
	SHLQ(U8(2), limU)
	MOVQ(n, lim1)
	ANDQ(I32(-l.w), lim1)
	SHLQ(U8(2), lim1)
	MOVQ(n, nb)
	SHLQ(U8(2), nb)
	return limU, lim1, nb
}

// scaleShiftRows: y[r*n+i] = x[r*n+i]*s[r] + t[r], the product rounded
// before the sum.
func (l *lvl) scaleShiftRows() {
	l.fn("scaleShiftRows", "func(y *float32, x *float32, s *float32, t *float32, rows int, n int)",
		"scaleShiftRows"+l.name+" sets y[r*n+i] = x[r*n+i]*s[r] + t[r] (two roundings) for r < rows and i < n.")
	const vs, vt = 14, 13
	py, px := Load(Param("y"), GP64()), Load(Param("x"), GP64())
	ps, pt := Load(Param("s"), GP64()), Load(Param("t"), GP64())
	rows, n := Load(Param("rows"), GP64()), Load(Param("n"), GP64())
	l.tailMask(n)
	limU, lim1, nb := l.rowLimits(n, 4)
	idx := GP64()
	rowLoop, end := newLabel("rows"), newLabel("end")
	Label(rowLoop)
	TESTQ(rows, rows)
	JZ(LabelRef(end))
	VBROADCASTSS(Mem{Base: ps}, l.v(vs))
	VBROADCASTSS(Mem{Base: pt}, l.v(vt))
	l.vloopRegs(limU, lim1, nb, idx, 4, func(j int, masked bool) {
		t := l.v(j)
		if masked {
			l.load(at(px, idx, 0), t, true)
			VMULPS(l.v(vs), t, t)
		} else {
			VMULPS(at(px, idx, j*l.vb), l.v(vs), t)
		}
		VADDPS(l.v(vt), t, t)
		l.store(t, at(py, idx, j*l.vb), masked)
	})
	ADDQ(nb, px)
	ADDQ(nb, py)
	ADDQ(U8(4), ps)
	ADDQ(U8(4), pt)
	DECQ(rows)
	JMP(LabelRef(rowLoop))
	Label(end)
	VZEROUPPER()
	RET()
}

// binary: y[i] = a[i] op b[i]; op(b, a, dst) emits dst = a op b (b may be
// memory).
func (l *lvl) binary(name, what string, op func(b Op, a, dst Register)) {
	l.fn(name, "func(y *float32, a *float32, b *float32, n int)",
		name+l.name+" sets "+what+" for i < n.")
	py, pa, pb, n := Load(Param("y"), GP64()), Load(Param("a"), GP64()), Load(Param("b"), GP64()), Load(Param("n"), GP64())
	l.tailMask(n)
	idx := GP64()
	l.vloop(n, idx, 4, func(j int, masked bool) {
		t := l.v(j)
		if masked {
			l.load(at(pa, idx, 0), t, true)
			l.load(at(pb, idx, 0), l.v(4), true)
			op(l.v(4), t, t)
		} else {
			VMOVUPS(at(pa, idx, j*l.vb), t)
			op(at(pb, idx, j*l.vb), t, t)
		}
		l.store(t, at(py, idx, j*l.vb), masked)
	})
	VZEROUPPER()
	RET()
}

// relu6: the forward pass a = min(max(z, 0), 6) (NaN stays NaN, -0 becomes
// +0, as Go's min and max) and the backward pass in place, d = 0 where
// z <= 0 or z >= 6 (a NaN z keeps d).
func (l *lvl) relu6() {
	const zero, six = 14, 13
	consts := func() {
		VXORPS(l.v(zero), l.v(zero), l.v(zero))
		r := GP32()
		MOVL(U32(0x40c00000), r) // 6.0
		VMOVD(r, x(six))
		VBROADCASTSS(x(six), l.v(six))
	}
	l.fn("relu6Forward", "func(z *float32, a *float32, n int)",
		"relu6Forward"+l.name+" sets a[i] = min(max(z[i], 0), 6) for i < n: a NaN stays NaN, -0 becomes +0.")
	pz, pa, n := Load(Param("z"), GP64()), Load(Param("a"), GP64()), Load(Param("n"), GP64())
	consts()
	l.tailMask(n)
	idx := GP64()
	l.vloop(n, idx, 2, func(j int, masked bool) {
		t, m := 2*j, 2*j+1
		l.load(at(pz, idx, j*l.vb), l.v(t), masked)
		l.cmpPosOrNaN(t, zero, m)
		l.keep(t, m)
		// VMINPS returns its second source (here t) when either is NaN.
		VMINPS(l.v(t), l.v(six), l.v(t))
		l.store(l.v(t), at(pa, idx, j*l.vb), masked)
	})
	VZEROUPPER()
	RET()

	l.fn("relu6Backward", "func(z *float32, d *float32, n int)",
		"relu6Backward"+l.name+" zeroes d[i] where z[i] <= 0 or z[i] >= 6 (a NaN z[i] keeps d[i]) for i < n.")
	pz, pd, n := Load(Param("z"), GP64()), Load(Param("d"), GP64()), Load(Param("n"), GP64())
	consts()
	l.tailMask(n)
	idx = GP64()
	l.vloop(n, idx, 2, func(j int, masked bool) {
		t, m, d, m2 := 4*j, 4*j+1, 4*j+2, 4*j+3
		l.load(at(pz, idx, j*l.vb), l.v(t), masked)
		l.load(at(pd, idx, j*l.vb), l.v(d), masked)
		if l.w == 16 {
			// K2 = z > 0 or NaN; K3 = 6 > z or NaN (not 6 <= z); keep both.
			VCMPPS(U8(6), l.v(zero), l.v(t), K2)
			VCMPPS(U8(6), l.v(t), l.v(six), K3)
			KANDW(K3, K2, K2)
			VMOVAPS_Z(l.v(d), K2, l.v(d))
		} else {
			VCMPPS(U8(6), l.v(zero), l.v(t), l.v(m))
			VCMPPS(U8(6), l.v(t), l.v(six), l.v(m2))
			VANDPS(l.v(m2), l.v(m), l.v(m))
			VANDPS(l.v(m), l.v(d), l.v(d))
		}
		l.store(l.v(d), at(pd, idx, j*l.vb), masked)
	})
	VZEROUPPER()
	RET()
}

// The batch statistics of batchnorm's training mode, summed in float64 over
// float32 inputs: each element is widened (exact), so only the order of the
// float64 sums differs from the pure-Go loops. Every kernel covers the
// first n - n%(w/2) elements; the Go wrapper adds the rest.

// wideLoop emits the loop of a widening reduction: for each block of w/2
// float32s at byte offset idx, body(j, off) works on the j-th of up to four
// blocks at byte offset idx+off, with four float64 accumulator sets.
func (l *lvl) wideLoop(n Register, body func(j, off int)) {
	hb := l.vb / 2 // bytes of float32 that widen to one float64 vector
	limU, lim1, idx := GP64(), GP64(), GP64()
	MOVQ(n, limU)
	ANDQ(I32(-4*l.w/2), limU)
	SHLQ(U8(2), limU)
	MOVQ(n, lim1)
	ANDQ(I32(-l.w/2), lim1)
	SHLQ(U8(2), lim1)
	XORQ(idx, idx)
	wideIdx = idx
	loopU, loop1, done := newLabel("loopU"), newLabel("loop1"), newLabel("done")
	Label(loopU)
	CMPQ(idx, limU)
	JAE(LabelRef(loop1))
	for j := 0; j < 4; j++ {
		body(j, j*hb)
	}
	ADDQ(U32(4*hb), idx)
	JMP(LabelRef(loopU))
	Label(loop1)
	CMPQ(idx, lim1)
	JAE(LabelRef(done))
	body(0, 0)
	ADDQ(U32(hb), idx)
	JMP(LabelRef(loop1))
	Label(done)
}

// wideIdx is the byte offset register of the current wideLoop.
var wideIdx Register

// hsumPD adds the four float64 vectors base..base+3 into lane 0 of X(base)
// (tmp is a scratch vector register index).
func (l *lvl) hsumPD(base, tmp int) {
	VADDPD(l.v(base+1), l.v(base), l.v(base))
	VADDPD(l.v(base+3), l.v(base+2), l.v(base+2))
	VADDPD(l.v(base+2), l.v(base), l.v(base))
	if l.w == 16 {
		VEXTRACTF64X4(U8(1), zregs[base], zregs[tmp].AsY())
		VADDPD(zregs[tmp].AsY(), zregs[base].AsY(), zregs[base].AsY())
	}
	VEXTRACTF32X4orF128(l, base, tmp)
	VADDPD(x(tmp), x(base), x(base))
	VHADDPD(x(base), x(base), x(base))
}

// bnStats: sumWide (Σ x), sumSqDevWide (Σ (x − mean)²) and sumDotWide
// (Σ a and Σ a·b in one pass).
func (l *lvl) bnStats() {
	w2 := l.w / 2
	l.fn("sumWide", "func(x *float32, n int) float64",
		"sumWide"+l.name+" returns Σ float64(x[i]) over i < n - n%"+itoa(w2)+", summed in float64.")
	px, n := Load(Param("x"), GP64()), Load(Param("n"), GP64())
	for j := 0; j < 4; j++ {
		VXORPS(l.v(j), l.v(j), l.v(j))
	}
	l.wideLoop(n, func(j, off int) {
		VCVTPS2PD(at(px, wideIdx, off), l.v(4+j))
		VADDPD(l.v(4+j), l.v(j), l.v(j))
	})
	l.hsumPD(0, 4)
	VZEROUPPER()
	Store(x(0), ReturnIndex(0))
	RET()

	l.fn("sumSqDevWide", "func(x *float32, n int, mean float64) float64",
		"sumSqDevWide"+l.name+" returns Σ (float64(x[i]) − mean)² over i < n - n%"+itoa(w2)+", summed in float64.")
	const vm = 12
	px, n = Load(Param("x"), GP64()), Load(Param("n"), GP64())
	VBROADCASTSD(param("mean"), l.v(vm))
	for j := 0; j < 4; j++ {
		VXORPS(l.v(j), l.v(j), l.v(j))
	}
	l.wideLoop(n, func(j, off int) {
		VCVTPS2PD(at(px, wideIdx, off), l.v(4+j))
		VSUBPD(l.v(vm), l.v(4+j), l.v(4+j))
		VFMADD231PD(l.v(4+j), l.v(4+j), l.v(j))
	})
	l.hsumPD(0, 4)
	VZEROUPPER()
	Store(x(0), ReturnIndex(0))
	RET()

	l.fn("sumDotWide", "func(a *float32, b *float32, n int) (float64, float64)",
		"sumDotWide"+l.name+" returns Σ float64(a[i]) and Σ float64(a[i])·float64(b[i]) over i < n - n%"+itoa(w2)+", summed in float64.")
	pa, pb := Load(Param("a"), GP64()), Load(Param("b"), GP64())
	n = Load(Param("n"), GP64())
	for j := 0; j < 8; j++ {
		VXORPS(l.v(j), l.v(j), l.v(j))
	}
	l.wideLoop(n, func(j, off int) {
		VCVTPS2PD(at(pa, wideIdx, off), l.v(8+j))
		VCVTPS2PD(at(pb, wideIdx, off), l.v(12))
		VADDPD(l.v(8+j), l.v(j), l.v(j))
		VFMADD231PD(l.v(12), l.v(8+j), l.v(4+j)) // the product of two widened floats is exact
	})
	l.hsumPD(0, 8)
	l.hsumPD(4, 8)
	VZEROUPPER()
	Store(x(0), ReturnIndex(0))
	Store(x(4), ReturnIndex(1))
	RET()
}

func itoa(i int) string { return fmt.Sprint(i) }

// half returns the lower half of vector register i: the float32s that widen
// to (or narrow from) one float64 vector.
func (l *lvl) half(i int) Register {
	if l.w == 16 {
		return zregs[i].AsY()
	}
	return zregs[i].AsX()
}

// narrow rounds the float64 vector register src to float32s in half(dst).
func (l *lvl) narrow(src, dst int) {
	if l.w == 16 {
		VCVTPD2PS(l.v(src), l.half(dst))
	} else {
		VCVTPD2PSY(l.v(src), l.half(dst))
	}
}

// bnAffine: batchnorm's inference-mode scale and shift per channel, from the
// affine parameters and running statistics, in float64 with the roundings
// of the Go loop (scalarBatchNormScales): inv = 1/√(var+eps), s = γ·inv,
// shift = β − mean·s (the product rounded first), each narrowed to float32.
// With inv non-nil it also stores inv and a copy of the running mean (the
// inference-mode backward pass reads them). n is a multiple of w/2.
func (l *lvl) bnAffine() {
	l.fn("bnAffine", "func(scale *float32, shift *float32, inv *float32, mean *float32, gamma *float32, beta *float32, rmean *float32, rvar *float32, n int, eps float64)",
		"bnAffine"+l.name+" sets scale[c] = float32(γ·inv), shift[c] = float32(β − float64(mean·γ·inv)) with inv = 1/√(float64(rvar[c])+eps), γ, β, mean the float64 gamma[c], beta[c], rmean[c], for c < n (a multiple of "+itoa(l.w/2)+"); and inv[c] = float32(inv), mean[c] = rmean[c] if inv is not nil.")
	const veps, vone = 12, 13
	ps, pt := Load(Param("scale"), GP64()), Load(Param("shift"), GP64())
	pi, pm := Load(Param("inv"), GP64()), Load(Param("mean"), GP64())
	pg, pb := Load(Param("gamma"), GP64()), Load(Param("beta"), GP64())
	prm, prv := Load(Param("rmean"), GP64()), Load(Param("rvar"), GP64())
	n := Load(Param("n"), GP64())
	VBROADCASTSD(param("eps"), l.v(veps))
	one := GP64()
	MOVQ(U64(0x3ff0000000000000), one) // 1.0
	VMOVQ(one, x(vone))
	VBROADCASTSD(x(vone), l.v(vone))
	// body(j, off, stats) works on the channels at byte offset idx+off of
	// the float32 operands with registers 3j..3j+2.
	body := func(stats bool) func(j, off int) {
		return func(j, off int) {
			a, b, c := 3*j, 3*j+1, 3*j+2
			m := func(p Register) Mem { return at(p, wideIdx, off) }
			VCVTPS2PD(m(prv), l.v(a))
			VADDPD(l.v(veps), l.v(a), l.v(a))
			VSQRTPD(l.v(a), l.v(a))
			VDIVPD(l.v(a), l.v(vone), l.v(b)) // b = 1/√(var+eps)
			if stats {
				l.narrow(b, a)
				VMOVUPS(l.half(a), m(pi))
				VMOVUPS(m(prm), l.half(a))
				VMOVUPS(l.half(a), m(pm))
			}
			VCVTPS2PD(m(pg), l.v(a))
			VMULPD(l.v(b), l.v(a), l.v(a)) // a = s = γ·inv
			l.narrow(a, c)
			VMOVUPS(l.half(c), m(ps))
			VCVTPS2PD(m(prm), l.v(b))
			VMULPD(l.v(a), l.v(b), l.v(b)) // b = mean·s
			VCVTPS2PD(m(pb), l.v(c))
			VSUBPD(l.v(b), l.v(c), l.v(c)) // c = β − mean·s
			l.narrow(c, c)
			VMOVUPS(l.half(c), m(pt))
		}
	}
	noStats, end := newLabel("noStats"), newLabel("end")
	TESTQ(pi, pi)
	JZ(LabelRef(noStats))
	l.wideLoop(n, body(true))
	JMP(LabelRef(end))
	Label(noStats)
	l.wideLoop(n, body(false))
	Label(end)
	VZEROUPPER()
	RET()
}
