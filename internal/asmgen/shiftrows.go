package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The shifted sums of the depthwise convolutions (gen/dwconv.go):
//
//	shiftSum:     y[i] = b + Σ_t w[t]·x[offs[t]+i]                for i < n
//	shiftSumRows: y[r*ys+i] = b + Σ_t w[t]·x[r*xs+offs[t]+i]     for r < rows, i < n
//
// A row of n sums is covered by as few blocks as possible: blocks of
// shiftU vectors, then one last block of k = 1…shiftU vectors whose last
// vector is masked to the (n-1)%w + 1 lanes left (a row of at most shiftU
// vectors is one block). Each block keeps one accumulator per vector, starts
// from the bias and adds the taps in tap order over all taps (k independent
// FMA chains per tap, not one latency-bound chain), and is stored once: every
// output is b then the taps in order whatever the blocking, so a sum is bit
// for bit the same on either level, in shiftSum or shiftSumRows.

// shiftU is the most vectors (accumulators) of a block: the accumulators,
// the broadcast weight, the bias and the masked load's register fit in 16
// registers with AVX2 (Y15 is the lane mask).
func (l *lvl) shiftU() int {
	return 12
}

// shiftRegs are the registers of shiftRow: the row's y and x, the taps' offsets
// and weights, their count, the row length n in bytes (nb) and its unmasked
// blocks' end (limU, bytes), and scratch idx, t, o.
type shiftRegs struct {
	py, px, poffs, pw, taps, limU, nb, idx, t, o Register
}

// shiftSetup sets the lane mask of the last vector ((n-1)%w + 1 lanes),
// limU = ⌊(n-1) / (u·w)⌋·u·w·4 and nb = 4n, for rows of n ≥ 1 sums.
func (l *lvl) shiftSetup(r shiftRegs, n Register) {
	u := l.shiftU()
	l.lastLaneMask(n)
	MOVQ(n, r.limU)
	DECQ(r.limU)
	if u&(u-1) == 0 {
		ANDQ(I32(-u*l.w), r.limU)
	} else {
		// without a division: count whole blocks up while one more fits
		q, lim := GP64(), GP64()
		XORQ(q, q)
		loop, done := newLabel("blocks"), newLabel("blocksDone")
		Label(loop)
		LEAQ(Mem{Base: q, Disp: u * l.w}, lim)
		CMPQ(lim, r.limU)
		JA(LabelRef(done))
		MOVQ(lim, q)
		JMP(LabelRef(loop))
		Label(done)
		MOVQ(q, r.limU)
	}
	SHLQ(U8(2), r.limU)
	MOVQ(n, r.nb)
	SHLQ(U8(2), r.nb)
}

// shiftRow emits the sums of one row (limU and nb from shiftSetup, the bias
// broadcast in vector u+1) and continues at next.
func (l *lvl) shiftRow(r shiftRegs, next string) {
	u := l.shiftU()
	vw, vb, vt := u, u+1, u+2
	if vt >= 32 || (l.w == 8 && vt >= maskReg) {
		panic("shiftRow: too many accumulators")
	}
	// block emits one block of k vectors at idx, the last masked if masked.
	block := func(k int, masked bool) {
		for j := 0; j < k; j++ {
			VMOVAPS(l.v(vb), l.v(j))
		}
		tap, done := newLabel("tap"), newLabel("taps")
		XORQ(r.t, r.t)
		Label(tap)
		CMPQ(r.t, r.taps)
		JAE(LabelRef(done))
		MOVLQSX(Mem{Base: r.poffs, Index: r.t, Scale: 4}, r.o)
		SHLQ(U8(2), r.o)
		ADDQ(r.idx, r.o)
		VBROADCASTSS(Mem{Base: r.pw, Index: r.t, Scale: 4}, l.v(vw))
		for j := 0; j < k; j++ {
			if masked && j == k-1 {
				l.load(at(r.px, r.o, j*l.vb), l.v(vt), true)
				VFMADD231PS(l.v(vt), l.v(vw), l.v(j))
			} else {
				VFMADD231PS(at(r.px, r.o, j*l.vb), l.v(vw), l.v(j))
			}
		}
		INCQ(r.t)
		JMP(LabelRef(tap))
		Label(done)
		for j := 0; j < k; j++ {
			l.store(l.v(j), at(r.py, r.idx, j*l.vb), masked && j == k-1)
		}
	}
	loopU := newLabel("blockU")
	last := make([]string, u+1)
	for k := 1; k <= u; k++ {
		last[k] = newLabel(fmt.Sprintf("last%d_", k))
	}
	XORQ(r.idx, r.idx)
	Label(loopU)
	CMPQ(r.idx, r.limU)
	JAE(LabelRef(last[u]))
	block(u, false)
	ADDQ(U32(u*l.vb), r.idx)
	JMP(LabelRef(loopU))
	// nb - idx bytes are left: k = ⌈(nb-idx)/vb⌉ vectors; the branches go
	// from k = u down.
	for k := u; k >= 1; k-- {
		Label(last[k])
		if k > 1 {
			MOVQ(r.nb, r.o)
			SUBQ(r.idx, r.o)
			CMPQ(r.o, U32((k-1)*l.vb))
			JBE(LabelRef(last[k-1]))
		}
		block(k, true)
		JMP(LabelRef(next))
	}
}

// shiftSum: y[i] = b + Σ_t w[t]·x[offs[t]+i] for i < n.
func (l *lvl) shiftSum() {
	l.fn("shiftSum", "func(y *float32, x *float32, offs *int32, w *float32, taps int, n int, b float32)",
		"shiftSum"+l.name+" sets y[i] = b + Σ_t w[t]·x[offs[t]+i] for i < n and t < taps.")
	u := l.shiftU()
	VBROADCASTSS(param("b"), l.v(u+1))
	r := shiftRegs{py: Load(Param("y"), GP64()), px: Load(Param("x"), GP64()),
		poffs: Load(Param("offs"), GP64()), pw: Load(Param("w"), GP64()), taps: Load(Param("taps"), GP64()),
		limU: GP64(), nb: GP64(), idx: GP64(), t: GP64(), o: GP64()}
	n := Load(Param("n"), GP64())
	end := newLabel("end")
	TESTQ(n, n)
	JZ(LabelRef(end))
	l.shiftSetup(r, n)
	l.shiftRow(r, end)
	Label(end)
	VZEROUPPER()
	RET()
}

// shiftSumRows: shiftSum over rows of a plane (the depthwise convolutions
// with a row stride compute only the output rows, gen/dwconv.go).
func (l *lvl) shiftSumRows() {
	l.fn("shiftSumRows", "func(y *float32, ys int, x *float32, xs int, offs *int32, w *float32, taps int, rows int, n int, b float32)",
		"shiftSumRows"+l.name+" sets y[r*ys+i] = b + Σ_t w[t]·x[r*xs+offs[t]+i] for r < rows, i < n and t < taps.")
	u := l.shiftU()
	VBROADCASTSS(param("b"), l.v(u+1))
	r := shiftRegs{py: Load(Param("y"), GP64()), px: Load(Param("x"), GP64()),
		poffs: Load(Param("offs"), GP64()), pw: Load(Param("w"), GP64()), taps: Load(Param("taps"), GP64()),
		limU: GP64(), nb: GP64(), idx: GP64(), t: GP64(), o: GP64()}
	rows, n := Load(Param("rows"), GP64()), Load(Param("n"), GP64())
	rowLoop, next, end := newLabel("row"), newLabel("next"), newLabel("end")
	TESTQ(n, n)
	JZ(LabelRef(end))
	l.shiftSetup(r, n)
	Label(rowLoop)
	TESTQ(rows, rows)
	JZ(LabelRef(end))
	l.shiftRow(r, next)
	Label(next)
	// the row strides are loaded into the free o each row: y += ys, x += xs
	MOVQ(param("ys"), r.o)
	LEAQ(Mem{Base: r.py, Index: r.o, Scale: 4}, r.py)
	MOVQ(param("xs"), r.o)
	LEAQ(Mem{Base: r.px, Index: r.o, Scale: 4}, r.px)
	DECQ(rows)
	JMP(LabelRef(rowLoop))
	Label(end)
	VZEROUPPER()
	RET()
}
