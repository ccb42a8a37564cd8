package gen

import (
	"fmt"

	"github.com/bpgen/bpgen/spec"
	"github.com/dave/jennifer/jen"
)

func init() {
	register(activationEmitter{}, spec.KindActivation)
}

// Activations, elementwise a = f(z) except softmax, and their derivatives:
//
//	relu        a = max(z, 0)                   da/dz = 1 if z > 0 else 0
//	relu6       a = min(max(z, 0), 6)           da/dz = 1 if 0 < z < 6 else 0
//	leaky_relu  a = z if z > 0 else α z         da/dz = 1 if z > 0 else α
//	elu         a = z if z > 0 else α(eᶻ − 1)   da/dz = 1 if z > 0 else a + α
//	gelu        a = z Φ(z)                      da/dz = Φ(z) + z φ(z)   (exact erf form)
//	sigmoid     a = 1/(1 + e⁻ᶻ)                 da/dz = a (1 − a)
//	tanh        a = tanh z                      da/dz = 1 − a²
//	softplus    a = log(1 + eᶻ)                 da/dz = sigmoid(z)
//	softmax     aₖ = e^zₖ / Σⱼ e^zⱼ (last dim)  dz = a ⊙ (da − ⟨da, a⟩)
//	linear      a = z                           da/dz = 1
//
// The same emitters serve activation layers and the activation: key of dense.

// activationEmitter emits an activation written as its own layer.
type activationEmitter struct{}

func (activationEmitter) preBackward(*plan, *node) []jen.Code { return nil }
func (activationEmitter) consts(*plan, *node) []jen.Code      { return nil }
func (activationEmitter) params(*plan, *node) []tensor        { return nil }
func (activationEmitter) fields(*plan, *node) []field         { return nil }
func (activationEmitter) aliases(n *spec.Node) bool           { return n.Act.Fn == spec.ActLinear }
func (activationEmitter) forward(p *plan, n *node) []jen.Code {
	if p.fusedReLU(n) {
		// in inference mode the convolution's GEMM wrote the output (convBN)
		return p.trainingOnly(actForward(p, n.Act, n.In, n.in, n.out))
	}
	return actForward(p, n.Act, n.In, n.in, n.out)
}

// step: the activation of step pos (a softmax is over the last axis).
func (activationEmitter) step(p *plan, n *node) []jen.Code {
	return actForward(p, n.Act, p.stepShape(n.In), n.in, n.out)
}

// stepwise: on a sequence, every step is activated by itself.
func (activationEmitter) stepwise(n *node) bool          { return len(n.In) == 2 }
func (activationEmitter) stepBufs(*plan, *node) []string { return nil }

func (activationEmitter) backward(p *plan, n *node, withDX bool) []jen.Code {
	if !withDX {
		return nil
	}
	if p.fusedReLU(n) {
		// the input is not written in inference mode (convBN): test the
		// output, which is > 0 (or NaN) exactly where the input is
		return actBackward(p, n.Act, n.In, n.out, n.out, n.dout, n.din)
	}
	return actBackward(p, n.Act, n.In, n.in, n.out, n.dout, n.din)
}

// reluKernels names the runtime kernels (ReluForward32, ReluBackward32, …)
// of the activations that have them; generated code calls them from
// kernelMin elements on. The backward kernels work in place and leave the
// gradient of a NaN input as it is.
var reluKernels = map[spec.Activation]string{spec.ActReLU: "Relu", spec.ActReLU6: "Relu6"}

// actForward emits dst = f(src) over flat buffers of the given shape:
//
//	for j, v := range m.src {
//		m.dst[j] = max(v, 0)
//	}
func actForward(p *plan, act spec.Act, shape spec.Shape, src, dst string) []jen.Code {
	if act.Fn == spec.ActSoftmax {
		return softmaxForward(p, shape, src, dst)
	}
	if k, ok := reluKernels[act.Fn]; ok && shape.Size() >= kernelMin {
		// runtime.ReluForward32(m.src[:], m.dst[:])
		return []jen.Code{p.kernel(k+"Forward").Call(p.buf(src).Index(jen.Empty(), jen.Empty()), p.buf(dst).Index(jen.Empty(), jen.Empty()))}
	}
	v := jen.Id("v")
	var body []jen.Code
	set := func(e jen.Code) jen.Code { return p.buf(dst).Index(jen.Id("j")).Op("=").Add(e) }
	switch act.Fn {
	case spec.ActLinear:
		return []jen.Code{p.buf(dst).Op("=").Add(p.buf(src))}
	case spec.ActReLU:
		body = []jen.Code{set(jen.Max(v, jen.Lit(0)))}
	case spec.ActReLU6:
		// m.dst[j] = min(max(v, 0), 6)
		body = []jen.Code{set(jen.Min(jen.Max(v, jen.Lit(0)), jen.Lit(6)))}
	case spec.ActLeakyReLU:
		body = []jen.Code{jen.If(v.Clone().Op(">").Lit(0)).Block(set(v)).Else().Block(set(jen.Lit(act.Alpha).Op("*").Add(v)))}
	case spec.ActELU:
		body = []jen.Code{jen.If(v.Clone().Op(">").Lit(0)).Block(set(v)).Else().Block(
			set(p.fromF64(jen.Lit(act.Alpha).Op("*").Parens(jen.Qual("math", "Expm1").Call(p.f64(v))))))}
	case spec.ActGELU:
		// a = z/2 (1 + erf(z/√2))
		body = []jen.Code{
			jen.Id("z").Op(":=").Add(p.f64(v)),
			set(p.fromF64(jen.Lit(0.5).Op("*").Id("z").Op("*").Parens(jen.Lit(1).Op("+").Qual("math", "Erf").Call(jen.Id("z").Op("*").Qual("math", "Sqrt2").Op("/").Lit(2))))),
		}
	case spec.ActSigmoid:
		body = []jen.Code{set(p.fromF64(jen.Qual(rtPath, "Sigmoid").Call(p.f64(v))))}
	case spec.ActTanh:
		body = []jen.Code{set(p.fromF64(jen.Qual("math", "Tanh").Call(p.f64(v))))}
	case spec.ActSoftplus:
		// log(1+eᶻ) = max(z,0) + log1p(e^-|z|), stable for large |z|
		body = []jen.Code{
			jen.Id("z").Op(":=").Add(p.f64(v)),
			set(p.fromF64(jen.Max(jen.Id("z"), jen.Lit(0)).Op("+").Qual("math", "Log1p").Call(jen.Qual("math", "Exp").Call(jen.Op("-").Qual("math", "Abs").Call(jen.Id("z")))))),
		}
	default:
		panic(fmt.Sprintf("gen: activation %q has no emitter", act.Fn))
	}
	return []jen.Code{jen.For(jen.List(jen.Id("j"), jen.Id("v")).Op(":=").Range().Add(p.buf(src))).Block(body...)}
}

// actBackward emits dst = src ⊙ f'(z) where z is the activation's input buffer and a its output:
//
//	for j, v := range m.z {
//		if v > 0 {
//			m.dst[j] = m.src[j]
//		} else {
//			m.dst[j] = 0
//		}
//	}
//
// dst and src may be the same buffer (dense layers differentiate in place).
func actBackward(p *plan, act spec.Act, shape spec.Shape, z, a, src, dst string) []jen.Code {
	if act.Fn == spec.ActSoftmax {
		return softmaxBackward(p, shape, a, src, dst)
	}
	if act.Fn == spec.ActLinear {
		if src == dst {
			return nil
		}
		return []jen.Code{p.buf(dst).Op("=").Add(p.buf(src))}
	}
	if k, ok := reluKernels[act.Fn]; ok && shape.Size() >= kernelMin {
		// (m.dst = m.src;) runtime.ReluBackward32(m.z[:], m.dst[:]): no unpredictable branch per element
		var code []jen.Code
		if src != dst {
			code = append(code, p.buf(dst).Op("=").Add(p.buf(src)))
		}
		return append(code, p.kernel(k+"Backward").Call(p.buf(z).Index(jen.Empty(), jen.Empty()), p.buf(dst).Index(jen.Empty(), jen.Empty())))
	}
	j := jen.Id("j")
	s := func() *jen.Statement { return p.buf(src).Index(j) }
	av := func() *jen.Statement { return p.buf(a).Index(j) }
	set := func(e jen.Code) jen.Code { return p.buf(dst).Index(j).Op("=").Add(e) }
	scale := func(e jen.Code) jen.Code { return set(s().Op("*").Parens(e)) }
	v := jen.Id("v")
	var body []jen.Code
	// piecewise emits "if v > 0 { dst = src } else { neg }", or in place
	// "if v <= 0 { neg }".
	piecewise := func(neg jen.Code) []jen.Code {
		if src == dst {
			return []jen.Code{jen.If(v.Clone().Op("<=").Lit(0)).Block(neg)}
		}
		return []jen.Code{jen.If(v.Clone().Op(">").Lit(0)).Block(set(s())).Else().Block(neg)}
	}
	switch act.Fn {
	case spec.ActReLU:
		body = piecewise(set(jen.Lit(0)))
	case spec.ActReLU6:
		// if v > 0 && v < 6 { dst = src } else { dst = 0 }, or in place
		// if v <= 0 || v >= 6 { dst = 0 }
		if src == dst {
			body = []jen.Code{jen.If(v.Clone().Op("<=").Lit(0).Op("||").Add(v).Op(">=").Lit(6)).Block(set(jen.Lit(0)))}
		} else {
			body = []jen.Code{jen.If(v.Clone().Op(">").Lit(0).Op("&&").Add(v).Op("<").Lit(6)).Block(set(s())).Else().Block(set(jen.Lit(0)))}
		}
	case spec.ActLeakyReLU:
		body = piecewise(set(jen.Lit(act.Alpha).Op("*").Add(s())))
	case spec.ActELU:
		body = piecewise(scale(av().Op("+").Lit(act.Alpha)))
	case spec.ActGELU:
		// Φ(z) + z φ(z), φ(z) = e^(−z²/2)/√(2π)
		body = []jen.Code{
			jen.Id("z").Op(":=").Add(p.f64(v)),
			jen.Id("cdf").Op(":=").Lit(0.5).Op("*").Parens(jen.Lit(1).Op("+").Qual("math", "Erf").Call(jen.Id("z").Op("*").Qual("math", "Sqrt2").Op("/").Lit(2))),
			jen.Id("pdf").Op(":=").Qual("math", "Exp").Call(jen.Op("-").Lit(0.5).Op("*").Id("z").Op("*").Id("z")).Op("/").Qual("math", "Sqrt").Call(jen.Lit(2).Op("*").Qual("math", "Pi")),
			scale(p.fromF64(jen.Id("cdf").Op("+").Id("z").Op("*").Id("pdf"))),
		}
	case spec.ActSigmoid:
		body = []jen.Code{scale(av().Op("*").Parens(jen.Lit(1).Op("-").Add(av())))}
	case spec.ActTanh:
		body = []jen.Code{scale(jen.Lit(1).Op("-").Add(av()).Op("*").Add(av()))}
	case spec.ActSoftplus:
		body = []jen.Code{scale(p.fromF64(jen.Qual(rtPath, "Sigmoid").Call(p.f64(v))))}
	default:
		panic(fmt.Sprintf("gen: activation %q has no emitter", act.Fn))
	}
	if act.Fn == spec.ActSigmoid || act.Fn == spec.ActTanh {
		// the derivative needs only the output: for j := range m.a {
		return []jen.Code{jen.For(j.Clone().Op(":=").Range().Add(p.buf(a))).Block(body...)}
	}
	return []jen.Code{jen.For(jen.List(j, v).Op(":=").Range().Add(p.buf(z))).Block(body...)}
}

// softmaxForward emits a stable softmax over the last dimension:
//
//	for r := 0; r < rows*cols; r += cols {
//		row := m.src[r : r+cols]
//		mx := row[0] ... e := exp(v - mx) ... normalise
//	}
func softmaxForward(p *plan, shape spec.Shape, src, dst string) []jen.Code {
	cols := shape[len(shape)-1]
	size := shape.Size()
	row := func(buf string) jen.Code {
		return jen.Id(buf + "Row").Op(":=").Add(p.buf(buf)).Index(jen.Id("r").Op(":").Id("r").Op("+").Lit(cols))
	}
	return []jen.Code{jen.For(jen.Id("r").Op(":=").Lit(0), jen.Id("r").Op("<").Lit(size), jen.Id("r").Op("+=").Lit(cols)).Block(
		row(src), row(dst),
		jen.Id("mx").Op(":=").Id(src+"Row").Index(jen.Lit(0)),
		jen.For(jen.List(jen.Id("_"), jen.Id("v")).Op(":=").Range().Id(src+"Row")).Block(jen.Id("mx").Op("=").Max(jen.Id("mx"), jen.Id("v"))),
		jen.Var().Id("sum").Float64(),
		jen.For(jen.List(jen.Id("j"), jen.Id("v")).Op(":=").Range().Id(src+"Row")).Block(
			jen.Id("e").Op(":=").Qual("math", "Exp").Call(p.f64(jen.Id("v").Op("-").Id("mx"))),
			jen.Id(dst+"Row").Index(jen.Id("j")).Op("=").Add(p.fromF64(jen.Id("e"))),
			jen.Id("sum").Op("+=").Id("e"),
		),
		jen.For(jen.Id("j").Op(":=").Range().Id(dst+"Row")).Block(
			jen.Id(dst+"Row").Index(jen.Id("j")).Op("=").Add(p.fromF64(p.f64(jen.Id(dst+"Row").Index(jen.Id("j"))).Op("/").Id("sum"))),
		),
	)}
}

// softmaxBackward emits dz = a ⊙ (da − ⟨da, a⟩) per row of the last dimension.
func softmaxBackward(p *plan, shape spec.Shape, a, src, dst string) []jen.Code {
	cols := shape[len(shape)-1]
	size := shape.Size()
	row := func(buf string) jen.Code {
		return jen.Id(buf + "Row").Op(":=").Add(p.buf(buf)).Index(jen.Id("r").Op(":").Id("r").Op("+").Lit(cols))
	}
	stmts := []jen.Code{row(a), row(src)}
	if dst != src {
		stmts = append(stmts, row(dst))
	}
	stmts = append(stmts,
		jen.Var().Id("dot").Add(p.elem()),
		jen.For(jen.List(jen.Id("j"), jen.Id("v")).Op(":=").Range().Id(a+"Row")).Block(jen.Id("dot").Op("+=").Id("v").Op("*").Id(src+"Row").Index(jen.Id("j"))),
		jen.For(jen.List(jen.Id("j"), jen.Id("v")).Op(":=").Range().Id(a+"Row")).Block(
			jen.Id(dst+"Row").Index(jen.Id("j")).Op("=").Id("v").Op("*").Parens(jen.Id(src+"Row").Index(jen.Id("j")).Op("-").Id("dot")),
		),
	)
	return []jen.Code{jen.For(jen.Id("r").Op(":=").Lit(0), jen.Id("r").Op("<").Lit(size), jen.Id("r").Op("+=").Lit(cols)).Block(stmts...)}
}

// flops: 1 per element (softmax 3, linear 0), whatever the function's cost.
func (activationEmitter) flops(n *node) int64 { return actFLOPs(n.Act.Fn, int64(n.outSize)) }

// actFLOPs counts 1 operation per element for an activation, 3 for softmax
// (exponential, sum, division) and none for the identity.
func actFLOPs(fn spec.Activation, n int64) int64 {
	switch fn {
	case "", spec.ActLinear:
		return 0
	case spec.ActSoftmax:
		return 3 * n
	}
	return n
}
