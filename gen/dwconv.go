package gen

import (
	"fmt"

	"github.com/dave/jennifer/jen"
)

// Grouped (and depthwise) convolutions, which the GEMM path leaves out, work
// on whole planes: the padded input plane of a channel is one flat vector of
// Hp·Wp elements, and output (oh, ow) of filter f is element
// oh·SH·Wp + ow·SW of the flat vector
//
//	s[i] = b[f] + Σ_ci,kh,kw W[f,ci,kh,kw] · xpf[grp·(C/G)·Hp·Wp + (ci·Hp + kh·DH)·Wp + kw·DW + i]
//
// for i < N = (OH-1)·SH·Wp + (OW-1)·SW + 1: one runtime.ShiftSum call per
// filter (taps at the constant offsets) instead of one per output row, long
// vectors instead of rows of a few elements. The elements of s between the
// outputs (the padding columns, and with strides the skipped rows and
// columns) are computed and thrown away: a factor Wp/OW (stride 1) or about
// SH·SW more arithmetic, on vectors. The outputs are then copied out of s
// (rows of OW at stride 1, a gather otherwise); with neither padding columns
// nor strides s is the output plane itself. With a row stride, or rows of at
// least rowsMinOW outputs, forward sums only the output rows instead
// (flatPlane.rows, runtime.ShiftSumRows: the same sums at the same
// positions, bit for bit).
//
// The backward pass spreads dz[f] over a flat plane of the same layout (the
// scratch dzs: zero between the outputs, written only at the outputs), so
// that each weight's gradient is one dot product over N elements and the
// input gradient a flipped-tap ShiftSum (depthwise) or one axpy per weight:
//
//	dW[f,ci,kh,kw] += runtime.Dot(dzs[:N], xpf[off:])
//	dxpf[off:off+N] += W[f,ci,kh,kw] · dzs[:N]
//
// A batchnorm after the convolution (convBN) runs in its last pass in
// inference mode: runtime.CopyPlanesScaleShift(Relu) writes z and the
// batchnorm's output (the ReLU's, when a ReLU is its only reader) in one
// pass, as bnfuse.go does for the GEMM convolutions. With the flat sums
// cropped out of s (stride 1, neither rows nor direct: cropAll) the sums
// of all filters go into one scratch of F·N and that pass is the crop, one
// call for the layer (CopyPlanes in training mode); otherwise the filters
// write z as before and the pass reads z (rows of OH·OW):
//
//	runtime.CopyPlanesScaleShiftRelu32(z, y, OH*OW, OW, s, N, SH*Wp, F, OH, OW, scale, shift)    (cropAll)
//	runtime.CopyPlanesScaleShiftRelu32(nil, y, OH*OW, OH*OW, z, OH*OW, OH*OW, F, 1, OH*OW, scale, shift)
type flatPlane struct {
	convGeom
	// cropAll: a batchnorm follows (convBN), SW = 1 and the sums are the
	// flat plane, cropped into z: s holds every filter's sums (F·N).
	cropAll bool
}

// newFlatPlane is n's flatPlane, cropAll set from p.convBN.
func newFlatPlane(p *plan, n *node, g convGeom) flatPlane {
	fp := flatPlane{convGeom: g}
	if f := p.convBN[n]; f != nil && f.conv == n {
		fp.cropAll = !fp.rows() && !fp.direct() && g.sw == 1
	}
	return fp
}

// n is the length of the flat sums: (OH-1)·SH·Wp + (OW-1)·SW + 1.
func (g flatPlane) n() int { return (g.ho-1)*g.sh*g.wp + (g.wo-1)*g.sw + 1 }

// direct reports whether the flat sum is the output plane itself (no padding
// columns, no strides).
func (g flatPlane) direct() bool { return g.sh == 1 && g.sw == 1 && g.wp == g.wo }

// rows reports whether forward computes only the output rows, one
// ShiftSumRows per filter (rows of (OW-1)·SW + 1 sums, SH·Wp apart in the
// input), instead of the whole flat plane: with a row stride (the flat sums
// would be SH times as many) or rows of at least rowsMinOW outputs (written
// straight into the output plane, no copy).
func (g flatPlane) rows() bool { return g.ho > 1 && (g.sh > 1 || g.wo >= rowsMinOW) }

// rowsMinOW is the narrowest output row that flatPlane.rows computes on
// its own at stride 1 (narrower rows are cheaper as the flat plane).
const rowsMinOW = 16

// sSize is the size of the forward sums' scratch: with rows and SW > 1 the
// rows SW·OW apart (the outputs every SW-th element, one gather), without
// rows the flat sums unless direct; none otherwise.
func (g flatPlane) sSize() int {
	switch {
	case g.cropAll:
		return g.f * g.n()
	case g.rows() && g.sw > 1:
		return g.sw*g.ho*g.wo - g.sw + 1
	case g.rows() || g.direct():
		return 0
	}
	return g.n()
}

// planeSize is the size of one group's padded input planes: (C/G)·Hp·Wp.
func (g flatPlane) planeSize() int { return g.cg * g.hp * g.wp }

func flatNames(n *node) (s, dzs string) {
	return fmt.Sprintf("dws%d", n.Index), fmt.Sprintf("dwdz%d", n.Index)
}

// flatFields: the scratch sums of forward (unless they are the output) and
// the spread dz of the backward pass.
func flatFields(p *plan, n *node, g flatPlane) []field {
	s, dzs := flatNames(n)
	var fs []field
	if size := g.sSize(); size > 0 {
		doc := "one filter's sums over the padded plane (scratch)"
		if g.cropAll {
			doc = "every filter's sums over the padded plane (scratch)"
		}
		fs = append(fs, field{name: s, size: size, doc: doc, scratch: true})
	}
	if size := g.dzsSize(); size > 0 {
		fs = append(fs, field{name: dzs, size: size, doc: "one filter's dz spread over the padded plane, zero elsewhere (scratch)", train: true, scratch: true})
	}
	return fs
}

// flip reports whether the input gradient is a flipped-tap ShiftSum: every
// input channel feeds one filter (F = G), so its padded gradient plane is
// written once, dxp[j] = Σ_kh,kw W[f,ci,kh,kw]·dzs[j - (kh·DH·Wp + kw·DW)],
// instead of accumulated by an axpy per weight.
func (g flatPlane) flip() bool { return g.f == g.groups }

// margin is the zeros before dz in dzs when flip: the largest tap offset
// within a channel, (KH-1)·DH·Wp + (KW-1)·DW.
func (g flatPlane) margin() int {
	if !g.flip() {
		return 0
	}
	return (g.kh-1)*g.dh*g.wp + (g.kw-1)*g.dw
}

// dzsSize is the size of the spread dz: the margin and a whole padded plane
// (flip), the flat sums' N, or none when dz itself is flat.
func (g flatPlane) dzsSize() int {
	switch {
	case g.flip():
		return g.margin() + g.hp*g.wp
	case !g.direct():
		return g.n()
	}
	return 0
}

// taps are the flat offsets of a filter's weights, in weight order:
// (ci·Hp + kh·DH)·Wp + kw·DW
func (g flatPlane) taps() []jen.Code {
	var taps []jen.Code
	for c := 0; c < g.cg; c++ {
		for kh := 0; kh < g.kh; kh++ {
			for kw := 0; kw < g.kw; kw++ {
				taps = append(taps, jen.Lit((c*g.hp+kh*g.dh)*g.wp+kw*g.dw))
			}
		}
	}
	return taps
}

// groupStart is filter f's group's first element of the flat padded input:
// xpf[grp*(C/G)*Hp*Wp:] (xpf for one group).
func (g flatPlane) groupStart(v string) *jen.Statement {
	if !g.grouped() {
		return jen.Id(v)
	}
	return jen.Id(v).Index(jen.Id("grp").Op("*").Lit(g.planeSize()).Op(":"))
}

// flatForward (see flatPlane):
//
//	taps := [(C/G)*KH*KW]int32{…}
//	xpf := unsafe.Slice(&xp[0][0][0], C*Hp*Wp)
//	s := &m.dws4
//	for f := 0; f < Filters; f++ {
//		grp := f / GroupFilters
//		w := unsafe.Slice(&m.Params.Weight[f][0][0][0], (C/G)*KH*KW)
//		runtime.ShiftSum32(s[:], xpf[grp*(C/G)*Hp*Wp:], taps[:], w, N, m.Params.Bias[f])
//		runtime.CopyRows32(unsafe.Slice(&z[f][0][0], OH*OW), OW, unsafe.Slice(&s[0], …), SH*Wp, SW, OH, OW)
//	}
//
// With rows the filter's line is one of (SW = 1: straight into z; else rows
// SW·OW apart in s, and the outputs every SW-th element of s):
//
//	runtime.ShiftSumRows32(unsafe.Slice(&z[f][0][0], OH*OW), OW, xpf[grp*(C/G)*Hp*Wp:], SH*Wp, taps[:], w, OH, OW, b)
//	runtime.ShiftSumRows32(s[:], SW*OW, xpf[grp*(C/G)*Hp*Wp:], SH*Wp, taps[:], w, OH, (OW-1)*SW+1, b)
//	runtime.CopyRows32(unsafe.Slice(&z[f][0][0], OH*OW), OH*OW, unsafe.Slice(&s[0], …), 0, SW, 1, OH*OW)
func flatForward(p *plan, n *node, g flatPlane, trainOnly bool) []jen.Code {
	w, b, _, _, _ := convNames(n)
	sName, _ := flatNames(n)
	bias := jen.Lit(0)
	if n.Bias {
		bias = pf(b).Index(jen.Id("f"))
	}
	zPlane := jen.Qual("unsafe", "Slice").Call(jen.Op("&").Id("z").Index(jen.Id("f")).Index(jen.Lit(0)).Index(jen.Lit(0)), jen.Lit(g.ho*g.wo))
	perFilter := append(g.groupOf(n.GoName), jen.Id("w").Op(":=").Add(g.filterWeights(pf(w))))
	taps := jen.Id("taps").Index(jen.Empty(), jen.Empty())
	f := p.convBN[n]
	if f != nil && f.conv != n {
		f = nil
	}
	prep := convBNPrep(p, n)
	if trainOnly {
		prep = nil
	}
	switch {
	case g.cropAll:
		perFilter = append(perFilter, p.kernel("ShiftSum").Call(jen.Id("s").Index(jen.Id("f").Op("*").Lit(g.n()).Op(":")), g.groupStart("xpf"), taps, jen.Id("w"), jen.Lit(g.n()), bias))
	case g.rows() && g.sw == 1:
		perFilter = append(perFilter, p.kernel("ShiftSumRows").Call(zPlane, jen.Lit(g.wo), g.groupStart("xpf"), jen.Lit(g.sh*g.wp),
			taps, jen.Id("w"), jen.Lit(g.ho), jen.Lit(g.wo), bias))
	case g.rows():
		perFilter = append(perFilter,
			p.kernel("ShiftSumRows").Call(jen.Id("s").Index(jen.Empty(), jen.Empty()), jen.Lit(g.sw*g.wo), g.groupStart("xpf"), jen.Lit(g.sh*g.wp),
				taps, jen.Id("w"), jen.Lit(g.ho), jen.Lit(g.rowLen), bias),
			copyRows(p, jen.Id("z").Index(jen.Id("f")).Index(jen.Lit(0)).Index(jen.Lit(0)), g.ho*g.wo, jen.Id("s").Index(jen.Lit(0)), 0, g.sw, 1, g.ho*g.wo))
	case g.direct():
		perFilter = append(perFilter, p.kernel("ShiftSum").Call(zPlane, g.groupStart("xpf"), taps, jen.Id("w"), jen.Lit(g.n()), bias))
	default:
		perFilter = append(perFilter,
			p.kernel("ShiftSum").Call(jen.Id("s").Index(jen.Empty(), jen.Empty()), g.groupStart("xpf"), taps, jen.Id("w"), jen.Lit(g.n()), bias),
			jen.Id("zf").Op(":=").Op("&").Id("z").Index(jen.Id("f")))
		perFilter = append(perFilter, g.overOutputs(p, "zf", "s", 0, false)...)
	}
	code := append(prep,
		jen.Id("taps").Op(":=").Index(jen.Lit(g.cg*g.kh*g.kw)).Int32().Values(g.taps()...),
		flat3("xpf", "xp", g.c*g.hp*g.wp),
	)
	if g.sSize() > 0 {
		code = append(code, jen.Id("s").Op(":=").Op("&").Add(p.buf(sName)))
	}
	code = append(code, loopTo("f", n.GoName+"Filters", perFilter...))
	if f == nil {
		return code
	}
	// the batchnorm (and ReLU) in the last pass (see flatPlane)
	scale, shift, _ := bnAffineNames(f.bn)
	all := func(s *jen.Statement) *jen.Statement { return s.Index(jen.Empty(), jen.Empty()) }
	name := "CopyPlanesScaleShift"
	if f.relu != nil {
		name += "Relu"
	}
	plane, zAll := g.ho*g.wo, all(p.buf(n.out))
	if !g.cropAll {
		if trainOnly {
			return code
		}
		fused := p.kernel(name).Call(jen.Nil(), all(p.buf(f.dst())), jen.Lit(plane), jen.Lit(plane), zAll,
			jen.Lit(plane), jen.Lit(plane), jen.Lit(g.f), jen.Lit(1), jen.Lit(plane), all(mf(scale)), all(mf(shift)))
		if p.inference {
			return append(code, fused)
		}
		return append(code, jen.If(jen.Op("!").Id("m").Dot("training")).Block(fused))
	}
	sAll := jen.Id("s").Index(jen.Empty(), jen.Empty())
	sizes := []jen.Code{jen.Lit(g.n()), jen.Lit(g.sh * g.wp), jen.Lit(g.f), jen.Lit(g.ho), jen.Lit(g.wo)}
	fused := p.kernel(name).Call(append([]jen.Code{zAll, all(p.buf(f.dst())), jen.Lit(plane), jen.Lit(g.wo), sAll}, append(sizes, all(mf(scale)), all(mf(shift)))...)...)
	if p.inference {
		return append(code, fused)
	}
	train := p.kernel("CopyPlanes").Call(append([]jen.Code{zAll.Clone(), jen.Lit(plane), jen.Lit(g.wo), sAll.Clone()}, sizes...)...)
	if trainOnly {
		return append(code, train)
	}
	return append(code, jen.If(jen.Id("m").Dot("training")).Block(train).Else().Block(fused))
}

// overOutputs copies between the output plane o (a *[OH][OW]T) and the flat
// plane s at the outputs' positions: o = s (toFlat false) or s = o, with one
// CopyRows (a gather of every SW-th element when SW > 1), or rows narrower
// than copyRowsMinN with one CopyPlanes (which may write zeros between the
// rows of s, where s is zero):
//
//	runtime.CopyPlanes32(unsafe.Slice(&o[0][0], OH*OW), OH*OW, OW, unsafe.Slice(&s[base], …), 0, SH*Wp, 1, OH, OW)    (SW = 1, OW < copyRowsMinN or one row)
//	runtime.CopyPlanes32(unsafe.Slice(&s[base], …), (OH-1)*SH*Wp+OW, SH*Wp, unsafe.Slice(&o[0][0], OH*OW), OH*OW, OW, 1, OH, OW)
//	runtime.CopyRows32(unsafe.Slice(&o[0][0], OH*OW), OW, unsafe.Slice(&s[base], …), SH*Wp, SW, OH, OW)
//	runtime.CopyRows32(unsafe.Slice(&s[base], …), SH*Wp, unsafe.Slice(&o[0][0], OH*OW), OW, 1, OH, OW)    (SW = 1)
//	for oh := range o { r := s[oh*SH*Wp:]; for ow := range o[oh] { r[ow*SW] = o[oh][ow] } }
func (g flatPlane) overOutputs(p *plan, o, s string, base int, toFlat bool) []jen.Code {
	plane := jen.Id(o).Index(jen.Lit(0)).Index(jen.Lit(0))
	flat := jen.Id(s).Index(jen.Lit(base))
	start := jen.Id("oh").Op("*").Lit(g.sh * g.wp)
	if base > 0 {
		start = start.Op("+").Lit(base)
	}
	if g.sw == 1 && (g.wo < copyRowsMinN || g.ho == 1) {
		if toFlat {
			return []jen.Code{copyPlanes(p, flat, (g.ho-1)*g.sh*g.wp+g.wo, g.sh*g.wp, plane, g.ho*g.wo, g.wo, 1, g.ho, g.wo)}
		}
		return []jen.Code{copyPlanes(p, plane, g.ho*g.wo, g.wo, flat, 0, g.sh*g.wp, 1, g.ho, g.wo)}
	}
	if !toFlat {
		return []jen.Code{copyRows(p, plane, g.wo, flat, g.sh*g.wp, g.sw, g.ho, g.wo)}
	}
	if g.sw == 1 {
		return []jen.Code{copyRows(p, flat, g.sh*g.wp, plane, g.wo, 1, g.ho, g.wo)}
	}
	body := []jen.Code{
		jen.Id("r").Op(":=").Parens(jen.Op("*").Index(jen.Lit(g.rowLen)).Add(p.elem())).Call(jen.Id(s).Index(start.Op(":"))),
		jen.For(jen.Id("ow").Op(":=").Range().Id(o).Index(jen.Id("oh"))).Block(
			jen.Id("r").Index(jen.Id("ow").Op("*").Lit(g.sw)).Op("=").Id(o).Index(jen.Id("oh")).Index(jen.Id("ow"))),
	}
	return []jen.Code{jen.For(jen.Id("oh").Op(":=").Range().Id(o)).Block(body...)}
}

// flatBackward (see flatPlane); without withDX the dxp lines are left out.
// With flip (F = G, depthwise) dz goes into dzs after margin zeros and the
// input gradient is one ShiftSum per input channel with the flipped taps:
//
//	taps := [(C/G)*KH*KW]int32{…}
//	flip := [KH*KW]int32{…}            // margin - (kh*DH*Wp + kw*DW)
//	xpf := unsafe.Slice(&xp[0][0][0], C*Hp*Wp)
//	dxpf := unsafe.Slice(&dxp[0][0][0], C*Hp*Wp)
//	dzs := &m.dwdz4
//	for f := 0; f < Filters; f++ {
//		m.Grads.Bias[f] += Σ dz[f]
//		grp := f / GroupFilters
//		dzf := &dz[f]
//		runtime.CopyRows32(unsafe.Slice(&dzs[margin], …), SH*Wp, unsafe.Slice(&dzf[0][0], OH*OW), OW, 1, OH, OW)
//		w := unsafe.Slice(&m.Params.Weight[f][0][0][0], (C/G)*KH*KW)
//		gw := unsafe.Slice(&m.Grads.Weight[f][0][0][0], (C/G)*KH*KW)
//		xg := xpf[grp*(C/G)*Hp*Wp:]
//		for t, off := range taps { gw[t] += runtime.Dot32(dzs[margin:margin+N], xg[int(off):]) }
//		for ci := 0; ci < GroupC; ci++ {
//			runtime.ShiftSum32(dxpf[(f*GroupC+ci)*Hp*Wp:], dzs[:], flip[:], w[ci*KH*KW:], Hp*Wp, 0)
//		}
//	}
//
// Otherwise dxp is zeroed first and each weight adds its axpy:
// runtime.Axpy32(w[t], dzs[:N], dxpf[grp*(C/G)*Hp*Wp+off:]).
func flatBackward(p *plan, n *node, g flatPlane, withDX bool) []jen.Code {
	w, b, _, _, dxpField := convNames(n)
	_, dzsName := flatNames(n)
	plane := g.hp * g.wp
	code := append(dwMaskedPad(p, n, g.convGeom), convInputView(p, n, g.convGeom, false)...)
	code = append(code, view3(p, "dz", n.dout, g.f, g.ho, g.wo))
	if withDX {
		if g.padded {
			code = append(code, jen.Id("dxp").Op(":=").Op("&").Add(p.buf(dxpField)))
		} else {
			code = append(code, view3(p, "dxp", n.din, g.c, g.h, g.w))
		}
		if !g.flip() {
			code = append(code, jen.Op("*").Id("dxp").Op("=").Add(shaped3(p, g.c, g.hp, g.wp)).Values())
		}
	}
	code = append(code, jen.Id("taps").Op(":=").Index(jen.Lit(g.cg*g.kh*g.kw)).Int32().Values(g.taps()...))
	if withDX && g.flip() {
		var flip []jen.Code
		for kh := 0; kh < g.kh; kh++ {
			for kw := 0; kw < g.kw; kw++ {
				flip = append(flip, jen.Lit(g.margin()-kh*g.dh*g.wp-kw*g.dw))
			}
		}
		code = append(code, jen.Id("flip").Op(":=").Index(jen.Lit(len(flip))).Int32().Values(flip...))
	}
	code = append(code, flat3("xpf", "xp", g.c*plane))
	if withDX {
		code = append(code, flat3("dxpf", "dxp", g.c*plane))
	}
	// dzv is filter f's dz as a flat vector of N elements.
	var dzv *jen.Statement
	switch {
	case g.dzsSize() == 0:
		dzv = jen.Qual("unsafe", "Slice").Call(jen.Op("&").Id("dz").Index(jen.Id("f")).Index(jen.Lit(0)).Index(jen.Lit(0)), jen.Lit(g.ho*g.wo))
	case g.flip():
		dzv = jen.Id("dzs").Index(jen.Lit(g.margin()), jen.Lit(g.margin()+g.n()))
	default:
		dzv = jen.Id("dzs").Index(jen.Empty(), jen.Empty())
	}
	if g.dzsSize() > 0 {
		code = append(code, jen.Id("dzs").Op(":=").Op("&").Add(p.buf(dzsName)))
	}
	var perFilter []jen.Code
	if n.Bias {
		perFilter = append(perFilter,
			jen.Var().Id("sb").Add(p.elem()),
			jen.For(jen.Id("oh").Op(":=").Range().Id("dz").Index(jen.Id("f"))).Block(
				jen.For(jen.List(jen.Id("_"), jen.Id("v")).Op(":=").Range().Id("dz").Index(jen.Id("f")).Index(jen.Id("oh"))).Block(jen.Id("sb").Op("+=").Id("v")),
			),
			gf(b).Index(jen.Id("f")).Op("+=").Id("sb"),
		)
	}
	perFilter = append(perFilter, g.groupOf(n.GoName)...)
	if g.dzsSize() > 0 {
		perFilter = append(perFilter, jen.Id("dzf").Op(":=").Op("&").Id("dz").Index(jen.Id("f")))
		perFilter = append(perFilter, g.overOutputs(p, "dzf", "dzs", g.margin(), true)...)
	}
	if withDX {
		perFilter = append(perFilter, jen.Id("w").Op(":=").Add(g.filterWeights(pf(w))))
	}
	perFilter = append(perFilter,
		jen.Id("gw").Op(":=").Add(g.filterWeights(gf(w))),
		jen.Id("xg").Op(":=").Add(g.groupStart("xpf")))
	tap := []jen.Code{jen.Id("gw").Index(jen.Id("t")).Op("+=").Add(p.kernel("Dot")).Call(dzv, jen.Id("xg").Index(jen.Int().Call(jen.Id("off")).Op(":")))}
	if withDX && !g.flip() {
		perFilter = append(perFilter, jen.Id("dxg").Op(":=").Add(g.groupStart("dxpf")))
		tap = append(tap, p.kernel("Axpy").Call(jen.Id("w").Index(jen.Id("t")), dzv.Clone(), jen.Id("dxg").Index(jen.Int().Call(jen.Id("off")).Op(":"))))
	}
	perFilter = append(perFilter, jen.For(jen.List(jen.Id("t"), jen.Id("off")).Op(":=").Range().Id("taps")).Block(tap...))
	if withDX && g.flip() {
		kk := g.kh * g.kw
		call := func(ch, wts *jen.Statement) jen.Code {
			return p.kernel("ShiftSum").Call(jen.Id("dxpf").Index(ch.Op("*").Lit(plane).Op(":")), jen.Id("dzs").Index(jen.Empty(), jen.Empty()),
				jen.Id("flip").Index(jen.Empty(), jen.Empty()), wts, jen.Lit(plane), jen.Lit(0))
		}
		if g.cg == 1 {
			perFilter = append(perFilter, call(jen.Id("f"), jen.Id("w")))
		} else {
			perFilter = append(perFilter, loopTo("ci", n.GoName+"GroupC",
				call(jen.Parens(jen.Id("f").Op("*").Lit(g.cg).Op("+").Id("ci")), jen.Id("w").Index(jen.Id("ci").Op("*").Lit(kk).Op(":")))))
		}
	}
	code = append(code, loopTo("f", n.GoName+"Filters", perFilter...))
	if withDX && g.padded {
		// Crop the border: dx[c] = dxp[c][PT:PT+H][PL:PL+W], one CopyRows per
		// channel, or narrow rows one CopyPlanes for all channels
		code = append(code, view3(p, "dx", n.din, g.c, g.h, g.w))
		if (g.w < copyRowsMinN || g.h == 1) && g.wp != g.w {
			code = append(code, copyPlanes(p, jen.Id("dx").Index(jen.Lit(0)).Index(jen.Lit(0)).Index(jen.Lit(0)), g.h*g.w, g.w,
				jen.Id("dxp").Index(jen.Lit(0)).Index(jen.Lit(g.pt)).Index(jen.Lit(g.pl)), g.hp*g.wp, g.wp, g.c, g.h, g.w))
		} else {
			code = append(code, jen.For(jen.Id("c").Op(":=").Range().Id("dx")).Block(
				copyRows(p, jen.Id("dx").Index(jen.Id("c")).Index(jen.Lit(0)).Index(jen.Lit(0)), g.w,
					jen.Id("dxp").Index(jen.Id("c")).Index(jen.Lit(g.pt)).Index(jen.Lit(g.pl)), g.wp, 1, g.h, g.w)))
		}
	}
	return code
}
