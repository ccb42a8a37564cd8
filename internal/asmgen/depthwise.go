package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// depthwise: the stride-1 depthwise convolutions straight from unpadded
// planes (runtime/depthwise.go), for p < planes and i < n:
//
//	s = bias[p] (mode&8, else 0), then for t < taps:
//	    s += w[p*taps + t]·x[p*in + i + offs[t]]   where bit i%16 of masks[t*nv + i/16] is set
//	z[p*n+i] = s                                        (mode&1)
//	y[p*n+i] = s·scale[p] + shift[p], ReLU'd if mode&4   (mode&2)
//
// AVX2 reads the byte of its 8 lanes from the same table. Two planes at a
// time, a last single one as a pair of itself (the same sums stored twice);
// blocks of up to depthwiseU vectors of each plane, the last block's last
// vector stored under the tail mask. Per tap the pair's weights are
// broadcast and each vector's mask loaded once for both planes: AVX-512 adds
// under the mask with merge-masked FMAs from memory (the masked-off lanes
// are neither read nor added), AVX2 loads under the mask (VMASKMOVPS: the
// others become zero) and adds. Whole planes of up to depthwiseU vectors
// are one block: 2·k independent accumulators per tap. The pointers the
// mode leaves out must still be valid (the Go wrapper passes others); they
// are advanced, never read.
func depthwiseU(l *lvl) int {
	if l.w == 16 {
		return 8 // 16 accumulators
	}
	return 4 // 8 accumulators, 2 weights, the load, the lane bits, the mask, the ReLU's two and Y15
}

func (l *lvl) depthwise() {
	l.fn("depthwise", "func(z *float32, y *float32, x *float32, offs *int32, masks *uint16, w *float32, bias *float32, scale *float32, shift *float32, planes int, taps int, n int, in int, nv int, mode int)",
		"depthwise"+l.name+" sets z[p*n+i] = s (mode&1) and y[p*n+i] = s·scale[p] + shift[p], ReLU'd if mode&4 (mode&2), with s = bias[p] (mode&8)",
		"plus, for t < taps, w[p*taps+t]·x[p*in+i+offs[t]] where bit i%16 of masks[t*nv+i/16] is set, for p < planes and i < n",
		"(planes, taps, n ≥ 1).")
	u := depthwiseU(l)
	acc := func(pp, j int) int { return pp*u + j }
	// the broadcast weights (in the store: scale and shift), the AVX2 load,
	// lane bits and mask, the ReLU's threshold and the AVX2 compare
	vw0, vw1, vt, vbits, vmask, vthr, vcmp := 2*u, 2*u+1, 2*u+2, 2*u+3, 2*u+4, 2*u+5, 2*u+6
	kmask := func(j int) Register { return []Register{K3, K4, K5, K6, K7}[j%5] }

	nb := AllocLocal(8)
	// the second plane of a pair, in bytes after the first: its input
	// (pin), weights (pw), output (pn) and channel values (pc); all zero
	// for a last single plane
	pin, pw, pn, pc := AllocLocal(8), AllocLocal(8), AllocLocal(8), AllocLocal(8)
	{
		n, r := Load(Param("n"), GP64()), GP64()
		l.lastLaneMask(n)
		SHLQ(U8(2), n)
		MOVQ(n, nb)
		MOVQ(n, pn)
		for _, s := range []struct {
			name  string
			shift uint8
		}{{"in", 2}, {"nv", 1}} {
			MOVQ(param(s.name), r)
			SHLQ(U8(s.shift), r)
			MOVQ(r, param(s.name))
		}
		MOVQ(param("in"), r)
		MOVQ(r, pin)
		MOVQ(param("taps"), r)
		SHLQ(U8(2), r)
		MOVQ(r, pw)
		MOVQ(U32(4), pc)
		// the ReLU's threshold: +0, or NaN (0x7fc00000): y > NaN is
		// unordered, so every lane is kept (predicate NLE_UQ)
		thr := newLabel("dwThr")
		MOVL(U32(0x7fc00000), r.As32())
		TESTQ(U32(4), param("mode"))
		JZ(LabelRef(thr))
		XORL(r.As32(), r.As32())
		Label(thr)
		VMOVD(r.As32(), x(vthr))
		VBROADCASTSS(x(vthr), l.v(vthr))
	}
	if l.w == 8 {
		t := GP64()
		LEAQ(depthwiseBits, t)
		VMOVUPS(Mem{Base: t}, l.v(vbits))
	}

	// block emits the sums of the pair × k vectors at byte offset vb, the
	// last vector's store masked if masked.
	block := func(k int, vb Register, masked bool) {
		noBias, initDone := newLabel("noBias"), newLabel("init")
		c := GP64()
		MOVQ(pc, c)
		TESTQ(U32(8), param("mode"))
		JZ(LabelRef(noBias))
		b := GP64()
		MOVQ(param("bias"), b)
		for j := 0; j < k; j++ {
			VBROADCASTSS(Mem{Base: b}, l.v(acc(0, j)))
			VBROADCASTSS(Mem{Base: b, Index: c, Scale: 1}, l.v(acc(1, j)))
		}
		JMP(LabelRef(initDone))
		Label(noBias)
		for pp := 0; pp < 2; pp++ {
			for j := 0; j < k; j++ {
				VXORPS(l.v(acc(pp, j)), l.v(acc(pp, j)), l.v(acc(pp, j)))
			}
		}
		Label(initDone)

		xp, xp2, wt, wt2, op, mp, t, o := GP64(), GP64(), GP64(), GP64(), GP64(), GP64(), GP64(), GP64()
		xps, wts := []Register{xp, xp2}, []Register{wt, wt2}
		MOVQ(param("x"), xp)
		MOVQ(pin, xp2)
		ADDQ(xp, xp2)
		MOVQ(param("w"), wt)
		MOVQ(pw, wt2)
		ADDQ(wt, wt2)
		MOVQ(param("offs"), op)
		MOVQ(vb, mp)
		SHRQ(U8(5), mp) // the mask bytes before vector vb: 2 (AVX-512) or 1 (AVX2) per vector
		ADDQ(param("masks"), mp)
		MOVQ(param("taps"), t)
		tap := newLabel("tap")
		Label(tap)
		MOVLQSX(Mem{Base: op}, o)
		SHLQ(U8(2), o)
		ADDQ(vb, o)
		ADDQ(U8(4), op)
		for pp := 0; pp < 2; pp++ {
			VBROADCASTSS(Mem{Base: wts[pp]}, l.v(vw0+pp))
			ADDQ(U8(4), wts[pp])
		}
		for j := 0; j < k; j++ {
			m := Mem{Base: mp, Disp: j * l.vb / 32}
			if l.w == 16 {
				KMOVW(m, kmask(j))
			} else {
				// the byte's bits as lanes: broadcast, and with the lane
				// bits, compare equal
				bits := GP32()
				MOVBLZX(m, bits)
				VMOVD(bits, x(vmask))
				VPBROADCASTD(x(vmask), l.v(vmask))
				VPAND(l.v(vbits), l.v(vmask), l.v(vmask))
				VPCMPEQD(l.v(vbits), l.v(vmask), l.v(vmask))
			}
			for pp := 0; pp < 2; pp++ {
				src := Mem{Base: xps[pp], Index: o, Scale: 1, Disp: j * l.vb}
				if l.w == 16 {
					VFMADD231PS(src, l.v(vw0+pp), kmask(j), l.v(acc(pp, j)))
				} else {
					VMASKMOVPS(src, l.v(vmask), l.v(vt))
					VFMADD231PS(l.v(vt), l.v(vw0+pp), l.v(acc(pp, j)))
				}
			}
		}
		ADDQ(param("nv"), mp)
		DECQ(t)
		JNZ(LabelRef(tap))

		// the stores: z, then y (the second plane's at +pn, its scale and
		// shift at +pc)
		skipZ, skipY := newLabel("skipZ"), newLabel("skipY")
		ptr, n2, mode := GP64(), GP64(), GP64()
		MOVQ(pn, n2)
		MOVQ(param("mode"), mode)
		at2 := func(pp, j int) Mem {
			if pp > 0 {
				return Mem{Base: ptr, Index: n2, Scale: 1, Disp: j * l.vb}
			}
			return Mem{Base: ptr, Disp: j * l.vb}
		}
		TESTQ(U32(1), mode)
		JZ(LabelRef(skipZ))
		MOVQ(param("z"), ptr)
		ADDQ(vb, ptr)
		for pp := 0; pp < 2; pp++ {
			for j := 0; j < k; j++ {
				l.store(l.v(acc(pp, j)), at2(pp, j), masked && j == k-1)
			}
		}
		Label(skipZ)
		TESTQ(U32(2), mode)
		JZ(LabelRef(skipY))
		sc, sh := GP64(), GP64()
		MOVQ(param("scale"), sc)
		MOVQ(param("shift"), sh)
		MOVQ(param("y"), ptr)
		ADDQ(vb, ptr)
		for pp := 0; pp < 2; pp++ {
			if pp == 0 {
				VBROADCASTSS(Mem{Base: sc}, l.v(vw0))
				VBROADCASTSS(Mem{Base: sh}, l.v(vw1))
			} else {
				VBROADCASTSS(Mem{Base: sc, Index: c, Scale: 1}, l.v(vw0))
				VBROADCASTSS(Mem{Base: sh, Index: c, Scale: 1}, l.v(vw1))
			}
			for j := 0; j < k; j++ {
				a := acc(pp, j)
				// the product rounded before the shift is added
				VMULPS(l.v(vw0), l.v(a), l.v(a))
				VADDPS(l.v(vw1), l.v(a), l.v(a))
				l.cmpPosOrNaN(a, vthr, vcmp)
				l.keep(a, vcmp)
				l.store(l.v(a), at2(pp, j), masked && j == k-1)
			}
		}
		Label(skipY)
	}

	// the pairs: blocks of u vectors while more than u are left, then one
	// block of the k = 1…u left, its last vector masked
	planeLoop, single, end := newLabel("dwPlanes"), newLabel("dwSingle"), newLabel("dwEnd")
	pair, loop, rest, next := newLabel("dwPair"), newLabel("dwRun"), newLabel("dwRest"), newLabel("dwNext")
	Label(planeLoop)
	CMPQ(param("planes"), U8(2))
	JL(LabelRef(single)) // signed: -1 after a single plane
	vb, r := GP64(), GP64()
	Label(pair)
	XORQ(vb, vb)
	Label(loop)
	MOVQ(nb, r)
	SUBQ(vb, r)
	CMPQ(r, U32(u*l.vb))
	JBE(LabelRef(rest))
	block(u, vb, false)
	ADDQ(U32(u*l.vb), vb)
	JMP(LabelRef(loop))
	Label(rest)
	// 0 < r ≤ u·vb bytes are left: k = ⌈r / vb⌉
	labels := make([]string, u+1)
	for k := 1; k <= u; k++ {
		labels[k] = newLabel("dwK")
	}
	for k := 1; k < u; k++ {
		CMPQ(r, U32(k*l.vb))
		JBE(LabelRef(labels[k]))
	}
	JMP(LabelRef(labels[u]))
	for k := 1; k <= u; k++ {
		Label(labels[k])
		block(k, vb, true)
		if k < u {
			JMP(LabelRef(next))
		}
	}
	Label(next)
	// the next pair: x += in + pin, w += taps·4 + pw, z and y += n·4 + pn,
	// bias, scale and shift += 4 + pc (one plane after a single one, where
	// planes becomes -1)
	MOVQ(param("in"), r)
	ADDQ(pin, r)
	ADDQ(r, param("x"))
	MOVQ(param("taps"), r)
	SHLQ(U8(2), r)
	ADDQ(pw, r)
	ADDQ(r, param("w"))
	MOVQ(nb, r)
	ADDQ(pn, r)
	ADDQ(r, param("z"))
	ADDQ(r, param("y"))
	MOVQ(pc, r)
	ADDQ(U8(4), r)
	for _, s := range []string{"bias", "scale", "shift"} {
		ADDQ(r, param(s))
	}
	SUBQ(U8(2), param("planes"))
	JMP(LabelRef(planeLoop))
	Label(single)
	CMPQ(param("planes"), U8(1))
	JNE(LabelRef(end))
	for _, m := range []Mem{pin, pw, pn, pc} {
		MOVQ(U32(0), m)
	}
	JMP(LabelRef(pair))
	Label(end)
	VZEROUPPER()
	RET()
}

// depthwiseBits holds the lane bits 1, 2, 4, …, 128 (AVX2 masks from a byte).
var depthwiseBits Mem

func depthwiseData() {
	depthwiseBits = GLOBL("depthwiseBits", RODATA|NOPTR)
	for i := 0; i < 8; i++ {
		DATA(4*i, U32(1<<i))
	}
}
