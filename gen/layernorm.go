package gen

import (
	"fmt"

	"github.com/bpgen/bpgen/spec"
	"github.com/dave/jennifer/jen"
)

func init() {
	register(layerNormEmitter{}, spec.KindLayerNorm)
}

// layernorm over the last axis (PyTorch's nn.LayerNorm(F, eps,
// elementwise_affine)), for a vector [F] or at every step of a sequence
// [T, F], with the biased variance:
//
//	forward:  μ = mean(x),  σ̂ = √(mean((x − μ)²) + eps)
//	          x̂ = (x − μ)/σ̂,  y = x̂ ⊙ γ + β        (y = x̂ without affine)
//	backward: dx̂ = dy ⊙ γ
//	          dγ += dy ⊙ x̂,  dβ += dy
//	          dx  = (1/σ̂)(dx̂ − mean(dx̂) − x̂ · mean(dx̂ ⊙ x̂))
//
// x̂ and 1/σ̂ of every step are kept for the backward pass. The statistics are
// summed in float64 whatever the element type. γ (weight) starts at 1 and β
// (bias) at 0 whatever the init scheme, as in PyTorch.
type layerNormEmitter struct{}

func (layerNormEmitter) aliases(*spec.Node) bool             { return false }
func (layerNormEmitter) preBackward(*plan, *node) []jen.Code { return nil }

// layerNormNames: Ln1Features (F), Ln1Weight, Ln1Bias, xhat3 (x̂), rstd3 (1/σ̂ per step).
func layerNormNames(n *node) (features, weight, bias, xhat, rstd string) {
	g := n.GoName
	return g + "Features", g + "Weight", g + "Bias", fmt.Sprintf("xhat%d", n.Index), fmt.Sprintf("rstd%d", n.Index)
}

// consts:
//
//	Ln1Features = 16 // features of ln1, normalised together
//	Ln1Steps    = 5  // (sequence inputs) steps ln1 normalises separately
func (layerNormEmitter) consts(p *plan, n *node) []jen.Code {
	features, _, _, _, _ := layerNormNames(n)
	steps, width := denseSteps(n)
	cs := []jen.Code{jen.Id(features).Op("=").Lit(width).Commentf("features of %s, normalised together", n.Name)}
	if len(n.In) == 2 {
		cs = append(cs, jen.Id(n.GoName+"Steps").Op("=").Lit(steps).Commentf("steps %s normalises separately", n.Name))
	}
	return cs
}

func (layerNormEmitter) params(p *plan, n *node) []tensor {
	if !n.Affine {
		return nil
	}
	features, weight, bias, _, _ := layerNormNames(n)
	_, width := denseSteps(n)
	dims := []jen.Code{jen.Id(features)}
	return []tensor{
		{field: weight, name: n.Name + ".weight", shape: []int{width}, dims: dims, constant: "ones", doc: " (γ, starts at 1)"},
		{field: bias, name: n.Name + ".bias", shape: []int{width}, dims: dims, bias: true, constant: "zeros", doc: " (β, starts at 0)"},
	}
}

func (layerNormEmitter) fields(p *plan, n *node) []field {
	_, _, _, xhat, rstd := layerNormNames(n)
	steps, _ := denseSteps(n)
	return []field{
		{name: xhat, size: n.outSize, doc: "x̂ = (x − μ)/σ̂", train: true},
		{name: rstd, size: steps, doc: "1/σ̂ of every step", train: true},
	}
}

// rstdAt is the 1/σ̂ of the current step: m.rstd3[row][t], m.rstd3[row][pos]
// in Step, or m.rstd3[row][0] for a vector.
func rstdAt(p *plan, n *node, rstd string) *jen.Statement {
	if p.step != nil {
		return p.buf(rstd).Index(jen.Id("pos"))
	}
	if len(n.In) == 2 {
		return p.buf(rstd).Index(jen.Id("t"))
	}
	return p.buf(rstd).Index(jen.Lit(0))
}

// forward, at every step (see perStep for the views x, y and xh):
//
//	var mean float64
//	for _, v := range x {
//		mean += float64(v)
//	}
//	mean /= Ln1Features
//	var sq float64
//	for _, v := range x {
//		d := float64(v) - mean
//		sq += d * d
//	}
//	r := 1 / math.Sqrt(sq/Ln1Features+1e-05)
//	m.rstd3[row][t] = float32(r)
//	for j, v := range x {
//		h := float32((float64(v) - mean) * r)
//		xh[j] = h
//		y[j] = h*g[j] + b[j]
//	}
//
// In an inference-only package x̂ and 1/σ̂ are not kept.
func (layerNormEmitter) forward(p *plan, n *node) []jen.Code {
	features, weight, bias, xhat, rstd := layerNormNames(n)
	_, width := denseSteps(n)
	v := jen.Id("v")
	keep := !p.inference
	body := []jen.Code{
		jen.Var().Id("mean").Float64(),
		jen.For(jen.List(jen.Id("_"), v).Op(":=").Range().Id("x")).Block(jen.Id("mean").Op("+=").Float64().Call(v)),
		jen.Id("mean").Op("/=").Id(features),
		jen.Var().Id("sq").Float64(),
		jen.For(jen.List(jen.Id("_"), v).Op(":=").Range().Id("x")).Block(
			jen.Id("d").Op(":=").Float64().Call(v).Op("-").Id("mean"),
			jen.Id("sq").Op("+=").Id("d").Op("*").Id("d"),
		),
		jen.Id("r").Op(":=").Lit(1).Op("/").Qual("math", "Sqrt").Call(jen.Id("sq").Op("/").Id(features).Op("+").Lit(n.Eps)),
	}
	if keep {
		body = append(body, rstdAt(p, n, rstd).Op("=").Add(p.fromF64(jen.Id("r"))))
	}
	y := jen.Id("h")
	if n.Affine {
		y = jen.Id("h").Op("*").Id("g").Index(jen.Id("j")).Op("+").Id("b").Index(jen.Id("j"))
	}
	inner := []jen.Code{jen.Id("h").Op(":=").Add(p.fromF64(jen.Parens(jen.Float64().Call(v).Op("-").Id("mean")).Op("*").Id("r")))}
	if keep {
		inner = append(inner, jen.Id("xh").Index(jen.Id("j")).Op("=").Id("h"))
	}
	inner = append(inner, jen.Id("y").Index(jen.Id("j")).Op("=").Add(y))
	body = append(body, jen.For(jen.List(jen.Id("j"), v).Op(":=").Range().Id("x")).Block(inner...))

	var code []jen.Code
	if n.Affine {
		code = append(code, jen.Id("g").Op(":=").Op("&").Add(pf(weight)), jen.Id("b").Op(":=").Op("&").Add(pf(bias)))
	}
	vars := []stepVar{{"x", n.in, width}, {"y", n.out, width}}
	if keep {
		vars = append(vars, stepVar{"xh", xhat, width})
	}
	return append(code, perStep(p, n, vars, body...)...)
}

// step: forward at step pos (perStep and plan.buf view that step).
func (e layerNormEmitter) step(p *plan, n *node) []jen.Code { return e.forward(p, n) }

// stepwise: on a sequence, every step is normalised by itself.
func (layerNormEmitter) stepwise(n *node) bool { return len(n.In) == 2 }

// stepBufs: x̂ (kept in training packages).
func (layerNormEmitter) stepBufs(p *plan, n *node) []string {
	if p.inference {
		return nil
	}
	_, _, _, xhat, _ := layerNormNames(n)
	return []string{xhat}
}

// backward, at every step (without affine dx̂ is dy and there are no
// parameter gradients):
//
//	var s1, s2 float32
//	for j, v := range dy {
//		gg[j] += v * xh[j]
//		gb[j] += v
//		d := v * g[j]
//		s1 += d
//		s2 += d * xh[j]
//	}
//	s1 /= Ln1Features
//	s2 /= Ln1Features
//	r := m.rstd3[row][t]
//	for j, v := range dy {
//		dx[j] = r * (v*g[j] - s1 - xh[j]*s2)
//	}
func (layerNormEmitter) backward(p *plan, n *node, withDX bool) []jen.Code {
	features, weight, bias, xhat, rstd := layerNormNames(n)
	_, width := denseSteps(n)
	withDX = withDX && n.din != ""
	if !withDX && !n.Affine {
		return nil
	}
	v, j := jen.Id("v"), jen.Id("j")
	dxhat := jen.Id("v")
	if n.Affine {
		dxhat = jen.Id("v").Op("*").Id("g").Index(j)
	}
	var acc []jen.Code
	if n.Affine {
		acc = append(acc,
			jen.Id("gg").Index(j).Op("+=").Add(v).Op("*").Id("xh").Index(j),
			jen.Id("gb").Index(j).Op("+=").Add(v),
		)
	}
	var body []jen.Code
	if withDX {
		body = append(body, jen.Var().List(jen.Id("s1"), jen.Id("s2")).Add(p.elem()))
		d := jen.Id("v")
		if n.Affine {
			acc = append(acc, jen.Id("d").Op(":=").Add(dxhat))
			d = jen.Id("d")
		}
		acc = append(acc,
			jen.Id("s1").Op("+=").Add(d),
			jen.Id("s2").Op("+=").Add(d).Op("*").Id("xh").Index(j),
		)
	}
	body = append(body, jen.For(jen.List(j, v).Op(":=").Range().Id("dy")).Block(acc...))
	if withDX {
		body = append(body,
			jen.Id("s1").Op("/=").Id(features),
			jen.Id("s2").Op("/=").Id(features),
			jen.Id("r").Op(":=").Add(rstdAt(p, n, rstd)),
			jen.For(jen.List(j, v).Op(":=").Range().Id("dy")).Block(
				jen.Id("dx").Index(j).Op("=").Id("r").Op("*").Parens(jen.Add(dxhat).Clone().Op("-").Id("s1").Op("-").Id("xh").Index(j).Op("*").Id("s2")),
			),
		)
	}
	var code []jen.Code
	if n.Affine {
		code = append(code, jen.Id("gg").Op(":=").Op("&").Add(gf(weight)), jen.Id("gb").Op(":=").Op("&").Add(gf(bias)))
		if withDX {
			code = append(code, jen.Id("g").Op(":=").Op("&").Add(pf(weight)))
		}
	}
	vars := []stepVar{{"dy", n.dout, width}, {"xh", xhat, width}}
	if withDX {
		vars = append(vars, stepVar{"dx", n.din, width})
	}
	return append(code, perStep(p, n, vars, body...)...)
}

// flops: about 6 per element: the mean (1) and the variance (3), normalising
// (2), and the reciprocal square root shared by a row; the affine map adds 2.
func (layerNormEmitter) flops(n *node) int64 {
	if n.Affine {
		return 8 * int64(n.outSize)
	}
	return 6 * int64(n.outSize)
}
