package main

import (
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The gate kernels of the recurrent layers and the softmax: sigmoid, tanh and
// e^x over float32 rows with the algorithms of runtime.Sigmoid32,
// runtime.Tanh32 and runtime's exp32 (Cephes' expf polynomial, Eigen's
// rational tanh), in vector registers with FMA, and the fused cell updates of
// gru and lstm built on them. Constants are read from gateTbl, one 64-byte
// row per constant (the AVX2 kernels read the first 32 bytes of a row).

// Rows of gateTbl.
const (
	cSign       = 0
	cAbs        = 1
	cOne        = 2
	cZero       = 3
	cLog2E      = 4
	cLn2Hi      = 5
	cLn2Lo      = 6
	cExpP0      = 7 // 6 rows: the degree-5 polynomial of expf, highest first
	cI127       = 13
	cExpMin     = 14
	cTanhClamp  = 15
	cTanhNClamp = 16
	cTanhSmall  = 17
	cTanhP0     = 18 // 7 rows: the numerator, highest first
	cTanhQ0     = 25 // 4 rows: the denominator, highest first
	cRows       = 29
)

var gateTbl Mem

// gateConsts writes gateTbl, once.
func gateConsts() {
	if gateTbl.Symbol.Name != "" {
		return
	}
	f := func(v float64) uint32 { return math.Float32bits(float32(v)) }
	vals := make([]uint32, cRows)
	vals[cSign], vals[cAbs], vals[cOne], vals[cZero] = 0x80000000, 0x7fffffff, f(1), 0
	vals[cLog2E], vals[cLn2Hi], vals[cLn2Lo] = f(math.Log2E), f(0.693359375), f(2.12194440e-4)
	for i, c := range []float64{1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1} {
		vals[cExpP0+i] = f(c)
	}
	vals[cI127], vals[cExpMin] = 127, f(-87.33)
	vals[cTanhClamp], vals[cTanhNClamp], vals[cTanhSmall] = f(7.90531110763549805), f(-7.90531110763549805), f(0.0004)
	for i, c := range []float64{-2.76076847742355e-16, 2.00018790482477e-13, -8.60467152213735e-11, 5.12229709037114e-08,
		1.48572235717979e-05, 6.37261928875436e-04, 4.89352455891786e-03} {
		vals[cTanhP0+i] = f(c)
	}
	for i, c := range []float64{1.19825839466702e-06, 1.18534705686654e-04, 2.26843463243900e-03, 4.89352518554385e-03} {
		vals[cTanhQ0+i] = f(c)
	}
	gateTbl = GLOBL("gateTbl", RODATA|NOPTR)
	for r, v := range vals {
		for i := 0; i < 16; i++ {
			DATA(64*r+4*i, U32(v))
		}
	}
}

// gk emits the gate arithmetic of one kernel: cb holds gateTbl's address.
type gk struct {
	l  *lvl
	cb Register
}

// c is constant row i.
func (g gk) c(i int) Mem { return Mem{Base: g.cb, Disp: 64 * i} }

// vector register i.
func (g gk) v(i int) Register { return g.l.v(i) }

// cmp sets mask k (AVX-512: K2+k; AVX2: vector register m) to "a pred b".
func (g gk) cmp(pred uint8, b Op, a, k, m int) {
	if g.l.w == 16 {
		VCMPPS(U8(pred), b, g.v(a), []Register{K2, K3}[k])
	} else {
		VCMPPS(U8(pred), b, g.v(a), g.v(m))
	}
}

// sel sets dst to src in the lanes of mask k (from cmp), keeps it elsewhere.
func (g gk) sel(src, dst, k, m int) {
	if g.l.w == 16 {
		VMOVAPS(g.v(src), []Register{K2, K3}[k], g.v(dst))
	} else {
		VBLENDVPS(g.v(m), g.v(src), g.v(dst), g.v(dst))
	}
}

// keepOnly zeroes dst outside mask k.
func (g gk) keepOnly(dst, k, m int) {
	if g.l.w == 16 {
		VMOVAPS_Z(g.v(dst), []Register{K2, K3}[k], g.v(dst))
	} else {
		VANDPS(g.v(m), g.v(dst), g.v(dst))
	}
}

// and sets dst = src1 & src2 (VPANDD with AVX-512: VANDPS on zmm needs
// AVX512DQ); or likewise.
func (g gk) and(src2 Op, src1, dst int) {
	if g.l.w == 16 {
		VPANDD(src2, g.v(src1), g.v(dst))
	} else {
		VANDPS(src2, g.v(src1), g.v(dst))
	}
}

func (g gk) or(src2 Op, src1, dst int) {
	if g.l.w == 16 {
		VPORD(src2, g.v(src1), g.v(dst))
	} else {
		VORPS(src2, g.v(src1), g.v(dst))
	}
}

// Comparison predicates of VCMPPS.
const (
	pLT    = 0x01 // ordered a < b
	pUnord = 0x03
	pNLT   = 0x05 // not a < b (true for NaN)
	pNGE   = 0x19 // not a >= b (true for NaN), quiet
	pGT    = 0x1e // ordered a > b, quiet
)

// exp sets y = e^a for a in [−87.33, 0] (as exp32; a is kept); k, r, z are
// scratch.
func (g gk) exp(a, y, k, r, z int) {
	V := g.v
	VMULPS(g.c(cLog2E), V(a), V(k))
	VCVTPS2DQ(V(k), V(k)) // round to nearest
	VCVTDQ2PS(V(k), V(z))
	VMOVAPS(V(a), V(r))
	VFNMADD231PS(g.c(cLn2Hi), V(z), V(r)) // r = a − k·ln2hi (exact)
	VFMADD231PS(g.c(cLn2Lo), V(z), V(r))  // + k·ln2lo
	VMULPS(V(r), V(r), V(z))
	VMOVUPS(g.c(cExpP0), V(y))
	for i := 1; i < 6; i++ {
		VFMADD213PS(g.c(cExpP0+i), V(r), V(y))
	}
	VFMADD213PS(V(r), V(z), V(y)) // y·r² + r
	VADDPS(g.c(cOne), V(y), V(y))
	VPADDD(g.c(cI127), V(k), V(k))
	VPSLLD(U8(23), V(k), V(k)) // 2^k
	VMULPS(V(k), V(y), V(y))
}

// sigmoid sets out = σ(x) (x kept) with scratch registers t..t+5: e = e^−|x|
// (0 where −|x| < −87.33), then 1/(1+e) for x ≥ 0 and e/(1+e) below; NaN
// stays NaN.
func (g gk) sigmoid(x, out, t int) {
	V := g.v
	a, k, r, z, y, m := t, t+1, t+2, t+3, t+4, t+5
	g.or(g.c(cSign), x, a) // −|x|
	g.cmp(pNLT, g.c(cExpMin), a, 0, m)
	VMAXPS(g.c(cExpMin), V(a), V(a))
	g.exp(a, y, k, r, z)
	g.keepOnly(y, 0, m)
	VADDPS(g.c(cOne), V(y), V(a)) // 1 + e
	VMOVUPS(g.c(cOne), V(k))
	g.cmp(pLT, g.c(cZero), x, 0, m)
	g.sel(y, k, 0, m) // e where x < 0, else 1
	VDIVPS(V(a), V(k), V(out))
	g.cmp(pUnord, V(x), x, 0, m)
	g.sel(x, out, 0, m)
}

// tanh sets out = tanh(x) (x kept) with scratch registers t..t+4: the
// rational function of Tanh32 on x clamped to ±7.905, ±1 beyond, x itself
// where |x| < 0.0004 or x is NaN.
func (g gk) tanh(x, out, t int) {
	V := g.v
	xc, x2, p, q, m := t, t+1, t+2, t+3, t+4
	VMINPS(g.c(cTanhClamp), V(x), V(xc))
	VMAXPS(g.c(cTanhNClamp), V(xc), V(xc))
	VMULPS(V(xc), V(xc), V(x2))
	VMOVUPS(g.c(cTanhP0), V(p))
	for i := 1; i < 7; i++ {
		VFMADD213PS(g.c(cTanhP0+i), V(x2), V(p))
	}
	VMOVUPS(g.c(cTanhQ0), V(q))
	for i := 1; i < 4; i++ {
		VFMADD213PS(g.c(cTanhQ0+i), V(x2), V(q))
	}
	VMULPS(V(xc), V(p), V(p))
	VDIVPS(V(q), V(p), V(out))
	g.and(g.c(cAbs), x, x2) // |x|
	g.cmp(pGT, g.c(cTanhClamp), x2, 0, m)
	g.and(g.c(cSign), x, xc)
	g.or(g.c(cOne), xc, xc) // ±1
	g.sel(xc, out, 0, m)
	g.cmp(pNGE, g.c(cTanhSmall), x2, 1, m)
	g.sel(x, out, 1, m)
}

// rowKernel emits a loop over cnt elements in vectors, then a masked tail:
// body(masked) works on the current vector of every pointer in ptrs, which
// advance by one vector per iteration.
func (l *lvl) rowKernel(cnt GPVirtual, ptrs []GPVirtual, body func(masked bool)) {
	loop, tail, done := newLabel("gloop"), newLabel("gtail"), newLabel("gdone")
	Label(loop)
	CMPQ(cnt, U32(l.w))
	JB(LabelRef(tail))
	body(false)
	for _, p := range ptrs {
		ADDQ(U32(l.vb), p)
	}
	SUBQ(U32(l.w), cnt)
	JMP(LabelRef(loop))
	Label(tail)
	TESTQ(cnt, cnt)
	JZ(LabelRef(done))
	l.laneMask(cnt)
	body(true)
	Label(done)
	VZEROUPPER()
	RET()
}

// gateKernel starts kernel name with the given pointer parameters and n and
// returns the pointers, n, and the gate emitter.
func (l *lvl) gateKernel(name, doc string, ptrs ...string) ([]GPVirtual, GPVirtual, gk) {
	sig := "func("
	for _, p := range ptrs {
		sig += p + " *float32, "
	}
	l.fn(name, sig+"n int)", name+l.name+" "+doc)
	ps := make([]GPVirtual, len(ptrs))
	for i, p := range ptrs {
		ps[i] = GP64()
		Load(Param(p), ps[i])
	}
	n := GP64()
	Load(Param("n"), n)
	cb := GP64()
	LEAQ(gateTbl, cb)
	return ps, n, gk{l: l, cb: cb}
}

// gate returns gate k of the row at p (gates of n4 bytes each; n12 = 3·n4).
func gate(p, n4, n12 Register, k int) Mem {
	switch k {
	case 0:
		return Mem{Base: p}
	case 3:
		return Mem{Base: p, Index: n12, Scale: 1}
	}
	return Mem{Base: p, Index: n4, Scale: uint8(k)}
}

// gates emits the gate kernels of one level.
func (l *lvl) gates() {
	gateConsts()
	const t = 8 // scratch registers 8..13

	ps, n, g := l.gateKernel("sigmoidRow", "sets y[i] = σ(x[i]) for i < n (runtime.Sigmoid32 in vector form).", "x", "y")
	l.rowKernel(n, ps, func(m bool) {
		l.load(Mem{Base: ps[0]}, l.v(0), m)
		g.sigmoid(0, 1, t)
		l.store(l.v(1), Mem{Base: ps[1]}, m)
	})

	ps, n, g = l.gateKernel("tanhRow", "sets y[i] = tanh(x[i]) for i < n (runtime.Tanh32 in vector form).", "x", "y")
	l.rowKernel(n, ps, func(m bool) {
		l.load(Mem{Base: ps[0]}, l.v(0), m)
		g.tanh(0, 1, t)
		l.store(l.v(1), Mem{Base: ps[1]}, m)
	})

	ps, n, g = l.gateKernel("tanhSum", "sets y[i] = tanh(a[i] + b[i]) for i < n.", "a", "b", "y")
	l.rowKernel(n, ps, func(m bool) {
		l.load(Mem{Base: ps[0]}, l.v(0), m)
		l.load(Mem{Base: ps[1]}, l.v(1), m)
		VADDPS(l.v(1), l.v(0), l.v(0))
		g.tanh(0, 1, t)
		l.store(l.v(1), Mem{Base: ps[2]}, m)
	})

	// expShift: y = e^(x − s), 0 where x − s < −87.33; the caller makes
	// sure s is finite and no x exceeds it.
	l.fn("expShift", "func(x *float32, y *float32, n int, s float32)",
		"expShift"+l.name+" sets y[i] = e^(x[i] − s) for i < n (x[i] ≤ s; 0 below e^−87.33).")
	px, py, cnt := GP64(), GP64(), GP64()
	Load(Param("x"), px)
	Load(Param("y"), py)
	Load(Param("n"), cnt)
	cb := GP64()
	LEAQ(gateTbl, cb)
	g = gk{l: l, cb: cb}
	VBROADCASTSS(param("s"), l.v(7))
	l.rowKernel(cnt, []GPVirtual{px, py}, func(m bool) {
		l.load(Mem{Base: px}, l.v(0), m)
		VSUBPS(l.v(7), l.v(0), l.v(0))
		g.cmp(pNLT, g.c(cExpMin), 0, 0, t+5)
		VMAXPS(g.c(cExpMin), l.v(0), l.v(0))
		g.exp(0, 1, t, t+1, t+2)
		g.keepOnly(1, 0, t+5)
		l.store(l.v(1), Mem{Base: py}, m)
	})

	l.gruForward()
	l.gruBackward()
	l.lstmForward()
	l.lstmBackward()
	l.rnnBackward()
}

// gruForward: one row of a gru step from gi (W_ih x + b_ih, overwritten with
// r, z, n) and gh (W_hh h + b_hh).
func (l *lvl) gruForward() {
	ps, n, g := l.gateKernel("gruCell", "does, for j < n, with gates of n floats: r = σ(gi[j] + gh[j]), "+
		"z = σ(gi[n+j] + gh[n+j]), c = tanh(gi[2n+j] + r·gh[2n+j]); gi[j], gi[n+j], gi[2n+j] = r, z, c; "+
		"ghn[j] = gh[2n+j]; hn[j] = (1−z)·c + z·h[j].", "gi", "gh", "h", "ghn", "hn")
	gi, gh, h, ghn, hn := ps[0], ps[1], ps[2], ps[3], ps[4]
	n4 := GP64()
	MOVQ(n, n4)
	SHLQ(U8(2), n4)
	const t = 8
	V := l.v
	l.rowKernel(n, ps, func(m bool) {
		l.load(gate(gi, n4, nil, 0), V(0), m)
		l.load(gate(gh, n4, nil, 0), V(1), m)
		VADDPS(V(1), V(0), V(0))
		g.sigmoid(0, 1, t) // r
		l.store(V(1), gate(gi, n4, nil, 0), m)
		l.load(gate(gi, n4, nil, 1), V(2), m)
		l.load(gate(gh, n4, nil, 1), V(3), m)
		VADDPS(V(3), V(2), V(2))
		g.sigmoid(2, 3, t) // z
		l.store(V(3), gate(gi, n4, nil, 1), m)
		l.load(gate(gh, n4, nil, 2), V(4), m)
		l.store(V(4), Mem{Base: ghn}, m)
		l.load(gate(gi, n4, nil, 2), V(5), m)
		VFMADD231PS(V(4), V(1), V(5))
		g.tanh(5, 6, t) // c
		l.store(V(6), gate(gi, n4, nil, 2), m)
		VMOVUPS(g.c(cOne), V(7))
		VSUBPS(V(3), V(7), V(7))
		VMULPS(V(6), V(7), V(7))
		l.load(Mem{Base: h}, V(0), m)
		VFMADD231PS(V(0), V(3), V(7))
		l.store(V(7), Mem{Base: hn}, m)
	})
}

// optDY emits the loop of a backward kernel twice: with the optional
// pointer dy (dL/dh of the step from the layer's output) when it is not nil,
// then without. body(masked, hasDY) works on the current vectors.
func (l *lvl) optDY(dy, n GPVirtual, ptrs []GPVirtual, body func(masked, hasDY bool)) {
	noDY := newLabel("nody")
	TESTQ(dy, dy)
	JZ(LabelRef(noDY))
	l.rowKernel(n, append(append([]GPVirtual(nil), ptrs...), dy), func(m bool) { body(m, true) })
	Label(noDY)
	l.rowKernel(n, ptrs, func(m bool) { body(m, false) })
}

// loadDH loads dhw (+ dy) into vector register d (t scratch).
func (l *lvl) loadDH(dhw, dy Register, d, t int, m, hasDY bool) {
	l.load(Mem{Base: dhw}, l.v(d), m)
	if hasDY {
		l.load(Mem{Base: dy}, l.v(t), m)
		VADDPS(l.v(t), l.v(d), l.v(d))
	}
}

// one loads 1.0 into every lane of vector register 14.
func (l *lvl) one() {
	cb := GP64()
	LEAQ(gateTbl, cb)
	VMOVUPS(Mem{Base: cb, Disp: 64 * cOne}, l.v(14))
}

// gruBackward: the element-wise part of a gru step's backward pass.
func (l *lvl) gruBackward() {
	l.fn("gruCellBackward", "func(gs *float32, h *float32, ghn *float32, dh *float32, dhw *float32, dy *float32, dg *float32, dgh *float32, n int)",
		"gruCellBackward"+l.name+" does, for j < n, with gates of n floats and r, z, c = gs[j], gs[n+j], gs[2n+j], "+
			"d = dh[j] + (dhw[j] + dy[j]) (dy may be nil): dc = d·(1−z)·(1−c²), dz = d·(h[j]−c)·z·(1−z), dr = dc·ghn[j]·r·(1−r); "+
			"dg[j], dg[n+j], dg[2n+j] = dr, dz, dc; dgh[j], dgh[n+j], dgh[2n+j] = dr, dz, dc·r; dh[j] = d·z.")
	names := []string{"gs", "h", "ghn", "dh", "dhw", "dg", "dgh"}
	ps := make([]GPVirtual, len(names))
	for i, nm := range names {
		ps[i] = GP64()
		Load(Param(nm), ps[i])
	}
	pg, h, ghn, dh, dhw, dg, dgh := ps[0], ps[1], ps[2], ps[3], ps[4], ps[5], ps[6]
	dy, n, n4 := GP64(), GP64(), GP64()
	Load(Param("dy"), dy)
	Load(Param("n"), n)
	MOVQ(n, n4)
	SHLQ(U8(2), n4)
	l.one()
	V := l.v
	l.optDY(dy, n, ps, func(m, hasDY bool) {
		l.load(gate(pg, n4, nil, 0), V(0), m) // r
		l.load(gate(pg, n4, nil, 1), V(1), m) // z
		l.load(gate(pg, n4, nil, 2), V(2), m) // c
		l.load(Mem{Base: dh}, V(3), m)
		l.loadDH(dhw, dy, 6, 13, m, hasDY)
		VADDPS(V(6), V(3), V(3)) // d
		l.load(Mem{Base: h}, V(4), m)
		l.load(Mem{Base: ghn}, V(5), m)
		VSUBPS(V(1), V(14), V(7)) // 1 − z
		VMULPS(V(2), V(2), V(8))
		VSUBPS(V(8), V(14), V(8)) // 1 − c²
		VMULPS(V(7), V(3), V(9))
		VMULPS(V(8), V(9), V(9)) // dc
		VSUBPS(V(2), V(4), V(10))
		VMULPS(V(10), V(3), V(10))
		VMULPS(V(1), V(10), V(10))
		VMULPS(V(7), V(10), V(10)) // dz
		VMULPS(V(5), V(9), V(11))
		VMULPS(V(0), V(11), V(11))
		VSUBPS(V(0), V(14), V(12))
		VMULPS(V(12), V(11), V(11)) // dr
		l.store(V(11), gate(dg, n4, nil, 0), m)
		l.store(V(10), gate(dg, n4, nil, 1), m)
		l.store(V(9), gate(dg, n4, nil, 2), m)
		l.store(V(11), gate(dgh, n4, nil, 0), m)
		l.store(V(10), gate(dgh, n4, nil, 1), m)
		VMULPS(V(0), V(9), V(13))
		l.store(V(13), gate(dgh, n4, nil, 2), m)
		VMULPS(V(1), V(3), V(3))
		l.store(V(3), Mem{Base: dh}, m)
	})
}

// lstmBackward: the element-wise part of an lstm step's backward pass.
func (l *lvl) lstmBackward() {
	l.fn("lstmCellBackward", "func(gs *float32, c *float32, tc *float32, dhw *float32, dy *float32, dc *float32, dg *float32, n int)",
		"lstmCellBackward"+l.name+" does, for j < n, with gates of n floats and i, f, g, o = gs[j], gs[n+j], gs[2n+j], gs[3n+j], "+
			"d = dhw[j] + dy[j] (dy may be nil), e = dc[j] + d·o·(1−tc[j]²): dg[j], dg[n+j], dg[2n+j], dg[3n+j] = "+
			"e·g·i·(1−i), e·c[j]·f·(1−f), e·i·(1−g²), d·tc[j]·o·(1−o); dc[j] = e·f.")
	names := []string{"gs", "c", "tc", "dhw", "dc", "dg"}
	ps := make([]GPVirtual, len(names))
	for i, nm := range names {
		ps[i] = GP64()
		Load(Param(nm), ps[i])
	}
	pg, c, tc, dhw, dc, dg := ps[0], ps[1], ps[2], ps[3], ps[4], ps[5]
	dy, n, n4, n12 := GP64(), GP64(), GP64(), GP64()
	Load(Param("dy"), dy)
	Load(Param("n"), n)
	MOVQ(n, n4)
	SHLQ(U8(2), n4)
	LEAQ(Mem{Base: n4, Index: n4, Scale: 2}, n12)
	l.one()
	V := l.v
	l.optDY(dy, n, ps, func(m, hasDY bool) {
		for k := 0; k < 4; k++ {
			l.load(gate(pg, n4, n12, k), V(k), m)
		}
		l.load(Mem{Base: tc}, V(4), m)
		l.loadDH(dhw, dy, 5, 13, m, hasDY)
		l.load(Mem{Base: dc}, V(6), m)
		l.load(Mem{Base: c}, V(7), m)
		VMULPS(V(4), V(4), V(8))
		VSUBPS(V(8), V(14), V(8)) // 1 − tc²
		VMULPS(V(3), V(5), V(9))
		VMULPS(V(8), V(9), V(9))
		VADDPS(V(9), V(6), V(9)) // e
		VMULPS(V(2), V(9), V(10))
		VMULPS(V(0), V(10), V(10))
		VSUBPS(V(0), V(14), V(11))
		VMULPS(V(11), V(10), V(10))
		l.store(V(10), gate(dg, n4, n12, 0), m)
		VMULPS(V(7), V(9), V(10))
		VMULPS(V(1), V(10), V(10))
		VSUBPS(V(1), V(14), V(11))
		VMULPS(V(11), V(10), V(10))
		l.store(V(10), gate(dg, n4, n12, 1), m)
		VMULPS(V(0), V(9), V(10))
		VMULPS(V(2), V(2), V(11))
		VSUBPS(V(11), V(14), V(11))
		VMULPS(V(11), V(10), V(10))
		l.store(V(10), gate(dg, n4, n12, 2), m)
		VMULPS(V(4), V(5), V(10))
		VMULPS(V(3), V(10), V(10))
		VSUBPS(V(3), V(14), V(11))
		VMULPS(V(11), V(10), V(10))
		l.store(V(10), gate(dg, n4, n12, 3), m)
		VMULPS(V(1), V(9), V(9))
		l.store(V(9), Mem{Base: dc}, m)
	})
}

// rnnBackward: the element-wise part of a tanh rnn step's backward pass.
func (l *lvl) rnnBackward() {
	l.fn("tanhCellBackward", "func(hn *float32, dhw *float32, dy *float32, dg *float32, n int)",
		"tanhCellBackward"+l.name+" sets dg[j] = d·(1−hn[j]²) with d = dhw[j] + dy[j] (dy may be nil) for j < n.")
	names := []string{"hn", "dhw", "dg"}
	ps := make([]GPVirtual, len(names))
	for i, nm := range names {
		ps[i] = GP64()
		Load(Param(nm), ps[i])
	}
	hn, dhw, dg := ps[0], ps[1], ps[2]
	dy, n := GP64(), GP64()
	Load(Param("dy"), dy)
	Load(Param("n"), n)
	l.one()
	V := l.v
	l.optDY(dy, n, ps, func(m, hasDY bool) {
		l.loadDH(dhw, dy, 0, 13, m, hasDY)
		l.load(Mem{Base: hn}, V(1), m)
		VMULPS(V(1), V(1), V(1))
		VSUBPS(V(1), V(14), V(1))
		VMULPS(V(1), V(0), V(0))
		l.store(V(0), Mem{Base: dg}, m)
	})
}

// lstmForward: one row of an lstm step from gi (W_ih x + b_ih, overwritten
// with the activations i, f, g, o) and gh (W_hh h + b_hh).
func (l *lvl) lstmForward() {
	ps, n, g := l.gateKernel("lstmCell", "does, for j < n, with gates of n floats: i, f, g, o = σ(gi[j] + gh[j]), "+
		"σ(gi[n+j] + gh[n+j]), tanh(gi[2n+j] + gh[2n+j]), σ(gi[3n+j] + gh[3n+j]) stored back into gi; "+
		"cn[j] = f·c[j] + i·g; tc[j] = tanh(cn[j]); hn[j] = o·tc[j].", "gi", "gh", "c", "cn", "tc", "hn")
	gi, gh, c, cn, tc, hn := ps[0], ps[1], ps[2], ps[3], ps[4], ps[5]
	n4, n12 := GP64(), GP64()
	MOVQ(n, n4)
	SHLQ(U8(2), n4)
	LEAQ(Mem{Base: n4, Index: n4, Scale: 2}, n12)
	const t = 8
	V := l.v
	l.rowKernel(n, ps, func(m bool) {
		for k, out := range []int{1, 2, 3, 4} {
			l.load(gate(gi, n4, n12, k), V(0), m)
			l.load(gate(gh, n4, n12, k), V(5), m)
			VADDPS(V(5), V(0), V(0))
			if k == 2 {
				g.tanh(0, out, t)
			} else {
				g.sigmoid(0, out, t)
			}
			l.store(V(out), gate(gi, n4, n12, k), m)
		}
		l.load(Mem{Base: c}, V(5), m)
		VMULPS(V(2), V(5), V(5))
		VFMADD231PS(V(3), V(1), V(5))
		l.store(V(5), Mem{Base: cn}, m)
		g.tanh(5, 6, t)
		l.store(V(6), Mem{Base: tc}, m)
		VMULPS(V(6), V(4), V(7))
		l.store(V(7), Mem{Base: hn}, m)
	})
}
