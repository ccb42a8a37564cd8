package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// gemmConv emits the mr×nv tile kernel of the implicit GEMM of a stride-1
// convolution: gemmXN with A row-major (A(i,p) = a[i*rs+p]) and B never
// stored: B(p, col) = b[offs[p] + base(col)], b the zero-padded input
// [C][Hp][Wp], offs[p] the offset of patch row p = (c·KH + kh)·KW + kw
// (c·Hp·Wp + kh·Wp + kw) and base the offset of an output position's
// window. Vector j of tile t covers w consecutive output positions of one
// output row, whose window starts at b[cols[t*nv+j]] (cols: nt·nv offsets), so
// at step p it is loaded from b[offs[p] + cols[t*nv+j]]. The accumulators'
// start, the tail of the last vector and the store (bias, scale-shift second
// output, ReLU) are gemmXN's.
func (l *lvl) gemmConv(mr, nv int) {
	name := fmt.Sprintf("gemmConv%dx%d_", mr, nv)
	TEXT(name+l.name, NOSPLIT, "func(c *float32, ldc int, a *float32, rs int, b *float32, offs *int32, cols *int32, bias *float32, k int, mode int, nt int, tail int, mt int, c2 *float32, scale *float32, shift *float32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s%s computes mt×nt tiles of %d rows × %d vectors of C (+)= A·B with A(i,p) = a[i*rs+p] and B(p, vector j of tile t) read from b[offs[p]+cols[t*%d+j]] (mt ≥ 1); the last vector of each tile has tail columns; mode as gemmXN's.", name, l.name, mr, nv, nv))
	accR := func(i, j int) int { return i*nv + j }
	breg := func(j int) int { return mr*nv + j }
	areg := mr*nv + nv
	if l.w == 8 && areg >= maskReg {
		panic("avx2 gemmConv tile too large")
	}
	tail := GP64()
	Load(Param("tail"), tail)
	l.laneMask(tail)
	rs := Load(Param("rs"), GP64())
	SHLQ(U8(2), rs)
	aMem := aRows(mr, rs)
	pc, pcols, nt := GP64(), GP64(), GP64()
	pa, po, cnt, o := GP64(), GP64(), GP64(), GP64()
	pb := make([]Register, nv)
	for j := range pb {
		pb[j] = GP64()
	}
	// ldc lives in o where it is needed (o is free outside the k loop).
	ldc := func() Register {
		Load(Param("ldc"), o)
		SHLQ(U8(2), o)
		return o
	}
	rowBlock, tileLoop, end := newLabel("rowblock"), newLabel("tile"), newLabel("end")
	Label(rowBlock)
	Load(Param("c"), pc)
	Load(Param("cols"), pcols)
	Load(Param("nt"), nt)
	Label(tileLoop)
	TESTQ(nt, nt)
	JZ(LabelRef(end))
	l.tileStart(mr, nv, pc, pa, ldc)
	// The windows of the tile's vectors: pb[j] = b + 4·cols[j].
	Load(Param("b"), o)
	for j := 0; j < nv; j++ {
		MOVLQSX(Mem{Base: pcols, Disp: 4 * j}, pb[j])
		LEAQ(Mem{Base: o, Index: pb[j], Scale: 4}, pb[j])
	}
	Load(Param("a"), pa)
	Load(Param("offs"), po)
	Load(Param("k"), cnt)
	kLoop, kDone := newLabel("k"), newLabel("kdone")
	Label(kLoop)
	TESTQ(cnt, cnt)
	JZ(LabelRef(kDone))
	MOVLQSX(Mem{Base: po}, o)
	for j := 0; j < nv; j++ {
		l.load(Mem{Base: pb[j], Index: o, Scale: 4}, l.v(breg(j)), j == nv-1)
	}
	for i := 0; i < mr; i++ {
		VBROADCASTSS(aMem(pa, i), l.v(areg))
		for j := 0; j < nv; j++ {
			VFMADD231PS(l.v(breg(j)), l.v(areg), l.v(accR(i, j)))
		}
	}
	ADDQ(U8(4), pa)
	ADDQ(U8(4), po)
	DECQ(cnt)
	JMP(LabelRef(kLoop))
	Label(kDone)
	// The B and A registers are free from here on.
	l.gemmEpilogue(mr, nv, accR, breg(0), pc, ldc(), pa, po, cnt, pb[0])
	ADDQ(U32(nv*l.vb), pc)
	ADDQ(U32(4*nv), pcols)
	DECQ(nt)
	JMP(LabelRef(tileLoop))
	Label(end)
	nextRowBlock(mr, rs, ldc, pa, rowBlock)
}

// gemmConvKernels emits the gemmConv tiles of every size gemmXN has.
func (l *lvl) gemmConvKernels() {
	for mr := 1; mr <= l.xnMR; mr++ {
		for nv := 1; nv <= l.xnNV; nv++ {
			l.gemmConv(mr, nv)
		}
	}
}
