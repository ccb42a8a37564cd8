package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
)

// shiftSumRows: y[r*ys+i] = b + Σ_t w[t]·x[r*xs+offs[t]+i] for r < rows,
// i < n: shiftSum over rows of a plane (the depthwise convolutions with a row
// stride compute only the output rows, gen/dwconv.go). Per row, blocks of
// four vectors and a last block of one to four, its last vector masked (a
// short row is one block: one pass over the taps), each accumulated in
// registers over all taps in tap order and stored once, so an output is bit
// for bit what shiftSum computes at the same position.
func (l *lvl) shiftSumRows() {
	l.fn("shiftSumRows", "func(y *float32, ys int, x *float32, xs int, offs *int32, w *float32, taps int, rows int, n int, b float32)",
		"shiftSumRows"+l.name+" sets y[r*ys+i] = b + Σ_t w[t]·x[r*xs+offs[t]+i] for r < rows, i < n and t < taps.")
	const vb, vw = 14, 13
	VBROADCASTSS(param("b"), l.v(vb))
	py, px := Load(Param("y"), GP64()), Load(Param("x"), GP64())
	poffs, pw := Load(Param("offs"), GP64()), Load(Param("w"), GP64())
	taps, rows, n := Load(Param("taps"), GP64()), Load(Param("rows"), GP64()), Load(Param("n"), GP64())
	// The last block of a row has k = 1…4 vectors, the last of them masked
	// to its (n-1)%w + 1 lanes; the blocks of four before it are unmasked:
	// limU = ((n-1) / (4w))·4w elements, in bytes.
	lanes := GP64()
	MOVQ(n, lanes)
	DECQ(lanes)
	ANDQ(U32(l.w-1), lanes)
	INCQ(lanes)
	l.laneMask(lanes)
	const u = 4
	limU, nb, idx, t, o := GP64(), GP64(), GP64(), GP64(), GP64()
	MOVQ(n, limU)
	DECQ(limU)
	ANDQ(I32(-u*l.w), limU)
	SHLQ(U8(2), limU)
	MOVQ(n, nb)
	SHLQ(U8(2), nb)
	// block emits one block of k vectors at idx, the last masked if masked.
	block := func(k int, masked bool) {
		for j := 0; j < k; j++ {
			VMOVAPS(l.v(vb), l.v(j))
		}
		tap, done := newLabel("tap"), newLabel("taps")
		XORQ(t, t)
		Label(tap)
		CMPQ(t, taps)
		JAE(LabelRef(done))
		MOVLQSX(Mem{Base: poffs, Index: t, Scale: 4}, o)
		SHLQ(U8(2), o)
		ADDQ(idx, o)
		VBROADCASTSS(Mem{Base: pw, Index: t, Scale: 4}, l.v(vw))
		for j := 0; j < k; j++ {
			if masked && j == k-1 {
				l.load(at(px, o, j*l.vb), l.v(4+j), true)
				VFMADD231PS(l.v(4+j), l.v(vw), l.v(j))
			} else {
				VFMADD231PS(at(px, o, j*l.vb), l.v(vw), l.v(j))
			}
		}
		INCQ(t)
		JMP(LabelRef(tap))
		Label(done)
		for j := 0; j < k; j++ {
			l.store(l.v(j), at(py, idx, j*l.vb), masked && j == k-1)
		}
	}
	rowLoop, loopU, next, end := newLabel("row"), newLabel("blockU"), newLabel("next"), newLabel("end")
	var last [u + 1]string
	for k := 1; k <= u; k++ {
		last[k] = newLabel(fmt.Sprintf("last%d", k))
	}
	Label(rowLoop)
	TESTQ(rows, rows)
	JZ(LabelRef(end))
	XORQ(idx, idx)
	Label(loopU)
	CMPQ(idx, limU)
	JAE(LabelRef(last[u]))
	block(u, false)
	ADDQ(U32(u*l.vb), idx)
	JMP(LabelRef(loopU))
	// nb - idx bytes are left: k = ⌈(nb-idx)/vb⌉ vectors; the branches
	// go from k = 4 down.
	for k := u; k >= 1; k-- {
		Label(last[k])
		if k > 1 {
			MOVQ(nb, o)
			SUBQ(idx, o)
			CMPQ(o, U32((k-1)*l.vb))
			JBE(LabelRef(last[k-1]))
		}
		block(k, true)
		JMP(LabelRef(next))
	}
	Label(next)
	// the row strides are loaded into the free o each row: y += ys, x += xs
	MOVQ(param("ys"), o)
	LEAQ(Mem{Base: py, Index: o, Scale: 4}, py)
	MOVQ(param("xs"), o)
	LEAQ(Mem{Base: px, Index: o, Scale: 4}, px)
	DECQ(rows)
	JMP(LabelRef(rowLoop))
	Label(end)
	VZEROUPPER()
	RET()
}
