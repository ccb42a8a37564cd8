package gen

import (
	"fmt"

	"github.com/bpgen/bpgen/spec"
	"github.com/dave/jennifer/jen"
)

func init() {
	register(poolEmitter{}, spec.KindMaxPool2D, spec.KindAvgPool2D, spec.KindMaxPool1D, spec.KindAvgPool1D)
	register(globalAvgPoolEmitter{}, spec.KindGlobalAvgPool2D, spec.KindGlobalAvgPool1D)
}

// maxpool2d and avgpool2d over windows KH×KW with stride (SH, SW) and
// symmetric padding (PT, PL), as PyTorch's nn.MaxPool2d / nn.AvgPool2d:
//
//	max:  y[c,oh,ow] = max over the window of x   (padding never wins)
//	      dx[argmax] += dy[c,oh,ow]               (ties: the first maximum in row-major order)
//	avg:  y[c,oh,ow] = Σ window x / N             (padded positions add nothing)
//	      dx[c,ih,iw] += dy[c,oh,ow] / N          for every in-range window element
//
// where N = KH·KW with count_include_pad (padded zeros count, the default),
// else the number of in-range elements of the window:
//
//	N = (min(oh·SH − PT + KH, H) − max(oh·SH − PT, 0)) · (min(ow·SW − PL + KW, W) − max(ow·SW − PL, 0))
//
// The window of output (oh, ow) covers input rows oh·SH − PT + kh and columns
// ow·SW − PL + kw; positions in the padding are skipped. maxpool1d and
// avgpool1d (nn.MaxPool1d, nn.AvgPool1d) pool a signal [C, L] as the image
// [C, 1, L] with the window (1, K): one row, ih = 0.
//
// Max pooling over 2×2 windows with stride 2 and no padding (a signal's:
// pairs, stride 2) runs the runtime's vector kernels (see maxPool2): the
// forward pass records no argmax, and the backward pass finds it again as
// the first window element equal to y in row-major order (the last element
// when none is: y is NaN). The kernels take the maximum in a fixed order,
// max(max(x00, x10), max(x01, x11)) with max(a, b) = a > b ? a : b, so a
// NaN input may or may not win; without NaN the result and the gradient's
// position are those above.
type poolEmitter struct{}

func (poolEmitter) aliases(*spec.Node) bool             { return false }
func (poolEmitter) params(*plan, *node) []tensor        { return nil }
func (poolEmitter) preBackward(*plan, *node) []jen.Code { return nil }
func isMax(n *node) bool                                { return n.Kind == spec.KindMaxPool2D || n.Kind == spec.KindMaxPool1D }
func argField(n *node) string                           { return fmt.Sprintf("arg%d", n.Index) }

// Size constants of a pooling node, named like conv2d's: Layers1InC,
// Layers1InH, Layers1InW, Layers1KH, Layers1KW, Layers1OutH, Layers1OutW; a
// signal's are Layers1InC, Layers1InL, Layers1K, Layers1OutL. poolConst
// returns the name of one: Layers1KW (Layers1K for a signal).
func poolConst(g convGeom, name string) *jen.Statement {
	if oneD, ok := map[string]string{"InW": "InL", "KW": "K", "OutW": "OutL"}[name]; ok && g.oneD {
		name = oneD
	}
	return jen.Id(g.k + name)
}

// consts: Layers1InC = 6, Layers1InH = 28, …, Layers1OutW = 14 (a signal:
// Layers1InC, Layers1InL, Layers1K, Layers1OutL).
func (poolEmitter) consts(p *plan, n *node) []jen.Code {
	g := geom(n)
	def := func(name string, v int) jen.Code { return poolConst(g, name).Op("=").Lit(v) }
	if g.oneD {
		return []jen.Code{def("InC", g.c), def("InW", g.w), def("KW", g.kw), def("OutW", g.wo)}
	}
	return []jen.Code{def("InC", g.c), def("InH", g.h), def("InW", g.w), def("KH", g.kh), def("KW", g.kw), def("OutH", g.ho), def("OutW", g.wo)}
}

// consts: Layers6InC = 32, Layers6InH = 7, Layers6InW = 7 (a signal:
// Layers6InC, Layers6InL).
func (globalAvgPoolEmitter) consts(p *plan, n *node) []jen.Code {
	k := n.GoName
	if len(n.In) == 2 {
		return []jen.Code{jen.Id(k + "InC").Op("=").Lit(n.In[0]), jen.Id(k + "InL").Op("=").Lit(n.In[1])}
	}
	return []jen.Code{jen.Id(k + "InC").Op("=").Lit(n.In[0]), jen.Id(k + "InH").Op("=").Lit(n.In[1]), jen.Id(k + "InW").Op("=").Lit(n.In[2])}
}

// globalCount is the number of elements averaged per channel: Layers6InH*Layers6InW (a signal: Layers6InL)
func globalCount(n *node) *jen.Statement {
	if len(n.In) == 2 {
		return jen.Id(n.GoName + "InL")
	}
	return jen.Parens(jen.Id(n.GoName + "InH").Op("*").Id(n.GoName + "InW"))
}

func (poolEmitter) fields(p *plan, n *node) []field {
	if !isMax(n) || maxPool2(n) {
		return nil
	}
	return []field{{name: argField(n), size: n.outSize, typ: jen.Index(jen.Lit(n.outSize)).Int32(), doc: "flat input index of each window's maximum", train: true}}
}

// window emits the loops over one pooling window, skipping padded positions:
//
//	for kh := 0; kh < KH; kh++ {
//		ih := oh*SH - PT + kh
//		if ih < 0 || ih >= H { continue }
//		for kw := 0; kw < KW; kw++ {
//			iw := ow*SW - PL + kw
//			if iw < 0 || iw >= W { continue }
//			body
//		}
//	}
//
// A signal has one row, read as row 0 (see poolRow): for kw := 0; kw < KW; kw++ { … }
func window(g convGeom, body ...jen.Code) jen.Code {
	pos := func(o string, s, pad int, k string) *jen.Statement {
		e := jen.Id(o)
		if s != 1 {
			e = e.Op("*").Lit(s)
		}
		if pad != 0 {
			e = e.Op("-").Lit(pad)
		}
		return e.Op("+").Id(k)
	}
	skip := func(v string, n string, pad int) []jen.Code {
		if pad == 0 {
			return nil // without padding every window lies inside the input
		}
		return []jen.Code{jen.If(jen.Id(v).Op("<").Lit(0).Op("||").Id(v).Op(">=").Add(poolConst(g, n))).Block(jen.Continue())}
	}
	inner := append([]jen.Code{jen.Id("iw").Op(":=").Add(pos("ow", g.sw, g.pl, "kw"))}, skip("iw", "InW", g.pl)...)
	inner = append(inner, body...)
	cols := jen.For(jen.Id("kw").Op(":=").Lit(0), jen.Id("kw").Op("<").Add(poolConst(g, "KW")), jen.Id("kw").Op("++")).Block(inner...)
	if g.oneD {
		return cols
	}
	outer := append([]jen.Code{jen.Id("ih").Op(":=").Add(pos("oh", g.sh, g.pt, "kh"))}, skip("ih", "InH", g.pt)...)
	outer = append(outer, cols)
	return jen.For(jen.Id("kh").Op(":=").Lit(0), jen.Id("kh").Op("<").Add(poolConst(g, "KH")), jen.Id("kh").Op("++")).Block(outer...)
}

// outputLoops wraps body in: for c := range y { for oh := range y[c] { for ow := range y[c][oh] { body } } }
func outputLoops(body ...jen.Code) jen.Code {
	return jen.For(jen.Id("c").Op(":=").Range().Id("y")).Block(
		jen.For(jen.Id("oh").Op(":=").Range().Id("y").Index(jen.Id("c"))).Block(
			jen.For(jen.Id("ow").Op(":=").Range().Id("y").Index(jen.Id("c")).Index(jen.Id("oh"))).Block(body...),
		),
	)
}

// poolRow is the input row a window element lies in: ih, or 0 for a signal.
func poolRow(g convGeom) *jen.Statement {
	if g.oneD {
		return jen.Lit(0)
	}
	return jen.Id("ih")
}

func (poolEmitter) forward(p *plan, n *node) []jen.Code {
	g := geom(n)
	code := []jen.Code{view3(p, "x", n.in, g.c, g.h, g.w), view3(p, "y", n.out, g.f, g.ho, g.wo)}
	xv := jen.Id("x").Index(jen.Id("c")).Index(poolRow(g)).Index(jen.Id("iw"))
	yv := jen.Id("y").Index(jen.Id("c")).Index(jen.Id("oh")).Index(jen.Id("ow"))
	if maxPool2(n) {
		return []jen.Code{maxPool2Call(p, n, g, "MaxPool2Rows", p.buf(n.out), p.buf(n.in))}
	}
	if isMax(n) && g.pt == 0 && g.pl == 0 {
		return []jen.Code{view3(p, "y", n.out, g.f, g.ho, g.wo), maxPoolUnpadded(p, n, g)}
	}
	if isMax(n) {
		// best, arg := x[c][first], index; then strictly greater values replace it.
		flatIdx := jen.Int32().Call(jen.Parens(jen.Id("c").Op("*").Add(poolConst(g, "InH")).Op("+").Id("ih")).Op("*").Add(poolConst(g, "InW")).Op("+").Id("iw"))
		if g.oneD {
			flatIdx = jen.Int32().Call(jen.Id("c").Op("*").Add(poolConst(g, "InW")).Op("+").Id("iw"))
		}
		outIdx := jen.Parens(jen.Id("c").Op("*").Add(poolConst(g, "OutH")).Op("+").Id("oh")).Op("*").Add(poolConst(g, "OutW")).Op("+").Id("ow")
		if g.oneD {
			outIdx = jen.Id("c").Op("*").Add(poolConst(g, "OutW")).Op("+").Id("ow")
		}
		body := []jen.Code{
			jen.Id("best").Op(":=").Qual("math", "Inf").Call(jen.Lit(-1)),
			jen.Id("arg").Op(":=").Int32().Call(jen.Lit(-1)),
			window(g, jen.If(jen.Id("v").Op(":=").Add(p.f64(xv)), jen.Id("v").Op(">").Id("best").Op("||").Id("arg").Op("<").Lit(0)).Block(
				jen.Id("best").Op(",").Id("arg").Op("=").Id("v").Op(",").Add(flatIdx),
			)),
			yv.Clone().Op("=").Add(p.fromF64(jen.Id("best"))),
		}
		if !p.inference {
			body = append(body, p.buf(argField(n)).Index(outIdx).Op("=").Id("arg"))
		}
		code = append(code, outputLoops(body...))
		return code
	}
	if avgPoolContiguous(g) {
		return []jen.Code{view3(p, "y", n.out, g.f, g.ho, g.wo), avgPoolSums(p, n, g)}
	}
	code = append(code, outputLoops(
		jen.Var().Id("s").Add(p.elem()),
		window(g, jen.Id("s").Op("+=").Add(xv)),
		yv.Clone().Op("=").Id("s").Op("/").Add(poolDivisor(p, n, g)),
	))
	return code
}

// avgPoolContiguous reports whether every window of an average pooling is
// one contiguous run of at least kernelMin input elements (no padding, and whole
// rows: KW = W, or a signal): then each output is one vector sum.
func avgPoolContiguous(g convGeom) bool {
	return !g.padded && (g.oneD || g.kw == g.w) && g.kh*g.kw >= kernelMin
}

// avgPoolSums emits average pooling over contiguous windows (see
// avgPoolContiguous) as one runtime.SumWide per window, the sum in float64:
//
//	xf := &m.in
//	for c … { for oh … { for ow … {
//		i := (c*H+oh*SH)*W + ow*SW
//		y[c][oh][ow] = T(runtime.SumWide32(xf[i:i+KH*KW]) / (KH * KW))
//	}}}
//
// kws_dscnn's 24×5 window over a 25×5 map, resnet8's 8×8 global one.
func avgPoolSums(p *plan, n *node, g convGeom) jen.Code {
	start := jen.Parens(jen.Id("c").Op("*").Lit(g.h).Op("+").Id("oh").Op("*").Lit(g.sh)).Op("*").Lit(g.w).Op("+").Id("ow").Op("*").Lit(g.sw)
	if g.oneD {
		start = jen.Id("c").Op("*").Lit(g.w).Op("+").Id("ow").Op("*").Lit(g.sw)
	}
	size := g.kh * g.kw
	sum := p.kernel("SumWide").Call(jen.Id("xf").Index(jen.Id("i").Op(":").Id("i").Op("+").Lit(size)))
	return jen.Block(
		jen.Id("xf").Op(":=").Op("&").Add(p.buf(n.in)),
		outputLoops(
			jen.Id("i").Op(":=").Add(start),
			jen.Id("y").Index(jen.Id("c")).Index(jen.Id("oh")).Index(jen.Id("ow")).Op("=").Add(p.elem()).Call(sum.Op("/").Lit(float64(size))),
		),
	)
}

// poolDivisor is the divisor N of an average pooling window (see
// poolEmitter): KH·KW when padded zeros count or there is no padding, else
// the number of in-range elements, per padded axis
//
//	T((min(oh*SH-PT+KH, H) - max(oh*SH-PT, 0)) * (min(ow*SW-PL+KW, W) - max(ow*SW-PL, 0)))
//
// with the constant KH (or KW) for an axis without padding.
func poolDivisor(p *plan, n *node, g convGeom) jen.Code {
	if n.CountIncludePad || !g.padded {
		if g.oneD {
			return poolConst(g, "KW")
		}
		return jen.Parens(poolConst(g, "KH").Op("*").Add(poolConst(g, "KW")))
	}
	// inRange is the in-range part of the window along one axis:
	// min(o*S-P+K, N) - max(o*S-P, 0)
	inRange := func(o string, s, pad int, k, size string) *jen.Statement {
		start := func() *jen.Statement {
			e := jen.Id(o)
			if s != 1 {
				e = e.Op("*").Lit(s)
			}
			return e.Op("-").Lit(pad)
		}
		return jen.Min(start().Op("+").Add(poolConst(g, k)), poolConst(g, size)).Op("-").Max(start(), jen.Lit(0))
	}
	rows := poolConst(g, "KH")
	if g.pt > 0 {
		rows = jen.Parens(inRange("oh", g.sh, g.pt, "KH", "InH"))
	}
	cols := poolConst(g, "KW")
	if g.pl > 0 {
		cols = inRange("ow", g.sw, g.pl, "KW", "InW")
		if !g.oneD {
			cols = jen.Parens(cols)
		}
	}
	if g.oneD {
		return p.elem().Call(cols)
	}
	return p.elem().Call(rows.Op("*").Add(cols))
}

func (poolEmitter) backward(p *plan, n *node, withDX bool) []jen.Code {
	if !withDX {
		return nil
	}
	g := geom(n)
	if maxPool2(n) {
		var code []jen.Code
		if !g.oneD && g.h%2 != 0 || g.w%2 != 0 {
			// the last row or column lies in no window
			code = append(code, p.buf(n.din).Op("=").Index(jen.Lit(n.inSize)).Add(p.elem()).Values())
		}
		return append(code, maxPool2Call(p, n, g, "MaxPool2RowsBackward", p.buf(n.din), p.buf(n.in), p.buf(n.out), p.buf(n.dout)))
	}
	if isMax(n) {
		// m.din = [N]T{}; for j, a := range m.argN { m.din[a] += m.dout[j] }
		return []jen.Code{
			p.buf(n.din).Op("=").Index(jen.Lit(n.inSize)).Add(p.elem()).Values(),
			jen.For(jen.List(jen.Id("j"), jen.Id("a")).Op(":=").Range().Add(p.buf(argField(n)))).Block(
				p.buf(n.din).Index(jen.Id("a")).Op("+=").Add(p.buf(n.dout)).Index(jen.Id("j")),
			),
		}
	}
	return []jen.Code{
		p.buf(n.din).Op("=").Index(jen.Lit(n.inSize)).Add(p.elem()).Values(),
		view3(p, "dx", n.din, g.c, g.h, g.w),
		view3(p, "y", n.dout, g.f, g.ho, g.wo),
		outputLoops(
			jen.Id("g").Op(":=").Id("y").Index(jen.Id("c")).Index(jen.Id("oh")).Index(jen.Id("ow")).Op("/").Add(poolDivisor(p, n, g)),
			window(g, jen.Id("dx").Index(jen.Id("c")).Index(poolRow(g)).Index(jen.Id("iw")).Op("+=").Id("g")),
		),
	}
}

// global_avgpool2d: y[c] = Σ_h,w x[c,h,w] / (H·W);  dx[c,h,w] = dy[c] / (H·W).
// The output is [C], ready for a dense layer (Keras' GlobalAveragePooling2D;
// PyTorch's AdaptiveAvgPool2d(1) followed by flatten). global_avgpool1d is
// the same over a signal [C, L]: y[c] = Σ_l x[c,l] / L (AdaptiveAvgPool1d(1)
// and flatten).
type globalAvgPoolEmitter struct{}

func (globalAvgPoolEmitter) aliases(*spec.Node) bool             { return false }
func (globalAvgPoolEmitter) params(*plan, *node) []tensor        { return nil }
func (globalAvgPoolEmitter) fields(*plan, *node) []field         { return nil }
func (globalAvgPoolEmitter) preBackward(*plan, *node) []jen.Code { return nil }

// view2 declares name := (*[a][b]T)(unsafe.Pointer(&m.buf))
func view2(p *plan, name, buf string, a, b int) jen.Code {
	return jen.Id(name).Op(":=").Parens(jen.Op("*").Index(jen.Lit(a)).Index(jen.Lit(b)).Add(p.elem())).Call(jen.Qual("unsafe", "Pointer").Call(jen.Op("&").Add(p.buf(buf))))
}

func (globalAvgPoolEmitter) forward(p *plan, n *node) []jen.Code {
	c, hw := n.In[0], n.In.Size()/n.In[0]
	if hw >= kernelMin {
		// y[c] = T(runtime.SumWide32(x[c][:]) / H·W), the sum in float64
		return []jen.Code{
			view2(p, "x", n.in, c, hw),
			jen.For(jen.Id("c").Op(":=").Range().Id("x")).Block(
				p.buf(n.out).Index(jen.Id("c")).Op("=").Add(p.elem()).Call(p.kernel("SumWide").Call(jen.Id("x").Index(jen.Id("c")).Index(jen.Empty(), jen.Empty())).Op("/").Lit(float64(hw))),
			),
		}
	}
	return []jen.Code{
		view2(p, "x", n.in, c, hw),
		jen.For(jen.Id("c").Op(":=").Range().Id("x")).Block(
			jen.Var().Id("s").Add(p.elem()),
			jen.For(jen.List(jen.Id("_"), jen.Id("v")).Op(":=").Range().Id("x").Index(jen.Id("c"))).Block(jen.Id("s").Op("+=").Id("v")),
			p.buf(n.out).Index(jen.Id("c")).Op("=").Id("s").Op("/").Add(globalCount(n)),
		),
	}
}

func (globalAvgPoolEmitter) backward(p *plan, n *node, withDX bool) []jen.Code {
	if !withDX {
		return nil
	}
	c, hw := n.In[0], n.In.Size()/n.In[0]
	return []jen.Code{
		view2(p, "dx", n.din, c, hw),
		jen.For(jen.Id("c").Op(":=").Range().Id("dx")).Block(
			jen.Id("g").Op(":=").Add(p.buf(n.dout)).Index(jen.Id("c")).Op("/").Add(globalCount(n)),
			jen.For(jen.Id("j").Op(":=").Range().Id("dx").Index(jen.Id("c"))).Block(jen.Id("dx").Index(jen.Id("c")).Index(jen.Id("j")).Op("=").Id("g")),
		),
	}
}

// maxPool2 reports whether node n is max pooling over 2×2 windows with
// stride 2 and no padding (a signal's: windows of 2, stride 2), which the
// runtime's MaxPool2Rows kernels compute: the forward pass keeps no argmax,
// the backward pass finds it again from the input and the output.
func maxPool2(n *node) bool {
	g := geom(n)
	return isMax(n) && !g.padded && g.kh == 1+boolInt(!g.oneD) && g.kw == 2 && g.sh == g.kh && g.sw == 2
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// maxPool2Call emits the call of a MaxPool2Rows kernel on node n (see
// maxPool2) with the y operands ys (y, or y and dy) and the x operands xs (x,
// or dx and x): one call over every channel when the channels' output rows
// follow each other in the input (H even),
//
//	runtime.MaxPool2Rows32(m.a1[row][:], Layers1OutW, m.a0[row][:], 2*Layers1InW, Layers1InW, Layers1InC*Layers1OutH, Layers1OutW)
//	runtime.MaxPool2RowsBackward32(m.d0[row][:], m.a0[row][:], 2*Layers1InW, Layers1InW, m.a1[row][:], m.d1[row][:], Layers1OutW, Layers1InC*Layers1OutH, Layers1OutW)
//
// else one call per channel (y[c*OutH*OutW:], x[c*InH*InW:], rows OutH). A
// signal is one row a channel, the window a pair (xw = 0):
//
//	runtime.MaxPool2Rows32(m.a2[row][:], Layers2OutL, m.a1[row][:], Layers2InL, 0, Layers2InC, Layers2OutL)
func maxPool2Call(p *plan, n *node, g convGeom, kernel string, ops ...*jen.Statement) jen.Code {
	c := poolConst(g, "InC")
	inW, outW := poolConst(g, "InW"), poolConst(g, "OutW")
	xs, xw, rows := jen.Lit(2).Op("*").Add(inW), inW.Clone(), c.Clone().Op("*").Add(poolConst(g, "OutH"))
	perChannel := !g.oneD && g.h%2 != 0
	slice := func(b *jen.Statement, plane jen.Code) jen.Code {
		if !perChannel {
			return b.Clone().Index(jen.Empty(), jen.Empty())
		}
		return b.Clone().Index(jen.Id("c").Op("*").Add(plane), jen.Empty())
	}
	if g.oneD {
		xs, xw, rows = inW.Clone(), jen.Lit(0), c.Clone()
	}
	if perChannel {
		rows = poolConst(g, "OutH")
	}
	xPlane := jen.Add(poolConst(g, "InH")).Op("*").Add(inW.Clone())
	yPlane := jen.Add(poolConst(g, "OutH")).Op("*").Add(outW.Clone())
	var args []jen.Code
	if kernel == "MaxPool2Rows" { // y, ys, x, xs, xw, rows, n
		args = []jen.Code{slice(ops[0], yPlane), outW.Clone(), slice(ops[1], xPlane), xs, xw, rows, outW.Clone()}
	} else { // dx, x, xs, xw, y, dy, ys, rows, n
		args = []jen.Code{slice(ops[0], xPlane), slice(ops[1], xPlane), xs, xw, slice(ops[2], yPlane), slice(ops[3], yPlane), outW.Clone(), rows, outW.Clone()}
	}
	call := p.kernel(kernel).Call(args...)
	if perChannel {
		return loopOver("c", named(g.c, g.k+"InC"), call)
	}
	return call
}

// maxPoolUnpadded emits max pooling without padding, where every window lies
// inside the input: the window is written out with constant offsets and
// compared in the element type (strictly greater replaces, so ties keep the
// first maximum):
//
//	xf := &m.in
//	for c := 0; c < C; c++ { for oh := 0; oh < OH; oh++ { for ow := 0; ow < OW; ow++ {
//		i := (c*H+oh*SH)*W + ow*SW
//		best, arg := xf[i], i
//		if v := xf[i+1]; v > best { best, arg = v, i+1 }
//		…
//		y[c][oh][ow] = best
//		m.argN[(c*OH+oh)*OW+ow] = int32(arg)
//	}}}
//
// A signal has one row: i := c*L + ow*SW, y[c][0][ow], m.argN[c*OL+ow].
func maxPoolUnpadded(p *plan, n *node, g convGeom) jen.Code {
	// strided is o*S, or o for stride 1.
	strided := func(o string, s int) *jen.Statement {
		if s == 1 {
			return jen.Id(o)
		}
		return jen.Id(o).Op("*").Lit(s)
	}
	base := jen.Parens(jen.Id("c").Op("*").Add(poolConst(g, "InH")).Op("+").Add(strided("oh", g.sh))).Op("*").Add(poolConst(g, "InW")).Op("+").Add(strided("ow", g.sw))
	if g.oneD {
		base = jen.Id("c").Op("*").Add(poolConst(g, "InW")).Op("+").Add(strided("ow", g.sw))
	}
	body := []jen.Code{
		jen.Id("i").Op(":=").Add(base),
		jen.List(jen.Id("best"), jen.Id("arg")).Op(":=").List(jen.Id("xf").Index(jen.Id("i")), jen.Id("i")),
	}
	for kh := 0; kh < g.kh; kh++ {
		for kw := 0; kw < g.kw; kw++ {
			off := kh*g.w + kw
			if off == 0 {
				continue
			}
			body = append(body, jen.If(jen.Id("v").Op(":=").Id("xf").Index(jen.Id("i").Op("+").Lit(off)), jen.Id("v").Op(">").Id("best")).Block(
				jen.List(jen.Id("best"), jen.Id("arg")).Op("=").List(jen.Id("v"), jen.Id("i").Op("+").Lit(off))))
		}
	}
	row, outIdx := jen.Id("oh"), jen.Parens(jen.Id("c").Op("*").Add(poolConst(g, "OutH")).Op("+").Id("oh")).Op("*").Add(poolConst(g, "OutW")).Op("+").Id("ow")
	if g.oneD {
		row, outIdx = jen.Lit(0), jen.Id("c").Op("*").Add(poolConst(g, "OutW")).Op("+").Id("ow")
	}
	body = append(body, jen.Id("y").Index(jen.Id("c")).Index(row).Index(jen.Id("ow")).Op("=").Id("best"))
	if !p.inference {
		body = append(body, p.buf(argField(n)).Index(outIdx).Op("=").Int32().Call(jen.Id("arg")))
	} else {
		body = append(body, jen.Id("_").Op("=").Id("arg"))
	}
	bound := func(name string, v int) size { return named(v, g.k+name) }
	loops := loopOver("c", bound("InC", g.c), loopOver("oh", bound("OutH", g.ho), loopOver("ow", bound("OutW", g.wo), body...)))
	if g.oneD {
		loops = loopOver("c", bound("InC", g.c), loopOver("ow", bound("OutL", g.wo), body...))
	}
	return jen.Block(
		jen.Id("xf").Op(":=").Op("&").Add(p.buf(n.in)),
		loops,
	)
}

// flops: one comparison or addition per window element.
func (poolEmitter) flops(n *node) int64 {
	return int64(n.Kernel[0]) * int64(max(n.Kernel[1], 1)) * int64(n.outSize)
}

// flops: one addition per input element.
func (globalAvgPoolEmitter) flops(n *node) int64 { return int64(n.In.Size()) }
