package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// gemmEpilogue emits the store of a gemmXN tile whose sums are in the
// accumulators accR(i, j), by the mode bits (see gemmXN):
//
//	mode&8: C = sum, then v = sum·scale[i] + shift[i] (VMULPS then VADDPS,
//	        two roundings as scaleShiftRows) into C2
//	mode&4: v = relu(v) (kept where > 0 or NaN, else +0, as reluForward)
//	        stored into C (C2 with mode&8)
//
// so that a GEMM convolution followed by an inference-mode batchnorm and a
// ReLU writes the convolution's output z (which batchnorm's backward pass
// reads) and the ReLU's output in one pass, bit for bit what GemmNNBias,
// ScaleShiftRows and ReluForward write one after another. Vector registers
// e0…e0+3 are free (the tile's B and A registers): e0 holds zero, e0+1 and
// e0+2 the row's scale and shift, e0+3 AVX2's compare mask. pc is the
// tile's C, ldc the row stride in bytes; pr, pst, ps and pt are scratch.
func (l *lvl) gemmEpilogue(mr, nv int, accR func(i, j int) int, e0 int, pc, ldc, pr, pst, ps, pt Register) {
	zero, vs, vt, vm := e0, e0+1, e0+2, e0+3
	if l.w == 8 && vm >= maskReg {
		panic("avx2 gemmXN epilogue out of registers")
	}
	storeRows := func(base Register) {
		MOVQ(base, pr)
		for i := 0; i < mr; i++ {
			if i > 0 {
				ADDQ(ldc, pr)
			}
			for j := 0; j < nv; j++ {
				l.store(l.v(accR(i, j)), Mem{Base: pr, Disp: j * l.vb}, j == nv-1)
			}
		}
	}
	noBN, noRelu := newLabel("nobn"), newLabel("norelu")
	MOVQ(pc, pst)
	TESTQ(U32(8), param("mode"))
	JZ(LabelRef(noBN))
	storeRows(pc)
	// The tile of C2: c and c2 advance together by rows, so it is pc − c + c2.
	MOVQ(param("c2"), pst)
	SUBQ(param("c"), pst)
	ADDQ(pc, pst)
	MOVQ(param("scale"), ps)
	MOVQ(param("shift"), pt)
	for i := 0; i < mr; i++ {
		VBROADCASTSS(Mem{Base: ps, Disp: 4 * i}, l.v(vs))
		VBROADCASTSS(Mem{Base: pt, Disp: 4 * i}, l.v(vt))
		for j := 0; j < nv; j++ {
			t := l.v(accR(i, j))
			VMULPS(l.v(vs), t, t)
			VADDPS(l.v(vt), t, t)
		}
	}
	Label(noBN)
	TESTQ(U32(4), param("mode"))
	JZ(LabelRef(noRelu))
	VXORPS(l.v(zero), l.v(zero), l.v(zero))
	for i := 0; i < mr; i++ {
		for j := 0; j < nv; j++ {
			l.cmpPosOrNaN(accR(i, j), zero, vm)
			l.keep(accR(i, j), vm)
		}
	}
	Label(noRelu)
	storeRows(pst)
}
