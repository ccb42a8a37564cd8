package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// Max pooling over 2×2 windows with stride 2 (gen/pool.go), one output row of
// n windows per call row. With sel(a, b) = a > b ? a : b, which is VMAXPS(a,
// b) (the second operand when unordered or both zero):
//
//	y[i] = sel(sel(x[2i], x[xw+2i]), sel(x[2i+1], x[xw+2i+1]))
//
// Vector form: the vertical maxima of two input vectors of the top row and
// two of the bottom row, then VSHUFPS picks the even and the odd columns
// (within 128-bit lanes, so the windows come out in a shuffled order) and a
// last VMAXPS the window's maximum; VPERMPD puts the windows back in order.
// The backward pass works in the same shuffled order: VPERMPD shuffles y and
// dy, VSHUFPS splits the four window positions, and VUNPCKLPS/VUNPCKHPS
// interleave the left and right gradients back into rows.

// poolShuf is the qword order of the windows after VSHUFPS of two zmm
// vectors (windows 2k, 2k+1 from the first, 8+2k, 9+2k from the second in
// lane k), and poolUnshuf its inverse; with ymm the order is VPERMPD's 0xd8,
// its own inverse.
var poolShuf, poolUnshuf Mem

// poolMasks sets the lane masks of the last vector of a row of n windows:
// r = (n-1)%w + 1 windows (K1, or AVX2's mask register), a = min(2r, w) and
// b = max(2r-w, 0) lanes of the two input vectors (K2 and K3, or vector
// registers ma and mb). It returns the byte offset of the last vector,
// 4·(n - r).
func (l *lvl) poolMasks(n Register, ma, mb int) Register {
	r, a, b, zero, wq := GP64(), GP64(), GP64(), GP64(), GP64()
	MOVQ(n, r)
	DECQ(r)
	ANDQ(U32(l.w-1), r)
	INCQ(r)
	XORQ(zero, zero)
	LEAQ(Mem{Base: r, Index: r, Scale: 1}, a)
	MOVQ(a, b)
	SUBQ(U32(l.w), b)
	CMOVQLT(zero, b)
	MOVQ(U32(l.w), wq)
	CMPQ(a, wq)
	CMOVQGT(wq, a)
	if l.w == 16 {
		ones, t := GP32(), GP32()
		MOVL(U32(0xffff), ones)
		BZHIL(a.As32(), ones, t)
		KMOVW(t, K2)
		BZHIL(b.As32(), ones, t)
		KMOVW(t, K3)
	} else {
		l.laneMask(a)
		VMOVUPS(l.v(maskReg), l.v(ma))
		l.laneMask(b)
		VMOVUPS(l.v(maskReg), l.v(mb))
	}
	l.laneMask(r)
	lim1 := GP64()
	MOVQ(n, lim1)
	SUBQ(r, lim1)
	SHLQ(U8(2), lim1)
	return lim1
}

// poolLoad loads the two input vectors at m and m+vb into d0 and d1, masked
// by the input masks of poolMasks when masked.
func (l *lvl) poolLoad(m Mem, d0, d1 Register, masked bool, ma, mb int) {
	m1 := m
	m1.Disp += l.vb
	switch {
	case !masked:
		VMOVUPS(m, d0)
		VMOVUPS(m1, d1)
	case l.w == 16:
		VMOVUPS_Z(m, K2, d0)
		VMOVUPS_Z(m1, K3, d1)
	default:
		VMASKMOVPS(m, l.v(ma), d0)
		VMASKMOVPS(m1, l.v(mb), d1)
	}
}

// poolStore stores s0 and s1 to m and m+vb, masked like poolLoad.
func (l *lvl) poolStore(s0, s1 Register, m Mem, masked bool, ma, mb int) {
	m1 := m
	m1.Disp += l.vb
	switch {
	case !masked:
		VMOVUPS(s0, m)
		VMOVUPS(s1, m1)
	case l.w == 16:
		VMOVUPS(s0, K2, m)
		VMOVUPS(s1, K3, m1)
	default:
		VMASKMOVPS(s0, l.v(ma), m)
		VMASKMOVPS(s1, l.v(mb), m1)
	}
}

// poolPerm applies the qword permutation idx (a vector register holding
// poolShuf or poolUnshuf; unused with ymm) to register v.
func (l *lvl) poolPerm(v Register, idx int) {
	if l.w == 16 {
		VPERMPD(v, l.v(idx), v)
		return
	}
	VPERMPD(U8(0xd8), v, v)
}

// poolRows emits the loop over rows of n windows: for every row, body(masked)
// for each full vector of windows at output byte offset idx (input byte
// offset 2·idx), then once masked for the last, partial or not; then the
// row pointers advance by their strides.
func (l *lvl) poolRows(rows, n, idx Register, ptrs []Register, strides []Register, lim1 Register, body func(masked bool)) {
	nb := GP64()
	MOVQ(n, nb)
	SHLQ(U8(2), nb)
	rowLoop, end := newLabel("rows"), newLabel("end")
	Label(rowLoop)
	TESTQ(rows, rows)
	JZ(LabelRef(end))
	XORQ(idx, idx)
	loop1, tail, next := newLabel("loop1"), newLabel("tail"), newLabel("next")
	Label(loop1)
	CMPQ(idx, lim1)
	JAE(LabelRef(tail))
	body(false)
	ADDQ(U32(l.vb), idx)
	JMP(LabelRef(loop1))
	Label(tail)
	CMPQ(idx, nb)
	JAE(LabelRef(next))
	body(true)
	Label(next)
	for i, p := range ptrs {
		ADDQ(strides[i], p)
	}
	DECQ(rows)
	JMP(LabelRef(rowLoop))
	Label(end)
}

func (l *lvl) poolConsts() {
	if poolShuf.Symbol.Name != "" {
		return
	}
	poolShuf = GLOBL("poolShuf", RODATA|NOPTR)
	for i, q := range []uint64{0, 4, 1, 5, 2, 6, 3, 7} {
		DATA(8*i, U64(q))
	}
	poolUnshuf = GLOBL("poolUnshuf", RODATA|NOPTR)
	for i, q := range []uint64{0, 2, 4, 6, 1, 3, 5, 7} {
		DATA(8*i, U64(q))
	}
}

// maxPool2 emits the forward kernel.
func (l *lvl) maxPool2() {
	l.poolConsts()
	l.fn("maxPool2", "func(y *float32, ys int, x *float32, xs int, xw int, rows int, n int)",
		"maxPool2"+l.name+" does y[r*ys+i] = sel(sel(x[o+2i], x[o+xw+2i]), sel(x[o+2i+1], x[o+xw+2i+1]))",
		"with o = r*xs, for r < rows and i < n (n ≥ 1), where sel(a, b) = a > b ? a : b.")
	py, px := Load(Param("y"), GP64()), Load(Param("x"), GP64())
	ys, xs, xw := Load(Param("ys"), GP64()), Load(Param("xs"), GP64()), Load(Param("xw"), GP64())
	rows, n := Load(Param("rows"), GP64()), Load(Param("n"), GP64())
	SHLQ(U8(2), ys)
	SHLQ(U8(2), xs)
	SHLQ(U8(2), xw)
	const ma, mb, perm = 13, 14, 8
	if l.w == 16 {
		VMOVUPS(poolUnshuf, l.v(perm))
	}
	lim1 := l.poolMasks(n, ma, mb)
	pb := GP64() // the bottom row
	idx := GP64()
	LEAQ(Mem{Base: px, Index: xw, Scale: 1}, pb)
	l.poolRows(rows, n, idx, []Register{py, px, pb}, []Register{ys, xs, xs}, lim1, func(masked bool) {
		t0, t1, b0, b1, e := l.v(0), l.v(1), l.v(2), l.v(3), l.v(4)
		l.poolLoad(Mem{Base: px, Index: idx, Scale: 2}, t0, t1, masked, ma, mb)
		l.poolLoad(Mem{Base: pb, Index: idx, Scale: 2}, b0, b1, masked, ma, mb)
		VMAXPS(b0, t0, t0) // sel(top, bottom)
		VMAXPS(b1, t1, t1)
		VSHUFPS(U8(0x88), t1, t0, e)  // even columns
		VSHUFPS(U8(0xdd), t1, t0, t0) // odd columns
		VMAXPS(t0, e, e)              // sel(even, odd)
		l.poolPerm(e, perm)
		l.store(e, at(py, idx, 0), masked)
	})
	VZEROUPPER()
	RET()
}

// maxPool2Back emits the backward kernel: each window's gradient goes to the
// first of its top-left, top-right and bottom-left inputs equal to y, else to
// the bottom-right one; the other three get zero.
func (l *lvl) maxPool2Back() {
	l.fn("maxPool2Back", "func(dx *float32, x *float32, xs int, xw int, y *float32, dy *float32, ys int, rows int, n int)",
		"maxPool2Back"+l.name+" writes dx at x's four window positions {o+2i, o+2i+1, o+xw+2i, o+xw+2i+1},",
		"o = r*xs, for r < rows and i < n (n ≥ 1, xw = 0 or ≥ 2n): dy[r*ys+i] at the first of all",
		"but the last equal to y[r*ys+i], else at the last; zero at the others. With xw = 0 the",
		"window is {o+2i, o+2i+1}.")
	pdx, px := Load(Param("dx"), GP64()), Load(Param("x"), GP64())
	py, pdy := Load(Param("y"), GP64()), Load(Param("dy"), GP64())
	xs, xw, ys := Load(Param("xs"), GP64()), Load(Param("xw"), GP64()), Load(Param("ys"), GP64())
	rows, n := Load(Param("rows"), GP64()), Load(Param("n"), GP64())
	SHLQ(U8(2), ys)
	SHLQ(U8(2), xs)
	SHLQ(U8(2), xw)
	const ma, mb, perm = 13, 14, 12
	if l.w == 16 {
		VMOVUPS(poolShuf, l.v(perm))
	}
	lim1 := l.poolMasks(n, ma, mb)
	pb, pdb := GP64(), GP64() // the bottom rows of x and dx
	idx := GP64()
	oneD := newLabel("oned")
	TESTQ(xw, xw)
	JZ(LabelRef(oneD))
	LEAQ(Mem{Base: px, Index: xw, Scale: 1}, pb)
	LEAQ(Mem{Base: pdx, Index: xw, Scale: 1}, pdb)
	ptrs := []Register{px, pb, pdx, pdb, py, pdy}
	l.poolRows(rows, n, idx, ptrs, []Register{xs, xs, xs, xs, ys, ys}, lim1, func(masked bool) {
		v := l.v
		l.poolLoad(Mem{Base: px, Index: idx, Scale: 2}, v(0), v(1), masked, ma, mb)
		l.poolLoad(Mem{Base: pb, Index: idx, Scale: 2}, v(3), v(4), masked, ma, mb)
		l.load(at(py, idx, 0), v(6), masked)
		l.load(at(pdy, idx, 0), v(7), masked)
		l.poolPerm(v(6), perm)
		l.poolPerm(v(7), perm)
		VSHUFPS(U8(0x88), v(1), v(0), v(2)) // TL
		VSHUFPS(U8(0xdd), v(1), v(0), v(0)) // TR
		VSHUFPS(U8(0x88), v(4), v(3), v(5)) // BL
		// (BR is the default: its values are not needed)
		var tl, tr, bl, br Register
		if l.w == 16 {
			VCMPPS(U8(0), v(6), v(2), K4)
			VCMPPS(U8(0), v(6), v(0), K5)
			VCMPPS(U8(0), v(6), v(5), K6)
			KANDNW(K5, K4, K5) // TR and not TL
			KORW(K5, K4, K7)
			KANDNW(K6, K7, K6) // BL and neither top
			KORW(K6, K7, K7)
			KNOTW(K7, K7) // none of the three: BR
			tl, tr, bl, br = v(1), v(0), v(2), v(3)
			VMOVAPS_Z(v(7), K4, tl)
			VMOVAPS_Z(v(7), K5, tr)
			VMOVAPS_Z(v(7), K6, bl)
			VMOVAPS_Z(v(7), K7, br)
		} else {
			VCMPPS(U8(0), v(6), v(2), v(1))
			VCMPPS(U8(0), v(6), v(0), v(4))
			VCMPPS(U8(0), v(6), v(5), v(8))
			VANDNPS(v(4), v(1), v(4)) // TR and not TL
			VORPS(v(4), v(1), v(9))
			VANDNPS(v(8), v(9), v(8)) // BL and neither top
			VORPS(v(8), v(9), v(9))
			VANDPS(v(7), v(1), v(1))
			VANDPS(v(7), v(4), v(4))
			VANDPS(v(7), v(8), v(8))
			VANDNPS(v(7), v(9), v(9)) // none of the three: BR
			tl, tr, bl, br = v(1), v(4), v(8), v(9)
		}
		VUNPCKLPS(tr, tl, v(10))
		VUNPCKHPS(tr, tl, v(11))
		l.poolStore(v(10), v(11), Mem{Base: pdx, Index: idx, Scale: 2}, masked, ma, mb)
		VUNPCKLPS(br, bl, v(10))
		VUNPCKHPS(br, bl, v(11))
		l.poolStore(v(10), v(11), Mem{Base: pdb, Index: idx, Scale: 2}, masked, ma, mb)
	})
	VZEROUPPER()
	RET()

	// xw = 0: windows of two, the gradient to the left input if it equals
	// y, else to the right one.
	Label(oneD)
	l.poolRows(rows, n, idx, []Register{px, pdx, py, pdy}, []Register{xs, xs, ys, ys}, lim1, func(masked bool) {
		v := l.v
		l.poolLoad(Mem{Base: px, Index: idx, Scale: 2}, v(0), v(1), masked, ma, mb)
		l.load(at(py, idx, 0), v(6), masked)
		l.load(at(pdy, idx, 0), v(7), masked)
		l.poolPerm(v(6), perm)
		l.poolPerm(v(7), perm)
		VSHUFPS(U8(0x88), v(1), v(0), v(2)) // left
		if l.w == 16 {
			VCMPPS(U8(0), v(6), v(2), K4)
			KNOTW(K4, K5)
			VMOVAPS_Z(v(7), K4, v(1))
			VMOVAPS_Z(v(7), K5, v(0))
		} else {
			VCMPPS(U8(0), v(6), v(2), v(3))
			VANDPS(v(7), v(3), v(1))
			VANDNPS(v(7), v(3), v(0))
		}
		VUNPCKLPS(v(0), v(1), v(10))
		VUNPCKHPS(v(0), v(1), v(11))
		l.poolStore(v(10), v(11), Mem{Base: pdx, Index: idx, Scale: 2}, masked, ma, mb)
	})
	VZEROUPPER()
	RET()
}

// maxPoolKernels emits the max pooling kernels.
func (l *lvl) maxPoolKernels() {
	l.maxPool2()
	l.maxPool2Back()
}
