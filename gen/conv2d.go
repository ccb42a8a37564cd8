package gen

import (
	"fmt"

	"github.com/bpgen/bpgen/spec"
	"github.com/dave/jennifer/jen"
)

func init() {
	register(conv2dEmitter{}, spec.KindConv2D, spec.KindConv1D)
}

// conv2d: cross-correlation as PyTorch's nn.Conv2d computes it, weight W
// [F, C/G, KH, KW] (G groups), bias b [F], input zero-padded to xp [C, Hp, Wp].
// Output channel f reads the input channels of its group grp = f / (F/G),
// c = grp·(C/G) + ci for ci < C/G:
//
//	forward:  z[f,oh,ow] = b[f] + Σ_ci,kh,kw W[f,ci,kh,kw] · xp[c, oh·SH + kh·DH, ow·SW + kw·DW]
//	          a = act(z)
//	backward: dz = da ⊙ act'(z)                       (in place)
//	          db[f]          += Σ_oh,ow dz[f,oh,ow]
//	          dW[f,ci,kh,kw] += Σ_oh,ow dz[f,oh,ow] · xp[c, oh·SH + kh·DH, ow·SW + kw·DW]
//	          dxp[c, oh·SH + kh·DH, ow·SW + kw·DW] += W[f,ci,kh,kw] · dz[f,oh,ow]
//	          dx = dxp without its border
//
// conv1d (nn.Conv1d, weight [F, C/G, K]) is the same computation on the
// signal [C, L] viewed as the image [C, 1, L] with the kernel (1, K): one
// row, so there is no loop over kh, and the loop over oh is the constant oh = 0.
// Depthwise convolutions (G = C) read one input channel per filter.
//
// The loops are weight-stationary: for each weight, a row of the output is
// updated from a row of the padded input, so the innermost loop runs over
// contiguous memory; it is written out in full when an output row has at most
// 32 elements. Buffers are flat arrays viewed as [C][H][W] through
// unsafe.Pointer (same memory, no copy).
type conv2dEmitter struct{}

func (conv2dEmitter) aliases(*spec.Node) bool { return false }

// convGeom holds the sizes of a conv2d, conv1d or pooling node (a signal
// [C, L] as the image [C, 1, L]).
type convGeom struct {
	c, h, w      int // input
	f, ho, wo    int // output channels and size
	kh, kw       int
	sh, sw       int
	dh, dw       int
	pt, pb       int
	pl, pr       int
	hp, wp       int // padded input
	padded       bool
	rowLen       int // elements of a padded input row one output row reads: (wo-1)·sw + 1
	unrollRowMax int
	oneD         bool   // a signal [C, L]: h = ho = kh = 1
	groups       int    // G: the channels and filters split into G groups
	cg           int    // input channels per group: C/G
	k            string // the node's constant prefix (its GoName)
}

func geom(n *node) convGeom {
	var g convGeom
	if len(n.In) == 2 {
		// [C, L] as [C, 1, L]; the spec keeps L's window in index 0 and
		// its padding in Pad[0] (left), Pad[1] (right).
		g = convGeom{
			c: n.In[0], h: 1, w: n.In[1],
			f: n.Out[0], ho: 1, wo: n.Out[1],
			kh: 1, kw: n.Kernel[0], sh: 1, sw: n.Stride[0],
			dh: 1, dw: max(n.Dilation[0], 1),
			pl: n.Pad[0], pr: n.Pad[1],
			oneD: true,
		}
	} else {
		g = convGeom{
			c: n.In[0], h: n.In[1], w: n.In[2],
			f: n.Out[0], ho: n.Out[1], wo: n.Out[2],
			kh: n.Kernel[0], kw: n.Kernel[1], sh: n.Stride[0], sw: n.Stride[1],
			dh: max(n.Dilation[0], 1), dw: max(n.Dilation[1], 1),
			pt: n.Pad[0], pb: n.Pad[1], pl: n.Pad[2], pr: n.Pad[3],
		}
	}
	g.unrollRowMax = 32
	g.k = n.GoName
	g.groups = max(n.Groups, 1)
	g.cg = g.c / g.groups
	g.hp, g.wp = g.h+g.pt+g.pb, g.w+g.pl+g.pr
	g.padded = g.pt+g.pb+g.pl+g.pr > 0
	g.rowLen = (g.wo-1)*g.sw + 1
	return g
}

// kwName is the suffix of the kernel width constant: KW, or K for conv1d.
func (g convGeom) kwName() string {
	if g.oneD {
		return "K"
	}
	return "KW"
}

// grouped reports whether the convolution has more than one group.
func (g convGeom) grouped() bool { return g.groups > 1 }

// wc is the weight's channel index: c, or ci (the channel within the group)
// for a grouped convolution.
func (g convGeom) wc() string {
	if g.grouped() {
		return "ci"
	}
	return "c"
}

// weightAt indexes a weight (or its gradient) at filter f, the loop's
// channel and kernel offset: w[f][c][kh][kw], w[f][ci][kh][kw] (grouped) or
// w[f][c][kw] (conv1d).
func (g convGeom) weightAt(w *jen.Statement) *jen.Statement {
	s := w.Index(jen.Id("f")).Index(jen.Id(g.wc()))
	if !g.oneD {
		s = s.Index(jen.Id("kh"))
	}
	return s.Index(jen.Id("kw"))
}

// filterWeights is a flat view of filter f's weights:
// unsafe.Slice(&w[f][0][0][0], C/G*KH*KW) (conv1d: &w[f][0][0])
func (g convGeom) filterWeights(w *jen.Statement) *jen.Statement {
	s := w.Index(jen.Id("f")).Index(jen.Lit(0))
	if !g.oneD {
		s = s.Index(jen.Lit(0))
	}
	return jen.Qual("unsafe", "Slice").Call(jen.Op("&").Add(s.Index(jen.Lit(0))), jen.Lit(g.cg*g.kh*g.kw))
}

// rowLoop is the loop over the output rows, or for a signal (one row) the
// constant that stands for it:
//
//	for oh := 0; oh < Layers0OutH; oh++ { body }     or     const oh = 0; body
func (g convGeom) rowLoop(k string, body ...jen.Code) []jen.Code {
	if g.oneD {
		return append([]jen.Code{jen.Const().Id("oh").Op("=").Lit(0).Comment("a signal is one row")}, body...)
	}
	return []jen.Code{loopTo("oh", k+"OutH", body...)}
}

// groupOf declares the group of filter f for a grouped convolution:
//
//	grp := f / Layers0GroupFilters
func (g convGeom) groupOf(k string) []jen.Code {
	if !g.grouped() {
		return nil
	}
	return []jen.Code{jen.Id("grp").Op(":=").Id("f").Op("/").Id(k + "GroupFilters")}
}

func convNames(n *node) (weight, bias, z, xp, dxp string) {
	return n.GoName + "Weight", n.GoName + "Bias", fmt.Sprintf("z%d", n.Index), fmt.Sprintf("xp%d", n.Index), fmt.Sprintf("dxp%d", n.Index)
}

// consts: Conv0InC = 1, Conv0InH = 28, ..., Conv0OutH = 28; conv1d:
// Conv0InC, Conv0InL, Conv0Filters, Conv0K, Conv0OutL; grouped:
// Conv0Groups, Conv0GroupC = C/G, Conv0GroupFilters = F/G.
func (conv2dEmitter) consts(p *plan, n *node) []jen.Code {
	g := geom(n)
	k := n.GoName
	var cs []jen.Code
	if g.oneD {
		cs = []jen.Code{
			jen.Id(k + "InC").Op("=").Lit(g.c),
			jen.Id(k + "InL").Op("=").Lit(g.w),
			jen.Id(k + "Filters").Op("=").Lit(g.f),
			jen.Id(k + "K").Op("=").Lit(g.kw),
			jen.Id(k + "OutL").Op("=").Lit(g.wo),
		}
	} else {
		cs = []jen.Code{
			jen.Id(k + "InC").Op("=").Lit(g.c),
			jen.Id(k + "InH").Op("=").Lit(g.h),
			jen.Id(k + "InW").Op("=").Lit(g.w),
			jen.Id(k + "Filters").Op("=").Lit(g.f),
			jen.Id(k + "KH").Op("=").Lit(g.kh),
			jen.Id(k + "KW").Op("=").Lit(g.kw),
			jen.Id(k + "OutH").Op("=").Lit(g.ho),
			jen.Id(k + "OutW").Op("=").Lit(g.wo),
		}
	}
	if g.grouped() {
		cs = append(cs,
			jen.Id(k+"Groups").Op("=").Lit(g.groups),
			jen.Id(k+"GroupC").Op("=").Id(k+"InC").Op("/").Id(k+"Groups"),
			jen.Id(k+"GroupFilters").Op("=").Id(k+"Filters").Op("/").Id(k+"Groups"),
		)
	}
	if convGEMM(g) {
		cs = append(cs, gemmConsts(n, g)...)
	}
	return cs
}

// params: the weight [F, C/G, KH, KW] (conv1d [F, C/G, K]) and the bias [F];
// PyTorch's fan-in is (C/G)·KH·KW, its fan-out F·KH·KW.
func (conv2dEmitter) params(p *plan, n *node) []tensor {
	g := geom(n)
	k := n.GoName
	w, b, _, _, _ := convNames(n)
	fanIn, fanOut := g.cg*g.kh*g.kw, g.f*g.kh*g.kw
	inC := jen.Id(k + "InC")
	if g.grouped() {
		inC = jen.Id(k + "GroupC")
	}
	shape := []int{g.f, g.cg, g.kh, g.kw}
	dims := []jen.Code{jen.Id(k + "Filters"), inC, jen.Id(k + "KH"), jen.Id(k + "KW")}
	if g.oneD {
		shape = []int{g.f, g.cg, g.kw}
		dims = []jen.Code{jen.Id(k + "Filters"), inC, jen.Id(k + "K")}
	}
	ts := []tensor{{
		field: w, name: n.Name + ".weight", shape: shape, dims: dims,
		fanIn: fanIn, fanOut: fanOut,
	}}
	if n.Bias {
		ts = append(ts, tensor{field: b, name: n.Name + ".bias", shape: []int{g.f}, dims: []jen.Code{jen.Id(k + "Filters")}, fanIn: fanIn, fanOut: fanOut, bias: true})
	}
	return ts
}
func (conv2dEmitter) fields(p *plan, n *node) []field {
	g := geom(n)
	_, _, z, xp, dxp := convNames(n)
	var fs []field
	if hasAct(n) {
		fs = append(fs, field{name: z, size: n.outSize, doc: "pre-activation z = W ⋆ x + b"})
	}
	if g.padded && !convGEMM(g) { // im2col reads the unpadded input (convgemm.go)
		fs = append(fs, field{name: xp, size: g.c * g.hp * g.wp, typ: shaped3(p, g.c, g.hp, g.wp), doc: "zero-padded input"})
	}
	if g.padded {
		fs = append(fs, field{name: dxp, size: g.c * g.hp * g.wp, typ: shaped3(p, g.c, g.hp, g.wp), doc: "dL/d(padded input)", train: true, scratch: true})
	}
	if convGEMM(g) {
		fs = append(fs, gemmFields(p, n, g)...)
	}
	return fs
}

// shaped3 is the type [a][b][c]T.
func shaped3(p *plan, a, b, c int) *jen.Statement {
	return jen.Index(jen.Lit(a)).Index(jen.Lit(b)).Index(jen.Lit(c)).Add(p.elem())
}

// view3 declares a shaped view of a flat buffer:
//
//	name := (*[a][b][c]T)(unsafe.Pointer(&m.buf))
func view3(p *plan, name, buf string, a, b, c int) jen.Code {
	return jen.Id(name).Op(":=").Parens(jen.Op("*").Add(shaped3(p, a, b, c))).Call(jen.Qual("unsafe", "Pointer").Call(jen.Op("&").Add(p.buf(buf))))
}

// inputView declares xp, the (padded) input as [C][Hp][Wp]; with padding it
// first copies the input into the interior of m.xpN (the border stays zero):
//
//	x := (*[C][H][W]T)(unsafe.Pointer(&m.in))
//	xp := &m.xp0
//	for c := range x { for h := range x[c] { *(*[W]T)(xp[c][h+PT][PL:]) = x[c][h] } }
func convInputView(p *plan, n *node, g convGeom, copyIn bool) []jen.Code {
	_, _, _, xp, _ := convNames(n)
	if !g.padded {
		return []jen.Code{view3(p, "xp", n.in, g.c, g.h, g.w)}
	}
	code := []jen.Code{jen.Id("xp").Op(":=").Op("&").Add(p.buf(xp))}
	if copyIn {
		code = append([]jen.Code{view3(p, "x", n.in, g.c, g.h, g.w)}, code...)
		code = append(code, jen.For(jen.Id("c").Op(":=").Range().Id("x")).Block(
			jen.For(jen.Id("h").Op(":=").Range().Id("x").Index(jen.Id("c"))).Block(
				jen.Op("*").Parens(jen.Op("*").Index(jen.Lit(g.w)).Add(p.elem())).Call(
					jen.Id("xp").Index(jen.Id("c")).Index(padRow(g)).Index(jen.Lit(g.pl).Op(":")),
				).Op("=").Id("x").Index(jen.Id("c")).Index(jen.Id("h")),
			),
		))
	}
	return code
}

// padRow is the padded row of input row h: h+PT, or h without top padding.
func padRow(g convGeom) *jen.Statement {
	if g.pt == 0 {
		return jen.Id("h")
	}
	return jen.Id("h").Op("+").Lit(g.pt)
}

// rowView declares the part of a padded row that output row oh reads at kernel
// offset (kh, kw):
//
//	r := (*[L]T)(xp[c][oh*SH+kh*DH][kw*DW:])     (a signal: xp[c][0][kw*DW:])
func rowView(p *plan, name, buf string, g convGeom) jen.Code {
	row := jen.Id("oh")
	if g.sh != 1 {
		row = row.Op("*").Lit(g.sh)
	}
	row = row.Op("+").Id("kh")
	if g.dh != 1 {
		row = row.Op("*").Lit(g.dh)
	}
	if g.oneD {
		row = jen.Lit(0)
	}
	col := jen.Id("kw")
	if g.dw != 1 {
		col = col.Op("*").Lit(g.dw)
	}
	return jen.Id(name).Op(":=").Parens(jen.Op("*").Index(jen.Lit(g.rowLen)).Add(p.elem())).Call(
		jen.Id(buf).Index(jen.Id("c")).Index(row).Index(col.Op(":")))
}

// overRow emits body(ow, i) for every ow of an output row, where i indexes the
// input row view: written out for short rows, a loop otherwise:
//
//	o[0] += wv * r[0]; o[1] += wv * r[1]; ...     or     for ow := 0; ow < Wo; ow++ { ... }
//
// lane is ow mod 4 in the written-out form (0 in the loop), so sums can use
// four independent accumulators instead of one long dependency chain.
func overRow(g convGeom, body func(ow, i jen.Code, lane int) []jen.Code) []jen.Code {
	if g.wo <= g.unrollRowMax {
		var out []jen.Code
		for ow := 0; ow < g.wo; ow++ {
			out = append(out, body(jen.Lit(ow), jen.Lit(ow*g.sw), ow%4)...)
		}
		return out
	}
	i := jen.Id("ow")
	if g.sw != 1 {
		i = i.Op("*").Lit(g.sw)
	}
	return []jen.Code{jen.For(jen.Id("ow").Op(":=").Lit(0), jen.Id("ow").Op("<").Lit(g.wo), jen.Id("ow").Op("++")).Block(body(jen.Id("ow"), i, 0)...)}
}

// kernelLoops wraps body in the loops over the input channels of filter f
// and the kernel offsets:
//
//	for c := 0; c < Layers0InC; c++ { for kh := 0; kh < Layers0KH; kh++ { for kw := 0; kw < Layers0KW; kw++ { body } } }
//
// A grouped convolution loops over the channels of grp, f's group:
//
//	for ci := 0; ci < Layers0GroupC; ci++ { c := grp*Layers0GroupC + ci; … }
//
// and conv1d has one kernel row: for c … { for kw := 0; kw < Layers0K; kw++ { body } }
func kernelLoops(k string, g convGeom, body ...jen.Code) jen.Code {
	inner := []jen.Code{loopTo("kw", k+g.kwName(), body...)}
	if !g.oneD {
		inner = []jen.Code{loopTo("kh", k+"KH", inner...)}
	}
	if g.grouped() {
		inner = append([]jen.Code{jen.Id("c").Op(":=").Id("grp").Op("*").Id(k + "GroupC").Op("+").Id("ci")}, inner...)
		return loopTo("ci", k+"GroupC", inner...)
	}
	return loopTo("c", k+"InC", inner...)
}

// loopTo is: for v := 0; v < bound; v++ { body }
func loopTo(v, bound string, body ...jen.Code) jen.Code {
	return jen.For(jen.Id(v).Op(":=").Lit(0), jen.Id(v).Op("<").Id(bound), jen.Id(v).Op("++")).Block(body...)
}

// forward: see the type comment.
func (conv2dEmitter) forward(p *plan, n *node) []jen.Code {
	g := geom(n)
	if convGEMM(g) {
		return gemmForward(p, n, g)
	}
	w, b, z, _, _ := convNames(n)
	dst := n.out
	if hasAct(n) {
		dst = z
	}
	code := convInputView(p, n, g, true)
	code = append(code, view3(p, "z", dst, g.f, g.ho, g.wo))
	if tapsForward(g) {
		code = append(code, convForwardTaps(p, n, g)...)
		if hasAct(n) {
			code = append(code, actForward(p, n.Act, n.Out, z, n.out)...)
		}
		return code
	}
	init := jen.Id("z").Index(jen.Id("f")).Index(jen.Id("oh")).Index(jen.Id("ow")).Op("=").Lit(0)
	if n.Bias {
		init = jen.Id("z").Index(jen.Id("f")).Index(jen.Id("oh")).Index(jen.Id("ow")).Op("=").Add(pf(b)).Index(jen.Id("f"))
	}
	code = append(code, jen.For(jen.Id("f").Op(":=").Range().Id("z")).Block(
		append(append([]jen.Code{
			jen.For(jen.Id("oh").Op(":=").Range().Id("z").Index(jen.Id("f"))).Block(
				jen.For(jen.Id("ow").Op(":=").Range().Id("z").Index(jen.Id("f")).Index(jen.Id("oh"))).Block(init),
			)}, g.groupOf(n.GoName)...),
			kernelLoops(n.GoName, g,
				append([]jen.Code{jen.Id("wv").Op(":=").Add(g.weightAt(pf(w)))}, convForwardRows(p, n, g)...)...,
			),
		)...,
	))
	if hasAct(n) {
		code = append(code, actForward(p, n.Act, n.Out, z, n.out)...)
	}
	return code
}

// preBackward differentiates the activation in place: dz = da ⊙ act'(z).
func (conv2dEmitter) preBackward(p *plan, n *node) []jen.Code {
	if !hasAct(n) {
		return nil
	}
	_, _, z, _, _ := convNames(n)
	return actBackward(p, n.Act, n.Out, z, n.out, n.dout, n.dout)
}

// backward: see the type comment. Without withDX the dxp lines are left out.
func (conv2dEmitter) backward(p *plan, n *node, withDX bool) []jen.Code {
	g := geom(n)
	if convGEMM(g) {
		head, row := gemmBackward(p, n, g, withDX)
		return append(head, row...)
	}
	w, b, _, _, dxpField := convNames(n)
	code := convInputView(p, n, g, false)
	code = append(code, view3(p, "dz", n.dout, g.f, g.ho, g.wo))
	if withDX {
		if g.padded {
			code = append(code, jen.Id("dxp").Op(":=").Op("&").Add(p.buf(dxpField)))
		} else {
			code = append(code, view3(p, "dxp", n.din, g.c, g.h, g.w))
		}
		code = append(code, jen.Op("*").Id("dxp").Op("=").Add(shaped3(p, g.c, g.hp, g.wp)).Values())
	}
	if rowsKernel(g) {
		code = append(code, flat3("xpf", "xp", g.c*g.hp*g.wp), flat3("dzf", "dz", g.f*g.ho*g.wo))
		if withDX {
			code = append(code, flat3("dxpf", "dxp", g.c*g.hp*g.wp))
		}
	}
	perRow := []jen.Code{
		rowView(p, "r", "xp", g),
		jen.Id("d").Op(":=").Op("&").Id("dz").Index(jen.Id("f")).Index(jen.Id("oh")),
	}
	if withDX {
		perRow = append(perRow, rowView(p, "dr", "dxp", g))
	}
	perRow = append(perRow, convRowBackward(p, g, withDX)...)
	kernel := []jen.Code{}
	if withDX {
		kernel = append(kernel, jen.Id("wv").Op(":=").Add(g.weightAt(pf(w))))
	}
	if rowsKernel(g) {
		// one call per weight over all output rows:
		// gW[f][c][kh][kw] += runtime.DotRows32(dzf[f*OH*OW:], OW, xpf[off:], SH*Wp, OH, OW)
		// runtime.AxpyRows32(wv, dzf[f*OH*OW:], OW, dxpf[off:], SH*Wp, OH, OW)
		dzRow := jen.Id("dzf").Index(jen.Id("f").Op("*").Lit(g.ho * g.wo).Op(":"))
		kernel = append(kernel, g.weightAt(gf(w)).Op("+=").Add(
			p.kernel("DotRows").Call(dzRow, jen.Lit(g.wo), jen.Id("xpf").Index(convOffset(g).Op(":")), jen.Lit(g.sh*g.wp), jen.Lit(g.ho), jen.Lit(g.wo))))
		if withDX {
			kernel = append(kernel, p.kernel("AxpyRows").Call(jen.Id("wv"), jen.Id("dzf").Index(jen.Id("f").Op("*").Lit(g.ho*g.wo).Op(":")), jen.Lit(g.wo), jen.Id("dxpf").Index(convOffset(g).Op(":")), jen.Lit(g.sh*g.wp), jen.Lit(g.ho), jen.Lit(g.wo)))
		}
	} else {
		kernel = append(kernel, jen.Var().Id("s0").Op(",").Id("s1").Op(",").Id("s2").Op(",").Id("s3").Add(p.elem()))
		kernel = append(kernel, g.rowLoop(n.GoName, perRow...)...)
		kernel = append(kernel, g.weightAt(gf(w)).Op("+=").Id("s0").Op("+").Id("s1").Op("+").Id("s2").Op("+").Id("s3"))
	}
	perFilter := []jen.Code{}
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
	perFilter = append(perFilter, kernelLoops(n.GoName, g, kernel...))
	code = append(code, loopTo("f", n.GoName+"Filters", perFilter...))
	if withDX && g.padded {
		// Crop the border: dx[c][h] = dxp[c][h+PT][PL : PL+W]
		code = append(code,
			view3(p, "dx", n.din, g.c, g.h, g.w),
			jen.For(jen.Id("c").Op(":=").Range().Id("dx")).Block(
				jen.For(jen.Id("h").Op(":=").Range().Id("dx").Index(jen.Id("c"))).Block(
					jen.Id("dx").Index(jen.Id("c")).Index(jen.Id("h")).Op("=").Op("*").Parens(jen.Op("*").Index(jen.Lit(g.w)).Add(p.elem())).Call(
						jen.Id("dxp").Index(jen.Id("c")).Index(padRow(g)).Index(jen.Lit(g.pl).Op(":")),
					),
				),
			))
	}
	return code
}

// rowKernels reports whether a conv row is long and contiguous enough (stride
// 1, at least kernelMin outputs) for the runtime's Axpy and Dot kernels.
func rowKernels(g convGeom) bool { return g.sw == 1 && g.wo >= kernelMin }

// convRowForward adds wv × an input row to an output row:
//
//	runtime.Axpy32(wv, r[:], o[:])          (long stride-1 rows)
//	o[0] += wv * r[0]; o[1] += wv * r[1]; …  (otherwise)
func convRowForward(p *plan, g convGeom) []jen.Code {
	if rowKernels(g) {
		return []jen.Code{p.kernel("Axpy").Call(jen.Id("wv"), jen.Id("r").Index(jen.Empty(), jen.Empty()), jen.Id("o").Index(jen.Empty(), jen.Empty()))}
	}
	return overRow(g, func(ow, i jen.Code, _ int) []jen.Code {
		return []jen.Code{jen.Id("o").Index(ow).Op("+=").Id("wv").Op("*").Id("r").Index(i)}
	})
}

// convRowBackward accumulates a weight's gradient over a row (s += d·r) and,
// with withDX, scatters the row's gradient back (dr += wv·d):
//
//	s0 += runtime.Dot32(d[:], r[:]); runtime.Axpy32(wv, d[:], dr[:])   (long stride-1 rows)
//	s0 += d[0] * r[0]; dr[0] += wv * d[0]; …                            (otherwise)
func convRowBackward(p *plan, g convGeom, withDX bool) []jen.Code {
	if rowKernels(g) {
		code := []jen.Code{jen.Id("s0").Op("+=").Add(p.kernel("Dot")).Call(jen.Id("d").Index(jen.Empty(), jen.Empty()), jen.Id("r").Index(jen.Empty(), jen.Empty()))}
		if withDX {
			code = append(code, p.kernel("Axpy").Call(jen.Id("wv"), jen.Id("d").Index(jen.Empty(), jen.Empty()), jen.Id("dr").Index(jen.Empty(), jen.Empty())))
		}
		return code
	}
	return overRow(g, func(ow, i jen.Code, lane int) []jen.Code {
		s := []jen.Code{jen.Id(fmt.Sprintf("s%d", lane)).Op("+=").Id("d").Index(ow).Op("*").Id("r").Index(i)}
		if withDX {
			s = append(s, jen.Id("dr").Index(i).Op("+=").Id("wv").Op("*").Id("d").Index(ow))
		}
		return s
	})
}

// rowsKernel reports whether a conv layer's output rows are contiguous
// (stride 1 along the width) and at least kernelMin wide, so that one runtime
// AxpyRows/DotRows call per weight covers all its output rows (narrower rows
// measured slower through the vector kernels than inline: LeNet's 10-wide
// second convolution trained at half the speed).
func rowsKernel(g convGeom) bool { return g.sw == 1 && g.wo >= kernelMin }

// tapsForward reports whether the forward pass of a convolution that is not
// on the GEMM path (a grouped one) sums its taps through runtime.ShiftSum:
// stride 1 along the width and rows of at least tapsMin outputs. ShiftSum
// keeps a row (or a masked part of one) in a vector register over all taps,
// where the inline rows load and store every output once per tap. Measured
// on the AMD EPYC under heavy load (CPU time, 2026-12-05): MobileNet's
// Forward (depthwise rows of 3 to 48) about 1.2× faster than with the
// kernelMin rule; the DS-CNN's (rows of 5) level within the noise, its
// ForwardBatch possibly 0.85–0.95× (not settled). The backward pass keeps the
// rowsKernel rule.
func tapsForward(g convGeom) bool { return g.sw == 1 && g.wo >= tapsMin }

// tapsMin is the narrowest output row tapsForward hands to ShiftSum.
const tapsMin = 3

// flat3 declares a flat view of a local *[A][B][C]T: name := unsafe.Slice(&v[0][0][0], size)
func flat3(name, v string, size int) jen.Code {
	return jen.Id(name).Op(":=").Qual("unsafe", "Slice").Call(jen.Op("&").Id(v).Index(jen.Lit(0)).Index(jen.Lit(0)).Index(jen.Lit(0)), jen.Lit(size))
}

// convOffset is the flat index in the padded input of the first element that
// output (0, 0) reads at kernel offset (c, kh, kw): (c*Hp + kh*DH)*Wp + kw*DW
// (a signal: c*Lp + kw*DW)
func convOffset(g convGeom) *jen.Statement {
	if g.oneD {
		col := jen.Id("kw")
		if g.dw != 1 {
			col = col.Op("*").Lit(g.dw)
		}
		return jen.Id("c").Op("*").Lit(g.wp).Op("+").Add(col)
	}
	row := jen.Id("c").Op("*").Lit(g.hp).Op("+").Id("kh")
	if g.dh != 1 {
		row = jen.Id("c").Op("*").Lit(g.hp).Op("+").Id("kh").Op("*").Lit(g.dh)
	}
	col := jen.Id("kw")
	if g.dw != 1 {
		col = jen.Id("kw").Op("*").Lit(g.dw)
	}
	return jen.Parens(row).Op("*").Lit(g.wp).Op("+").Add(col)
}

// convForwardTaps computes every output row as a sum of the kernel's taps
// over shifted rows of the padded input, accumulated in vector registers by
// runtime.ShiftSum and stored once:
//
//	taps := [C*KH*KW]int32{…}   // (c*Hp + kh*DH)*Wp + kw*DW for every c, kh, kw
//	xpf := unsafe.Slice(&xp[0][0][0], C*Hp*Wp)
//	for f := 0; f < Filters; f++ {
//		w := unsafe.Slice(&m.Params.Weight[f][0][0][0], C*KH*KW)
//		for oh := 0; oh < OutH; oh++ {
//			runtime.ShiftSum32(z[f][oh][:], xpf[oh*SH*Wp:], taps[:], w, OutW, m.Params.Bias[f])
//		}
//	}
//
// A grouped convolution has taps for the C/G channels of a group and starts
// filter f's rows at its group's first channel: xpf[grp*(C/G)*Hp*Wp + oh*SH*Wp:].
func convForwardTaps(p *plan, n *node, g convGeom) []jen.Code {
	w, b, _, _, _ := convNames(n)
	var taps []jen.Code
	for c := 0; c < g.cg; c++ {
		for kh := 0; kh < g.kh; kh++ {
			for kw := 0; kw < g.kw; kw++ {
				taps = append(taps, jen.Lit((c*g.hp+kh*g.dh)*g.wp+kw*g.dw))
			}
		}
	}
	bias := jen.Lit(0)
	if n.Bias {
		bias = pf(b).Index(jen.Id("f"))
	}
	// The first element of the padded input that row oh of filter f reads.
	var start []jen.Code
	if g.grouped() {
		start = append(start, jen.Id("grp").Op("*").Lit(g.cg*g.hp*g.wp))
	}
	if !g.oneD {
		start = append(start, jen.Id("oh").Op("*").Lit(g.sh*g.wp))
	}
	src := jen.Id("xpf")
	if len(start) > 0 {
		src = jen.Id("xpf").Index(jen.List(start...).Op(":"))
		if len(start) == 2 {
			src = jen.Id("xpf").Index(jen.Add(start[0]).Op("+").Add(start[1]).Op(":"))
		}
	}
	row := jen.Lit(0)
	if !g.oneD {
		row = jen.Id("oh")
	}
	sum := p.kernel("ShiftSum").Call(jen.Id("z").Index(jen.Id("f")).Index(row).Index(jen.Empty(), jen.Empty()),
		src, jen.Id("taps").Index(jen.Empty(), jen.Empty()), jen.Id("w"), jen.Lit(g.wo), bias)
	perFilter := append(g.groupOf(n.GoName), jen.Id("w").Op(":=").Add(g.filterWeights(pf(w))))
	if g.oneD {
		perFilter = append(perFilter, sum)
	} else {
		perFilter = append(perFilter, loopTo("oh", n.GoName+"OutH", sum))
	}
	return []jen.Code{
		jen.Id("taps").Op(":=").Index(jen.Lit(len(taps))).Int32().Values(taps...),
		flat3("xpf", "xp", g.c*g.hp*g.wp),
		loopTo("f", n.GoName+"Filters", perFilter...),
	}
}

// convForwardRows adds wv × the input window into every output row of filter
// f, row by row (narrow or strided rows; see rowsKernel).
func convForwardRows(p *plan, n *node, g convGeom) []jen.Code {
	return g.rowLoop(n.GoName, append([]jen.Code{
		rowView(p, "r", "xp", g),
		jen.Id("o").Op(":=").Op("&").Id("z").Index(jen.Id("f")).Index(jen.Id("oh")),
	}, convRowForward(p, g)...)...)
}

// flops: 2·(C/groups)·kh·kw per output element, 1 for the bias, 1 for the
// activation.
func (conv2dEmitter) flops(n *node) int64 {
	out := int64(n.outSize)
	f := 2 * int64(n.In[0]/max(n.Groups, 1)) * int64(n.Kernel[0]) * int64(max(n.Kernel[1], 1)) * out
	if n.Bias {
		f += out
	}
	return f + actFLOPs(n.Act.Fn, out)
}
