package main

import (
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
