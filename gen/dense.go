package gen

import (
	"fmt"

	"github.com/bpgen/bpgen/spec"
	"github.com/dave/jennifer/jen"
)

// dense: a fully connected layer with weight W [out, in] and bias b [out]
// (PyTorch's nn.Linear layout), followed by its activation f:
//
//	forward:  z = W x + b,  a = f(z)
//	backward: dz = da ⊙ f'(z)      (in place in the gradient buffer)
//	          db += dz
//	          dW += dz xᵀ
//	          dx  = Wᵀ dz
//
// The inner loops run over the input dimension, unrolled by 8, with four
// accumulators in the forward dot products; rows whose dz is zero (dead ReLU
// units) are skipped in the backward pass.
type denseEmitter struct{}

func (denseEmitter) aliases(*spec.Node) bool { return false }

func denseNames(n *node) (in, out, weight, bias, z string) {
	g := n.GoName
	return g + "In", g + "Out", g + "Weight", g + "Bias", fmt.Sprintf("z%d", n.Index)
}

// hasAct reports whether the dense layer applies a non-linear activation,
// which needs its own pre-activation buffer z.
func hasAct(n *node) bool { return n.Act.Fn != "" && n.Act.Fn != spec.ActLinear }

// consts:
//
//	Layers0In  = 784 // inputs of layers.0
//	Layers0Out = 128 // units of layers.0
func (denseEmitter) consts(p *plan, n *node) []jen.Code {
	in, out, _, _, _ := denseNames(n)
	return []jen.Code{
		jen.Id(in).Op("=").Lit(n.inSize).Commentf("inputs of %s", n.Name),
		jen.Id(out).Op("=").Lit(n.Units).Commentf("units of %s", n.Name),
	}
}

func (denseEmitter) params(p *plan, n *node) []tensor {
	in, out, w, b, _ := denseNames(n)
	ts := []tensor{{
		field: w, name: n.Name + ".weight", shape: []int{n.Units, n.inSize},
		dims: []jen.Code{jen.Id(out), jen.Id(in)}, fanIn: n.inSize, fanOut: n.Units,
	}}
	if n.Bias {
		ts = append(ts, tensor{
			field: b, name: n.Name + ".bias", shape: []int{n.Units},
			dims: []jen.Code{jen.Id(out)}, fanIn: n.inSize, fanOut: n.Units, bias: true,
		})
	}
	return ts
}

func (denseEmitter) fields(p *plan, n *node) []field {
	if !hasAct(n) {
		return nil
	}
	_, _, _, _, z := denseNames(n)
	return []field{{name: z, size: n.outSize, doc: "pre-activation z = Wx + b"}}
}

// forward:
//
//	x := &m.in
//	for o := 0; o < Layers0Out; o++ {
//		w := &m.Params.Layers0Weight[o]
//		var s0, s1, s2, s3 float32
//		for i := 0; i <= Layers0In-8; i += 8 {
//			s0 += w[i]*x[i] + w[i+4]*x[i+4]
//			...
//		}
//		m.z0[o] = s0 + s1 + s2 + s3 + m.Params.Layers0Bias[o]
//	}
//	(activation: m.a0 = f(m.z0))
func (denseEmitter) forward(p *plan, n *node) []jen.Code {
	in, out, w, b, z := denseNames(n)
	dst := n.out
	if hasAct(n) {
		dst = z
	}
	acc := []string{"s0", "s1", "s2", "s3"}
	body := []jen.Code{
		jen.Id("w").Op(":=").Op("&").Add(pf(w)).Index(jen.Id("o")),
		jen.Var().Id("s0").Op(",").Id("s1").Op(",").Id("s2").Op(",").Id("s3").Add(p.elem()),
	}
	if n.inSize >= 8 {
		var stmts []jen.Code
		for k := 0; k < 4; k++ {
			stmts = append(stmts, jen.Id(acc[k]).Op("+=").Add(at("w", "i", k)).Op("*").Add(at("x", "i", k)).Op("+").Add(at("w", "i", k+4)).Op("*").Add(at("x", "i", k+4)))
		}
		body = append(body, jen.For(jen.Id("i").Op(":=").Lit(0), jen.Id("i").Op("<=").Id(in).Op("-").Lit(8), jen.Id("i").Op("+=").Lit(8)).Block(stmts...))
	}
	if n.inSize%8 != 0 {
		start := jen.Lit(0)
		if n.inSize >= 8 {
			start = jen.Id(in).Op("-").Id(in).Op("%").Lit(8)
		}
		body = append(body, jen.For(jen.Id("i").Op(":=").Add(start), jen.Id("i").Op("<").Id(in), jen.Id("i").Op("++")).Block(
			jen.Id("s0").Op("+=").Add(at("w", "i", 0)).Op("*").Add(at("x", "i", 0)),
		))
	}
	sum := jen.Id("s0").Op("+").Id("s1").Op("+").Id("s2").Op("+").Id("s3")
	if n.Bias {
		sum = sum.Op("+").Add(pf(b)).Index(jen.Id("o"))
	}
	body = append(body, mf(dst).Index(jen.Id("o")).Op("=").Add(sum))
	code := []jen.Code{
		jen.Id("x").Op(":=").Op("&").Add(mf(n.in)),
		jen.For(jen.Id("o").Op(":=").Lit(0), jen.Id("o").Op("<").Id(out), jen.Id("o").Op("++")).Block(body...),
	}
	if hasAct(n) {
		code = append(code, actForward(p, n.Act, n.Out, z, n.out)...)
	}
	return code
}

// preBackward differentiates the activation in place: m.d0 = m.d0 ⊙ f'(z0).
func (denseEmitter) preBackward(p *plan, n *node) []jen.Code {
	if !hasAct(n) {
		return nil
	}
	_, _, _, _, z := denseNames(n)
	return actBackward(p, n.Act, n.Out, z, n.out, n.dout, n.dout)
}

// backward (withDX):
//
//	x, dIn := &m.in, &m.din
//	*dIn = [Layers0In]float32{}
//	for o := 0; o < Layers0Out; o++ {
//		g := m.d0[o]
//		m.Grads.Layers0Bias[o] += g
//		if g == 0 {
//			continue
//		}
//		w, gw := &m.Params.Layers0Weight[o], &m.Grads.Layers0Weight[o]
//		for i := 0; i <= Layers0In-8; i += 8 {
//			gw[i] += g * x[i]
//			dIn[i] += g * w[i]
//			...
//		}
//	}
//
// Without withDX the dIn lines are left out.
func (denseEmitter) backward(p *plan, n *node, withDX bool) []jen.Code {
	in, out, w, b, _ := denseNames(n)
	code := []jen.Code{jen.Id("x").Op(":=").Op("&").Add(mf(n.in))}
	if withDX {
		code = append(code,
			jen.Id("dIn").Op(":=").Op("&").Add(mf(n.din)),
			jen.Op("*").Id("dIn").Op("=").Index(jen.Id(in)).Add(p.elem()).Values(),
		)
	}
	body := []jen.Code{jen.Id("g").Op(":=").Add(mf(n.dout)).Index(jen.Id("o"))}
	if n.Bias {
		body = append(body, gf(b).Index(jen.Id("o")).Op("+=").Id("g"))
	}
	body = append(body, jen.If(jen.Id("g").Op("==").Lit(0)).Block(jen.Continue()))
	if withDX {
		body = append(body, jen.Id("w").Op(":=").Op("&").Add(pf(w)).Index(jen.Id("o")))
	}
	body = append(body, jen.Id("gw").Op(":=").Op("&").Add(gf(w)).Index(jen.Id("o")))
	body = append(body, unrolled(n.inSize, in, func(k int) []jen.Code {
		s := []jen.Code{at("gw", "i", k).Op("+=").Id("g").Op("*").Add(at("x", "i", k))}
		if withDX {
			s = append(s, at("dIn", "i", k).Op("+=").Id("g").Op("*").Add(at("w", "i", k)))
		}
		return s
	})...)
	code = append(code, jen.For(jen.Id("o").Op(":=").Lit(0), jen.Id("o").Op("<").Id(out), jen.Id("o").Op("++")).Block(body...))
	return code
}
