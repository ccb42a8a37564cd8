package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// copyPlanesBN: copyPlanes with an inference-mode batchnorm (and ReLU) on
// the way, for p < planes, r < rows, i < n and v = src[p*sps+r*srs+i]:
//
//	z[p*dps+r*drs+i] = v                                  (mode&1)
//	y[p*dps+r*drs+i] = v·scale[p] + shift[p], ReLU'd if mode&4
//
// the product rounded before the shift is added and the ReLU keeping values
// > 0 or NaN (as ScaleShiftRows and ReluForward, and the GEMM epilogue of
// gemmbn.go). The depthwise convolutions (gen/dwconv.go) crop their flat
// sums into z and the batchnorm's (ReLU's) output y in one pass, or (rows
// 1) run the batchnorm over the output planes they wrote. Rows are stored as
// copyPlanes does (a whole last vector while it ends by the last row's end):
// the lanes past a row are zero in both z and y (y's masked off after the
// shift), so what lands between the rows is zero.
func (l *lvl) copyPlanesBN() {
	l.fn("copyPlanesBN", "func(z *float32, y *float32, dps int, drs int, src *float32, sps int, srs int, planes int, rows int, n int, scale *float32, shift *float32, mode int)",
		"copyPlanesBN"+l.name+" sets y[p*dps+r*drs+i] = v·scale[p] + shift[p] (ReLU'd if mode&4), and z[…] = v if mode&1, with v = src[p*sps+r*srs+i], for p < planes, r < rows and i < n",
		"(planes, rows, n ≥ 1; z is y's limit when mode&1 is clear), and may set elements between the rows of z and y, up to the last row's end, to zero.")
	const vv, vs, vt, vz, vm = 0, 1, 2, 3, 4
	pz, py, ps := Load(Param("z"), GP64()), Load(Param("y"), GP64()), Load(Param("src"), GP64())
	rows, n := Load(Param("rows"), GP64()), Load(Param("n"), GP64())
	nfull, limit, tmp := l.planeRows(pz, rows, n, func(r Register) { Load(Param("planes"), r) })
	// The row strides in bytes, and the plane steps after a plane's rows,
	// (dps - rows·drs)·4 and (sps - rows·srs)·4, into the argument slots of
	// dps and sps (the callee's).
	drs, srs := GP64(), GP64()
	for _, s := range []struct {
		ps, rs string
		r      Register
	}{{"dps", "drs", drs}, {"sps", "srs", srs}} {
		MOVQ(param(s.rs), s.r)
		MOVQ(rows, tmp)
		IMULQ(s.r, tmp)
		NEGQ(tmp)
		ADDQ(param(s.ps), tmp)
		SHLQ(U8(2), tmp)
		MOVQ(tmp, param(s.ps))
		SHLQ(U8(2), s.r)
	}
	VXORPS(l.v(vz), l.v(vz), l.v(vz))
	// vec computes and stores the vector at idx (masked: the row's last,
	// stored whole while it ends by limit); storeZ and relu are the mode.
	vec := func(idx Register, last, storeZ, relu bool, masked string) {
		if last {
			l.load(at(ps, idx, 0), l.v(vv), true)
		} else {
			VMOVUPS(at(ps, idx, 0), l.v(vv))
		}
		if storeZ && !last {
			VMOVUPS(l.v(vv), at(pz, idx, 0))
		}
		VMULPS(l.v(vs), l.v(vv), l.v(vv+5))
		VADDPS(l.v(vt), l.v(vv+5), l.v(vv+5))
		if last {
			// zero past the row (the shift made the lanes nonzero)
			if l.w == 16 {
				VMOVAPS_Z(l.v(vv+5), K1, l.v(vv+5))
			} else {
				VANDPS(l.v(maskReg), l.v(vv+5), l.v(vv+5))
			}
		}
		if relu {
			l.cmpPosOrNaN(vv+5, vz, vm)
			l.keep(vv+5, vm)
		}
		if !last {
			VMOVUPS(l.v(vv+5), at(py, idx, 0))
			return
		}
		LEAQ(Mem{Base: pz, Index: idx, Scale: 1, Disp: l.vb}, tmp)
		CMPQ(tmp, limit)
		JA(LabelRef(masked))
		if storeZ {
			VMOVUPS(l.v(vv), at(pz, idx, 0))
		}
		VMOVUPS(l.v(vv+5), at(py, idx, 0))
	}
	// body emits the planes' loop of one mode; wide rows first do their
	// full vectors.
	body := func(wide, storeZ, relu bool) {
		planeLoop, rowLoop, masked, nextRow := newLabel("plane"), newLabel("row"), newLabel("masked"), newLabel("nextRow")
		r, idx := GP64(), GP64()
		Label(planeLoop)
		MOVQ(param("scale"), tmp)
		VBROADCASTSS(Mem{Base: tmp}, l.v(vs))
		MOVQ(param("shift"), tmp)
		VBROADCASTSS(Mem{Base: tmp}, l.v(vt))
		ADDQ(U8(4), param("scale"))
		ADDQ(U8(4), param("shift"))
		Load(Param("rows"), r)
		Label(rowLoop)
		XORQ(idx, idx)
		if wide {
			full := newLabel("full")
			Label(full)
			vec(idx, false, storeZ, relu, "")
			ADDQ(U32(l.vb), idx)
			CMPQ(idx, nfull)
			JB(LabelRef(full))
		}
		vec(idx, true, storeZ, relu, masked)
		Label(nextRow)
		ADDQ(drs, pz)
		ADDQ(drs, py)
		ADDQ(srs, ps)
		DECQ(r)
		JNZ(LabelRef(rowLoop))
		MOVQ(param("dps"), tmp)
		ADDQ(tmp, pz)
		ADDQ(tmp, py)
		ADDQ(param("sps"), ps)
		DECQ(param("planes"))
		JNZ(LabelRef(planeLoop))
		VZEROUPPER()
		RET()
		Label(masked)
		if storeZ {
			l.store(l.v(vv), at(pz, idx, 0), true)
		}
		l.store(l.v(vv+5), at(py, idx, 0), true)
		JMP(LabelRef(nextRow))
	}
	// dispatch on the mode (bit 1: z, bit 4: ReLU) and wide rows
	var labels [8]string
	for i := range labels {
		labels[i] = newLabel("mode")
	}
	mode := GP64()
	Load(Param("mode"), mode)
	ANDQ(U8(5), mode) // bits 1 and 4
	wideBit := GP64()
	XORQ(wideBit, wideBit)
	TESTQ(nfull, nfull)
	SETNE(wideBit.As8())
	SHLQ(U8(1), wideBit) // bit 2
	ORQ(wideBit, mode)
	for i := 0; i < 7; i++ {
		CMPQ(mode, U8(i))
		JE(LabelRef(labels[i]))
	}
	JMP(LabelRef(labels[7]))
	for i := 0; i < 8; i++ {
		Label(labels[i])
		body(i&2 != 0, i&1 != 0, i&4 != 0)
	}
}
