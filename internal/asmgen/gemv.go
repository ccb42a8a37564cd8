package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// gemvAll emits the matrix-vector kernels on both levels, after all the
// others (so that their labels stay as they were).
func gemvAll() {
	for _, l := range []*lvl{avx512, avx2} {
		l.gemv()
		l.gemvRow()
	}
}

// gemv emits the matrix-vector product of a dense layer's per-sample forward
// pass, y[o] = b[o] + Σ_i w[o*cols+i]*x[i] for o < rows (b may be nil). Blocks
// of 8 rows accumulate in 8 vector registers, one per row, over the whole
// row: each vector of x is loaded once for the 8 rows, the 8 FMA chains are
// independent (enough to keep both FMA pipes busy), and the weights stream
// at one vector per FMA. The 8 accumulators reduce together into the 8 sums
// (two unpack-and-add trees of 4, as gemmNT's tiles) and are stored at once;
// the rows%8 rows left go one at a time. MatVec32 takes it where the
// weights fit in L1 (it is 2-4 times gemvRow's speed there).
func (l *lvl) gemv() {
	l.fn("gemv", "func(y *float32, w *float32, x *float32, b *float32, rows int, cols int)",
		"gemv"+l.name+" sets y[o] = b[o] + Σ_i w[o*cols+i]*x[i] for o < rows (b may be nil; rows, cols ≥ 0).")
	py, pw := Load(Param("y"), GP64()), Load(Param("w"), GP64())
	px, pb := Load(Param("x"), GP64()), Load(Param("b"), GP64())
	ld, ld3 := Load(Param("cols"), GP64()), GP64()
	l.tailMask(ld)
	SHLQ(U8(2), ld)
	LEAQ(Mem{Base: ld, Index: ld, Scale: 2}, ld3)
	const xr, t0 = 8, 9 // the x vector; reduction temporaries 9..12
	p0, p4, pxk, cnt := GP64(), GP64(), GP64(), GP64()
	row := func(r int) Mem {
		base := p0
		if r >= 4 {
			base, r = p4, r-4
		}
		switch r {
		case 0:
			return Mem{Base: base}
		case 3:
			return Mem{Base: base, Index: ld3, Scale: 1}
		}
		return Mem{Base: base, Index: ld, Scale: uint8(r)}
	}
	// kLoop emits the loop over the columns of nr rows (accumulators 0..nr-1)
	// from p0 (and p4), then the masked tail.
	kLoop := func(nr int) {
		MOVQ(px, pxk)
		Load(Param("cols"), cnt)
		SHRQ(U8(l.shift()), cnt)
		loop, tail, done := newLabel("gemvk"), newLabel("gemvtail"), newLabel("gemvkdone")
		Label(loop)
		TESTQ(cnt, cnt)
		JZ(LabelRef(tail))
		VMOVUPS(Mem{Base: pxk}, l.v(xr))
		for r := 0; r < nr; r++ {
			VFMADD231PS(row(r), l.v(xr), l.v(r))
		}
		ADDQ(U32(l.vb), pxk)
		ADDQ(U32(l.vb), p0)
		if nr > 4 {
			ADDQ(U32(l.vb), p4)
		}
		DECQ(cnt)
		JMP(LabelRef(loop))
		Label(tail)
		TESTQ(U32(l.w-1), param("cols"))
		JZ(LabelRef(done))
		l.load(Mem{Base: pxk}, l.v(xr), true)
		for r := 0; r < nr; r++ {
			l.load(row(r), l.v(t0), true)
			VFMADD231PS(l.v(t0), l.v(xr), l.v(r))
		}
		Label(done)
	}

	block, rest, restLoop, end := newLabel("gemvblock"), newLabel("gemvrest"), newLabel("gemvrestloop"), newLabel("gemvend")
	Label(block)
	CMPQ(param("rows"), U8(8))
	JLT(LabelRef(rest))
	for r := 0; r < 8; r++ {
		VXORPS(l.v(r), l.v(r), l.v(r))
	}
	MOVQ(pw, p0)
	LEAQ(Mem{Base: pw, Index: ld, Scale: 4}, p4)
	kLoop(8)
	// Reduce rows 0..3 into X0 and rows 4..7 into X4 (lane j: row a+j).
	t := []int{t0, t0 + 1, t0 + 2, t0 + 3}
	for _, a := range []int{0, 4} {
		VUNPCKLPS(l.v(a+1), l.v(a), l.v(t[0])) // [a0 b0 a1 b1]
		VUNPCKHPS(l.v(a+1), l.v(a), l.v(t[1])) // [a2 b2 a3 b3]
		VUNPCKLPS(l.v(a+3), l.v(a+2), l.v(t[2]))
		VUNPCKHPS(l.v(a+3), l.v(a+2), l.v(t[3]))
		VADDPS(l.v(t[1]), l.v(t[0]), l.v(a))
		VADDPS(l.v(t[3]), l.v(t[2]), l.v(t[2]))
		VUNPCKLPD(l.v(t[2]), l.v(a), l.v(t[0]))
		VUNPCKHPD(l.v(t[2]), l.v(a), l.v(t[1]))
		VADDPS(l.v(t[1]), l.v(t[0]), l.v(a))
		if l.w == 16 {
			VEXTRACTF64X4(U8(1), zregs[a], zregs[t[0]].AsY())
			VADDPS(zregs[t[0]].AsY(), zregs[a].AsY(), zregs[a].AsY())
		}
		VEXTRACTF128(U8(1), zregs[a].AsY(), x(t[0]))
		VADDPS(x(t[0]), x(a), x(a))
	}
	VINSERTF128(U8(1), x(4), Y0, Y0)
	noBias := newLabel("gemvnobias")
	TESTQ(pb, pb)
	JZ(LabelRef(noBias))
	VADDPS(Mem{Base: pb}, Y0, Y0)
	ADDQ(U8(32), pb)
	Label(noBias)
	VMOVUPS(Y0, Mem{Base: py})
	ADDQ(U8(32), py)
	LEAQ(Mem{Base: pw, Index: ld, Scale: 8}, pw)
	SUBQ(U8(8), param("rows"))
	JMP(LabelRef(block))

	// The rows%8 rows left, one accumulator each.
	Label(rest)
	Label(restLoop)
	CMPQ(param("rows"), U8(0))
	JLE(LabelRef(end))
	VXORPS(l.v(0), l.v(0), l.v(0))
	MOVQ(pw, p0)
	kLoop(1)
	l.gemvRowEnd(pb, py, pw, ld, restLoop, end)
}

// gemvRow emits gemvRow<l>: gemv one row at a time, the row streamed
// contiguously with 8 accumulators (8 vectors a step), reduced per row.
// MatVec32 takes it for weights larger than L1 with rows of 8 vectors or
// more: one sequential stream of weights (which the hardware prefetcher
// follows from L2) ran 128×784 at 64 GFLOP/s against gemv's 44 (Zen 5, CPU
// time, medians of 15 alternating rounds).
func (l *lvl) gemvRow() {
	l.fn("gemvRow", "func(y *float32, w *float32, x *float32, b *float32, rows int, cols int)",
		"gemvRow"+l.name+" sets y[o] = b[o] + Σ_i w[o*cols+i]*x[i] for o < rows (b may be nil; rows, cols ≥ 0).")
	py, pw := Load(Param("y"), GP64()), Load(Param("w"), GP64())
	px, pb := Load(Param("x"), GP64()), Load(Param("b"), GP64())
	n := Load(Param("cols"), GP64())
	l.tailMask(n)
	ld := GP64()
	MOVQ(n, ld)
	SHLQ(U8(2), ld)
	idx := GP64()
	const u = 8
	loop, end := newLabel("gemvrow"), newLabel("gemvrowend")
	Label(loop)
	CMPQ(param("rows"), U8(0))
	JLE(LabelRef(end))
	for r := 0; r < u; r++ {
		VXORPS(l.v(r), l.v(r), l.v(r))
	}
	l.vloop(n, idx, u, func(j int, masked bool) {
		l.load(at(px, idx, j*l.vb), l.v(8+j%4), masked)
		if masked {
			l.load(at(pw, idx, j*l.vb), l.v(12), true)
			VFMADD231PS(l.v(12), l.v(8+j%4), l.v(j))
		} else {
			VFMADD231PS(at(pw, idx, j*l.vb), l.v(8+j%4), l.v(j))
		}
	})
	for s := u / 2; s >= 1; s /= 2 {
		for r := 0; r < s; r++ {
			VADDPS(l.v(r+s), l.v(r), l.v(r))
		}
	}
	l.gemvRowEnd(pb, py, pw, ld, loop, end)
}

// gemvRowEnd ends one row of gemv's single rows and of gemvRow: the row's sum
// (vector register 0) reduced, plus *pb unless pb is nil, stored at py; pb,
// py and pw (by ld bytes) advanced, param rows decremented, back to loop; then
// the end label and the return.
func (l *lvl) gemvRowEnd(pb, py, pw, ld Register, loop, end string) {
	l.hsum(0, 9)
	noBias := newLabel("gemvnobias")
	TESTQ(pb, pb)
	JZ(LabelRef(noBias))
	VADDSS(Mem{Base: pb}, X0, X0)
	ADDQ(U8(4), pb)
	Label(noBias)
	VMOVSS(X0, Mem{Base: py})
	ADDQ(U8(4), py)
	ADDQ(ld, pw)
	DECQ(param("rows"))
	JMP(LabelRef(loop))
	Label(end)
	VZEROUPPER()
	RET()
}
