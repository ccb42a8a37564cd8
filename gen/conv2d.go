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
// Ungrouped convolutions are matrix products (convgemm.go); grouped and
// depthwise ones sum shifted flat planes (dwconv.go). Buffers are flat arrays
// viewed as [C][H][W] through unsafe.Pointer (same memory, no copy).
type conv2dEmitter struct{}

func (conv2dEmitter) aliases(*spec.Node) bool { return false }

// convGeom holds the sizes of a conv2d, conv1d or pooling node (a signal
// [C, L] as the image [C, 1, L]).
type convGeom struct {
	c, h, w   int // input
	f, ho, wo int // output channels and size
	kh, kw    int
	sh, sw    int
	dh, dw    int
	pt, pb    int
	pl, pr    int
	hp, wp    int // padded input
	padded    bool
	rowLen    int    // elements of a padded input row one output row reads: (wo-1)·sw + 1
	oneD      bool   // a signal [C, L]: h = ho = kh = 1
	groups    int    // G: the channels and filters split into G groups
	cg        int    // input channels per group: C/G
	k         string // the node's constant prefix (its GoName)
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
	if hasAct(n) && !gemmRelu(n, g) {
		fs = append(fs, field{name: z, size: n.outSize, doc: "pre-activation z = W ⋆ x + b"})
	}
	if g.padded && !convGEMM(g) && !(dwMasked(g) && p.inference) { // im2col and dwMasked read the unpadded input
		fs = append(fs, field{name: xp, size: g.c * g.hp * g.wp, typ: shaped3(p, g.c, g.hp, g.wp), doc: "zero-padded input"})
	}
	if convImplicit(g) {
		fs = append(fs, field{name: xp, size: g.c * g.hp * g.wp, typ: shaped3(p, g.c, g.hp, g.wp), doc: "zero-padded input of the implicit GEMM (forward pass)", scratch: true})
	}
	if g.padded && !(convGEMM(g) && col2imDirect(g)) {
		fs = append(fs, field{name: dxp, size: g.c * g.hp * g.wp, typ: shaped3(p, g.c, g.hp, g.wp), doc: "dL/d(padded input)", train: true, scratch: true})
	}
	if convGEMM(g) {
		fs = append(fs, gemmFields(p, n, g)...)
	} else {
		fs = append(fs, flatFields(p, n, newFlatPlane(p, n, g))...)
	}
	return append(append(fs, dwMaskedFields(n, g)...), convNTFields(p, n, g)...)
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
// first copies the input into the interior of m.xpN, one CopyRows per channel,
// or narrow rows with one CopyPlanes for all channels (the border stays zero:
// it is never written but with CopyPlanes's zeros between the rows):
//
//	x := (*[C][H][W]T)(unsafe.Pointer(&m.in))
//	xp := &m.xp0
//	for c := range x { runtime.CopyRows32(unsafe.Slice(&xp[c][PT][PL], …), Wp, unsafe.Slice(&x[c][0][0], H*W), W, 1, H, W) }
//	runtime.CopyPlanes32(unsafe.Slice(&xp[0][PT][PL], …), Hp*Wp, Wp, unsafe.Slice(&x[0][0][0], C*H*W), H*W, W, C, H, W)    (W < copyRowsMinN or one row)
func convInputView(p *plan, n *node, g convGeom, copyIn bool) []jen.Code {
	_, _, _, xp, _ := convNames(n)
	if !g.padded {
		return []jen.Code{view3(p, "xp", n.in, g.c, g.h, g.w)}
	}
	code := []jen.Code{jen.Id("xp").Op(":=").Op("&").Add(p.buf(xp))}
	if copyIn {
		code = append([]jen.Code{view3(p, "x", n.in, g.c, g.h, g.w)}, code...)
		if (g.w < copyRowsMinN || g.h == 1) && g.wp != g.w {
			return append(code, copyPlanes(p, jen.Id("xp").Index(jen.Lit(0)).Index(jen.Lit(g.pt)).Index(jen.Lit(g.pl)), g.hp*g.wp, g.wp,
				jen.Id("x").Index(jen.Lit(0)).Index(jen.Lit(0)).Index(jen.Lit(0)), g.h*g.w, g.w, g.c, g.h, g.w))
		}
		copyIn := copyRows(p, jen.Id("xp").Index(jen.Id("c")).Index(jen.Lit(g.pt)).Index(jen.Lit(g.pl)), g.wp,
			jen.Id("x").Index(jen.Id("c")).Index(jen.Lit(0)).Index(jen.Lit(0)), g.w, 1, g.h, g.w)
		code = append(code, jen.For(jen.Id("c").Op(":=").Range().Id("x")).Block(copyIn))
	}
	return code
}

// copyRows copies rows of n elements from the array element src on (row
// stride ss, step between the elements taken) to the element dst on (row
// stride ds):
//
//	runtime.CopyRows32(unsafe.Slice(&dst, …), ds, unsafe.Slice(&src, …), ss, step, rows, n)
//
// Contiguous rows (ds = ss = n, step 1) are one row of rows·n elements.
func copyRows(p *plan, dst *jen.Statement, ds int, src *jen.Statement, ss, step, rows, n int) jen.Code {
	if step == 1 && ds == n && ss == n {
		rows, n = 1, rows*n
	}
	return p.kernel("CopyRows").Call(
		jen.Qual("unsafe", "Slice").Call(jen.Op("&").Add(dst), jen.Lit((rows-1)*ds+n)), jen.Lit(ds),
		jen.Qual("unsafe", "Slice").Call(jen.Op("&").Add(src), jen.Lit((rows-1)*ss+(n-1)*step+1)), jen.Lit(ss),
		jen.Lit(step), jen.Lit(rows), jen.Lit(n))
}

// copyPlanes copies planes of rows of n elements from the array element src
// on (plane stride sps, row stride srs) to the element dst on (dps, drs),
// setting elements between the rows of dst (zero padding) to zero or not:
//
//	runtime.CopyPlanes32(unsafe.Slice(&dst, …), dps, drs, unsafe.Slice(&src, …), sps, srs, planes, rows, n)
func copyPlanes(p *plan, dst *jen.Statement, dps, drs int, src *jen.Statement, sps, srs, planes, rows, n int) jen.Code {
	return p.kernel("CopyPlanes").Call(
		jen.Qual("unsafe", "Slice").Call(jen.Op("&").Add(dst), jen.Lit((planes-1)*dps+(rows-1)*drs+n)), jen.Lit(dps), jen.Lit(drs),
		jen.Qual("unsafe", "Slice").Call(jen.Op("&").Add(src), jen.Lit((planes-1)*sps+(rows-1)*srs+n)), jen.Lit(sps), jen.Lit(srs),
		jen.Lit(planes), jen.Lit(rows), jen.Lit(n))
}

// copyRowsMinN is the narrowest row copied with CopyRows; narrower rows
// are copied one array at a time, which measured faster (kws_dscnn's 5-wide
// rows, AMD EPYC Zen 5: the kernel's masked stores and loads of the few
// elements cost more than the copies).
const copyRowsMinN = 16

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
	_, _, z, _, _ := convNames(n)
	dst := n.out
	if hasAct(n) {
		dst = z
	}
	var code []jen.Code
	switch {
	case dwMasked(g) && p.inference:
		code = append(convBNPrep(p, n), dwMaskedForward(p, n, g, dst)...)
	case dwMasked(g):
		// inference mode straight from the input, training mode (whose
		// backward pass reads the padded copy) through the flat planes
		code = append(convBNPrep(p, n), jen.If(jen.Id("m").Dot("training")).Block(flatPlaneForward(p, n, g, dst, true)...).
			Else().Block(dwMaskedForward(p, n, g, dst)...))
	default:
		code = flatPlaneForward(p, n, g, dst, false)
	}
	if hasAct(n) {
		code = append(code, actForward(p, n.Act, n.Out, z, n.out)...)
	}
	return code
}

// flatPlaneForward is the flat planes' forward pass (dwconv.go) into dst:
// the padded copy of the input, then flatForward; trainOnly for the
// training branch of a dwMasked convolution (the fused batchnorm and its
// preparation are the other branch's).
func flatPlaneForward(p *plan, n *node, g convGeom, dst string, trainOnly bool) []jen.Code {
	code := convInputView(p, n, g, true)
	fp := newFlatPlane(p, n, g)
	if !fp.cropAll { // (cropAll writes z in one call after the filters)
		code = append(code, view3(p, "z", dst, g.f, g.ho, g.wo))
	}
	return append(code, flatForward(p, n, fp, trainOnly)...)
}

// preBackward differentiates the activation in place: dz = da ⊙ act'(z).
func (conv2dEmitter) preBackward(p *plan, n *node) []jen.Code {
	if !hasAct(n) {
		return nil
	}
	return actBackward(p, n.Act, n.Out, preAct(n), n.out, n.dout, n.dout)
}

// preAct is the buffer the activation's derivative tests: the
// pre-activation z, or with gemmRelu the output a (a > 0 exactly where
// z > 0, and a NaN z gives a NaN a, so ReluBackward(a, ·) = ReluBackward(z, ·)).
func preAct(n *node) string {
	if gemmRelu(n, geom(n)) {
		return n.out
	}
	_, _, z, _, _ := convNames(n)
	return z
}

// backward: see the type comment. Without withDX the dxp lines are left out.
func (conv2dEmitter) backward(p *plan, n *node, withDX bool) []jen.Code {
	g := geom(n)
	if convGEMM(g) {
		head, row := gemmBackward(p, n, g, withDX)
		return append(head, row...)
	}
	return flatBackward(p, n, newFlatPlane(p, n, g), withDX)
}

// flat3 declares a flat view of a local *[A][B][C]T: name := unsafe.Slice(&v[0][0][0], size)
func flat3(name, v string, size int) jen.Code {
	return jen.Id(name).Op(":=").Qual("unsafe", "Slice").Call(jen.Op("&").Id(v).Index(jen.Lit(0)).Index(jen.Lit(0)).Index(jen.Lit(0)), jen.Lit(size))
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
