package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// copyPlanes: dst[p*dps+r*drs+i] = src[p*sps+r*srs+i] for p < planes,
// r < rows, i < n, rows in increasing order: the padding copy of a
// convolution's input into the interior of its padded planes, and the crop of
// the depthwise convolutions' flat sums into the output rows (gen/dwconv.go),
// for a whole layer's rows of a few elements in one call. A row is its full
// vectors, then its last vector loaded masked (the lanes past the row zero)
// and stored whole while the store ends by the last row's end, masked
// otherwise: the zeros land between the rows (the padding, which is zero) or
// on a later row, which overwrites them, and a row costs one load and one
// store instead of masked stores.
func (l *lvl) copyPlanes() {
	l.fn("copyPlanes", "func(dst *float32, dps int, drs int, src *float32, sps int, srs int, planes int, rows int, n int)",
		"copyPlanes"+l.name+" does dst[p*dps+r*drs+i] = src[p*sps+r*srs+i] for p < planes, r < rows and i < n",
		"(planes, rows, n ≥ 1), and may set elements between the rows of dst, up to the last row's end, to zero.")
	pd, ps := Load(Param("dst"), GP64()), Load(Param("src"), GP64())
	planes, rows, n := Load(Param("planes"), GP64()), Load(Param("rows"), GP64()), Load(Param("n"), GP64())
	nfull, limit, tmp := l.planeRows(pd, rows, n, func(r Register) { MOVQ(planes, r) })
	// the row strides in bytes, and the plane steps after a plane's rows:
	// (dps - rows·drs)·4, (sps - rows·srs)·4
	drs, srs, dAdj, sAdj := GP64(), GP64(), GP64(), GP64()
	for _, s := range []struct {
		ps, rs string
		adj, r Register
	}{{"dps", "drs", dAdj, drs}, {"sps", "srs", sAdj, srs}} {
		MOVQ(param(s.rs), s.r)
		MOVQ(rows, tmp)
		IMULQ(s.r, tmp)
		MOVQ(param(s.ps), s.adj)
		SUBQ(tmp, s.adj)
		SHLQ(U8(2), s.adj)
		SHLQ(U8(2), s.r)
	}
	// row emits the rows of the planes; wide rows first copy their full vectors.
	row := func(wide bool) {
		planeLoop, rowLoop, last, masked, nextRow := newLabel("plane"), newLabel("row"), newLabel("last"), newLabel("masked"), newLabel("nextRow")
		r, idx := GP64(), GP64()
		Label(planeLoop)
		MOVQ(rows, r)
		Label(rowLoop)
		XORQ(idx, idx)
		if wide {
			full := newLabel("full")
			Label(full)
			VMOVUPS(at(ps, idx, 0), l.v(0))
			VMOVUPS(l.v(0), at(pd, idx, 0))
			ADDQ(U32(l.vb), idx)
			CMPQ(idx, nfull)
			JB(LabelRef(full))
		}
		Label(last)
		l.load(at(ps, idx, 0), l.v(0), true)
		LEAQ(Mem{Base: pd, Index: idx, Scale: 1, Disp: l.vb}, tmp)
		CMPQ(tmp, limit)
		JA(LabelRef(masked))
		VMOVUPS(l.v(0), at(pd, idx, 0))
		Label(nextRow)
		ADDQ(drs, pd)
		ADDQ(srs, ps)
		DECQ(r)
		JNZ(LabelRef(rowLoop))
		ADDQ(dAdj, pd)
		ADDQ(sAdj, ps)
		DECQ(planes)
		JNZ(LabelRef(planeLoop))
		VZEROUPPER()
		RET()
		Label(masked)
		l.store(l.v(0), at(pd, idx, 0), true)
		JMP(LabelRef(nextRow))
	}
	wide := newLabel("wide")
	TESTQ(nfull, nfull)
	JNZ(LabelRef(wide))
	row(false)
	Label(wide)
	row(true)
}

// planeRows emits the set-up the row copies over planes share: the tail
// mask of a row's last vector (1 to w lanes), nfull (the bytes of the full
// vectors before it, (n-1)&-w · 4) and limit (the end of the last row,
// dst + ((planes-1)·dps + (rows-1)·drs + n)·4, with loadPlanes putting the
// plane count into its register); tmp is a scratch register for the caller.
func (l *lvl) planeRows(dst, rows, n Register, loadPlanes func(Register)) (nfull, limit, tmp Register) {
	l.lastLaneMask(n)
	nfull = GP64()
	MOVQ(n, nfull)
	DECQ(nfull)
	ANDQ(I32(-l.w), nfull)
	SHLQ(U8(2), nfull)
	limit, tmp = GP64(), GP64()
	loadPlanes(limit)
	DECQ(limit)
	IMULQ(param("dps"), limit)
	MOVQ(rows, tmp)
	DECQ(tmp)
	IMULQ(param("drs"), tmp)
	ADDQ(tmp, limit)
	ADDQ(n, limit)
	LEAQ(Mem{Base: dst, Index: limit, Scale: 4}, limit)
	return nfull, limit, tmp
}
