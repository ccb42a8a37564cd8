package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// copyRows: dst[r*ds+i] = src[r*ss+i] for r < rows, i < n: the im2col copy of
// a convolution with stride 1 (one call per patch row: OutH rows of OutW
// elements from the input plane), four vectors at a time, the tail masked.
func (l *lvl) copyRows() {
	l.fn("copyRows", "func(dst *float32, ds int, src *float32, ss int, rows int, n int)",
		"copyRows"+l.name+" does dst[r*ds+i] = src[r*ss+i] for r < rows and i < n.")
	pd, ps := Load(Param("dst"), GP64()), Load(Param("src"), GP64())
	ds, ss := Load(Param("ds"), GP64()), Load(Param("ss"), GP64())
	rows, n := Load(Param("rows"), GP64()), Load(Param("n"), GP64())
	SHLQ(U8(2), ds)
	SHLQ(U8(2), ss)
	l.tailMask(n)
	idx := GP64()
	rowLoop, end := newLabel("rows"), newLabel("end")
	Label(rowLoop)
	TESTQ(rows, rows)
	JZ(LabelRef(end))
	l.vloop(n, idx, 4, func(j int, masked bool) {
		l.load(at(ps, idx, j*l.vb), l.v(j), masked)
		l.store(l.v(j), at(pd, idx, j*l.vb), masked)
	})
	ADDQ(ss, ps)
	ADDQ(ds, pd)
	DECQ(rows)
	JMP(LabelRef(rowLoop))
	Label(end)
	VZEROUPPER()
	RET()
}

// evenIdx is the VPERMT2PS index of the even lanes of two zmm registers.
var evenIdx Mem

var evenIdxDone bool

// gatherEven: dst[r*ds+i] = src[r*ss+2*i] for r < rows, i < n: the im2col
// gather of a convolution with stride 2. AVX-512 picks the even lanes of two
// source vectors with VPERMT2PS, AVX2 with VSHUFPS and VPERMPD. The last
// vector of a row (1 to w outputs r) loads only the 2·r-1 source lanes it
// reads, so no load passes the last source element.
func (l *lvl) gatherEven() {
	if !evenIdxDone {
		evenIdx = GLOBL("evenIdx", RODATA|NOPTR)
		for i := 0; i < 16; i++ {
			DATA(4*i, U32(2*i))
		}
		evenIdxDone = true
	}
	l.fn("gatherEven", "func(dst *float32, ds int, src *float32, ss int, rows int, n int)",
		"gatherEven"+l.name+" does dst[r*ds+i] = src[r*ss+2*i] for r < rows and i < n.")
	pd, ps := Load(Param("dst"), GP64()), Load(Param("src"), GP64())
	ds, ss := Load(Param("ds"), GP64()), Load(Param("ss"), GP64())
	rows, n := Load(Param("rows"), GP64()), Load(Param("n"), GP64())
	SHLQ(U8(2), ds)
	SHLQ(U8(2), ss)
	// r = (n-1)%w + 1 outputs in the last vector (n ≥ 1); a = min(2r-1, w),
	// b = max(2r-1-w, 0) source lanes of its two loads
	r, a, b, zero := GP64(), GP64(), GP64(), GP64()
	MOVQ(n, r)
	DECQ(r)
	ANDQ(U32(l.w-1), r)
	INCQ(r)
	XORQ(zero, zero)
	LEAQ(Mem{Base: r, Index: r, Scale: 1, Disp: -1}, a)
	const m1, m2 = 12, 13 // AVX2 masks of the two tail loads
	l.pairMasks(a, b, zero, m1, m2)
	if l.w == 16 {
		VMOVUPS(evenIdx, l.v(3))
	}
	l.laneMask(r) // the tail store
	lim1, nb, idx := GP64(), GP64(), GP64()
	MOVQ(n, lim1)
	SUBQ(r, lim1)
	SHLQ(U8(2), lim1)
	MOVQ(n, nb)
	SHLQ(U8(2), nb)
	src := func(disp int) Mem { return Mem{Base: ps, Index: idx, Scale: 2, Disp: disp} }
	even := func() {
		if l.w == 16 {
			VPERMT2PS(l.v(1), l.v(3), l.v(0))
			return
		}
		VSHUFPS(U8(0x88), l.v(1), l.v(0), l.v(0))
		VPERMPD(U8(0xd8), l.v(0), l.v(0))
	}
	rowLoop, end := newLabel("rows"), newLabel("end")
	Label(rowLoop)
	TESTQ(rows, rows)
	JZ(LabelRef(end))
	XORQ(idx, idx)
	loop1, tail, next := newLabel("loop1"), newLabel("tail"), newLabel("next")
	Label(loop1)
	CMPQ(idx, lim1)
	JAE(LabelRef(tail))
	VMOVUPS(src(0), l.v(0))
	VMOVUPS(src(l.vb), l.v(1))
	even()
	VMOVUPS(l.v(0), at(pd, idx, 0))
	ADDQ(U32(l.vb), idx)
	JMP(LabelRef(loop1))
	Label(tail)
	CMPQ(idx, nb)
	JAE(LabelRef(next))
	if l.w == 16 {
		VMOVUPS_Z(src(0), K2, l.v(0))
		VMOVUPS_Z(src(l.vb), K3, l.v(1))
	} else {
		VMASKMOVPS(src(0), l.v(m1), l.v(0))
		VMASKMOVPS(src(l.vb), l.v(m2), l.v(1))
	}
	even()
	l.store(l.v(0), at(pd, idx, 0), true)
	Label(next)
	ADDQ(ss, ps)
	ADDQ(ds, pd)
	DECQ(rows)
	JMP(LabelRef(rowLoop))
	Label(end)
	VZEROUPPER()
	RET()
}

// pairMasks sets the masks of the two loads of a masked last pair of source
// vectors that reads a source lanes (0 ≤ a ≤ 2w): the first min(a, w), the
// second max(a−w, 0) lanes, in K2 and K3 with AVX-512, in vector registers
// m1 and m2 with AVX2. It clobbers a and b; zero holds 0.
func (l *lvl) pairMasks(a, b, zero GPVirtual, m1, m2 int) {
	MOVQ(a, b)
	SUBQ(U32(l.w), b)
	CMOVQLT(zero, b)
	wq := GP64()
	MOVQ(U32(l.w), wq)
	CMPQ(a, wq)
	CMOVQGT(wq, a)
	if l.w == 16 {
		ones := GP32()
		MOVL(U32(0xffff), ones)
		t := GP32()
		BZHIL(a.As32(), ones, t)
		KMOVW(t, K2)
		BZHIL(b.As32(), ones, t)
		KMOVW(t, K3)
		return
	}
	l.laneMask(a)
	VMOVUPS(l.v(maskReg), l.v(m1))
	l.laneMask(b)
	VMOVUPS(l.v(maskReg), l.v(m2))
}

// im2colKernels emits the copies of the convolutions' im2col (gen/convgemm.go).
func (l *lvl) im2colKernels() {
	l.copyRows()
	l.gatherEven()
	l.phaseSplit()
}

// oddIdx is the VPERMT2PS index of the odd lanes of two zmm registers.
var oddIdx Mem

// phaseSplit: the four phase planes of a stride-2 depthwise convolution's
// input in one pass (runtime.Phases32): each input row of w floats (w even)
// is split into its even and odd elements, row 2i of a plane going to
// phases (0,0) and (0,1), row 2i+1 to (1,0) and (1,1), each at row i. The
// input is pairs row pairs (C·H/2, all planes one after another), the phase
// plane k = 2a+b starts at dst + k·q (q floats) and its rows are w/2 apart,
// so row pair p lands at p·w/2 in each. Every 2·w floats (two vectors) give
// one vector of even and one of odd elements (AVX-512 VPERMT2PS, AVX2
// VSHUFPS and VPERMPD); the last 2·r floats of a row (r = w/2 mod w, if
// any) are loaded and stored under masks, so nothing past a row is read or
// written.
func (l *lvl) phaseSplit() {
	if l.w == 16 {
		oddIdx = GLOBL("oddIdx", RODATA|NOPTR)
		for i := 0; i < 16; i++ {
			DATA(4*i, U32(2*i+1))
		}
	}
	l.fn("phaseSplit", "func(dst *float32, q int, src *float32, pairs int, w int)",
		"phaseSplit"+l.name+" writes dst[(2a+b)*q + p*w/2 + j] = src[(2p+a)*w + 2j+b] for a, b < 2, p < pairs, j < w/2 (w even).")
	pd, ps := Load(Param("dst"), GP64()), Load(Param("src"), GP64())
	q, pairs, w := Load(Param("q"), GP64()), Load(Param("pairs"), GP64()), Load(Param("w"), GP64())
	SHLQ(U8(2), q)
	// r = (w/2) mod lanes outputs in the masked last vector of a row, from
	// a = min(2r, lanes) and b = max(2r - lanes, 0) source lanes
	half, r, a, b, zero := GP64(), GP64(), GP64(), GP64(), GP64()
	MOVQ(w, half)
	SHRQ(U8(1), half)
	MOVQ(half, r)
	ANDQ(U32(l.w-1), r)
	XORQ(zero, zero)
	LEAQ(Mem{Base: r, Index: r, Scale: 1}, a)
	const m1, m2, ms = 11, 12, 13 // AVX2 masks of the two tail loads and the tail store
	const ve, vo = 6, 7           // AVX-512 index vectors
	l.pairMasks(a, b, zero, m1, m2)
	if l.w == 16 {
		VMOVUPS(evenIdx, l.v(ve))
		VMOVUPS(oddIdx, l.v(vo))
	}
	l.laneMask(r) // the tail store (K1, or Y15)
	if l.w != 16 {
		VMOVUPS(l.v(maskReg), l.v(ms))
	}
	// byte limits within a row of outputs: whole vectors, then all
	lim1, nb := GP64(), GP64()
	MOVQ(half, lim1)
	SUBQ(r, lim1)
	SHLQ(U8(2), lim1)
	MOVQ(half, nb)
	SHLQ(U8(2), nb)
	SHLQ(U8(2), w) // bytes of a source row
	idx, src := GP64(), GP64()
	split := func(loadMasked bool) {
		m := func(disp int) Mem { return Mem{Base: src, Index: idx, Scale: 2, Disp: disp} }
		switch {
		case !loadMasked:
			VMOVUPS(m(0), l.v(0))
			VMOVUPS(m(l.vb), l.v(1))
		case l.w == 16:
			VMOVUPS_Z(m(0), K2, l.v(0))
			VMOVUPS_Z(m(l.vb), K3, l.v(1))
		default:
			VMASKMOVPS(m(0), l.v(m1), l.v(0))
			VMASKMOVPS(m(l.vb), l.v(m2), l.v(1))
		}
		if l.w == 16 {
			VMOVAPS(l.v(0), l.v(2))
			VPERMT2PS(l.v(1), l.v(ve), l.v(2)) // evens
			VPERMT2PS(l.v(1), l.v(vo), l.v(0)) // odds
			return
		}
		VSHUFPS(U8(0x88), l.v(1), l.v(0), l.v(2))
		VSHUFPS(U8(0xdd), l.v(1), l.v(0), l.v(0))
		VPERMPD(U8(0xd8), l.v(2), l.v(2))
		VPERMPD(U8(0xd8), l.v(0), l.v(0))
	}
	store := func(v int, d Register, masked bool) {
		switch {
		case !masked:
			VMOVUPS(l.v(v), Mem{Base: d, Index: idx, Scale: 1})
		case l.w == 16:
			VMOVUPS(l.v(v), K1, Mem{Base: d, Index: idx, Scale: 1})
		default:
			VMASKMOVPS(l.v(v), l.v(ms), Mem{Base: d, Index: idx, Scale: 1})
		}
	}
	pairLoop, end := newLabel("pairs"), newLabel("end")
	de, do := GP64(), GP64()
	Label(pairLoop)
	TESTQ(pairs, pairs)
	JZ(LabelRef(end))
	for row := 0; row < 2; row++ {
		// this row's source and its two phase rows
		if row == 0 {
			MOVQ(ps, src)
			MOVQ(pd, de)
		} else {
			ADDQ(w, src)
			LEAQ(Mem{Base: pd, Index: q, Scale: 2}, de)
		}
		LEAQ(Mem{Base: de, Index: q, Scale: 1}, do)
		XORQ(idx, idx)
		loop1, tail, next := newLabel("loop1"), newLabel("tail"), newLabel("next")
		Label(loop1)
		CMPQ(idx, lim1)
		JAE(LabelRef(tail))
		split(false)
		store(2, de, false)
		store(0, do, false)
		ADDQ(U32(l.vb), idx)
		JMP(LabelRef(loop1))
		Label(tail)
		CMPQ(idx, nb)
		JAE(LabelRef(next))
		split(true)
		store(2, de, true)
		store(0, do, true)
		Label(next)
	}
	ADDQ(w, src)
	MOVQ(src, ps)
	ADDQ(nb, pd)
	DECQ(pairs)
	JMP(LabelRef(pairLoop))
	Label(end)
	VZEROUPPER()
	RET()
}

// copyRowsTab: a convolution's whole im2col in one call (runtime.CopyRowsTable32
// with step 1): for each of c channels and each entry e of the table (four
// int32s: dst offset, src offset, rows, n), the rows of copyRows, from
// dst + ch·dc + e.dst and src + ch·sc + e.src. One call replaces the C·KH·KW
// calls of CopyRows32, whose fixed cost (the checks and the call, about
// 10 ns) was as large as the copy of the 13–14 short rows of a 14×14 map.
func (l *lvl) copyRowsTab() {
	l.fn("copyRowsTab", "func(dst *float32, ds int, dc int, src *float32, ss int, sc int, tab *int32, ne int, c int)",
		"copyRowsTab"+l.name+" does dst[ch*dc+e0+r*ds+i] = src[ch*sc+e1+r*ss+i] for ch < c, each entry (e0, e1, rows, n) of tab's ne and r < rows, i < n.")
	paramsToBytes("ds", "dc", "ss", "sc")
	pdc, psc := Load(Param("dst"), GP64()), Load(Param("src"), GP64())
	ch := Load(Param("c"), GP64())
	ptab, e, pd, ps := GP64(), GP64(), GP64(), GP64()
	rows, n, lim1, nb, idx := GP64(), GP64(), GP64(), GP64(), GP64()
	chLoop, chEnd := newLabel("tabch"), newLabel("tabchend")
	eLoop, eEnd := newLabel("tabentry"), newLabel("tabentryend")
	rowLoop, rowEnd := newLabel("tabrow"), newLabel("tabrowend")
	Label(chLoop)
	TESTQ(ch, ch)
	JZ(LabelRef(chEnd))
	Load(Param("tab"), ptab)
	Load(Param("ne"), e)
	Label(eLoop)
	TESTQ(e, e)
	JZ(LabelRef(eEnd))
	MOVLQSX(Mem{Base: ptab}, pd)
	LEAQ(Mem{Base: pdc, Index: pd, Scale: 4}, pd)
	MOVLQSX(Mem{Base: ptab, Disp: 4}, ps)
	LEAQ(Mem{Base: psc, Index: ps, Scale: 4}, ps)
	MOVLQSX(Mem{Base: ptab, Disp: 8}, rows)
	MOVLQSX(Mem{Base: ptab, Disp: 12}, n)
	// Rows that are whole in both (n = ds = ss) are one run of rows·n.
	whole, t := newLabel("tabwhole"), GP64()
	MOVQ(n, t)
	SHLQ(U8(2), t)
	CMPQ(t, param("ds"))
	JNE(LabelRef(whole))
	CMPQ(t, param("ss"))
	JNE(LabelRef(whole))
	IMULQ(rows, n)
	MOVQ(U32(1), rows)
	Label(whole)
	// Rows of at most one vector (the small maps): one masked load and
	// store a row, two rows a step.
	short, pair, general := newLabel("tabshort"), newLabel("tabpair"), newLabel("tabgeneral")
	CMPQ(n, U32(l.w))
	JA(LabelRef(general))
	l.laneMask(n.(GPVirtual))
	ss, ds := GP64(), GP64()
	Load(Param("ss"), ss)
	Load(Param("ds"), ds)
	Label(pair)
	CMPQ(rows, U8(2))
	JB(LabelRef(short))
	l.load(Mem{Base: ps}, l.v(0), true)
	l.load(Mem{Base: ps, Index: ss, Scale: 1}, l.v(1), true)
	l.store(l.v(0), Mem{Base: pd}, true)
	l.store(l.v(1), Mem{Base: pd, Index: ds, Scale: 1}, true)
	LEAQ(Mem{Base: ps, Index: ss, Scale: 2}, ps)
	LEAQ(Mem{Base: pd, Index: ds, Scale: 2}, pd)
	SUBQ(U8(2), rows)
	JMP(LabelRef(pair))
	Label(short)
	TESTQ(rows, rows)
	JZ(LabelRef(rowEnd))
	l.load(Mem{Base: ps}, l.v(0), true)
	l.store(l.v(0), Mem{Base: pd}, true)
	JMP(LabelRef(rowEnd))
	Label(general)
	l.tailMask(n)
	l.vloopLimits(n, lim1, nb)
	Label(rowLoop)
	TESTQ(rows, rows)
	JZ(LabelRef(rowEnd))
	l.vloopRegs(lim1, lim1, nb, idx, 1, func(j int, masked bool) {
		l.load(at(ps, idx, 0), l.v(0), masked)
		l.store(l.v(0), at(pd, idx, 0), masked)
	})
	ADDQ(param("ss"), ps)
	ADDQ(param("ds"), pd)
	DECQ(rows)
	JMP(LabelRef(rowLoop))
	Label(rowEnd)
	ADDQ(U8(16), ptab)
	DECQ(e)
	JMP(LabelRef(eLoop))
	Label(eEnd)
	ADDQ(param("dc"), pdc)
	ADDQ(param("sc"), psc)
	DECQ(ch)
	JMP(LabelRef(chLoop))
	Label(chEnd)
	VZEROUPPER()
	RET()
}

// addRowsTab: a convolution's whole col2im in one call (runtime.AddRowsTable32),
// the transpose of copyRowsTab over the same table: for each entry (e0, e1,
// rows, n), each row r < rows and each of c channels in turn,
// dst[ch·dc + e1 + r·ds + i] += src[ch·sc + e0 + r·ss + i]. The channels are
// the inner loop: consecutive rows go to other planes, so a row's load never
// meets the store of the row just before it (rows 13 of 14 apart share
// their covering vectors, and such a load waits for the store to reach the
// cache instead of being forwarded, see AxpyRows32), and every element
// still receives its terms in entry order.
func (l *lvl) addRowsTab() {
	l.fn("addRowsTab", "func(dst *float32, ds int, dc int, src *float32, ss int, sc int, tab *int32, ne int, c int)",
		"addRowsTab"+l.name+" does dst[ch*dc+e1+r*ds+i] += src[ch*sc+e0+r*ss+i] for each entry (e0, e1, rows, n) of tab's ne, r < rows, ch < c and i < n.")
	paramsToBytes("ds", "dc", "ss", "sc")
	ptab, e := Load(Param("tab"), GP64()), Load(Param("ne"), GP64())
	pde, pse, rows, n := GP64(), GP64(), GP64(), GP64()
	pd, ps, ch, lim1, nb, idx := GP64(), GP64(), GP64(), GP64(), GP64(), GP64()
	eLoop, eEnd := newLabel("addtabentry"), newLabel("addtabentryend")
	rowLoop, rowEnd := newLabel("addtabrow"), newLabel("addtabrowend")
	chLoop, chEnd := newLabel("addtabch"), newLabel("addtabchend")
	Label(eLoop)
	TESTQ(e, e)
	JZ(LabelRef(eEnd))
	MOVLQSX(Mem{Base: ptab}, pse)
	Load(Param("src"), ps)
	LEAQ(Mem{Base: ps, Index: pse, Scale: 4}, pse)
	MOVLQSX(Mem{Base: ptab, Disp: 4}, pde)
	Load(Param("dst"), pd)
	LEAQ(Mem{Base: pd, Index: pde, Scale: 4}, pde)
	MOVLQSX(Mem{Base: ptab, Disp: 8}, rows)
	MOVLQSX(Mem{Base: ptab, Disp: 12}, n)
	// Rows of at most one vector: one masked vector a row, two channels a
	// step.
	general, sRow, sRowEnd, sPair, sOne, sChEnd := newLabel("addtabgeneral"), newLabel("addtabsrow"), newLabel("addtabsrowend"), newLabel("addtabspair"), newLabel("addtabsone"), newLabel("addtabschend")
	CMPQ(n, U32(l.w))
	JA(LabelRef(general))
	l.laneMask(n.(GPVirtual))
	sc, dc := GP64(), GP64()
	Load(Param("sc"), sc)
	Load(Param("dc"), dc)
	Label(sRow)
	TESTQ(rows, rows)
	JZ(LabelRef(sRowEnd))
	MOVQ(pse, ps)
	MOVQ(pde, pd)
	Load(Param("c"), ch)
	Label(sPair)
	CMPQ(ch, U8(2))
	JB(LabelRef(sOne))
	l.load(Mem{Base: ps}, l.v(0), true)
	l.load(Mem{Base: pd}, l.v(1), true)
	l.load(Mem{Base: ps, Index: sc, Scale: 1}, l.v(2), true)
	l.load(Mem{Base: pd, Index: dc, Scale: 1}, l.v(3), true)
	VADDPS(l.v(0), l.v(1), l.v(1))
	VADDPS(l.v(2), l.v(3), l.v(3))
	l.store(l.v(1), Mem{Base: pd}, true)
	l.store(l.v(3), Mem{Base: pd, Index: dc, Scale: 1}, true)
	LEAQ(Mem{Base: ps, Index: sc, Scale: 2}, ps)
	LEAQ(Mem{Base: pd, Index: dc, Scale: 2}, pd)
	SUBQ(U8(2), ch)
	JMP(LabelRef(sPair))
	Label(sOne)
	TESTQ(ch, ch)
	JZ(LabelRef(sChEnd))
	l.load(Mem{Base: ps}, l.v(0), true)
	l.load(Mem{Base: pd}, l.v(1), true)
	VADDPS(l.v(0), l.v(1), l.v(1))
	l.store(l.v(1), Mem{Base: pd}, true)
	Label(sChEnd)
	ADDQ(param("ss"), pse)
	ADDQ(param("ds"), pde)
	DECQ(rows)
	JMP(LabelRef(sRow))
	Label(sRowEnd)
	JMP(LabelRef(rowEnd))
	Label(general)
	l.tailMask(n)
	l.vloopLimits(n, lim1, nb)
	Label(rowLoop)
	TESTQ(rows, rows)
	JZ(LabelRef(rowEnd))
	MOVQ(pse, ps)
	MOVQ(pde, pd)
	Load(Param("c"), ch)
	Label(chLoop)
	TESTQ(ch, ch)
	JZ(LabelRef(chEnd))
	l.vloopRegs(lim1, lim1, nb, idx, 1, func(j int, masked bool) {
		l.load(at(ps, idx, 0), l.v(0), masked)
		l.load(at(pd, idx, 0), l.v(1), masked)
		VADDPS(l.v(0), l.v(1), l.v(1))
		l.store(l.v(1), at(pd, idx, 0), masked)
	})
	ADDQ(param("sc"), ps)
	ADDQ(param("dc"), pd)
	DECQ(ch)
	JMP(LabelRef(chLoop))
	Label(chEnd)
	ADDQ(param("ss"), pse)
	ADDQ(param("ds"), pde)
	DECQ(rows)
	JMP(LabelRef(rowLoop))
	Label(rowEnd)
	ADDQ(U8(16), ptab)
	DECQ(e)
	JMP(LabelRef(eLoop))
	Label(eEnd)
	VZEROUPPER()
	RET()
}

// paramsToBytes multiplies the named int parameters (float counts) by 4 in
// their argument slots.
func paramsToBytes(names ...string) {
	for _, name := range names {
		t := Load(Param(name), GP64())
		SHLQ(U8(2), t)
		Store(t, Param(name))
	}
}
